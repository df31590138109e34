//! ipcfdholderd: hold fds for clients of the listening socket on stdin (drop-in
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcfdholderd::main()
}
