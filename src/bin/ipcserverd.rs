//! ipcserverd: serve an inherited listening Unix socket (drop-in s6-ipcserverd).
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcserverd::main()
}
