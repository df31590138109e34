//! ipchttpgate: per-request HTTP access by the client's kernel identity, in front of a
//! local HTTP API on a Unix socket (docker.sock, podman.sock, an admin API).
//!
//! One process per client connection, run by ipcserver: the client on fds 0 and 1, its
//! identity in `IPCREMOTEEUID`, `IPCREMOTEEGID`, `IPCREMOTEGIDLIST` and `IPCREMOTEPID`.
//! Requests are taken one at a time from the client's buffer: each head is checked
//! ([`request`]), judged by the rules ([`crate::formats::httprules`]) before any byte of
//! it reaches the backend, then either answered 403 in its place, or forwarded with its
//! body ([`body`]) while the backend's response is relayed back, completely, before the
//! next request is read. So pipelined requests are answered in order, and each is judged
//! on its own. A 101 Switching Protocols turns the connection into ipcioconnect's raw
//! relay. Each connection is one `poll` loop, bounded buffers (64 KiB a direction), no
//! body ever held whole. When fd 0 is a listening socket instead (under a socketbinder),
//! the gate accepts connections itself and runs that same loop for each on a thread of
//! its own ([`listen`]). What this module leaves out: the option parsing (`src/cli`),
//! and HTTP/2.

pub mod body;
mod conn;
mod listen;
pub mod request;

use crate::base::error::{Error, ResultExt};
use crate::base::text::escape;
use crate::base::ucspi;
use crate::formats::httprules::{self, Client, Rules};
use crate::prog::ipcserverd::Limits;
use crate::sys::diag::Diag;
use crate::sys::privs::parse_gidlist;
use crate::sys::sock::SockPath;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `-t` without the option: the time a client gets to send one request's header section.
pub const HEADER_TIMEOUT_DEFAULT: u32 = 10_000;
/// `-T` without the option: the time a kept-alive connection may wait for a request.
pub const IDLE_TIMEOUT_DEFAULT: u32 = 60_000;
/// The longest wait for the backend to accept the connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the gate is given.
#[derive(Debug, Clone)]
pub struct IpchttpgateConfig {
    /// `-r`: the rules file.
    pub rules: PathBuf,
    /// The backend's Unix stream socket.
    pub backend: SockPath,
    /// `-t`: the longest a request's header section may take, from its first byte;
    /// `None` for no limit.
    pub header_timeout: Option<Duration>,
    /// `-T`: the longest the gate waits on the client (for a next request, for body
    /// bytes, for the client to read); `None` for no limit.
    pub idle_timeout: Option<Duration>,
    /// `-c` and `-C`: connections at once, in all and per client uid, when the gate
    /// serves a listening socket itself (a handler serves one).
    pub limits: Limits,
}

/// The client as the super-server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// uid, egid and supplementary groups, for the rules.
    pub client: Client,
    /// The client's pid, when known.
    pub pid: Option<u32>,
}

impl Identity {
    /// Read the identity from the environment (`get`): `IPCREMOTEEUID` and
    /// `IPCREMOTEEGID` are required; no `IPCREMOTEGIDLIST` means no supplementary group
    /// known; no `IPCREMOTEPID`, no pid.
    ///
    /// # Errors
    /// `Usage` (exit 100): `IPCREMOTEEUID not set`, `invalid $IPCREMOTEEUID`, and so on.
    pub fn from_env(get: impl Fn(&str) -> Option<OsString>) -> Result<Identity, Error> {
        let number = |name: &str| -> Result<Option<u32>, Error> {
            get(name)
                .map(|v| {
                    ucspi::uint0_scan(v.as_encoded_bytes())
                        .ok_or_else(|| Error::Usage(format!("invalid ${name}")))
                })
                .transpose()
        };
        let required =
            |name: &str| number(name)?.ok_or_else(|| Error::Usage(format!("{name} not set")));
        let uid = required(ucspi::IPCREMOTEEUID)?;
        let egid = required(ucspi::IPCREMOTEEGID)?;
        let groups = match get(ucspi::IPCREMOTEGIDLIST) {
            None => Vec::new(),
            Some(v) => v
                .to_str()
                .and_then(parse_gidlist)
                .ok_or_else(|| Error::Usage(format!("invalid ${}", ucspi::IPCREMOTEGIDLIST)))?
                .into_iter()
                .map(|g| g.as_raw())
                .collect(),
        };
        let pid = number(ucspi::IPCREMOTEPID)?;
        Ok(Identity {
            client: Client { uid, egid, groups },
            pid,
        })
    }

    /// The `X-Remote-*` fields the gate adds to every request it forwards, each line
    /// ending in CRLF. `X-Remote-Groups` lists every group the rules' `group=` sees:
    /// the egid first, then the supplementary groups, each once.
    pub fn fields(&self) -> Vec<u8> {
        let c = &self.client;
        let mut groups = vec![c.egid];
        for g in &c.groups {
            if !groups.contains(g) {
                groups.push(*g);
            }
        }
        let list: Vec<String> = groups.iter().map(u32::to_string).collect();
        let mut s = format!(
            "X-Remote-Uid: {}\r\nX-Remote-Gid: {}\r\nX-Remote-Groups: {}\r\n",
            c.uid,
            c.egid,
            list.join(",")
        );
        if let Some(pid) = self.pid {
            s.push_str(&format!("X-Remote-Pid: {pid}\r\n"));
        }
        s.into_bytes()
    }
}

/// Read and parse the rules file.
///
/// # Errors
/// `unable to read FILE: …` (111); a malformed file: `FILE: line N: why` (100).
pub fn load_rules(path: &Path) -> Result<Rules, Error> {
    read_rules(path).map(|(rules, _)| rules)
}

/// What tells one version of the rules file from another: a file edited in place
/// changes its size or times, a file renamed over it its inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileKey {
    dev: u64,
    ino: u64,
    size: i64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileKey {
    pub(crate) fn of(st: &rustix::fs::Stat) -> FileKey {
        #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
        FileKey {
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
            size: st.st_size as i64,
            mtime: (st.st_mtime as i64, st.st_mtime_nsec as i64),
            ctime: (st.st_ctime as i64, st.st_ctime_nsec as i64),
        }
    }
}

/// [`load_rules`], and the key of the file it read (from the open file, so that an
/// edit during the read shows as a change at the next look).
pub(crate) fn read_rules(path: &Path) -> Result<(Rules, FileKey), Error> {
    use std::io::Read;
    let f = std::fs::File::open(path).op_at("open", path)?;
    let key = FileKey::of(&rustix::fs::fstat(&f).op_at("fstat", path)?);
    let mut text = Vec::new();
    let limit = u64::try_from(httprules::MAX_FILE).unwrap_or(u64::MAX) + 1;
    f.take(limit).read_to_end(&mut text).op_at("read", path)?;
    let rules = httprules::parse(&text).map_err(|e| Error::BadConfig {
        path: path.to_path_buf(),
        line: e.line,
        why: e.why,
    })?;
    Ok((rules, key))
}

/// Serve one client connection (fds 0 and 1) until it ends; or, when fd 0 is a
/// listening socket, every connection to it ([`listen`]), until SIGTERM or SIGINT.
///
/// Returns 0 when the connection ended: the client closed it, asked for the close, was
/// refused in a way that ends it, or timed out.
///
/// # Errors
/// The identity variables (100); the rules file (100, or 111 when unreadable); the
/// backend unreachable or broken (111, after a 502 to the client when nothing of the
/// response was sent yet); fds 0 and 1 (111).
pub fn ipchttpgate(cfg: &IpchttpgateConfig, diag: &Diag) -> Result<u8, Error> {
    if listen::stdin_listens() {
        return listen::serve(cfg, diag);
    }
    let id = Identity::from_env(|k| std::env::var_os(k))?;
    let rules = load_rules(&cfg.rules)?;
    let (rd, _) = crate::sys::fd::adopt(0)?;
    let (wr, _) = crate::sys::fd::adopt(1)?;
    conn::Gate::new(cfg, diag, &rules, &id, rd, Some(wr))?.serve()
}

/// A request for a log line: `METHOD PATH`, both escaped.
fn shown(method: &str, path: &[u8]) -> String {
    format!("{} {}", escape(method.as_bytes()), escape(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let v: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| {
            v.iter()
                .find(|(n, _)| n == k)
                .map(|(_, x)| OsString::from(x))
        }
    }

    #[test]
    fn identity_from_the_environment() {
        let id = Identity::from_env(env(&[
            ("IPCREMOTEEUID", "1000"),
            ("IPCREMOTEEGID", "100"),
            ("IPCREMOTEGIDLIST", "4243,100,27"),
            ("IPCREMOTEPID", "4321"),
        ]))
        .unwrap();
        assert_eq!(id.client.groups, vec![4243, 100, 27]);
        assert_eq!(
            String::from_utf8(id.fields()).unwrap(),
            "X-Remote-Uid: 1000\r\nX-Remote-Gid: 100\r\nX-Remote-Groups: 100,4243,27\r\nX-Remote-Pid: 4321\r\n"
        );
        // No list: no supplementary group known; no pid: no pid field.
        let id =
            Identity::from_env(env(&[("IPCREMOTEEUID", "0"), ("IPCREMOTEEGID", "0")])).unwrap();
        assert_eq!(
            String::from_utf8(id.fields()).unwrap(),
            "X-Remote-Uid: 0\r\nX-Remote-Gid: 0\r\nX-Remote-Groups: 0\r\n"
        );
        let id = Identity::from_env(env(&[
            ("IPCREMOTEEUID", "0"),
            ("IPCREMOTEEGID", "0"),
            ("IPCREMOTEGIDLIST", ""),
        ]))
        .unwrap();
        assert!(id.client.groups.is_empty());
    }

    #[test]
    fn a_missing_or_bad_identity_is_a_usage_error() {
        for (vars, msg) in [
            (&[("IPCREMOTEEGID", "0")][..], "IPCREMOTEEUID not set"),
            (&[("IPCREMOTEEUID", "0")][..], "IPCREMOTEEGID not set"),
            (
                &[("IPCREMOTEEUID", "-1"), ("IPCREMOTEEGID", "0")][..],
                "invalid $IPCREMOTEEUID",
            ),
            (
                &[
                    ("IPCREMOTEEUID", "1"),
                    ("IPCREMOTEEGID", "0"),
                    ("IPCREMOTEGIDLIST", "a,b"),
                ][..],
                "invalid $IPCREMOTEGIDLIST",
            ),
            (
                &[
                    ("IPCREMOTEEUID", "1"),
                    ("IPCREMOTEEGID", "0"),
                    ("IPCREMOTEPID", ""),
                ][..],
                "invalid $IPCREMOTEPID",
            ),
        ] {
            let e = Identity::from_env(env(vars)).unwrap_err();
            assert_eq!((e.to_string().as_str(), e.exit_code()), (msg, 100));
        }
    }
}
