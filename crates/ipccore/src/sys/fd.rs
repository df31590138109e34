//! File descriptor placement: keeping fds 0–2 occupied, moving an fd to a fixed number
//! for a child (fds 6/7 of a UCSPI client, fd 3+n of a socket-activation chain), and
//! adopting an inherited listening socket (fd 0 of ipcserverd, `LISTEN_FDS`).
//!
//! Every fd ipctools opens is born CLOEXEC; CLOEXEC is cleared only here, on the fds
//! that are handed on, just before exec. Like a few other sys modules, this one needs
//! `unsafe`, for three things only: `dup2` onto a fixed number that no owner refers to
//! (`dup2_raw`, behind the checked `move_to`/`copy_to`), taking ownership of an
//! inherited fd once ([`claim`]), and reading an fd number's flags (`fcntl(F_GETFD)`).
//! Fds 0–2 are reached through `rustix::stdio`.
#![allow(unsafe_code)]

use crate::base::error::{Error, ResultExt};
use rustix::fd::{AsFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::{Errno, FdFlags};
use rustix::net::SocketType;
use std::collections::BTreeSet;
use std::sync::Mutex;

/// Make sure fds 0, 1 and 2 are open (on /dev/null if they were closed), so that no
/// socket we create later lands on a standard fd by accident and gets written to as
/// stdout or stderr.
///
/// # Errors
/// `open /dev/null`.
///
/// # References
/// - [open(2)](https://man7.org/linux/man-pages/man2/open.2.html) (lowest free fd)
pub(crate) fn ensure_std_fds() -> Result<(), Error> {
    for n in 0..3 {
        if !is_open(n) {
            // open returns the lowest free fd, which is `n` since 0..n are open. The
            // OwnedFd is leaked on purpose: fds 0-2 belong to the process (rustix::stdio).
            let got = open_devnull()?.into_raw_fd();
            if got != n {
                return Err(Error::Internal(format!(
                    "/dev/null opened on fd {got}, not {n}"
                )));
            }
        }
    }
    Ok(())
}

fn open_devnull() -> Result<OwnedFd, Error> {
    rustix::fs::open("/dev/null", OFlags::RDWR, Mode::empty()).op_at("open", "/dev/null")
}

/// Replace stdin and stdout with /dev/null: a server "closes" them without leaving the
/// fd numbers free for sockets to fall into.
///
/// # References
/// - [dup2(2)](https://man7.org/linux/man-pages/man2/dup2.2.html)
pub(crate) fn null_stdin_stdout() -> Result<(), Error> {
    let null = open_devnull()?;
    rustix::stdio::dup2_stdin(&null).op("dup2 /dev/null to stdin")?;
    rustix::stdio::dup2_stdout(&null).op("dup2 /dev/null to stdout")?;
    Ok(())
}

/// Replace stdin with /dev/null (the first half of `null_stdin_stdout`).
pub fn null_stdin() -> Result<(), Error> {
    let null = open_devnull()?;
    rustix::stdio::dup2_stdin(&null).op("dup2 /dev/null to stdin")
}

/// Make stdout a copy of stdin (after [`null_stdin`]: /dev/null) without opening
/// anything, so that no fd comes and goes once a readiness line is out.
pub(crate) fn stdout_from_stdin() -> Result<(), Error> {
    rustix::stdio::dup2_stdout(rustix::stdio::stdin()).op("dup2 /dev/null to stdout")
}

/// `dup2(src, target)`—put a copy of `src` on number `target`, without CLOEXEC,
/// retrying on `EINTR` (as skalibs' `fd_move` does). When `src` already is `target`,
/// only CLOEXEC is cleared (dup2 would do nothing).
///
/// # Safety
/// Whatever is open on `target` is closed by the kernel, behind the back of any Rust
/// object that owns it. The caller guarantees that no `OwnedFd` (or other owner) in
/// this process refers to `target`: it is closed, or an inherited fd nobody adopted.
/// The copy on `target` is left unowned (it is meant for the program we exec).
///
/// # References
/// - [dup2(2)](https://man7.org/linux/man-pages/man2/dup2.2.html)
#[doc(alias = "dup2")]
unsafe fn dup2_raw(src: BorrowedFd<'_>, target: RawFd) -> Result<(), Errno> {
    use rustix::fd::AsRawFd;
    if src.as_raw_fd() == target {
        return rustix::io::fcntl_setfd(src, FdFlags::empty());
    }
    loop {
        // SAFETY: dup2 takes plain integers and touches no memory of ours; the
        // ownership of `target` is the caller's contract (see `# Safety`).
        if unsafe { libc::dup2(src.as_raw_fd(), target) } >= 0 {
            return Ok(());
        }
        match Errno::from_io_error(&std::io::Error::last_os_error()) {
            Some(Errno::INTR) => continue,
            Some(e) => return Err(e),
            None => return Err(Errno::IO),
        }
    }
}

/// Put `fd` on number `target` without CLOEXEC, for the program we are about to exec
/// (skalibs `fd_move`), and close `fd` unless it already was `target`.
///
/// # Errors
/// `EBUSY` when `target` is an fd this process owns (close-on-exec, or [`claim`]ed).
///
/// # References
/// - [dup2(2)](https://man7.org/linux/man-pages/man2/dup2.2.html)
/// - [fcntl(2)](https://man7.org/linux/man-pages/man2/fcntl.2.html) (`F_SETFD`)
#[doc(alias = "fd_move")]
pub(crate) fn move_to(fd: OwnedFd, target: RawFd) -> Result<(), Error> {
    if number(&fd) == target {
        rustix::io::fcntl_setfd(&fd, FdFlags::empty()).op("clear close-on-exec")?;
        // The fd now belongs to the program we exec: leave it open.
        let _ = fd.into_raw_fd();
        return Ok(());
    }
    copy_to(fd.as_fd(), target)
}

/// Copy `fd` onto number `target` (no CLOEXEC), keeping `fd` open.
///
/// # Errors
/// `EBUSY` when `target` is an fd this process owns (close-on-exec, or [`claim`]ed).
pub(crate) fn copy_to(fd: BorrowedFd<'_>, target: RawFd) -> Result<(), Error> {
    if !unowned(target) {
        return Err(Error::sys("move fd", Errno::BUSY));
    }
    // SAFETY: no owner refers to `target` (checked just above; ipccore's programs are
    // single-threaded, so no fd is opened between the check and the dup2).
    unsafe { dup2_raw(fd, target) }.op("move fd")
}

/// Whether no Rust object of this process owns fd number `target`: it is closed, or it
/// is open, not close-on-exec and not [`claim`]ed — an inherited fd nobody adopted, or
/// one already handed on by [`dup2_raw`]. Every fd this crate creates is born CLOEXEC and
/// owned by the OwnedFd that created it, so an owned fd is CLOEXEC or claimed.
fn unowned(target: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the flags of the fd numbered `target`, if any.
    let flags = unsafe { libc::fcntl(target, libc::F_GETFD) };
    // The runtime's /dev/null on an fd closed at start is close-on-exec and nobody's
    // (`exec::hand_on_closed_stdio`): free to be replaced, as a closed fd would be.
    flags < 0
        || (flags & libc::FD_CLOEXEC == 0 && !claimed(target))
        || crate::sys::exec::runtime_null(target)
}

/// `write(fd, buf)` until all of `buf` is written, retrying on EINTR; a write of 0
/// bytes is EPIPE. The one write loop of the crate (diagnostics, readiness lines,
/// nptlistend's answers).
///
/// # References
/// - [write(2)](https://man7.org/linux/man-pages/man2/write.2.html)
pub fn write_all(fd: BorrowedFd<'_>, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        match rustix::io::write(fd, buf) {
            Ok(0) => return Err(Errno::PIPE),
            Ok(n) => buf = buf.get(n..).unwrap_or_default(),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `read(fd, buf)`, retried on EINTR: the one read every loop of the core uses. `Ok(0)`
/// is end of file (or an empty `buf`); EAGAIN on a non-blocking fd is returned.
///
/// # References
/// - [read(2)](https://man7.org/linux/man-pages/man2/read.2.html)
pub fn read(fd: impl AsFd, buf: &mut [u8]) -> Result<usize, Errno> {
    loop {
        match rustix::io::read(fd.as_fd(), &mut *buf) {
            Err(Errno::INTR) => {}
            r => return r,
        }
    }
}

/// [`read`] until `buf` is full or end of file; the number of bytes read.
pub(crate) fn read_full(fd: impl AsFd, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut got = 0;
    while let Some(rest) = buf.get_mut(got..).filter(|r| !r.is_empty()) {
        match read(fd.as_fd(), rest)? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// `fcntl(n, F_GETFD)`—whether fd number `n` is open.
///
/// # References
/// - [fcntl(2)](https://man7.org/linux/man-pages/man2/fcntl.2.html)
pub(crate) fn is_open(n: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the flags of the fd numbered `n`, if there is one; it
    // is defined for any integer (EBADF when nothing is open there) and touches no
    // memory of ours.
    unsafe { libc::fcntl(n, libc::F_GETFD) >= 0 }
}

/// Inherited fds already adopted by [`claim`]: each may have one owner only.
static CLAIMED: Mutex<BTreeSet<RawFd>> = Mutex::new(BTreeSet::new());

/// Whether `n` was [`claim`]ed (a poisoned lock counts as yes: refuse rather than risk
/// a second owner).
fn claimed(n: RawFd) -> bool {
    CLAIMED.lock().map_or(true, |set| set.contains(&n))
}

/// Take ownership of the inherited fd number `n` (fd 6 or 7 of a UCSPI client, an
/// `LISTEN_FDS` socket, ipcserverd's stdin, an fd to store in a holder), once: a second
/// claim of the same number fails, so two owners can never close it twice.
///
/// # Errors
/// `EBADF` when nothing is open on `n`; `EBUSY` when `n` was claimed already, or is
/// close-on-exec (so it was not inherited: it is one of ours).
///
/// # References
/// - [fcntl(2)](https://man7.org/linux/man-pages/man2/fcntl.2.html) (`F_GETFD`)
pub fn claim(n: RawFd) -> Result<OwnedFd, Errno> {
    // SAFETY: F_GETFD only reads the flags of the fd numbered `n`, if any (see is_open).
    let flags = unsafe { libc::fcntl(n, libc::F_GETFD) };
    if flags < 0 {
        return Err(Errno::BADF);
    }
    if flags & libc::FD_CLOEXEC != 0 {
        return Err(Errno::BUSY);
    }
    if !CLAIMED.lock().is_ok_and(|mut set| set.insert(n)) {
        return Err(Errno::BUSY);
    }
    // SAFETY: `n` is open and not close-on-exec. Every fd this crate creates is born
    // CLOEXEC and owned by the OwnedFd that created it; CLOEXEC is cleared only by
    // dup2_raw, on numbers no owner refers to, which it leaves unowned. So nothing owns
    // `n`, and its entry in CLAIMED makes the result its only owner.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// Set CLOEXEC on the inherited fd number `n` if it is open, so that an inherited fd
/// we do not use (a further `LISTEN_FDS` listener) does not reach our children. The fd
/// stays open, and unowned.
pub(crate) fn close_on_exec(n: RawFd) -> Result<(), Error> {
    match claim(n) {
        Ok(fd) => {
            let r = rustix::io::fcntl_setfd(&fd, FdFlags::CLOEXEC);
            let _ = fd.into_raw_fd();
            r.op("set close-on-exec")
        }
        Err(Errno::BADF) => Ok(()),
        Err(e) => Err(Error::sys("set close-on-exec", e)),
    }
}

/// Take ownership of an inherited listening socket on fd `n`, after checking that it is
/// a socket (fstat's result checked too), of a type we can serve, and set CLOEXEC on it
/// so that no child inherits it. `what` names it in errors ("stdin", "fd 3").
///
/// # Errors
/// A usage error (exit 100, as s6-ipcserverd's `stdin is not a socket`) when `n` is
/// closed, not a socket, not stream or seqpacket, or not listening; `fstat listening
/// socket`, `get socket type`, `check listening socket`, `set close-on-exec`, `adopt
/// listening socket` (EBUSY: claimed already, or one of ours).
///
/// # References
/// - [fstat(2)](https://man7.org/linux/man-pages/man2/fstat.2.html)
/// - [socket(7)](https://man7.org/linux/man-pages/man7/socket.7.html) (`SO_TYPE`,
///   `SO_ACCEPTCONN`)
pub(crate) fn adopt_listener(n: RawFd, what: &str) -> Result<OwnedFd, Error> {
    let fd = claim(n).map_err(|e| match e {
        Errno::BADF => Error::Usage(format!("{what} is not open")),
        e => Error::sys("adopt listening socket", e),
    })?;
    let checked = check_listener(&fd, what);
    match checked {
        Ok(()) => Ok(fd),
        Err(e) => {
            // Not ours to close: on failure the fd stays as it was inherited.
            let _ = fd.into_raw_fd();
            Err(e)
        }
    }
}

fn check_listener(fd: &OwnedFd, what: &str) -> Result<(), Error> {
    let st = rustix::fs::fstat(fd).op("fstat listening socket")?;
    if FileType::from_raw_mode(st.st_mode) != FileType::Socket {
        return Err(Error::Usage(format!("{what} is not a socket")));
    }
    let ty = rustix::net::sockopt::socket_type(fd).op("get socket type")?;
    if ty != SocketType::STREAM && ty != SocketType::SEQPACKET {
        return Err(Error::Usage(format!(
            "{what} is not a stream or seqpacket socket"
        )));
    }
    if !rustix::net::sockopt::socket_acceptconn(fd).op("check listening socket")? {
        return Err(Error::Usage(format!("{what} is not a listening socket")));
    }
    rustix::io::fcntl_setfd(fd, FdFlags::CLOEXEC).op("set close-on-exec")
}

/// The number of an fd, for messages and environment variables.
pub fn number(fd: impl AsFd) -> RawFd {
    use rustix::fd::AsRawFd;
    fd.as_fd().as_raw_fd()
}

/// Take ownership of inherited fd number `n` (a relay's fds 0, 1, 6 and 7) with
/// [`claim`], and return it with its file type.
///
/// # Errors
/// `unable to fstat fd N` (s6-ioconnect's wording) for a closed fd (fd 0, 1 or 2 closed
/// at start counts as closed: the runtime's /dev/null there is not the caller's); a
/// usage error for a number given twice.
pub(crate) fn adopt(n: RawFd) -> Result<(OwnedFd, FileType), Error> {
    if crate::sys::exec::runtime_null(n) {
        return Err(Error::sys_at("fstat", format!("fd {n}"), Errno::BADF));
    }
    let fd = claim(n).map_err(|e| match e {
        Errno::BUSY => Error::Usage(format!("fd {n} is given twice")),
        e => Error::sys_at("fstat", format!("fd {n}"), e),
    })?;
    let st = rustix::fs::fstat(&fd).op_at("fstat", format!("fd {n}"))?;
    Ok((fd, FileType::from_raw_mode(st.st_mode)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inherited() -> RawFd {
        // A non-CLOEXEC fd with no owner: what a parent leaves us.
        let fd = rustix::fs::open("/dev/null", OFlags::RDONLY, Mode::empty()).unwrap();
        fd.into_raw_fd()
    }

    #[test]
    fn an_inherited_fd_is_claimed_once() {
        let n = inherited();
        let owned = claim(n).unwrap();
        assert_eq!(claim(n).err(), Some(Errno::BUSY), "a second owner");
        drop(owned);
    }

    #[test]
    fn an_fd_of_ours_is_not_claimable_and_not_overwritten() {
        let ours =
            rustix::fs::open("/dev/null", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).unwrap();
        assert_eq!(claim(number(&ours)).err(), Some(Errno::BUSY));
        let other =
            rustix::fs::open("/dev/null", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).unwrap();
        assert!(copy_to(other.as_fd(), number(&ours)).is_err());
        assert!(is_open(number(&ours)));
    }
}
