//! nptlistend: wait for fifodir events on behalf of a client (pipe-tools' nptlistend).
//! Runs as a child of its caller on two pipes, or under ipcserver as a local service.
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::exec::{IPCREMOTEEGID, IPCREMOTEEUID};
use ipccore::npt;
use lexopt::prelude::*;
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::Duration;

const PROG: &str = "nptlistend";
const USAGE: &str =
    "nptlistend [ -t request-millisecs ] (request on stdin: fifodir NUL regex NUL timeout NUL)";

/// Options from `args` (argv without the program name), so a fuzz target can call it.
/// Returns the request timeout (`None`: no limit).
pub(crate) fn parse(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Option<Duration>, lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let mut ms = npt::REQUEST_TIMEOUT_MS;
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') => ms = p.value()?.parse()?,
            _ => return Err(arg.unexpected()),
        }
    }
    Ok((ms != 0).then(|| Duration::from_millis(ms)))
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    match parse(std::env::args_os().skip(1)) {
        Ok(request_timeout) => serve(diag, request_timeout),
        Err(e) => {
            diag.fatal_msg(e.to_string());
            ExitCode::from(diag.usage(USAGE))
        }
    }
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
