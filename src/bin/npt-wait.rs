//! npt-wait: wait for events on a fifodir (s6-ftrig-wait; with prog, s6-ftrig-listen1),
//! in this process or through the nptlistend service.
#![forbid(unsafe_code)]

use ipccore::prog::npt::npt_wait::{self as npt, NptWaitConfig};
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    npt_wait::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "npt-wait";
const USAGE: &str = "npt-wait [ -t millisecs ] [ -s ] fifodir regex [ prog... ]";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let cfg = NptWaitConfig {
            req: o.req,
            service: o.service,
            prog: o.prog,
        };
        cli::exit(&diag, npt::npt_wait(&cfg, &diag))
    })
}
