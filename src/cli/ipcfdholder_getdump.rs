//! `ipcfdholder-getdump` options (s6-fdholder-getdump's).

use super::fdholder::{millis, positional};
use super::{Parsed, parser, rest};
use ipccore::prog::ipcfdholder::ipcfdholder_getdump::IpcfdholderGetdumpConfig;
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcfdholder-getdump";
/// The usage line: `doc/ipcfdholder-getdump.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcfdholder-getdump [ -t timeout ] socket prog...";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcfdholder-getdump.1`).
pub const HELP: &str = concat!(
    "  -t timeout  fail if the whole exchange takes over timeout ms (0: no limit)\n",
    "  --help      print this help and exit\n",
    "  --version   print the version and exit\n",
);

/// What `ipcfdholder-getdump` was asked to do.
#[derive(Debug)]
pub struct Opts {
    /// The configuration `ipcfdholder_getdump` runs with.
    pub cfg: IpcfdholderGetdumpConfig,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let mut timeout = None;
    let mut pos = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') => timeout = millis("-t", &p.value()?)?,
            Value(v) => {
                pos = rest(&mut p, v)?;
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    let ([socket, prog], mut argv) = positional(pos, ["socket", "prog"])?;
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
