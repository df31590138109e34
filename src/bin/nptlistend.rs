//! nptlistend: wait for fifodir events on behalf of a client (pipe-tools' nptlistend).
//! Runs as a child of its caller on two pipes, or under ipcserver as a local service.
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::exec::{IPCREMOTEEGID, IPCREMOTEEUID};
use ipccore::npt;
use ipctools::cli::{
    self,
    nptlistend::{Opts, parse},
};
use std::os::fd::AsFd;
use std::process::ExitCode;

const PROG: &str = "nptlistend";
const USAGE: &str = "nptlistend (request on stdin: fifodir NUL regex NUL timeout NUL)";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |Opts, diag: Diag| {
        let caller = match npt::caller_ids(
            std::env::var_os(IPCREMOTEEUID).as_deref(),
            std::env::var_os(IPCREMOTEEGID).as_deref(),
        ) {
            Ok(c) => c,
            Err(e) => return ExitCode::from(diag.fatal(&e)),
        };
        let (stdin, stdout) = (std::io::stdin(), std::io::stdout());
        match npt::listend(stdin.as_fd(), stdout.as_fd(), caller) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => ExitCode::from(diag.fatal(&e)),
        }
    })
}
