//! Socket options rustix lacks, or that a listener asks for on behalf of its server:
//! `SO_PASSCRED` and `SO_PASSSEC`.
//!
//! rustix 1.x has `SO_PASSCRED` but no `SO_PASSSEC`, so that one goes through
//! `libc::setsockopt`; this is the only reason the module needs `unsafe`. Reading
//! credentials out of received messages is the receiver's business, not ours.
#![allow(unsafe_code)]

use crate::base::error::{Error, ResultExt};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd};
use rustix::io::Errno;

/// `setsockopt(fd, SOL_SOCKET, SO_PASSCRED, 1)`—have every message received on the
/// socket (and on sockets it accepts) carry the sender's `SCM_CREDENTIALS`.
///
/// Set it after bind: on an unbound socket the kernel autobinds an abstract name.
///
/// # References
/// - [socket(7)](https://man7.org/linux/man-pages/man7/socket.7.html)
/// - [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html)
///
/// # Errors
/// `set SO_PASSCRED on socket`.
#[doc(alias = "SO_PASSCRED")]
pub(crate) fn set_passcred(fd: BorrowedFd<'_>) -> Result<(), Error> {
    rustix::net::sockopt::set_socket_passcred(fd, true).op("set SO_PASSCRED on socket")
}

/// `setsockopt(fd, SOL_SOCKET, SO_PASSSEC, 1)`—have received messages carry the
/// sender's security context (`SCM_SECURITY`), where a security module provides one.
///
/// # References
/// - [socket(7)](https://man7.org/linux/man-pages/man7/socket.7.html)
/// - [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html)
///
/// # Errors
/// `set SO_PASSSEC on socket`.
#[doc(alias = "SO_PASSSEC")]
pub(crate) fn set_passsec(fd: BorrowedFd<'_>) -> Result<(), Error> {
    let one: libc::c_int = 1;
    // SAFETY: `fd` is a live borrowed fd; the option value points to a c_int that
    // outlives the call, and its size is passed alongside.
    let r = unsafe {
        libc::setsockopt(
            fd.as_fd().as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PASSSEC,
            (&raw const one).cast::<libc::c_void>(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        let e = std::io::Error::last_os_error();
        Err(Error::sys(
            "set SO_PASSSEC on socket",
            Errno::from_io_error(&e).unwrap_or(Errno::IO),
        ))
    }
}
