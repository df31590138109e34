//! `local-stream-socket-listen`: the listeners' parser ([`super::local_socket_listen`]) for
//! `SOCK_STREAM`.

use ipccore::prog::local_socket_listen::Kind;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "local-stream-socket-listen";
/// The usage line: `doc/local-stream-socket-listen.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "local-stream-socket-listen [ -b backlog ] [ -u uid ] [ -g gid ] [ -m mode ] [ --pass-credentials ] [ --pass-security ] [ --upstart-compatibility ] [ --systemd-compatibility ] [ --fdname name ] path next-prog...";
/// `--help`: one line per option (from the OPTIONS of `doc/local-stream-socket-listen.1`).
pub const HELP: &str = super::local_socket_listen::HELP_LISTENING;

/// local-stream-socket-listen's `main`.
pub fn main() -> ExitCode {
    super::local_socket_listen::main(Kind::Stream, PROG, USAGE, HELP)
}
