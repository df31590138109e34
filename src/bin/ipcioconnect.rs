//! ipcioconnect: full-duplex relay between stdin/stdout and fds 6/7 (drop-in s6-ioconnect).
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcioconnect::main()
}
