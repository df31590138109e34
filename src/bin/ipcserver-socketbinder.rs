//! ipcserver-socketbinder: bind a Unix socket safely under its real name, put it on
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcserver_socketbinder::main()
}
