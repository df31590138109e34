//! systemd's readiness protocol (`sd_notify(3)`): the `NOTIFY_SOCKET` variable, its
//! address forms, and the datagrams the ipcnotify pair sends and reads.
//!
//! A datagram is newline-separated `NAME=value` lines; the last line may lack its
//! newline (`sd_notify(0, "READY=1")` sends exactly those 7 bytes). Only `READY=1`,
//! `MAINPID=` and `BARRIER=1` matter here; every other line (`STATUS=`, `FDSTORE=1`, …)
//! is ignored, as s6 does. Left out: the `vsock:` addresses of recent systemd, and
//! credentials (a supervisor such as systemd checks the sender's pid itself).

use crate::sys::sock::SockPath;
use rustix::process::Pid;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// The variable that names the supervisor's datagram socket.
pub const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// The second datagram of s6-notify-socket-from-fd: it carries the write end of a pipe,
/// and the supervisor closes it once it has processed everything sent before.
pub const BARRIER: &[u8] = b"BARRIER=1\n";

/// Receive buffer for one datagram: s6-notify-fd-from-socket reads at most 8191 bytes,
/// and so do we (a longer datagram is cut there).
pub const MAX_DATAGRAM: usize = 8191;

/// `READY=1\nMAINPID=PID\n`: readiness, for the process `pid` (the daemon, not the
/// watcher that sends it).
pub fn ready_message(pid: Pid) -> Vec<u8> {
    format!("READY=1\nMAINPID={}\n", pid.as_raw_nonzero()).into_bytes()
}

/// Whether `datagram` has a line that is exactly `READY=1`. The last line needs no
/// newline (s6 2.15.1.0 wants one, so misses a bare `sd_notify(0, "READY=1")`).
pub fn says_ready(datagram: &[u8]) -> bool {
    datagram
        .split(|&c| c == b'\n')
        .any(|line| line == b"READY=1")
}

/// The address `NOTIFY_SOCKET` names: `@name` is a Linux abstract name (its exact
/// length, as systemd binds and sd_notify connects; s6 2.15.1.0 pads it with NULs to
/// 108 bytes, which reaches no socket systemd made), anything else a filesystem path.
/// `None` for an empty value, which names nothing.
pub fn address(value: &OsStr) -> Option<SockPath> {
    let b = value.as_bytes();
    if b.is_empty() {
        return None;
    }
    Some(match b.strip_prefix(b"@") {
        Some(name) => SockPath::Abstract(name.to_vec()),
        None => SockPath::Fs(PathBuf::from(value)),
    })
}

/// `@` and the autobound abstract `name`: the value of `NOTIFY_SOCKET` for a socket we
/// bound ourselves.
pub fn abstract_value(name: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(name.len() + 1);
    v.push(b'@');
    v.extend_from_slice(name);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_is_a_whole_line() {
        for yes in [
            &b"READY=1\n"[..],
            b"READY=1",
            b"STATUS=x\nREADY=1",
            b"MAINPID=1\nREADY=1\n",
            b"READY=1\nSTATUS=y\n",
        ] {
            assert!(says_ready(yes), "{yes:?}");
        }
        for no in [
            &b""[..],
            b"READY=10\n",
            b"XREADY=1\n",
            b"READY=0\n",
            b"STATUS=READY=1\n",
            b" READY=1\n",
        ] {
            assert!(!says_ready(no), "{no:?}");
        }
    }

    #[test]
    fn messages() {
        let pid = Pid::from_raw(4242).unwrap();
        assert_eq!(ready_message(pid), b"READY=1\nMAINPID=4242\n");
        assert_eq!(abstract_value(b"0a1b2"), b"@0a1b2");
    }

    #[test]
    fn address_forms() {
        assert_eq!(
            address(OsStr::new("@x")),
            Some(SockPath::Abstract(b"x".to_vec()))
        );
        assert_eq!(
            address(OsStr::new("/run/systemd/notify")),
            Some(SockPath::Fs("/run/systemd/notify".into()))
        );
        assert_eq!(address(OsStr::new("")), None);
    }
}
