//! ipcioconnect: full-duplex relay between stdin/stdout and fds 6/7 (drop-in s6-ioconnect).
#![forbid(unsafe_code)]

use ipccore::prog::ipcioconnect as ioconnect;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcioconnect::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcioconnect";
const USAGE: &str = "ipcioconnect [ -t timeout ] [ -r fdr ] [ -w fdw ]";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        cli::exit(&diag, ioconnect::ipcioconnect(&o.cfg, &diag))
    })
}
