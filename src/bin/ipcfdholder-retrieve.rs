//! ipcfdholder-retrieve: exec a program with an fd held by an fd-holding daemon as
//! its stdin (drop-in s6-fdholder-retrieve).
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::fdholder::client;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

const PROG: &str = "ipcfdholder-retrieve";
const USAGE: &str = "ipcfdholder-retrieve [ -D ] [ -t timeout ] socket id prog...";

pub(crate) struct Opts {
    delete: bool,
    timeout: Option<Duration>,
    path: OsString,
    id: OsString,
    argv: Vec<OsString>,
}

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Opts, lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let (mut delete, mut timeout) = (false, None);
    let mut pos = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('D') => delete = true,
            Short('t') => {
                let ms: u32 = p.value()?.parse()?;
                timeout = (ms != 0).then(|| Duration::from_millis(ms.into()));
            }
            Value(v) => {
                pos.push(v);
                pos.extend(p.raw_args()?);
                break;
            }
            _ => return Err(arg.unexpected()),
        }
    }
    if pos.len() < 3 {
        return Err("missing path, id or prog".into());
    }
    let argv = pos.split_off(2);
    let mut pos = pos.into_iter();
    let (Some(path), Some(id)) = (pos.next(), pos.next()) else {
        return Err("missing path or id".into());
    };
    Ok(Opts {
        delete,
        timeout,
        path,
        id,
        argv,
    })
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    let o = match parse(std::env::args_os().skip(1)) {
        Ok(o) => o,
        Err(_) => return ExitCode::from(diag.usage(USAGE)),
    };
    match client::run_retrieve(&o.path, &o.id, o.delete, o.timeout, &o.argv) {
        Ok(never) => match never {},
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
