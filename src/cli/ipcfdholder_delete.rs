//! `ipcfdholder-delete` options (s6-fdholder-delete's).

use super::fdholder::{millis, positional};
use super::{Parsed, parser, rest};
use lexopt::prelude::*;
use std::ffi::OsString;
use std::time::Duration;

/// What `ipcfdholder-delete` was asked to do.
#[derive(Debug)]
pub struct Opts {
    /// `-t ms`: the limit on the whole exchange with the daemon (connect, request,
    /// answer); `None` (`-t 0`, the default) waits for ever.
    pub timeout: Option<Duration>,
    /// The daemon's socket (an ipcfdholderd or s6-fdholderd).
    pub socket: OsString,
    /// The identifier of the fd to stop holding (`unix:/run/x`, as stored).
    pub id: OsString,
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
    let ([socket, id], _) = positional(pos, ["socket", "id"])?;
    Ok(Opts {
        timeout,
        socket,
        id,
    })
}
