//! `ipcfdholder-getdump` options (s6-fdholder-getdump's).

use super::Parsed;
use super::fdholder::timeout_then;
use ipccore::prog::ipcfdholder::ipcfdholder_getdump::IpcfdholderGetdumpConfig;
use ipccore::sys::diag::Diag;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcfdholder-getdump";
/// The usage line: `doc/ipcfdholder-getdump.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcfdholder-getdump [ -t timeout ] socket prog...";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcfdholder-getdump.1`).
pub const HELP: &str = super::fdholder::HELP_T;

/// What `ipcfdholder-getdump` was asked to do.
#[derive(Debug)]
pub struct Opts {
    /// The configuration `ipcfdholder_getdump` runs with.
    pub cfg: IpcfdholderGetdumpConfig,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let (timeout, [socket, prog], mut argv) = timeout_then(args, ["socket", "prog"])?;
    argv.insert(0, prog);
    Ok(Opts {
        cfg: IpcfdholderGetdumpConfig {
            timeout,
            socket,
            argv,
        },
    })
}

/// ipcfdholder-getdump's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::ipcfdholder::ipcfdholder_getdump::ipcfdholder_getdump(&o.cfg, &diag),
        )
    })
}
