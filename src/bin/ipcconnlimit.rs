//! ipcconnlimit: refuse a client over its connection limit, else chain-load (drop-in
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcconnlimit::main()
}
