//! `ipcfdholder-setdump` options (s6-fdholder-setdump's).

use super::fdholder::{millis, positional};
use super::{Parsed, parser, rest};
use lexopt::prelude::*;
use std::ffi::OsString;
use std::time::Duration;

/// What `ipcfdholder-setdump` was asked to do.
#[derive(Debug)]
pub struct Opts {
    pub timeout: Option<Duration>,
    pub socket: OsString,
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
    Ok(Opts { timeout, socket })
}
