//! `nptlistend` options: only the request timeout (its request comes on stdin).

use super::{Parsed, parser, uint};
use ipccore::prog::npt;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::time::Duration;

/// How long the request may take to arrive (`None`: no limit, `-t 0`).
pub struct Opts {
    pub request_timeout: Option<Duration>,
}

/// `[ -t request-millisecs ]`, nothing else.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let mut ms = npt::REQUEST_TIMEOUT_MS;
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') => ms = uint("-t", &p.value()?)?.into(),
            _ => return Err(arg.unexpected().into()),
        }
    }
    Ok(Opts {
        request_timeout: (ms != 0).then(|| Duration::from_millis(ms)),
    })
}
