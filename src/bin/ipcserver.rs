//! ipcserver: UCSPI super-server on a Unix domain socket (drop-in s6-ipcserver).
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcserver::main()
}
