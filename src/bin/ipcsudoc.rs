//! ipcsudoc: the client side of the s6-sudo protocol (drop-in s6-sudoc), run under
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcsudoc::main()
}
