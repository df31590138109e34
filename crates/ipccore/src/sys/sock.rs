//! Unix domain socket primitives: the `PATH` / `@name` address forms, socket creation,
//! and `connect` for paths of any length.
//!
//! `sun_path` holds 108 bytes; longer paths are reached through `/proc/self/fd/N`, an
//! `O_PATH` fd on the socket file itself, so no `chdir` (process-wide) is ever needed.
//! Creating a *listening* socket safely is `listen`'s job, not this module's.

use crate::base::error::{Error, ResultExt};
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Longest path that fits in `sun_path` with its NUL.
pub(crate) const SUN_PATH_MAX: usize = 107;

/// A socket address as users write it: a filesystem path, or `@name` for a Linux
/// abstract socket (the notation of systemd and ss).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SockPath {
    /// A socket file in the filesystem, of any length (see [`connect`]).
    Fs(PathBuf),
    /// A Linux abstract name, without the leading `@` (and without the NUL the
    /// kernel puts first): no file, no mode, visible to the whole network namespace.
    Abstract(Vec<u8>),
}

impl SockPath {
    /// Parse a command-line address. An empty string is refused.
    pub fn parse(s: &OsStr) -> Result<SockPath, Error> {
        let b = s.as_bytes();
        if b.is_empty() {
            return Err(Error::Usage("empty socket path".into()));
        }
        if b.contains(&0) {
            return Err(Error::Usage("socket path contains a NUL byte".into()));
        }
        Ok(match b.strip_prefix(b"@") {
            Some(name) => SockPath::Abstract(name.to_vec()),
            None => SockPath::Fs(PathBuf::from(s)),
        })
    }

    /// The address as the user wrote it (`@name` for abstract sockets).
    pub fn as_os_string(&self) -> OsString {
        match self {
            SockPath::Fs(p) => p.clone().into_os_string(),
            SockPath::Abstract(n) => {
                let mut v = vec![b'@'];
                v.extend_from_slice(n);
                OsString::from_vec(v)
            }
        }
    }

    /// The address as the user wrote it, as a path: the `path` of an error about it
    /// (`unable to connect to @name: …`).
    pub(crate) fn display_path(&self) -> PathBuf {
        PathBuf::from(self.as_os_string())
    }
}

/// `socket(AF_UNIX, ty | SOCK_CLOEXEC, 0)`—a new Unix socket, born close-on-exec.
///
/// # Errors
/// `create socket`.
///
/// # References
/// - [socket(2)](https://man7.org/linux/man-pages/man2/socket.2.html)
/// - [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html)
pub fn socket(ty: SocketType) -> Result<OwnedFd, Error> {
    rustix::net::socket_with(AddressFamily::UNIX, ty, SocketFlags::CLOEXEC, None)
        .op("create socket")
}

/// [`socket`], non-blocking from the start.
pub fn socket_nonblocking(ty: SocketType) -> Result<OwnedFd, Error> {
    let flags = SocketFlags::CLOEXEC | SocketFlags::NONBLOCK;
    rustix::net::socket_with(AddressFamily::UNIX, ty, flags, None).op("create socket")
}

/// `connect(fd, path)`—connect to a filesystem or abstract socket, whatever the path's
/// length. A long path is opened `O_PATH` and connected to as `/proc/self/fd/N`, which
/// the kernel resolves to the socket inode itself.
///
/// # References
/// - [connect(2)](https://man7.org/linux/man-pages/man2/connect.2.html)
/// - [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html) (abstract names)
pub fn connect(fd: impl AsFd, path: &SockPath) -> Result<(), Errno> {
    match path {
        SockPath::Abstract(name) => {
            rustix::net::connect(fd, &SocketAddrUnix::new_abstract_name(name)?)
        }
        SockPath::Fs(p) if p.as_os_str().len() <= SUN_PATH_MAX => {
            rustix::net::connect(fd, &SocketAddrUnix::new(p.as_path())?)
        }
        SockPath::Fs(p) => {
            let file =
                rustix::fs::open(p.as_path(), OFlags::PATH | OFlags::CLOEXEC, Mode::empty())?;
            connect_via_proc(fd, &file)
        }
    }
}

/// `connect(fd, "/proc/self/fd/N")`—connect to the socket file open as `O_PATH` fd
/// `file`: the one file checked beforehand (a stale-socket probe), or one whose path
/// is too long for `sun_path`. The kernel resolves the magic link to the inode, so a
/// name swapped in between cannot redirect the connect.
///
/// # References
/// - [connect(2)](https://man7.org/linux/man-pages/man2/connect.2.html)
/// - [proc(5)](https://man7.org/linux/man-pages/man5/proc.5.html) (`/proc/pid/fd`)
pub(crate) fn connect_via_proc(fd: impl AsFd, file: &OwnedFd) -> Result<(), Errno> {
    let alias = format!("/proc/self/fd/{}", file.as_raw_fd());
    rustix::net::connect(fd, &SocketAddrUnix::new(alias.as_str())?)
}

/// `bind(fd, path)` for a path that fits in `sun_path` (longer paths are bound
/// through a directory fd as `/proc/self/fd/N/BASENAME`, by `fs::listen`). The socket
/// file is made with mode `0777 & ~umask`.
///
/// # References
/// - [bind(2)](https://man7.org/linux/man-pages/man2/bind.2.html)
/// - [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html)
pub(crate) fn bind_short(fd: impl AsFd, path: &Path) -> Result<(), Errno> {
    rustix::net::bind(fd, &SocketAddrUnix::new(path)?)
}

/// `bind(fd, @name)`—bind to a Linux abstract name (length-exact, no padding).
///
/// # References
/// - [bind(2)](https://man7.org/linux/man-pages/man2/bind.2.html)
/// - [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html) (abstract names)
pub(crate) fn bind_abstract(fd: impl AsFd, name: &[u8]) -> Result<(), Errno> {
    rustix::net::bind(fd, &SocketAddrUnix::new_abstract_name(name)?)
}

/// The filesystem path a Unix address names, as raw bytes: empty when unnamed or
/// abstract (s6 cuts `IPCREMOTEPATH` at the first NUL, giving the same result).
pub(crate) fn addr_path_bytes(addr: &SocketAddrUnix) -> Vec<u8> {
    match addr.path_bytes() {
        Some(b) => {
            let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
            b.get(..end).unwrap_or_default().to_vec()
        }
        None => Vec::new(),
    }
}

/// `getsockname(fd)` as a path (empty if unbound or abstract): the local socket's name
/// when nobody told us (ipcserver-access without `-l` and without an inherited
/// `IPCLOCALPATH`).
///
/// # References
/// - [getsockname(2)](https://man7.org/linux/man-pages/man2/getsockname.2.html)
pub fn local_path(fd: impl AsFd) -> Result<Vec<u8>, Errno> {
    let any = rustix::net::getsockname(fd)?;
    match SocketAddrUnix::try_from(any) {
        Ok(u) => Ok(addr_path_bytes(&u)),
        Err(_) => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(
            SockPath::parse(OsStr::new("@x"))?,
            SockPath::Abstract(b"x".to_vec())
        );
        assert_eq!(
            SockPath::parse(OsStr::new("/run/x"))?,
            SockPath::Fs("/run/x".into())
        );
        assert!(SockPath::parse(OsStr::new("")).is_err());
        assert_eq!(SockPath::parse(OsStr::new("@ab"))?.as_os_string(), "@ab");
        Ok(())
    }
}
