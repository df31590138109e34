//! `ipcfdholder-setdump` options (s6-fdholder-setdump's): the same as
//! `ipcfdholder-list`'s, `[ -t timeout ] socket`, so the parser is list's.

use super::Parsed;
use ipccore::prog::ipcfdholder::ipcfdholder_setdump::{self, IpcfdholderSetdumpConfig};
use ipccore::sys::diag::Diag;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcfdholder-setdump";
/// The usage line: `doc/ipcfdholder-setdump.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcfdholder-setdump [ -t timeout ] socket";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcfdholder-setdump.1`).
pub const HELP: &str = super::fdholder::HELP_T;

/// What `ipcfdholder-setdump` was asked to do.
#[derive(Debug)]
pub struct Opts {
    /// The configuration `ipcfdholder_setdump` runs with.
    pub cfg: IpcfdholderSetdumpConfig,
}

/// Options from `args` (argv without the program name): `ipcfdholder-list`'s.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let list = super::ipcfdholder_list::parse(args)?.cfg;
    Ok(Opts {
        cfg: IpcfdholderSetdumpConfig {
            socket: list.socket,
            timeout: list.timeout,
        },
    })
}

/// ipcfdholder-setdump's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipcfdholder_setdump::ipcfdholder_setdump(&o.cfg, &diag),
        )
    })
}
