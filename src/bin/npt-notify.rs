//! npt-notify: send an event to every listener of a fifodir (drop-in s6-ftrig-notify).
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::npt_notify::main()
}
