//! ipcfdholder-store: give a copy of an fd to an fd-holding daemon (drop-in
//! s6-fdholder-store).
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::fdholder::client;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

const PROG: &str = "ipcfdholder-store";
const USAGE: &str = "ipcfdholder-store [ -d fd ] [ -t timeout ] [ -T fdtimeout ] socket id";

/// Milliseconds, 0 meaning no limit (as s6).
fn millis(v: u32) -> Option<Duration> {
    (v != 0).then(|| Duration::from_millis(v.into()))
}

pub(crate) struct Opts {
    fd: u32,
    timeout: Option<Duration>,
    fd_timeout: Option<Duration>,
    path: OsString,
    id: OsString,
}

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Opts, lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let (mut fd, mut timeout, mut fd_timeout) = (0, None, None);
    let mut pos = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('d') => fd = p.value()?.parse()?,
            Short('t') => timeout = millis(p.value()?.parse()?),
            Short('T') => fd_timeout = millis(p.value()?.parse()?),
            // As s6: options end at the first argument; extra arguments are ignored.
            Value(v) => {
                pos.push(v);
                pos.extend(p.raw_args()?);
                break;
            }
            _ => return Err(arg.unexpected()),
        }
    }
    let mut pos = pos.into_iter();
    let (Some(path), Some(id)) = (pos.next(), pos.next()) else {
        return Err("missing path or id".into());
    };
    Ok(Opts {
        fd,
        timeout,
        fd_timeout,
        path,
        id,
    })
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    let o = match parse(std::env::args_os().skip(1)) {
        Ok(o) => o,
        Err(_) => return ExitCode::from(diag.usage(USAGE)),
    };
    match client::run_store(&o.path, &o.id, o.fd, o.timeout, o.fd_timeout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
