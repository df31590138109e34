//! ipcclient: UCSPI client for Unix domain sockets (drop-in s6-ipcclient).
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcclient::main()
}
