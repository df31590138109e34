//! ipcfdholder-setdump (s6-fdholder-setdump): hand the daemon the fds described in the environment.

use super::client::{CONNECT, by_number, connect, dump_count, dump_from_env, failed};
use crate::base::error::Error;
use crate::sys::diag::Diag;
use crate::sys::time;
use rustix::fd::AsFd;
use rustix::io::Errno;
use std::ffi::OsString;
use std::time::Duration;

/// What ipcfdholder-setdump was asked to do.
#[derive(Clone, Debug)]
pub struct IpcfdholderSetdumpConfig {
    /// The daemon's socket.
    pub socket: OsString,
    /// `-t`: how long the exchange may take (`None`: no limit).
    pub timeout: Option<Duration>,
}

/// ipcfdholder-setdump: send the dump described by the environment.
///
/// # Errors
/// `S6_FD# not set` and the other environment errors (100); `connect to a fd-holder
/// daemon at`; `Denied` (exit 1) when the set-dump fails.
pub fn ipcfdholder_setdump(cfg: &IpcfdholderSetdumpConfig, _diag: &Diag) -> Result<(), Error> {
    let (path, timeout) = (&cfg.socket, cfg.timeout);
    let get = |n: &str| std::env::var_os(n);
    let count = dump_count(&get)?;
    let mut c = connect(path, time::deadline(timeout), CONNECT)?;
    if count == 0 {
        return Ok(());
    }
    let dump = dump_from_env(&get, count)?;
    // One owner per number, even when the dump names a number twice.
    let mut owned = std::collections::BTreeMap::new();
    for (n, _, _) in &dump {
        if !owned.contains_key(n) {
            let f = by_number(*n).ok_or_else(|| failed("set dump", Errno::BADF))?;
            owned.insert(*n, f);
        }
    }
    let mut entries = Vec::with_capacity(dump.len());
    for (n, id, t) in dump {
        let f = owned
            .get(&n)
            .ok_or_else(|| failed("set dump", Errno::BADF))?;
        entries.push((f.as_fd(), id, t));
    }
    c.setdump(&entries).map_err(|e| failed("set dump", e))
}
