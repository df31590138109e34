//! File descriptor placement: keeping fds 0–2 occupied, moving an fd to a fixed number
//! for a child (fds 6/7 of a UCSPI client, fd 3+n of a socket-activation chain), and
//! adopting an inherited listening socket (fd 0 of ipcserverd, `LISTEN_FDS`).
//!
//! Every fd ipctools opens is born CLOEXEC; CLOEXEC is cleared only here, on the fds
//! that are handed on, just before exec. This is the one module (with `spawn`) that
//! needs `unsafe`: naming an fd by number is how inheritance works.
#![allow(unsafe_code)]

use crate::error::{Error, ResultExt};
use rustix::fd::{AsFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::{Errno, FdFlags};
use rustix::net::SocketType;

/// Make sure fds 0, 1 and 2 are open (on /dev/null if they were closed), so that no
/// socket we create later lands on a standard fd by accident and gets written to as
/// stdout or stderr.
pub fn ensure_std_fds() -> Result<(), Error> {
    for n in 0..3 {
        // SAFETY: the fd is only borrowed for one fcntl; it is never closed here.
        let fd = unsafe { BorrowedFd::borrow_raw(n) };
        if rustix::io::fcntl_getfd(fd) == Err(Errno::BADF) {
            let null = open_devnull()?;
            // open returns the lowest free fd, which is `n` since 0..n are open.
            let got = null.into_raw_fd();
            if got != n {
                // SAFETY: `got` was just returned by open and is owned by nobody else.
                drop(unsafe { OwnedFd::from_raw_fd(got) });
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
pub fn null_stdin_stdout() -> Result<(), Error> {
    let null = open_devnull()?;
    rustix::stdio::dup2_stdin(&null).op("dup2 /dev/null to stdin")?;
    rustix::stdio::dup2_stdout(&null).op("dup2 /dev/null to stdout")?;
    Ok(())
}

/// Replace stdin with /dev/null (the first half of [`null_stdin_stdout`]).
pub fn null_stdin() -> Result<(), Error> {
    let null = open_devnull()?;
    rustix::stdio::dup2_stdin(&null).op("dup2 /dev/null to stdin")
}

/// Make stdout a copy of stdin (after [`null_stdin`]: /dev/null) without opening
/// anything, so that no fd comes and goes once a readiness line is out.
pub fn stdout_from_stdin() -> Result<(), Error> {
    rustix::stdio::dup2_stdout(rustix::stdio::stdin()).op("dup2 /dev/null to stdout")
}

/// Put `fd` on number `target` without CLOEXEC, for the program we are about to exec
/// (skalibs `fd_move`). Works when `fd` already is `target`: CLOEXEC is cleared anyway.
pub fn move_to(fd: OwnedFd, target: RawFd) -> Result<(), Error> {
    let raw = fd.into_raw_fd();
    if raw == target {
        // SAFETY: `raw` came from an OwnedFd we consumed; we keep it open on purpose.
        let b = unsafe { BorrowedFd::borrow_raw(raw) };
        return rustix::io::fcntl_setfd(b, FdFlags::empty()).op("clear close-on-exec");
    }
    // SAFETY: `raw` came from the OwnedFd we consumed; it is closed after the dup.
    let src = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: `target` is a number we are asked to occupy; whatever was there is replaced
    // by dup2, and the new fd is deliberately leaked so that it survives exec.
    let mut dst = unsafe { OwnedFd::from_raw_fd(target) };
    let r = rustix::io::dup2(&src, &mut dst);
    let _ = dst.into_raw_fd();
    r.op("move fd")
}

/// Copy `fd` onto number `target` (no CLOEXEC), keeping `fd` open.
pub fn copy_to(fd: BorrowedFd<'_>, target: RawFd) -> Result<(), Error> {
    let dup = rustix::io::fcntl_dupfd_cloexec(fd, 0).op("dup fd")?;
    move_to(dup, target)
}

/// `write(fd, buf)` until all of `buf` is written, retrying on EINTR; a write of 0
/// bytes is EPIPE. The one write loop of the crate (diagnostics, readiness lines,
/// nptlistend's answers).
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

/// Whether fd number `n` is open.
pub fn is_open(n: RawFd) -> bool {
    // SAFETY: borrowed for one fcntl only.
    let fd = unsafe { BorrowedFd::borrow_raw(n) };
    rustix::io::fcntl_getfd(fd).is_ok()
}

/// Set CLOEXEC on fd number `n` if it is open, so that an inherited fd we do not use
/// (a further `LISTEN_FDS` listener) does not reach our children.
pub fn close_on_exec(n: RawFd) -> Result<(), Error> {
    // SAFETY: borrowed for one fcntl only; a closed number just answers EBADF.
    let fd = unsafe { BorrowedFd::borrow_raw(n) };
    match rustix::io::fcntl_setfd(fd, FdFlags::CLOEXEC) {
        Ok(()) | Err(Errno::BADF) => Ok(()),
        Err(e) => Err(Error::sys("set close-on-exec", e)),
    }
}

/// Take ownership of an inherited listening socket on fd `n`, after checking that it is
/// a socket (fstat's result checked too), of a type we can serve, and set CLOEXEC on it
/// so that no child inherits it. `what` names it in errors ("stdin", "fd 3").
pub fn adopt_listener(n: RawFd, what: &str) -> Result<OwnedFd, Error> {
    // SAFETY: borrowed for the checks only; ownership is taken below once they pass.
    let b = unsafe { BorrowedFd::borrow_raw(n) };
    let st = rustix::fs::fstat(b).map_err(|e| {
        if e == Errno::BADF {
            Error::Usage(format!("{what} is not open"))
        } else {
            Error::sys("fstat listening socket", e)
        }
    })?;
    if FileType::from_raw_mode(st.st_mode) != FileType::Socket {
        return Err(Error::Usage(format!("{what} is not a socket")));
    }
    let ty = rustix::net::sockopt::socket_type(b).op("get socket type")?;
    if ty != SocketType::STREAM && ty != SocketType::SEQPACKET {
        return Err(Error::Usage(format!(
            "{what} is not a stream or seqpacket socket"
        )));
    }
    if !rustix::net::sockopt::socket_acceptconn(b).op("check listening socket")? {
        return Err(Error::Usage(format!("{what} is not a listening socket")));
    }
    rustix::io::fcntl_setfd(b, FdFlags::CLOEXEC).op("set close-on-exec")?;
    // SAFETY: fd `n` is open (fstat succeeded), and from here on we are its only user.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// Borrow fd number `n`, for a program's fixed fds (6 and 7 of a UCSPI client).
///
/// # Safety
/// `n` must stay open for as long as the result is used.
pub unsafe fn borrow(n: RawFd) -> BorrowedFd<'static> {
    // SAFETY: delegated to the caller.
    unsafe { BorrowedFd::borrow_raw(n) }
}

/// The number of an fd, for messages and environment variables.
pub fn number(fd: impl AsFd) -> RawFd {
    use rustix::fd::AsRawFd;
    fd.as_fd().as_raw_fd()
}

/// Take ownership of inherited fd number `n` (a relay's fds 0, 1, 6 and 7), after
/// checking with `fstat` that it is open; returns the fd and its file type.
///
/// # Errors
/// `unable to fstat fd N` (s6-ioconnect's wording).
pub fn adopt(n: RawFd) -> Result<(OwnedFd, FileType), Error> {
    // SAFETY: borrowed for the check only; ownership is taken below once it passes.
    let b = unsafe { BorrowedFd::borrow_raw(n) };
    let st = rustix::fs::fstat(b).op_at("fstat", format!("fd {n}"))?;
    // SAFETY: fd `n` is open (fstat succeeded); the caller takes each number once, so
    // it is the only owner and the only one to close it.
    Ok((
        unsafe { OwnedFd::from_raw_fd(n) },
        FileType::from_raw_mode(st.st_mode),
    ))
}
