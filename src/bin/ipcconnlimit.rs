//! ipcconnlimit: refuse a client over its connection limit, else chain-load (drop-in
//! s6-connlimit).
#![forbid(unsafe_code)]

use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcconnlimit::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcconnlimit";
/// Never printed: as s6-connlimit, no command line is refused (`cli::ipcconnlimit`).
const USAGE: &str = "ipcconnlimit prog...";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        if let Err(e) = ipccore::prog::connlimit::check(|k| std::env::var_os(k)) {
            return ExitCode::from(diag.fatal(&e));
        }
        // As s6-connlimit: no prog at all is the check alone.
        if o.prog.is_empty() {
            return ExitCode::SUCCESS;
        }
        ExitCode::from(diag.fatal(&ipccore::sys::exec::exec(&o.prog, &[])))
    })
}
