//! ipcfdholder-setdump: add the fds described by `S6_FD#`… to an fd-holding daemon
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcfdholder_setdump::main()
}
