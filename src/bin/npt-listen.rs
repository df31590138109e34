//! npt-listen: subscribe to several fifodirs, run a program, wait for their events
//! (drop-in s6-ftrig-listen).
#![forbid(unsafe_code)]

use ipccore::base::error::Error;
use ipccore::prog::npt::npt_listen as nptlisten;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    npt_listen::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "npt-listen";
const USAGE: &str = "npt-listen [ -a | -o ] [ -t timeout ] fifodir1 regexp1 ... \"\" prog...";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let cfg = match o {
            Opts::Run(cfg) => cfg,
            // As s6-ftrig-listen: a fatal error, without the usage line.
            Opts::Unterminated => {
                diag.fatal_msg("unterminated fifodir+regex block");
                return ExitCode::from(100);
            }
        };
        match nptlisten::npt_listen(&cfg, &diag) {
            // s6-ftrig-listen exits 1 on its timeout (not 99 as npt-wait).
            Err(e @ Error::Timeout(_)) => {
                diag.fatal_msg(e.to_string());
                ExitCode::from(1)
            }
            r => cli::exit(&diag, r),
        }
    })
}
