//! ipcfdholder-list (s6-fdholder-list): list the identifiers the daemon holds.

use super::client::{CONNECT, connect, failed};
use crate::base::error::Error;
use crate::sys::diag::Diag;
use crate::sys::time;
use rustix::io::Errno;
use std::ffi::OsString;
use std::io::Write;
use std::time::Duration;

/// What ipcfdholder-list was asked to do.
#[derive(Clone, Debug)]
pub struct IpcfdholderListConfig {
    /// The daemon's socket.
    pub socket: OsString,
    /// `-t`: how long the exchange may take (`None`: no limit).
    pub timeout: Option<Duration>,
}

/// ipcfdholder-list: the held identifiers on stdout, one per line.
///
/// # Errors
/// `connect to a fd-holder daemon at`; `Denied` (exit 1) when the list fails; `write
/// to stdout`.
pub fn ipcfdholder_list(cfg: &IpcfdholderListConfig, _diag: &Diag) -> Result<(), Error> {
    let (path, timeout) = (&cfg.socket, cfg.timeout);
    let mut c = connect(path, time::deadline(timeout), CONNECT)?;
    let ids = c.list().map_err(|e| failed("get fd list", e))?;
    let mut out = Vec::new();
    for id in ids {
        out.extend_from_slice(&quote_id(&id));
        out.push(b'\n');
    }
    // A closed stdout kills us with SIGPIPE, silently, as it does s6-fdholder-list
    // (`set -o pipefail` scripts see 141), unless our caller ignored SIGPIPE: the
    // Rust runtime's SIG_IGN is undone here, after the daemon's socket is done with.
    crate::sys::exec::restore_inherited_sigpipe();
    let mut so = std::io::stdout().lock();
    so.write_all(&out).and_then(|()| so.flush()).map_err(|e| {
        Error::sys(
            "write to stdout",
            Errno::from_io_error(&e).unwrap_or(Errno::IO),
        )
    })
}

/// An identifier as s6-fdholder-list prints it (skalibs'
/// `string_quote_nodelim_mustquote`): printable ASCII as is, `\a`…`\r` as C escapes,
/// every other byte as `\0x` and two lowercase hex digits.
fn quote_id(id: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(id.len());
    for &b in id {
        match b {
            0x20..=0x7e => v.push(b),
            7..=13 => {
                v.push(b'\\');
                v.push(b"abtnvfr"[usize::from(b - 7)]);
            }
            _ => v.extend_from_slice(format!("\\0x{b:02x}").as_bytes()),
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_as_s6_list() {
        assert_eq!(quote_id(b"unix:/x y\\"), b"unix:/x y\\".to_vec());
        assert_eq!(quote_id(b"a\nb\tc"), b"a\\nb\\tc".to_vec());
        assert_eq!(quote_id(b"\x00\x7f\xff"), b"\\0x00\\0x7f\\0xff".to_vec());
    }
}
