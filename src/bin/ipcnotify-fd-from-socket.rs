//! ipcnotify-fd-from-socket: see doc/ipcnotify-fd-from-socket.1.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    ipctools::cli::ipcnotify_fd_from_socket::main()
}
