//! ipcserver: UCSPI super-server on a Unix domain socket (drop-in s6-ipcserver).
#![forbid(unsafe_code)]

use ipccore::prog::ipcserver as server;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcserver::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcserver";
const USAGE: &str = "ipcserver [ -1 ] [ -q | -Q | -v ] [ -d | -D ] [ -P | -p ] [ -c maxconn ] [ -C localmaxconn ] [ -b backlog ] [ -a perms ] [ -o uid:gid ] [ -G gidlist ] [ -g gid ] [ -u uid ] [ -U ] path prog...";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, mut diag: Diag| {
        diag.verbosity = o.verbosity;
        cli::exit(&diag, server::ipcserver(&o.cfg, &diag))
    })
}
