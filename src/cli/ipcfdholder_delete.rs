//! `ipcfdholder-delete` options (s6-fdholder-delete's).

use super::Parsed;
use super::fdholder::timeout_then;
use ipccore::prog::ipcfdholder::ipcfdholder_delete::IpcfdholderDeleteConfig;
use ipccore::sys::diag::Diag;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcfdholder-delete";
/// The usage line: `doc/ipcfdholder-delete.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcfdholder-delete [ -t timeout ] socket id";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcfdholder-delete.1`).
pub const HELP: &str = super::fdholder::HELP_T;

/// What `ipcfdholder-delete` was asked to do.
#[derive(Debug)]
pub struct Opts {
    /// The configuration `ipcfdholder_delete` runs with.
    pub cfg: IpcfdholderDeleteConfig,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    // As s6: extra arguments are ignored.
    let (timeout, [socket, id], _) = timeout_then(args, ["socket", "id"])?;
    Ok(Opts {
        cfg: IpcfdholderDeleteConfig {
            timeout,
            socket,
            id,
        },
    })
}

/// ipcfdholder-delete's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::ipcfdholder::ipcfdholder_delete::ipcfdholder_delete(&o.cfg, &diag),
        )
    })
}
