//! ipcnotify-socket-from-fd: see doc/ipcnotify-socket-from-fd.1.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    ipctools::cli::ipcnotify_socket_from_fd::main()
}
