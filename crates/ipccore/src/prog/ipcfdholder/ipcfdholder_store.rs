//! ipcfdholder-store (s6-fdholder-store): store an fd in the daemon under an identifier.

use super::client::{CONNECT, by_number, connect, failed};
use crate::base::error::Error;
use crate::formats::fdholder::Tain;
use crate::sys::diag::Diag;
use crate::sys::time;
use rustix::fd::{AsFd, RawFd};
use rustix::io::Errno;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

/// What ipcfdholder-store was asked to do.
#[derive(Clone, Debug)]
pub struct IpcfdholderStoreConfig {
    /// The daemon's socket.
    pub socket: OsString,
    /// The identifier to store the fd under.
    pub id: OsString,
    /// `-d`: the fd to store (default 0).
    pub fd: u32,
    /// `-t`: how long the whole exchange may take (`None`: no limit).
    pub timeout: Option<Duration>,
    /// `-T`: how long the daemon keeps the fd (`None`: forever).
    pub fd_timeout: Option<Duration>,
}

/// ipcfdholder-store: store fd `cfg.fd` under `cfg.id`, expiring after `cfg.fd_timeout`.
///
/// # Errors
/// `connect to a fd-holder daemon at`; `Denied` (exit 1) when the store fails.
pub fn ipcfdholder_store(cfg: &IpcfdholderStoreConfig, _diag: &Diag) -> Result<(), Error> {
    let (path, id, fdnum) = (&cfg.socket, &cfg.id, cfg.fd);
    let (timeout, fd_timeout) = (cfg.timeout, cfg.fd_timeout);
    let dl = time::deadline(timeout);
    let rel = fd_timeout.map_or(Tain::INFINITE_RELATIVE, Tain::relative);
    let limit = Tain::now().plus(rel);
    let mut c = connect(path, dl, CONNECT)?;
    let fdn = RawFd::try_from(fdnum).unwrap_or(-1);
    let Some(f) = by_number(fdn) else {
        return Err(failed("store fd", Errno::BADF));
    };
    c.store(f.as_fd(), id.as_bytes(), limit)
        .map_err(|e| failed("store fd", e))
}
