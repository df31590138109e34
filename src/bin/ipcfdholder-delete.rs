//! ipcfdholder-delete: make an fd-holding daemon close a held fd (drop-in
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcfdholder_delete::main()
}
