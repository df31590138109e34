//! npt-cleanfifodir: remove the fifos of dead listeners from a fifodir (drop-in
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::npt_cleanfifodir::main()
}
