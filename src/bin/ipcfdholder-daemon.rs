//! ipcfdholder-daemon: create the socket, drop privileges, exec ipcfdholderd (drop-in
//! s6-fdholder-daemon).
#![forbid(unsafe_code)]

use ipccore::prog::ipcfdholder::ipcfdholder_daemon as daemon;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcfdholder_daemon::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcfdholder-daemon";
const USAGE: &str = "ipcfdholder-daemon [ -v verbosity ] [ -d | -D ] [ -1 ] [ -c maxconn ] [ -n maxfds ] [ -b backlog ] [ -G gid,gid,... ] [ -g gid ] [ -u uid ] [ -U ] [ -t timeout ] [ -T lameducktimeout ] [ -i rulesdir | -x rulesfile ] path";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        // As s6-fdholder-daemon: checked after the options, without the usage line.
        let Some(cfg) = o.cfg else {
            diag.fatal_msg("no access rights specified!");
            return ExitCode::from(100);
        };
        cli::exit(&diag, daemon::ipcfdholder_daemon(&cfg, &diag))
    })
}
