//! ipcfdholder-transferdump: copy every fd of one fd-holding daemon into another
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcfdholder_transferdump::main()
}
