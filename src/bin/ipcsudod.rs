//! ipcsudod: the server side of the s6-sudo protocol (drop-in s6-sudod), run under
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcsudod::main()
}
