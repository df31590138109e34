//! local-datagram-socket-listen: bind a datagram socket, put it on fd 3+n and chain-load
//! (drop-in for nosh's program of the same name, without its unlink and chmod races).
#![forbid(unsafe_code)]

#[path = "../socket_listen.rs"]
mod socket_listen;

use ipccore::activation::Kind;
use std::process::ExitCode;

const PROG: &str = "local-datagram-socket-listen";
const USAGE: &str = "local-datagram-socket-listen [ -u uid ] [ -g gid ] [ -m mode ] [ --pass-credentials ] [ --pass-security ] [ --upstart-compatibility ] [ --systemd-compatibility ] [ --fdname name ] path next-prog...";

fn main() -> ExitCode {
    socket_listen::main(PROG, USAGE, Kind::Datagram)
}
