//! What the kernel says about the client of a connection beyond s6's uid and gid: its
//! supplementary groups (`SO_PEERGROUPS`) and its process (`SO_PEERPIDFD`), for the
//! handler's environment (`IPCREMOTEGIDLIST`, `IPCREMOTEPID`) and the log ([`lookup`]),
//! and for access rules on groups, cgroups and executables ([`Facts`], [`Stdin`]).
//!
//! The cost per connection is two getsockopts, a zero-timeout poll and a close: no
//! `/proc` read. The pid is reported only if the process that connected is still
//! running when the server checks, just before it spawns the handler: then no other
//! process can have its number. A handler that needs more than that (a pid that stays
//! valid) asks the kernel itself: `SO_PEERPIDFD` on fd 0.

use crate::base::text;
use crate::base::ucspi;
use crate::sys::cred;
use crate::sys::pidfd;
use crate::sys::spawn::env_entry;
use rustix::fd::{AsFd, OwnedFd};
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
        Ok(pidfd) => matches!(pidfd::exited(&pidfd), Ok(false)).then_some(cred_pid),
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

/// What access rules may ask about the client beyond its uid and gid. Each is asked
/// for only when the lookup reaches keys that need it; `Err` says why it is not known.
pub trait Facts {
    /// Its supplementary groups, as the kernel recorded them at connect time.
    fn groups(&mut self) -> Result<Vec<u32>, String>;
    /// Its cgroup v2 path (`/system.slice/x.service`), now.
    fn cgroup(&mut self) -> Result<Vec<u8>, String>;
    /// The path of the program it runs, now.
    fn exe(&mut self) -> Result<Vec<u8>, String>;
    /// ` client pid N groups G,…` for the `-v 2` lines, or nothing when the kernel
    /// cannot be asked.
    fn log_suffix(&mut self) -> String;
}

/// The client on fd 0, when fd 0 is a connected Unix socket whose peer has the uid and
/// gid the environment names: then the kernel is asked, never the environment.
pub struct Stdin {
    /// Why fd 0 cannot speak for the client, if it cannot.
    unusable: Option<String>,
    /// SO_PEERCRED's pid.
    pid: u32,
    /// The peer's pidfd, once asked for.
    pidfd: Option<Result<OwnedFd, String>>,
}

fn why(e: Errno) -> String {
    text::strerror(e)
}

impl Stdin {
    /// Check fd 0 against the client the environment names (`uid`, `gid`).
    pub fn new(uid: u32, gid: u32) -> Stdin {
        let (unusable, pid) = match cred::peer_creds(rustix::stdio::stdin()) {
            Ok(c) if (c.uid, c.gid) == (uid, gid) => (None, c.pid),
            Ok(c) => (
                Some(format!(
                    "stdin's peer is {}:{}, not the client {uid}:{gid}",
                    c.uid, c.gid
                )),
                0,
            ),
            Err(e) => (
                Some(format!("stdin is not the client's socket: {}", why(e))),
                0,
            ),
        };
        Stdin {
            unusable,
            pid,
            pidfd: None,
        }
    }

    /// The pidfd of the process that connected.
    fn pidfd(&mut self) -> Result<&OwnedFd, String> {
        if let Some(u) = &self.unusable {
            return Err(u.clone());
        }
        let got = self.pidfd.get_or_insert_with(|| {
            cred::peer_pidfd(rustix::stdio::stdin()).map_err(|e| match e {
                Errno::NOPROTOOPT => "the kernel has no SO_PEERPIDFD (Linux 6.5)".into(),
                e => format!("the client is gone: {}", why(e)),
            })
        });
        got.as_ref().map_err(Clone::clone)
    }

    /// `read` under `/proc/PID`, then a check that the pid is still the client's.
    fn pinned<T>(&mut self, read: impl FnOnce(&str) -> Result<T, Errno>) -> Result<T, String> {
        let pid = self.pid;
        let fd = self.pidfd()?;
        pidfd::read_pinned(fd, pid, read).map_err(|e| match e {
            Errno::SRCH => "the client is gone".into(),
            e => why(e),
        })
    }
}

impl Facts for Stdin {
    fn groups(&mut self) -> Result<Vec<u32>, String> {
        if let Some(u) = &self.unusable {
            return Err(u.clone());
        }
        cred::peer_groups(rustix::stdio::stdin()).map_err(why)
    }

    fn cgroup(&mut self) -> Result<Vec<u8>, String> {
        let path = self.pinned(pidfd::cgroup_path)?;
        // With PIDFD_GET_INFO (6.13), the id the kernel gives through the pidfd must be
        // the id of the directory the path names: else the client moved meanwhile.
        let fd = self.pidfd()?;
        if let Ok(pidfd::Info {
            cgroupid: Some(id), ..
        }) = pidfd::info(fd)
            && let Ok(dir) = pidfd::cgroup_id(&path)
            && dir != id
        {
            return Err("the client moved to another cgroup during the check".into());
        }
        Ok(path)
    }

    fn exe(&mut self) -> Result<Vec<u8>, String> {
        self.pinned(|proc| {
            // Another mount namespace (a container) has its own /usr/bin/curl.
            if !pidfd::same_mount_ns(proc)? {
                return Err(Errno::XDEV);
            }
            pidfd::exe_path(proc)
        })
        .map_err(|e| {
            if e == why(Errno::XDEV) {
                "the client is in another mount namespace".into()
            } else {
                e
            }
        })
    }

    /// Empty when fd 0 does not speak for the client: the line is then s6's. Else the
    /// suffix ipcserverd's lines have ([`lookup`]).
    fn log_suffix(&mut self) -> String {
        if self.unusable.is_some() {
            return String::new();
        }
        lookup(rustix::stdio::stdin(), self.pid).log_suffix()
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
