//! ipcrules-cdb: compile an s6 rules directory into a cdb file (drop-in
//! s6-accessrules-cdb-from-fs).
#![forbid(unsafe_code)]

use ipccore::prog::ipcrules_cdb::{self as rulescdb, IpcrulesCdbConfig};
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcrules_cdb::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcrules-cdb";
const USAGE: &str = "ipcrules-cdb [ -m mode ] cdbfile rulesdir";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let cfg = IpcrulesCdbConfig {
            mode: o.mode,
            cdbfile: o.cdbfile,
            rulesdir: o.rulesdir,
        };
        cli::exit(&diag, rulescdb::ipcrules_cdb(&cfg, &diag))
    })
}
