//! `local-datagram-socket-listen`: the listeners' parser ([`super::local_socket_listen`]) for
//! `SOCK_DGRAM`.

use ipccore::prog::local_socket_listen::Kind;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "local-datagram-socket-listen";
/// The usage line: `doc/local-datagram-socket-listen.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "local-datagram-socket-listen [ -u uid ] [ -g gid ] [ -m mode ] [ --pass-credentials ] [ --pass-security ] [ --upstart-compatibility ] [ --systemd-compatibility ] [ --fdname name ] path next-prog...";
/// `--help`: one line per option (from the OPTIONS of `doc/local-datagram-socket-listen.1`).
pub const HELP: &str = super::local_socket_listen::HELP_DATAGRAM;

/// local-datagram-socket-listen's `main`.
pub fn main() -> ExitCode {
    super::local_socket_listen::main(Kind::Datagram, PROG, USAGE, HELP)
}
