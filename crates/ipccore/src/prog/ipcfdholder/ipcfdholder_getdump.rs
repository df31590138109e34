//! ipcfdholder-getdump (s6-fdholder-getdump): exec a program with every held fd, described in the environment.

use super::client::{CONNECT, connect, dump_env, failed};
use crate::base::error::Error;
use crate::formats::fdholder::Tain;
use crate::sys::diag::Diag;
use crate::sys::exec::{self};
use crate::sys::fd;
use crate::sys::time;
use rustix::fd::RawFd;
use std::ffi::OsString;
use std::time::Duration;

/// What ipcfdholder-getdump was asked to do.
#[derive(Clone, Debug)]
pub struct IpcfdholderGetdumpConfig {
    /// The daemon's socket.
    pub socket: OsString,
    /// `-t`: how long the exchange may take (`None`: no limit).
    pub timeout: Option<Duration>,
    /// The program to exec with the fds.
    pub argv: Vec<OsString>,
}

/// ipcfdholder-getdump: exec `cfg.argv` with every held fd open and described in env.
/// Returns only on failure.
///
/// # Errors
/// `connect to a fd-holder daemon at`; `Denied` (exit 1) when the dump fails; `move
/// fd`; the exec error.
pub fn ipcfdholder_getdump(
    cfg: &IpcfdholderGetdumpConfig,
    _diag: &Diag,
) -> Result<std::convert::Infallible, Error> {
    let (path, timeout, argv) = (&cfg.socket, cfg.timeout, &cfg.argv);
    let mut c = connect(path, time::deadline(timeout), CONNECT)?;
    let dump = c.getdump().map_err(|e| failed("get dump", e))?;
    drop(c);
    let mut described = Vec::with_capacity(dump.len());
    let mut keep = Vec::with_capacity(dump.len());
    for e in dump {
        described.push((fd::number(&e.fd), e.id, e.limit));
        keep.push(e.fd);
    }
    let view: Vec<(RawFd, &[u8], Tain)> = described
        .iter()
        .map(|(n, id, t)| (*n, id.as_slice(), *t))
        .collect();
    let env = dump_env(&view, Tain::now());
    for f in keep {
        let n = fd::number(&f);
        fd::move_to(f, n)?;
    }
    Err(exec::exec(argv, &env))
}
