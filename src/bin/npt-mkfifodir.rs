//! npt-mkfifodir: create a fifodir (drop-in s6-mkfifodir).
#![forbid(unsafe_code)]

use ipccore::prog::npt::npt_mkfifodir::{self as nptfifo, NptMkfifodirConfig};
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    npt_mkfifodir::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "npt-mkfifodir";
const USAGE: &str = "npt-mkfifodir [ -f ] [ -g gid ] fifodir";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let cfg = NptMkfifodirConfig {
            force: o.force,
            gid: o.gid,
            dir: o.dir,
        };
        cli::exit(&diag, nptfifo::npt_mkfifodir(&cfg, &diag))
    })
}
