//! ipcfdholder-delete (s6-fdholder-delete): delete an fd from the daemon.

use super::client::{CONNECT, connect, failed};
use crate::base::error::Error;
use crate::base::text::{self};
use crate::sys::diag::Diag;
use crate::sys::time;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

/// What ipcfdholder-delete was asked to do.
#[derive(Clone, Debug)]
pub struct IpcfdholderDeleteConfig {
    /// The daemon's socket.
    pub socket: OsString,
    /// The identifier of the fd to close.
    pub id: OsString,
    /// `-t`: how long the exchange may take (`None`: no limit).
    pub timeout: Option<Duration>,
}

/// ipcfdholder-delete: make the daemon close the fd held under `cfg.id`.
///
/// # Errors
/// `connect to a fd-holder daemon at`; `Denied` (exit 1) when the delete fails.
pub fn ipcfdholder_delete(cfg: &IpcfdholderDeleteConfig, _diag: &Diag) -> Result<(), Error> {
    let (path, id, timeout) = (&cfg.socket, &cfg.id, cfg.timeout);
    let mut c = connect(path, time::deadline(timeout), CONNECT)?;
    c.delete(id.as_bytes()).map_err(|e| {
        failed(
            &format!("delete fd for id {}", text::escape(id.as_bytes())),
            e,
        )
    })
}
