//! ipcfdholder-store: give a copy of an fd to an fd-holding daemon (drop-in
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcfdholder_store::main()
}
