//! npt-mkfifodir: create a fifodir (drop-in s6-mkfifodir).
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::fifodir::{self, Gid};
use lexopt::prelude::*;
use std::path::PathBuf;
use std::process::ExitCode;

const PROG: &str = "npt-mkfifodir";
const USAGE: &str = "npt-mkfifodir [ -f ] [ -g gid ] fifodir";

pub(crate) struct Opts {
    force: bool,
    gid: Option<Gid>,
    dir: PathBuf,
}

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Opts, lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let (mut force, mut gid, mut dir) = (false, None, None);
    while let Some(arg) = p.next()? {
        match arg {
            Short('f') => force = true,
            Short('g') => gid = Some(Gid::from_raw(p.value()?.parse()?)),
            Value(v) if dir.is_none() => dir = Some(PathBuf::from(v)),
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(Opts {
        force,
        gid,
        dir: dir.ok_or("missing fifodir")?,
    })
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    let Ok(o) = parse(std::env::args_os().skip(1)) else {
        return ExitCode::from(diag.usage(USAGE));
    };
    match fifodir::make(&o.dir, o.gid, o.force) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
