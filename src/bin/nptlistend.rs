//! nptlistend: wait for fifodir events on behalf of a client (pipe-tools' nptlistend).
//! Runs as a child of its caller on two pipes, or under ipcserver as a local service.
#![forbid(unsafe_code)]

use ipccore::prog::npt::nptlistend::{self as npt, NptlistendConfig};
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    nptlistend::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "nptlistend";
const USAGE: &str =
    "nptlistend [ -t request-millisecs ] (request on stdin: fifodir NUL regex NUL timeout NUL)";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let cfg = NptlistendConfig {
            request_timeout: o.request_timeout,
        };
        cli::exit(&diag, npt::nptlistend(&cfg, &diag))
    })
}
