//! ipcfdholder-transferdump (s6-fdholder-transferdump): move every held fd from one daemon to another.

use super::client::{connect, failed};
use crate::base::error::Error;
use crate::formats::fdholder::Tain;
use crate::sys::diag::Diag;
use crate::sys::time;
use rustix::fd::{AsFd, BorrowedFd};
use std::ffi::OsString;
use std::time::Duration;

/// What ipcfdholder-transferdump was asked to do.
#[derive(Clone, Debug)]
pub struct IpcfdholderTransferdumpConfig {
    /// The source daemon's socket.
    pub from: OsString,
    /// The destination daemon's socket.
    pub to: OsString,
    /// `-t` before the colon: how long the source exchange may take.
    pub timeout_from: Option<Duration>,
    /// `-t` after the colon: how long the destination exchange may take.
    pub timeout_to: Option<Duration>,
}

/// ipcfdholder-transferdump: get the dump of `cfg.from`, add it to `cfg.to`.
///
/// # Errors
/// `connect to a source/destination fd-holder daemon at`; `Denied` (exit 1) when the
/// get-dump or set-dump fails.
pub fn ipcfdholder_transferdump(
    cfg: &IpcfdholderTransferdumpConfig,
    _diag: &Diag,
) -> Result<(), Error> {
    let (from, to, tfrom, tto) = (&cfg.from, &cfg.to, cfg.timeout_from, cfg.timeout_to);
    let mut c = connect(
        from,
        time::deadline(tfrom),
        "connect to a source fd-holder daemon at",
    )?;
    let dump = c.getdump().map_err(|e| failed("get dump", e))?;
    drop(c);
    let mut c = connect(
        to,
        time::deadline(tto),
        "connect to a destination fd-holder daemon at",
    )?;
    let entries: Vec<(BorrowedFd<'_>, Vec<u8>, Tain)> = dump
        .iter()
        .map(|e| (e.fd.as_fd(), e.id.clone(), e.limit))
        .collect();
    c.setdump(&entries).map_err(|e| failed("set dump", e))
}

/// `-t timeoutfrom:timeoutto` as s6-fdholder-transferdump reads it: either side may be
/// empty (0, no limit); `5` alone is `5:0`.
pub fn parse_transfer_timeouts(s: &str) -> Option<(u32, u32)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (a, rest) = s.split_at(digits);
    let from = if a.is_empty() {
        if !rest.starts_with(':') {
            return None;
        }
        0
    } else {
        a.parse().ok()?
    };
    if rest.is_empty() {
        return Some((from, 0));
    }
    let b = rest.strip_prefix(':')?;
    if b.is_empty() {
        return Some((from, 0));
    }
    if !b.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((from, b.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_timeouts() {
        assert_eq!(parse_transfer_timeouts("5"), Some((5, 0)));
        assert_eq!(parse_transfer_timeouts(":7"), Some((0, 7)));
        assert_eq!(parse_transfer_timeouts("5:"), Some((5, 0)));
        assert_eq!(parse_transfer_timeouts("5:7"), Some((5, 7)));
        assert_eq!(parse_transfer_timeouts(""), None);
        assert_eq!(parse_transfer_timeouts("x"), None);
        assert_eq!(parse_transfer_timeouts("5:x"), None);
    }
}
