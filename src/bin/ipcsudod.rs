//! ipcsudod: the server side of the s6-sudo protocol (drop-in s6-sudod), run under
//! ipcserver.
#![forbid(unsafe_code)]

use ipccore::prog::ipcsudo::ipcsudod as sudo;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcsudod::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcsudod";
const USAGE: &str = "ipcsudod [ -0 ] [ -1 ] [ -2 ] [ -d ] [ -t timeout ] [ -q | -Q | -v ] sargv...";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, mut diag: Diag| {
        diag.verbosity = o.verbosity;
        cli::exit(&diag, sudo::ipcsudod(&o.cfg, &diag))
    })
}
