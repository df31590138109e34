//! ipcfdholder-list: print the identifiers an fd-holding daemon holds (drop-in
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcfdholder_list::main()
}
