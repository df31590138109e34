//! ipcconnlimit: refuse a client over its connection limit, else chain-load (drop-in
//! s6-connlimit).
#![forbid(unsafe_code)]

use ipccore::prog::ipcconnlimit::{self as connlimit, IpcconnlimitConfig};
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
        cli::exit(
            &diag,
            connlimit::ipcconnlimit(&IpcconnlimitConfig { prog: o.prog }, &diag),
        )
    })
}
