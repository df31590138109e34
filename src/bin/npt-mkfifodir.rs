//! npt-mkfifodir: create a fifodir (drop-in s6-mkfifodir).
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::npt_mkfifodir::main()
}
