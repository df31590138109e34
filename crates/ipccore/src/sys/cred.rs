//! Peer credentials of a connected Unix socket: uid, gid and pid (`SO_PEERCRED`), the
//! supplementary groups (`SO_PEERGROUPS`) and a pidfd of the peer (`SO_PEERPIDFD`).
//!
//! rustix 1.x wraps `SO_PEERCRED` only, into a `UCred` whose non-zero `Pid` cannot
//! hold the 0 the kernel gives for a peer outside our pid namespace; the other two it
//! lacks. All three go through one `libc::getsockopt` ([`getsockopt_into`]), the only
//! reason this module needs `unsafe` (with adopting the pidfd).
#![allow(unsafe_code)]

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use rustix::io::Errno;

/// Types the kernel may fill with any bytes: every bit pattern is a valid value (no
/// `NonZero`, `bool` or enum inside), so reading what it wrote is sound.
///
/// # Safety
/// Implement only for plain C integers and structs of them.
unsafe trait Plain: Copy {}
// SAFETY: three C integers.
unsafe impl Plain for libc::ucred {}
// SAFETY: a C integer.
unsafe impl Plain for libc::c_int {}
// SAFETY: a C integer (gid_t is u32, c_int is i32: distinct types).
unsafe impl Plain for libc::gid_t {}

/// `getsockopt(fd, SOL_SOCKET, opt, buf, &len)` with `len` the size of `buf`: the
/// kernel writes at most that much into `buf`. Returns the call's outcome and the
/// length the kernel left in `len` (with `ERANGE` for `SO_PEERGROUPS`, the size it
/// needs).
fn getsockopt_into<T: Plain>(
    fd: BorrowedFd<'_>,
    opt: libc::c_int,
    buf: &mut [T],
) -> (Result<(), Errno>, usize) {
    let Ok(mut len) = libc::socklen_t::try_from(size_of_val(buf)) else {
        return (Err(Errno::RANGE), 0);
    };
    // SAFETY: `fd` is a live borrowed fd; `buf` is `len` writable bytes that outlive
    // the call, and whatever the kernel writes there is a valid `T` (`Plain`).
    let r = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            opt,
            buf.as_mut_ptr().cast::<libc::c_void>(),
            &raw mut len,
        )
    };
    let got = usize::try_from(len).unwrap_or(0);
    if r != 0 {
        let e = Errno::from_io_error(&std::io::Error::last_os_error()).unwrap_or(Errno::IO);
        return (Err(e), got);
    }
    (Ok(()), got)
}

/// Peer credentials with a plain pid: 0 when the peer is not visible in our pid
/// namespace (rustix's `UCred` holds a non-zero `Pid`, which cannot say that).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Creds {
    /// The peer's pid in our pid namespace, or 0.
    pub pid: u32,
    /// The peer's effective uid.
    pub uid: u32,
    /// The peer's effective gid.
    pub gid: u32,
}

/// `getsockopt(fd, SOL_SOCKET, SO_PEERCRED)`—uid, gid and pid of the peer, as the
/// kernel recorded them at `connect` time: a client cannot lie about them, and passing
/// the socket to another process does not change them.
///
/// The pid is translated into the caller's pid namespace when the call is made: 0
/// when the peer is not visible there (a daemon in a container, its client outside).
/// rustix's `socket_peercred` cannot say that: its `UCred` holds a non-zero `Pid`, and
/// a 0 there made `Ok` read as `Err(0)` ("unable to getpeereid: Success"). The pid
/// names the process that connected only while that process lives: once it is
/// reaped, the number may be given to another process. [`peer_pidfd`] pins the
/// process itself.
///
/// # References
/// - [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html)
///
/// # Errors
/// `ENOTCONN`, `ENOTSOCK`, `EBADF` as any getsockopt.
#[doc(alias = "SO_PEERCRED")]
#[doc(alias = "getpeereid")]
pub fn peer_creds(fd: impl AsFd) -> Result<Creds, Errno> {
    let mut uc = [libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    }];
    getsockopt_into(fd.as_fd(), libc::SO_PEERCRED, &mut uc).0?;
    let [uc] = uc;
    Ok(Creds {
        pid: u32::try_from(uc.pid).unwrap_or(0),
        uid: uc.uid,
        gid: uc.gid,
    })
}

/// How many gids the first [`peer_groups`] call makes room for; more cost one more
/// call (the kernel says how many it has).
const GROUPS_FIRST_TRY: usize = 32;

/// `getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS)`—the peer's supplementary groups, as the
/// kernel recorded them at `connect` time (Linux 4.13).
///
/// The list is the peer's `setgroups` list, in the kernel's (ascending) order; it does
/// not contain the primary gid unless that gid is also a supplementary group. A peer
/// that changes its groups after connecting does not change this list.
///
/// The buffer starts with room for 32 gids; when the kernel says `ERANGE`, it has
/// written the size it needs, and the call is made again with that much room.
///
/// # References
/// - [socket(7)](https://man7.org/linux/man-pages/man7/socket.7.html)
/// - [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html)
///
/// # Errors
/// `ENOPROTOOPT` before Linux 4.13; `ENOTCONN`, `ENOTSOCK`, `EBADF` as any getsockopt.
#[doc(alias = "SO_PEERGROUPS")]
pub fn peer_groups(fd: impl AsFd) -> Result<Vec<u32>, Errno> {
    let fd = fd.as_fd();
    let mut groups: Vec<libc::gid_t> = vec![0; GROUPS_FIRST_TRY];
    // Two rounds suffice unless the groups grow in between (they cannot: they are the
    // ones recorded at connect time); a third round is only a safety margin.
    for _ in 0..3 {
        // With ERANGE the kernel writes nothing and reports the size it needs.
        let (r, len) = getsockopt_into(fd, libc::SO_PEERGROUPS, &mut groups);
        let n = len / size_of::<libc::gid_t>();
        match r {
            Ok(()) => {
                groups.truncate(n);
                return Ok(groups);
            }
            Err(e) if e != Errno::RANGE || n <= groups.len() => return Err(e),
            Err(_) => groups.resize(n, 0),
        }
    }
    Err(Errno::RANGE)
}

/// `getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD)`—a pidfd of the process that connected
/// (Linux 6.5), opened close-on-exec.
///
/// Unlike the pid of [`peer_creds`], a pidfd always names that one process: once it exits,
/// the pidfd says so (see [`crate::sys::pidfd::exited`]) and never starts naming
/// another process that got the same number.
///
/// # References
/// - [socket(7)](https://man7.org/linux/man-pages/man7/socket.7.html)
/// - [pidfd_open(2)](https://man7.org/linux/man-pages/man2/pidfd_open.2.html)
///
/// # Errors
/// `ENOPROTOOPT` before Linux 6.5 (callers fall back to the pid of [`peer_creds`]); `ESRCH`
/// or `EINVAL` when the peer is already gone, on kernels that cannot pin a reaped
/// process; those of any getsockopt.
#[doc(alias = "SO_PEERPIDFD")]
pub fn peer_pidfd(fd: impl AsFd) -> Result<OwnedFd, Errno> {
    let mut pidfd: [libc::c_int; 1] = [-1];
    let (r, len) = getsockopt_into(fd.as_fd(), libc::SO_PEERPIDFD, &mut pidfd);
    r?;
    let [pidfd] = pidfd;
    if pidfd < 0 || len != size_of::<libc::c_int>() {
        return Err(Errno::INVAL);
    }
    // SAFETY: on success the kernel has installed a new fd numbered `pidfd` in our
    // table (close-on-exec), which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(pidfd) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::net::{AddressFamily, SocketFlags, SocketType};

    #[test]
    fn peer_of_a_socketpair_is_us() -> Result<(), Errno> {
        let (a, _b) = rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC,
            None,
        )?;
        let mut mine: Vec<u32> = rustix::process::getgroups()?
            .iter()
            .map(|g| g.as_raw())
            .collect();
        mine.sort_unstable();
        mine.dedup();
        let mut got = peer_groups(&a)?;
        got.sort_unstable();
        assert_eq!(got, mine);
        let c = peer_creds(&a)?;
        assert_eq!(
            c.pid,
            rustix::process::getpid().as_raw_nonzero().get() as u32
        );
        assert_eq!(c.uid, rustix::process::geteuid().as_raw());
        let pidfd = peer_pidfd(&a)?;
        assert!(!crate::sys::pidfd::exited(&pidfd)?);
        Ok(())
    }
}
