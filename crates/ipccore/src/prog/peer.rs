//! What the kernel says about the client of a connection beyond s6's uid and gid: its
//! supplementary groups (`SO_PEERGROUPS`) and its process (`SO_PEERPIDFD`), for the
//! handler's environment (`IPCREMOTEGIDLIST`, `IPCREMOTEPID`) and the log.
//!
//! The cost per connection is two getsockopts, a zero-timeout poll and a close: no
//! `/proc` read. The pid is reported only if the process that connected is still
//! running when the server checks, just before it spawns the handler: then no other
//! process can have its number. A handler that needs more than that (a pid that stays
//! valid) asks the kernel itself: `SO_PEERPIDFD` on fd 0.

use crate::base::ucspi;
use crate::sys::cred;
use crate::sys::spawn::env_entry;
use rustix::fd::AsFd;
use rustix::io::Errno;
use std::ffi::CString;

/// The client's groups and pid, as far as the kernel tells them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Peer {
    /// Its supplementary groups at connect time; `None` when the kernel does not say.
    pub groups: Option<Vec<u32>>,
    /// The pid of the process that connected, if it is still running (or, on a kernel
    /// without `SO_PEERPIDFD`, `SO_PEERCRED`'s pid); `None` if it is gone.
    pub pid: Option<u32>,
}

/// The pid behind `SO_PEERCRED`'s `cred_pid`, checked through the connection's pidfd.
fn live_pid(conn: impl AsFd, cred_pid: u32) -> Option<u32> {
    if cred_pid == 0 {
        // Not visible in our pid namespace.
        return None;
    }
    match cred::peer_pidfd(conn) {
        // The pidfd and SO_PEERCRED's pid name the same process (the one the kernel
        // recorded at connect); while it runs, the number is still its own.
        Ok(pidfd) => matches!(crate::sys::pidfd::exited(&pidfd), Ok(false)).then_some(cred_pid),
        // A kernel older than 6.5: the pid as SO_PEERCRED says, documented as racy.
        Err(Errno::NOPROTOOPT) => Some(cred_pid),
        Err(_) => None,
    }
}

/// Ask the kernel about the client on `conn`, whose `SO_PEERCRED` pid is `cred_pid`.
pub fn lookup(conn: impl AsFd, cred_pid: u32) -> Peer {
    let conn = conn.as_fd();
    Peer {
        groups: cred::peer_groups(conn).ok(),
        pid: live_pid(conn, cred_pid),
    }
}

/// Comma-separated gids, the `GIDLIST` convention (empty for none).
pub fn gidlist(groups: &[u32]) -> String {
    let mut s = String::with_capacity(groups.len() * 6);
    for (i, g) in groups.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&g.to_string());
    }
    s
}

impl Peer {
    /// `IPCREMOTEGIDLIST` and `IPCREMOTEPID` entries for the handler, those known.
    pub fn env(&self) -> impl Iterator<Item = CString> {
        let groups = self
            .groups
            .as_deref()
            .and_then(|g| env_entry(ucspi::IPCREMOTEGIDLIST, gidlist(g).as_bytes()));
        let pid = self
            .pid
            .and_then(|p| env_entry(ucspi::IPCREMOTEPID, p.to_string().as_bytes()));
        groups.into_iter().chain(pid)
    }

    /// What the `-v 2` lines add: ` client pid N groups G,G` (`?` for what is not known,
    /// `-` for no supplementary group).
    pub fn log_suffix(&self) -> String {
        let pid = self.pid.map_or_else(|| "?".to_string(), |p| p.to_string());
        let groups = match self.groups.as_deref() {
            None => "?".to_string(),
            Some([]) => "-".to_string(),
            Some(g) => gidlist(g),
        };
        format!(" client pid {pid} groups {groups}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_lines() {
        assert_eq!(gidlist(&[]), "");
        assert_eq!(gidlist(&[5, 70, 4243]), "5,70,4243");
        let p = Peer {
            groups: Some(vec![1, 2]),
            pid: Some(42),
        };
        let env: Vec<CString> = p.env().collect();
        assert_eq!(
            env,
            [
                CString::new("IPCREMOTEGIDLIST=1,2").unwrap(),
                CString::new("IPCREMOTEPID=42").unwrap()
            ]
        );
        assert_eq!(p.log_suffix(), " client pid 42 groups 1,2");
        let gone = Peer {
            groups: Some(vec![]),
            pid: None,
        };
        assert_eq!(gone.env().count(), 1);
        assert_eq!(gone.log_suffix(), " client pid ? groups -");
    }
}
