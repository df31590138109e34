//! `ipcfdholder-list` options (s6-fdholder-list's).

use super::Parsed;
use super::fdholder::timeout_then;
use ipccore::prog::ipcfdholder::ipcfdholder_list::IpcfdholderListConfig;
use ipccore::sys::diag::Diag;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcfdholder-list";
/// The usage line: `doc/ipcfdholder-list.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcfdholder-list [ -t timeout ] socket";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcfdholder-list.1`).
pub const HELP: &str = super::fdholder::HELP_T;

/// What `ipcfdholder-list` was asked to do.
#[derive(Debug)]
pub struct Opts {
    /// The configuration `ipcfdholder_list` runs with.
    pub cfg: IpcfdholderListConfig,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    // As s6: extra arguments are ignored.
    let (timeout, [socket], _) = timeout_then(args, ["socket"])?;
    Ok(Opts {
        cfg: IpcfdholderListConfig { timeout, socket },
    })
}

/// ipcfdholder-list's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::ipcfdholder::ipcfdholder_list::ipcfdholder_list(&o.cfg, &diag),
        )
    })
}
