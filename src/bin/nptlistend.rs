//! nptlistend: wait for fifodir events on behalf of a client (pipe-tools' nptlistend).
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::nptlistend::main()
}
