//! ipcfdholder-delete: make an fd-holding daemon close a held fd (drop-in
//! s6-fdholder-delete).
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::fdholder::client;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

const PROG: &str = "ipcfdholder-delete";
const USAGE: &str = "ipcfdholder-delete [ -t timeout ] socket id";

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    args: impl IntoIterator<Item = OsString>,
) -> Result<(Option<Duration>, OsString, OsString), lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let mut timeout = None;
    let mut pos = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
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
    let mut pos = pos.into_iter();
    let (Some(path), Some(id)) = (pos.next(), pos.next()) else {
        return Err("missing path or id".into());
    };
    Ok((timeout, path, id))
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    let (timeout, path, id) = match parse(std::env::args_os().skip(1)) {
        Ok(o) => o,
        Err(_) => return ExitCode::from(diag.usage(USAGE)),
    };
    match client::run_delete(&path, &id, timeout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
