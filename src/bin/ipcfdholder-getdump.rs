//! ipcfdholder-getdump: exec a program with every fd an fd-holding daemon holds
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcfdholder_getdump::main()
}
