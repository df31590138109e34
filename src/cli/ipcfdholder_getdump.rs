//! `ipcfdholder-getdump` options (s6-fdholder-getdump's).

use super::fdholder::{millis, positional};
use super::{Parsed, parser, rest};
use lexopt::prelude::*;
use std::ffi::OsString;
use std::time::Duration;

/// What `ipcfdholder-getdump` was asked to do.
#[derive(Debug)]
pub struct Opts {
    /// `-t ms`: the limit on the whole exchange with the daemon (connect, request,
    /// answer); `None` (`-t 0`, the default) waits for ever.
    pub timeout: Option<Duration>,
    /// The daemon's socket (an ipcfdholderd or s6-fdholderd).
    pub socket: OsString,
    /// The program to exec, untouched.
    pub argv: Vec<OsString>,
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
        timeout,
        socket,
        argv,
    })
}
