//! nptlistend: wait for fifodir events on behalf of a client (pipe-tools' nptlistend).
//! Runs as a child of its caller on two pipes, or under ipcserver as a local service.
#![forbid(unsafe_code)]

use ipccore::base::ucspi::{IPCREMOTEEGID, IPCREMOTEEUID};
use ipccore::prog::npt;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    nptlistend::{Opts, parse},
};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::Duration;

const PROG: &str = "nptlistend";
const USAGE: &str =
    "nptlistend [ -t request-millisecs ] (request on stdin: fifodir NUL regex NUL timeout NUL)";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |opts: Opts, diag: Diag| {
        serve(diag, opts.request_timeout)
    })
}

/// Identify the caller, serve one request. A failure before the listening NUL is
/// logged first, then told to a service client (`npt::refuse`).
fn serve(diag: Diag, request_timeout: Option<Duration>) -> ExitCode {
    let (stdin, stdout) = (std::io::stdin(), std::io::stdout());
    let caller = match npt::identify(
        stdin.as_fd(),
        std::env::var_os(IPCREMOTEEUID).as_deref(),
        std::env::var_os(IPCREMOTEEGID).as_deref(),
    ) {
        Ok(c) => c,
        Err(e) => {
            let code = diag.fatal(&e);
            npt::refuse(stdout.as_fd(), &e);
            return ExitCode::from(code);
        }
    };
    for w in &caller.warnings {
        diag.warn(w);
    }
    match npt::listend(stdin.as_fd(), stdout.as_fd(), &caller, request_timeout) {
        Ok(_) => ExitCode::SUCCESS,
        Err(f) => {
            let code = diag.fatal(&f.err);
            if f.refusable {
                npt::refuse(stdout.as_fd(), &f.err);
            }
            ExitCode::from(code)
        }
    }
}
