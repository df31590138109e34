//! ipcclient: UCSPI client for Unix domain sockets (drop-in s6-ipcclient).
#![forbid(unsafe_code)]

use ipccore::prog::ipcclient as client;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcclient::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcclient";
const USAGE: &str =
    "ipcclient [ -q | -Q | -v ] [ -p bindpath ] [ -l localname ] [ -t millisecs ] path prog...";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, mut diag: Diag| {
        diag.verbosity = o.verbosity;
        cli::exit(&diag, client::ipcclient(&o.cfg, &diag))
    })
}
