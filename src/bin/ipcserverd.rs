//! ipcserverd: serve an inherited listening Unix socket (drop-in s6-ipcserverd).
#![forbid(unsafe_code)]

use ipccore::prog::ipcserverd as server;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcserverd::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcserverd";
const USAGE: &str = "ipcserverd [ -1 ] [ -q | -Q | -v verbosity ] [ -P | -p ] [ -c maxconn ] [ -C localmaxconn ] prog...";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, mut diag: Diag| {
        diag.verbosity = o.verbosity;
        cli::exit(&diag, server::ipcserverd(&o.cfg, &diag))
    })
}
