//! ipcfdholder-retrieve (s6-fdholder-retrieve): take an fd from the daemon (optionally deleting it) and exec a program with it.

use super::client::{CONNECT, connect, failed};
use crate::base::error::Error;
use crate::base::text::{self};
use crate::sys::diag::Diag;
use crate::sys::exec::{self};
use crate::sys::fd;
use crate::sys::time;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

/// What ipcfdholder-retrieve was asked to do.
#[derive(Clone, Debug)]
pub struct IpcfdholderRetrieveConfig {
    /// The daemon's socket.
    pub socket: OsString,
    /// The identifier of the fd.
    pub id: OsString,
    /// `-D`: delete the fd from the daemon as it is retrieved.
    pub delete: bool,
    /// `-t`: how long the exchange may take (`None`: no limit).
    pub timeout: Option<Duration>,
    /// The program to exec with the fd as stdin.
    pub argv: Vec<OsString>,
}

/// ipcfdholder-retrieve: exec `cfg.argv` with the fd held under `cfg.id` as stdin.
/// Returns only on failure.
///
/// # Errors
/// `connect to a fd-holder daemon at`; `Denied` (exit 1) when the retrieval fails;
/// `move fd`; the exec error.
pub fn ipcfdholder_retrieve(
    cfg: &IpcfdholderRetrieveConfig,
    _diag: &Diag,
) -> Result<std::convert::Infallible, Error> {
    let (path, id, delete, timeout, argv) =
        (&cfg.socket, &cfg.id, cfg.delete, cfg.timeout, &cfg.argv);
    let mut c = connect(path, time::deadline(timeout), CONNECT)?;
    let got = c.retrieve(id.as_bytes(), delete).map_err(|e| {
        failed(
            &format!("retrieve fd for id {}", text::escape(id.as_bytes())),
            e,
        )
    })?;
    drop(c);
    fd::move_to(got, 0)?;
    Err(exec::exec(argv, &[]))
}
