//! `nptlistend` options: only the request timeout (its request comes on stdin).

use super::{Parsed, parser, uint};
use ipccore::prog::npt::proto as npt;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::time::Duration;

/// What `nptlistend` was asked to do: only how long a client's request may take.
pub struct Opts {
    /// `-t ms`: how long the request may take to arrive, so that a client that connects
    /// and says nothing cannot hold a server process for ever (`None`: `-t 0`, no limit).
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
