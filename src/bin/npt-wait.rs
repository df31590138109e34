//! npt-wait: wait for events on a fifodir (s6-ftrig-wait; with prog, s6-ftrig-listen1),
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::npt_wait::main()
}
