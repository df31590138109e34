//! ipchttpgate: per-request HTTP access by kernel identity, in front of a local API.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    ipctools::cli::ipchttpgate::main()
}
