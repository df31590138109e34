//! ipcsudo: run a command through an ipcsudod service (drop-in s6-sudo): chain-loads
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcsudo::main()
}
