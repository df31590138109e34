//! ipcrules-cdb: compile an s6 rules directory into a cdb file (drop-in
//! s6-accessrules-cdb-from-fs).
#![forbid(unsafe_code)]

use ipccore::sys::diag::Diag;
use ipccore::{formats::rulescdb, prog::access};
use ipctools::cli::{
    self,
    ipcrules_cdb::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcrules-cdb";
const USAGE: &str = "ipcrules-cdb [ -m mode ] cdbfile rulesdir";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let r = access::compile(&o.rulesdir)
            .and_then(|recs| rulescdb::write_cdb(&o.cdbfile, &recs, o.mode));
        match r {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => ExitCode::from(diag.fatal(&e)),
        }
    })
}
