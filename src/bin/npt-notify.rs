//! npt-notify: send an event to every listener of a fifodir (drop-in s6-ftrig-notify).
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::fifodir;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

const PROG: &str = "npt-notify";
const USAGE: &str = "npt-notify fifodir message";

pub(crate) struct Opts {
    dir: PathBuf,
    message: OsString,
}

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Opts, lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let mut vals = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Value(v) => vals.push(v),
            _ => return Err(arg.unexpected()),
        }
    }
    let [dir, message]: [OsString; 2] = vals.try_into().map_err(|_| "need fifodir and message")?;
    Ok(Opts {
        dir: dir.into(),
        message,
    })
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    let Ok(o) = parse(std::env::args_os().skip(1)) else {
        return ExitCode::from(diag.usage(USAGE));
    };
    // Rust starts with SIGPIPE ignored, so a listener leaving mid-write is EPIPE, not death.
    match fifodir::notify(&o.dir, o.message.as_bytes()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
