//! Peer credentials of a connected Unix socket.

use rustix::fd::AsFd;
use rustix::io::Errno;
use rustix::net::UCred;

/// `getsockopt(fd, SOL_SOCKET, SO_PEERCRED)`—uid, gid and pid of the peer, as the
/// kernel recorded them at `connect` time: a client cannot lie about them, and passing
/// the socket to another process does not change them.
///
/// # References
/// - [Linux](https://man7.org/linux/man-pages/man7/unix.7.html)
#[doc(alias = "SO_PEERCRED")]
#[doc(alias = "getpeereid")]
pub fn peer(fd: impl AsFd) -> Result<UCred, Errno> {
    rustix::net::sockopt::socket_peercred(fd)
}
