//! `local-datagram-socket-listen`: the listeners' parser ([`super::local_socket_listen`]) for
//! `SOCK_DGRAM`.

use super::local_socket_listen::{Opts, parse};
use ipccore::prog::local_socket_listen::{Kind, local_socket_listen};
use ipccore::sys::diag::Diag;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "local-datagram-socket-listen";
/// The usage line: `doc/local-datagram-socket-listen.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "local-datagram-socket-listen [ -u uid ] [ -g gid ] [ -m mode ] [ --pass-credentials ] [ --pass-security ] [ --upstart-compatibility ] [ --systemd-compatibility ] [ --fdname name ] path next-prog...";
/// `--help`: one line per option (from the OPTIONS of `doc/local-datagram-socket-listen.1`).
pub const HELP: &str = concat!(
    "  -u uid, --uid uid        owner of the socket file (a number)\n",
    "  -g gid, --gid gid        group of the socket file (a number)\n",
    "  -m mode, --mode mode     permissions of the socket file, in octal, at most 0777\n",
    "  --pass-credentials       set SO_PASSCRED on the socket\n",
    "  --pass-security          set SO_PASSSEC on the socket\n",
    "  --upstart-compatibility  set UPSTART_FDS and UPSTART_EVENTS for next-prog\n",
    "  --systemd-compatibility  honour and set LISTEN_FDS and LISTEN_PID for next-prog\n",
    "  --fdname name            append name to LISTEN_FDNAMES (with --systemd-compatibility)\n",
    "  --help                   print this help and exit\n",
    "  --version                print the version and exit\n",
);

/// local-datagram-socket-listen's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    let parse = |args| parse(Kind::Datagram, args);
    super::run(PROG, USAGE, HELP, parse, |cfg: Opts, diag: Diag| {
        super::exit(&diag, local_socket_listen(&cfg, &diag))
    })
}
