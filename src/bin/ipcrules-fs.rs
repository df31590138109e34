//! ipcrules-fs: decompile a rules cdb into a rules directory, atomically (drop-in
//! s6-accessrules-fs-from-cdb).
#![forbid(unsafe_code)]

use ipccore::prog::ipcrules_fs::{self as rulesfs, IpcrulesFsConfig};
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcrules_fs::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcrules-fs";
const USAGE: &str = "ipcrules-fs dir cdbfile";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let cfg = IpcrulesFsConfig {
            dir: o.dir,
            cdbfile: o.cdbfile,
        };
        cli::exit(&diag, rulesfs::ipcrules_fs(&cfg, &diag))
    })
}
