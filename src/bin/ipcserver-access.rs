//! ipcserver-access: uid/gid access control for a local service (drop-in
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcserver_access::main()
}
