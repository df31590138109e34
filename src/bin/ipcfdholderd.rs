//! ipcfdholderd: hold fds for clients of the listening socket on stdin (drop-in
//! s6-fdholderd).
#![forbid(unsafe_code)]

use ipccore::prog::ipcfdholder::ipcfdholderd as daemon;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcfdholderd::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcfdholderd";
const USAGE: &str = "ipcfdholderd [ -v verbosity ] [ -1 ] [ -c maxconn ] [ -n maxfds ] [ -t timeout ] [ -T lameducktimeout ] [ -i rulesdir | -x rulesfile ]";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, mut diag: Diag| {
        diag.verbosity = o.verbosity;
        // As s6-fdholderd: checked after the options, without the usage line.
        let Some(cfg) = o.cfg else {
            diag.fatal_msg("no access rights specified!");
            return ExitCode::from(100);
        };
        cli::exit(&diag, daemon::ipcfdholderd(&cfg, &diag))
    })
}
