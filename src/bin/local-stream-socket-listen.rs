//! local-stream-socket-listen: bind a stream socket, put it on fd 3+n and chain-load
//! (drop-in for nosh's program of the same name, without its unlink and chmod races).
#![forbid(unsafe_code)]

use ipccore::prog::local_socket_listen::{self as activation, Kind};
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    socket_listen::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "local-stream-socket-listen";
const USAGE: &str = "local-stream-socket-listen [ -b backlog ] [ -u uid ] [ -g gid ] [ -m mode ] [ --pass-credentials ] [ --pass-security ] [ --upstart-compatibility ] [ --systemd-compatibility ] [ --fdname name ] path next-prog...";

fn main() -> ExitCode {
    let parse = |args| parse(Kind::Stream, args);
    cli::run(PROG, USAGE, parse, |cfg: Opts, diag: Diag| {
        cli::exit(&diag, activation::local_socket_listen(&cfg, &diag))
    })
}
