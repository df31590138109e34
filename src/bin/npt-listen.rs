//! npt-listen: subscribe to several fifodirs, run a program, wait for their events
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::npt_listen::main()
}
