//! ipcfdholder-retrieve: exec a program with an fd held by an fd-holding daemon as
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcfdholder_retrieve::main()
}
