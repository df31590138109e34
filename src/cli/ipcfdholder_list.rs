//! `ipcfdholder-list` options (s6-fdholder-list's).

use super::fdholder::{millis, positional};
use super::{Parsed, parser, rest};
use ipccore::prog::ipcfdholder::ipcfdholder_list::IpcfdholderListConfig;
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcfdholder-list";
/// The usage line: `doc/ipcfdholder-list.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcfdholder-list [ -t timeout ] socket";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcfdholder-list.1`).
pub const HELP: &str = concat!(
    "  -t timeout  fail if the whole exchange takes over timeout ms (0: no limit)\n",
    "  --help      print this help and exit\n",
    "  --version   print the version and exit\n",
);

/// What `ipcfdholder-list` was asked to do.
#[derive(Debug)]
pub struct Opts {
    /// The configuration `ipcfdholder_list` runs with.
    pub cfg: IpcfdholderListConfig,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let mut timeout = None;
    let mut pos = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') => timeout = millis("-t", &p.value()?)?,
            // As s6: extra arguments are ignored.
            Value(v) => {
                pos = rest(&mut p, v)?;
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    let ([socket], _) = positional(pos, ["socket"])?;
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
