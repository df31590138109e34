//! The UCSPI names and numbers the programs share: the fds a client hands its prog and
//! the environment variables a server, a client or a socket activator sets.
//!
//! One place for them, so the server that sets a variable and the program that reads it
//! cannot disagree on its spelling.

use rustix::fd::RawFd;

/// A number in a UCSPI variable or an s6 file (`IPCREMOTEEUID`, `IPCCONNMAX`,
/// `notification-fd`), as skalibs `uint0_scan` reads it: ASCII digits only, the whole
/// value, fitting 32 bits (`007` is 7; `+7`, ` 7`, `7 ` and `` are not numbers).
pub fn uint0_scan(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// The fd a client's prog reads the connection from (s6-ipcclient's 6).
pub(crate) const FD_READ: RawFd = 6;
/// The fd a client's prog writes the connection to (a dup of fd 6, s6-ipcclient's 7).
pub(crate) const FD_WRITE: RawFd = 7;

/// The protocol name, `IPC`; the prefix of the other `IPC*` variables.
pub const PROTO: &str = "PROTO";
/// The peer's effective uid, in decimal.
pub const IPCREMOTEEUID: &str = "IPCREMOTEEUID";
/// The peer's effective gid, in decimal.
pub const IPCREMOTEEGID: &str = "IPCREMOTEEGID";
/// The peer's supplementary groups as the kernel recorded them at connect time,
/// comma-separated (an ipctools addition; the `GIDLIST` convention).
pub const IPCREMOTEGIDLIST: &str = "IPCREMOTEGIDLIST";
/// The pid of the peer process, set only while it is known to name that process (an
/// ipctools addition).
pub const IPCREMOTEPID: &str = "IPCREMOTEPID";
/// The path the peer's socket is bound to (usually empty).
pub const IPCREMOTEPATH: &str = "IPCREMOTEPATH";
/// The path of our own end of the connection.
pub const IPCLOCALPATH: &str = "IPCLOCALPATH";
/// How many connections the server's peer uid has open, this one included.
pub const IPCCONNNUM: &str = "IPCCONNNUM";
/// Ours: what the super-server's `IPCCONNNUM` counts from, for ipcconnlimit. `0`: the
/// earlier connections only (s6-ipcserverd 2.15); `1` or unset: this one included
/// (ipcserverd, s6-ipcserverd 2.11). ipcserverd removes it from a handler's
/// environment, since it knows its own count.
pub const IPCCONNNUMBASE: &str = "IPCCONNNUMBASE";
/// systemd socket activation: how many fds from fd 3 on are listening sockets.
pub const LISTEN_FDS: &str = "LISTEN_FDS";
/// systemd socket activation: the pid `LISTEN_FDS` is meant for.
pub const LISTEN_PID: &str = "LISTEN_PID";
/// systemd socket activation: the names of the passed fds, colon-separated.
pub const LISTEN_FDNAMES: &str = "LISTEN_FDNAMES";
/// upstart socket activation: the number of the passed listening fd.
pub const UPSTART_FDS: &str = "UPSTART_FDS";
/// upstart socket activation: the events that started the job (`socket`).
pub const UPSTART_EVENTS: &str = "UPSTART_EVENTS";
/// The socket of the nptlistend service (pipe-tools' name).
pub const NPT_IPCPATH: &str = "NPT_IPCPATH";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_uint0_scan() {
        assert_eq!(uint0_scan(b"0"), Some(0));
        assert_eq!(uint0_scan(b"007"), Some(7));
        assert_eq!(uint0_scan(b"4294967295"), Some(u32::MAX));
        for bad in [
            &b""[..],
            b"+1",
            b"-1",
            b" 1",
            b"1 ",
            b"0x1",
            b"x",
            b"4294967296",
            "٣".as_bytes(),
        ] {
            assert_eq!(uint0_scan(bad), None, "{bad:?}");
        }
    }
}
