//! `nptlistend` options: only the request timeout (its request comes on stdin).

use super::{Parsed, parser, uint};
use ipccore::prog::npt::nptlistend::NptlistendConfig;
use ipccore::prog::npt::proto as npt;
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

/// The program's name, in every diagnostic.
pub const PROG: &str = "nptlistend";
/// The usage line: `doc/nptlistend.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str =
    "nptlistend [ -t request-millisecs ] (request on stdin: fifodir NUL regex NUL timeout NUL)";
/// `--help`: one line per option (from the OPTIONS of `doc/nptlistend.1`).
pub const HELP: &str = concat!(
    "  -t request-millisecs  the request must be complete within this many ms (0: no limit)\n",
    "  --help                print this help and exit\n",
    "  --version             print the version and exit\n",
);

/// What `nptlistend` was asked to do.
pub struct Opts {
    /// The configuration `nptlistend` runs with.
    pub cfg: NptlistendConfig,
}

/// `[ -t request-millisecs ]`, nothing else.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let mut ms = npt::REQUEST_TIMEOUT_MS;
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') => ms = uint("-t", &p.value()?)?.into(),
            _ => return Err(arg.unexpected().into()),
        }
    }
    Ok(Opts {
        cfg: NptlistendConfig {
            request_timeout: (ms != 0).then(|| Duration::from_millis(ms)),
        },
    })
}

/// nptlistend's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::npt::nptlistend::nptlistend(&o.cfg, &diag),
        )
    })
}
