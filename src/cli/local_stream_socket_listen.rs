//! `local-stream-socket-listen`: the listeners' parser ([`super::local_socket_listen`]) for
//! `SOCK_STREAM`.

use super::local_socket_listen::{Opts, parse};
use ipccore::prog::local_socket_listen::{Kind, local_socket_listen};
use ipccore::sys::diag::Diag;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "local-stream-socket-listen";
/// The usage line: `doc/local-stream-socket-listen.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "local-stream-socket-listen [ -b backlog ] [ -u uid ] [ -g gid ] [ -m mode ] [ --pass-credentials ] [ --pass-security ] [ --upstart-compatibility ] [ --systemd-compatibility ] [ --fdname name ] path next-prog...";
/// `--help`: one line per option (from the OPTIONS of `doc/local-stream-socket-listen.1`).
pub const HELP: &str = concat!(
    "  -b backlog, --backlog backlog\n",
    "                            the listen(2) backlog (default 5)\n",
    "  -u uid, --uid uid         owner of the socket file (a number)\n",
    "  -g gid, --gid gid         group of the socket file (a number)\n",
    "  -m mode, --mode mode      permissions of the socket file, in octal, at most 0777\n",
    "  --pass-credentials        set SO_PASSCRED on the socket\n",
    "  --pass-security           set SO_PASSSEC on the socket\n",
    "  --upstart-compatibility   set UPSTART_FDS and UPSTART_EVENTS for next-prog\n",
    "  --systemd-compatibility   honour and set LISTEN_FDS and LISTEN_PID for next-prog\n",
    "  --fdname name             append name to LISTEN_FDNAMES (with --systemd-compatibility)\n",
    "  --help                    print this help and exit\n",
    "  --version                 print the version and exit\n",
);

/// local-stream-socket-listen's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    let parse = |args| parse(Kind::Stream, args);
    super::run(PROG, USAGE, HELP, parse, |cfg: Opts, diag: Diag| {
        super::exit(&diag, local_socket_listen(&cfg, &diag))
    })
}
