//! npt-mkfifodir: create a fifodir (drop-in s6-mkfifodir).
#![forbid(unsafe_code)]

use ipccore::fs::fifodir;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    npt_mkfifodir::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "npt-mkfifodir";
const USAGE: &str = "npt-mkfifodir [ -f ] [ -g gid ] fifodir";

fn main() -> ExitCode {
    cli::run(
        PROG,
        USAGE,
        parse,
        |o: Opts, diag: Diag| match fifodir::make(&o.dir, o.gid, o.force) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => ExitCode::from(diag.fatal(&e)),
        },
    )
}
