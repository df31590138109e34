//! npt-notify: send an event to every listener of a fifodir (drop-in s6-ftrig-notify).
#![forbid(unsafe_code)]

use ipccore::prog::npt::npt_notify::{self as nptfifo, NptNotifyConfig};
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    npt_notify::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "npt-notify";
const USAGE: &str = "npt-notify fifodir message";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let cfg = NptNotifyConfig {
            dir: o.dir,
            message: o.message,
        };
        cli::exit(&diag, nptfifo::npt_notify(&cfg, &diag))
    })
}
