//! ipcserver-access: uid/gid access control for a local service (drop-in
//! s6-ipcserver-access).
#![forbid(unsafe_code)]

use ipccore::base::error::Error;
use ipccore::prog::ipcserver_access as access;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcserver_access::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcserver-access";
const USAGE: &str = "ipcserver-access [ -v verbosity ] [ -E | -e ] [ -l localname ] [ -i rulesdir | -x rulesfile ] prog...";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, mut diag: Diag| {
        diag.verbosity = o.verbosity;
        match access::ipcserver_access(&o.cfg, &diag) {
            // Already logged as s6 does (at -v2): a denial is not a fatal error.
            Err(e @ Error::Denied(_)) => ExitCode::from(e.exit_code()),
            r => cli::exit(&diag, r),
        }
    })
}
