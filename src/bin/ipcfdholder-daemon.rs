//! ipcfdholder-daemon: create the socket, drop privileges, exec ipcfdholderd (drop-in
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcfdholder_daemon::main()
}
