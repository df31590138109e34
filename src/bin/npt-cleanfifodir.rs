//! npt-cleanfifodir: remove the fifos of dead listeners from a fifodir (drop-in
//! s6-cleanfifodir).
#![forbid(unsafe_code)]

use ipccore::prog::npt::npt_cleanfifodir::{self as nptfifo, NptCleanfifodirConfig};
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    npt_cleanfifodir::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "npt-cleanfifodir";
const USAGE: &str = "npt-cleanfifodir fifodir";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let cfg = NptCleanfifodirConfig { dir: o.dir };
        cli::exit(&diag, nptfifo::npt_cleanfifodir(&cfg, &diag))
    })
}
