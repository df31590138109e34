//! nptlistend: wait for fifodir events on behalf of a client (pipe-tools' nptlistend).
//! Runs as a child of its caller on two pipes, or under ipcserver as a local service.
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::exec::{IPCREMOTEEGID, IPCREMOTEEUID};
use ipccore::npt;
use std::os::fd::AsFd;
use std::process::ExitCode;

const PROG: &str = "nptlistend";
const USAGE: &str = "nptlistend (request on stdin: fifodir NUL regex NUL timeout NUL)";

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<(), lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    match p.next()? {
        None => Ok(()),
        Some(arg) => Err(arg.unexpected()),
    }
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    if parse(std::env::args_os().skip(1)).is_err() {
        return ExitCode::from(diag.usage(USAGE));
    }
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
}
