//! local-datagram-socket-listen: bind a datagram socket, put it on fd 3+n and chain-load
//! (drop-in for nosh's program of the same name, without its unlink and chmod races).
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::local_datagram_socket_listen::main()
}
