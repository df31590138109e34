//! The client side of the s6-fdholder protocol, shared by the ipcfdholder-* client
//! programs: one connection, one operation (store, retrieve, delete, list, get/set
//! dump), each bounded by one deadline as in s6's clients, and the dump's description
//! in the environment (both directions).
//!
//! An answer code from the daemon becomes that errno (`s6-fdholder-errorcodes`); a
//! closed connection is `EPIPE`, a malformed answer `EPROTO`. Every fd received with
//! a refused answer is closed.

use crate::base::error::Error;
use crate::base::text::strerror;
use crate::formats::fdholder::{self as wire, Frame, Receiver, Request, Tain};
use crate::sys::exec::{self, EnvMod};
use crate::sys::fd;
use crate::sys::sock::SockPath;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketFlags, SocketType};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::time::{Duration, Instant};

/// One fd of a dump.
#[derive(Debug)]
pub(super) struct DumpEntry {
    pub id: Vec<u8>,
    pub fd: OwnedFd,
    pub limit: Tain,
}

/// A connection to a daemon, with the deadline of the whole operation.
#[derive(Debug)]
pub(super) struct Conn {
    sock: OwnedFd,
    rx: Receiver,
    deadline: Option<Instant>,
}

fn answer_errno(c: u8) -> Errno {
    Errno::from_raw_os_error(i32::from(c))
}

impl Conn {
    /// Connect to the daemon at `path` before `deadline`. A full backlog is waited
    /// out (until the deadline), as a blocking connect would.
    ///
    /// # Errors
    /// The errno of `socket` or `connect`; `ETIMEDOUT`.
    pub fn connect(path: &OsStr, deadline: Option<Instant>) -> Result<Conn, Errno> {
        let sp = SockPath::parse(path).map_err(|e| e.errno().unwrap_or(Errno::INVAL))?;
        let sock = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )?;
        loop {
            match crate::sys::sock::connect(&sock, &sp) {
                Ok(()) => break,
                Err(Errno::INTR) => {}
                Err(Errno::AGAIN | Errno::INPROGRESS) => {
                    if deadline.is_some_and(|d| d <= Instant::now()) {
                        return Err(Errno::TIMEDOUT);
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Conn {
            sock,
            rx: Receiver::new(wire::MSG_MAXSIZE),
            deadline,
        })
    }

    fn send(&self, r: &Request, fds: &[BorrowedFd<'_>]) -> Result<(), Errno> {
        wire::send_frame(
            self.sock.as_fd(),
            &wire::encode_request(r),
            fds,
            self.deadline,
        )
    }

    fn recv(&mut self) -> Result<Frame, Errno> {
        wire::recv_frame(self.sock.as_fd(), &mut self.rx, self.deadline)
    }

    /// A one-byte answer with no fd: Ok for 0, the errno otherwise.
    fn code(&mut self) -> Result<u8, Errno> {
        let f = self.recv()?;
        match (f.data.as_slice(), f.fds.len()) {
            ([c], 0) => Ok(*c),
            _ => Err(Errno::PROTO),
        }
    }

    fn check_id(id: &[u8]) -> Result<(), Errno> {
        if id.len() > wire::ID_MAX {
            Err(Errno::NAMETOOLONG)
        } else {
            Ok(())
        }
    }

    /// Store `fd` under `id` until `limit`.
    pub fn store(&mut self, fd: BorrowedFd<'_>, id: &[u8], limit: Tain) -> Result<(), Errno> {
        Self::check_id(id)?;
        self.send(
            &Request::Store {
                limit,
                id: id.to_vec(),
            },
            &[fd],
        )?;
        match self.code()? {
            0 => Ok(()),
            c => Err(answer_errno(c)),
        }
    }

    /// Delete the fd held under `id`.
    pub fn delete(&mut self, id: &[u8]) -> Result<(), Errno> {
        Self::check_id(id)?;
        self.send(&Request::Delete { id: id.to_vec() }, &[])?;
        match self.code()? {
            0 => Ok(()),
            c => Err(answer_errno(c)),
        }
    }

    /// A copy of the fd held under `id`; with `delete`, the daemon forgets it.
    pub fn retrieve(&mut self, id: &[u8], delete: bool) -> Result<OwnedFd, Errno> {
        Self::check_id(id)?;
        self.send(
            &Request::Retrieve {
                delete,
                id: id.to_vec(),
            },
            &[],
        )?;
        let mut f = self.recv()?;
        match (f.data.as_slice(), f.fds.len()) {
            ([0], 1) => f.fds.pop().ok_or(Errno::PROTO),
            ([c], 0) if *c != 0 => Err(answer_errno(*c)),
            _ => Err(Errno::PROTO),
        }
    }

    /// The identifiers held.
    pub fn list(&mut self) -> Result<Vec<Vec<u8>>, Errno> {
        self.send(&Request::List, &[])?;
        let f = self.recv()?;
        if !f.fds.is_empty() {
            return Err(Errno::PROTO);
        }
        wire::decode_list(&f.data)?.map_err(answer_errno)
    }

    /// Every fd held, with its identifier and expiry date.
    pub fn getdump(&mut self) -> Result<Vec<DumpEntry>, Errno> {
        self.send(&Request::GetDump, &[])?;
        let f = self.recv()?;
        if !f.fds.is_empty() {
            return Err(Errno::PROTO);
        }
        let v = wire::decode_counts(&f.data, 2)?.map_err(answer_errno)?;
        let (chunks, total) = (
            v.first().copied().unwrap_or(0),
            v.get(1).copied().unwrap_or(0),
        );
        if total == 0 {
            return Ok(Vec::new());
        }
        // Any chunking that adds up is accepted: s6-fdholderd cuts at 255 fds, we at
        // 253 (the kernel's limit).
        if chunks == 0 || chunks > total {
            return Err(Errno::PROTO);
        }
        let mut out = Vec::new();
        for _ in 0..chunks {
            let f = self.recv()?;
            if f.fds.is_empty() || out.len() + f.fds.len() > total as usize {
                return Err(Errno::PROTO);
            }
            let entries = wire::decode_chunk(&f.data, f.fds.len())?;
            for ((limit, id), fd) in entries.into_iter().zip(f.fds) {
                out.push(DumpEntry { id, fd, limit });
            }
        }
        if out.len() != total as usize {
            return Err(Errno::PROTO);
        }
        Ok(out)
    }

    /// Add `entries` (fd, id, expiry) to the daemon's fds. Chunks hold at most 253 fds,
    /// which both daemons accept; s6's client sends 255 and fails past 253.
    pub fn setdump(&mut self, entries: &[(BorrowedFd<'_>, Vec<u8>, Tain)]) -> Result<(), Errno> {
        if entries.is_empty() {
            return Ok(());
        }
        if entries.iter().any(|(_, id, _)| !wire::valid_id(id)) {
            return Err(Errno::INVAL);
        }
        let count = u32::try_from(entries.len()).map_err(|_| Errno::INVAL)?;
        self.send(&Request::SetDump { count }, &[])?;
        let f = self.recv()?;
        if !f.fds.is_empty() {
            return Err(Errno::PROTO);
        }
        wire::decode_counts(&f.data, 1)?.map_err(answer_errno)?;
        let mut chunks = entries.chunks(wire::SCM_MAX_FD).peekable();
        while let Some(part) = chunks.next() {
            let last = chunks.peek().is_none();
            let r = Request::SetDumpData {
                entries: part.iter().map(|(_, id, t)| (*t, id.clone())).collect(),
            };
            let fds: Vec<BorrowedFd<'_>> = part.iter().map(|(fd, _, _)| *fd).collect();
            self.send(&r, &fds)?;
            match (self.code()?, last) {
                (0, true) => return Ok(()),
                (wire::code::EAGAIN, false) => {}
                (0 | wire::code::EAGAIN, _) => return Err(Errno::PROTO),
                (c, _) => return Err(answer_errno(c)),
            }
        }
        Err(Errno::PROTO)
    }
}

/// Connect, or fail as s6's clients do (111).
pub(super) fn connect(
    path: &OsStr,
    dl: Option<Instant>,
    what: &'static str,
) -> Result<Conn, Error> {
    Conn::connect(path, dl).map_err(|e| Error::sys_at(what, path, e))
}

/// A failed operation: exit 1, as s6's clients (whatever the errno).
pub(super) fn failed(what: &str, e: Errno) -> Error {
    Error::Denied(format!("unable to {what}: {}", strerror(e)))
}

pub(super) const CONNECT: &str = "connect to a fd-holder daemon at";

/// An inherited fd by number, if open (`fd::claim`).
pub(super) fn by_number(n: RawFd) -> Option<OwnedFd> {
    fd::claim(n).ok()
}

/// The environment ipcfdholder-getdump gives its program for `dump`:
/// `S6_FD#`, then `S6_FD_i`, `S6_FDID_i`, and `S6_FDLIMIT_i` (unset when the fd never
/// expires, that is, its date is more than 2^60 s away).
pub(super) fn dump_env(dump: &[(RawFd, &[u8], Tain)], now: Tain) -> Vec<EnvMod> {
    let far = now.plus(Tain {
        sec: Tain::INFINITE_RELATIVE.sec / 2,
        nano: 0,
    });
    let mut env = vec![exec::set("S6_FD#", dump.len().to_string())];
    for (i, (n, id, limit)) in dump.iter().enumerate() {
        env.push(exec::set(format!("S6_FD_{i}"), n.to_string()));
        env.push(exec::set(
            format!("S6_FDID_{i}"),
            OsString::from_vec(id.to_vec()),
        ));
        let name = format!("S6_FDLIMIT_{i}");
        env.push(if *limit < far {
            exec::set(name, limit.timestamp())
        } else {
            exec::unset(name)
        });
    }
    env
}

/// A dump described by the environment (`S6_FD#` and the rest, as getdump sets it).
///
/// # Errors
/// `Usage` (100): `S6_FD# not set`, `invalid $S6_FD_3`, …
pub(super) fn dump_from_env(
    get: &dyn Fn(&str) -> Option<OsString>,
    count: u32,
) -> Result<Vec<(RawFd, Vec<u8>, Tain)>, Error> {
    let notset = |n: &str| Error::Usage(format!("{n} not set"));
    let invalid = |n: &str| Error::Usage(format!("invalid ${n}"));
    let mut v = Vec::new();
    let never = Tain::now().plus(Tain::INFINITE_RELATIVE);
    for i in 0..count {
        let n = format!("S6_FD_{i}");
        let fdv = get(&n).ok_or_else(|| notset(&n))?;
        let fdn: u32 = fdv
            .to_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid(&n))?;
        let n = format!("S6_FDID_{i}");
        let id = get(&n).ok_or_else(|| notset(&n))?.into_vec();
        if id.is_empty() || id.len() > wire::ID_MAX {
            return Err(invalid(&n));
        }
        let n = format!("S6_FDLIMIT_{i}");
        let limit = match get(&n) {
            None => never,
            Some(s) => Tain::scan_timestamp(s.as_bytes()).ok_or_else(|| invalid(&n))?,
        };
        v.push((RawFd::try_from(fdn).unwrap_or(-1), id, limit));
    }
    Ok(v)
}

/// `S6_FD#` as s6-fdholder-setdump reads it.
///
/// # Errors
/// `S6_FD# not set`, `invalid $S6_FD#` (100).
pub(super) fn dump_count(get: &dyn Fn(&str) -> Option<OsString>) -> Result<u32, Error> {
    let v = get("S6_FD#").ok_or_else(|| Error::Usage("S6_FD# not set".into()))?;
    v.to_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::Usage("invalid $S6_FD#".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_roundtrip() -> Result<(), Box<dyn std::error::Error>> {
        let now = Tain::now();
        let soon = now.plus(Tain { sec: 10, nano: 0 });
        let never = now.plus(Tain::INFINITE_RELATIVE);
        let env = dump_env(&[(5, b"a", soon), (6, b"b=c", never)], now);
        let get = |n: &str| {
            env.iter()
                .find(|(k, _)| k == n)
                .and_then(|(_, v)| v.clone())
        };
        assert_eq!(dump_count(&get)?, 2);
        let back = dump_from_env(&get, 2)?;
        assert_eq!(back[0], (5, b"a".to_vec(), soon));
        assert_eq!((back[1].0, back[1].1.as_slice()), (6, &b"b=c"[..]));
        assert!(back[1].2 >= never);
        let e = dump_from_env(&|_| None, 1).unwrap_err();
        assert_eq!(e.to_string(), "S6_FD_0 not set");
        Ok(())
    }
}
