//! Passing file descriptors over a Unix stream socket (`SCM_RIGHTS`), and plain socket
//! I/O with a deadline, for the s6-sudo protocol and anything like it.
//!
//! Every call uses `MSG_DONTWAIT` and waits in `poll` for the deadline instead of
//! switching the socket to non-blocking mode: fds 6/7 (or 0/1) are shared with other
//! processes, and `O_NONBLOCK` lives in the open file description, not in our fd.
//! Received fds are born `CLOEXEC` (`MSG_CMSG_CLOEXEC`). Control data the kernel had to
//! truncate is refused (`EPROTO`), and every fd that did arrive is closed, so a peer
//! sending too many fds can neither fill our fd table nor sneak fds past the count.
//! Left out: datagram sockets, credentials messages (`SO_PEERCRED` is in `cred`).

use rustix::event::{PollFd, PollFlags};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::time::Instant;

/// At most this many fds are accepted in one message; more is a truncation (`EPROTO`).
pub(crate) const MAX_FDS: usize = 16;

/// Wait until `fd` is ready for `events` or `deadline` passes (`ETIMEDOUT`).
/// `None` waits forever. Returns the events seen (`POLLHUP`/`POLLERR` included).
///
/// # References
/// - [poll](https://man7.org/linux/man-pages/man2/poll.2.html)
pub fn wait(
    fd: BorrowedFd<'_>,
    events: PollFlags,
    deadline: Option<Instant>,
) -> Result<PollFlags, Errno> {
    loop {
        let timeout = crate::sys::time::poll_timeout(deadline);
        let mut pfd = [PollFd::from_borrowed_fd(fd, events)];
        match rustix::event::poll(&mut pfd, timeout.as_ref()) {
            Ok(0) => return Err(Errno::TIMEDOUT),
            Ok(_) => return Ok(pfd[0].revents()),
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// `sendmsg(fd, data, SCM_RIGHTS(fds), MSG_NOSIGNAL)`—send all of `data`, with `fds`
/// attached to its first byte (skalibs' unixmessage does the same), before `deadline`.
///
/// The fds stay open here: the kernel passes copies.
///
/// # Errors
/// The errno of the failed `poll` or `sendmsg`; `ETIMEDOUT` at the deadline; `EPIPE`
/// when the peer is gone (never SIGPIPE).
///
/// # References
/// - [sendmsg](https://man7.org/linux/man-pages/man2/sendmsg.2.html)
/// - [unix(7), SCM_RIGHTS](https://man7.org/linux/man-pages/man7/unix.7.html)
#[doc(alias = "SCM_RIGHTS")]
pub(crate) fn send_with_fds(
    sock: BorrowedFd<'_>,
    data: &[u8],
    fds: &[BorrowedFd<'_>],
    deadline: Option<Instant>,
) -> Result<(), Errno> {
    if fds.len() > MAX_FDS {
        return Err(Errno::INVAL);
    }
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    let mut sent = 0;
    let mut first = true;
    while sent < data.len() || first {
        let mut control = SendAncillaryBuffer::new(&mut space);
        if first && !fds.is_empty() && !control.push(SendAncillaryMessage::ScmRights(fds)) {
            return Err(Errno::NOBUFS);
        }
        let rest = data.get(sent..).unwrap_or_default();
        let flags = SendFlags::NOSIGNAL | SendFlags::DONTWAIT;
        match rustix::net::sendmsg(sock, &[IoSlice::new(rest)], &mut control, flags) {
            Ok(n) => {
                sent += n;
                first = false;
            }
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => {
                wait(sock, PollFlags::OUT, deadline)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `recvmsg(fd, buf, MSG_CMSG_CLOEXEC)`—one receive into `buf`, waiting until
/// `deadline`; fds that come with it are appended to `fds`. Returns the byte count,
/// 0 at end of file.
///
/// # Errors
/// `ETIMEDOUT` at the deadline; `EPROTO` when the control data was truncated (more
/// than [`MAX_FDS`] fds, or `fds` would exceed `max_fds`); the errno of `recvmsg`.
///
/// # References
/// - [recvmsg](https://man7.org/linux/man-pages/man2/recvmsg.2.html)
/// - [unix(7), SCM_RIGHTS](https://man7.org/linux/man-pages/man7/unix.7.html)
#[doc(alias = "SCM_RIGHTS")]
fn recv_with_fds(
    sock: BorrowedFd<'_>,
    buf: &mut [u8],
    fds: &mut Vec<OwnedFd>,
    max_fds: usize,
    deadline: Option<Instant>,
) -> Result<usize, Errno> {
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    loop {
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let flags = RecvFlags::CMSG_CLOEXEC | RecvFlags::DONTWAIT;
        match rustix::net::recvmsg(sock, &mut [IoSliceMut::new(buf)], &mut control, flags) {
            Ok(msg) => {
                // Take ownership first, so that every fd that arrived is closed on
                // every error path below.
                let mut got = Vec::new();
                for m in control.drain() {
                    if let RecvAncillaryMessage::ScmRights(it) = m {
                        got.extend(it);
                    }
                }
                if msg.flags.contains(ReturnFlags::CTRUNC) || fds.len() + got.len() > max_fds {
                    return Err(Errno::PROTO);
                }
                fds.extend(got);
                return Ok(msg.bytes);
            }
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => {
                wait(sock, PollFlags::IN, deadline)?;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Fill `buf` with `recv_with_fds` calls. Returns the bytes read, less than
/// `buf.len()` only at end of file.
pub(crate) fn recv_exact_with_fds(
    sock: BorrowedFd<'_>,
    buf: &mut [u8],
    fds: &mut Vec<OwnedFd>,
    max_fds: usize,
    deadline: Option<Instant>,
) -> Result<usize, Errno> {
    let mut got = 0;
    while got < buf.len() {
        let rest = buf.get_mut(got..).unwrap_or_default();
        match recv_with_fds(sock, rest, fds, max_fds, deadline)? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// Read exactly `buf.len()` bytes from a socket before `deadline`, refusing any fd
/// (`EPROTO`). Returns fewer bytes only at end of file.
pub(crate) fn recv_exact(
    sock: impl AsFd,
    buf: &mut [u8],
    deadline: Option<Instant>,
) -> Result<usize, Errno> {
    let mut none = Vec::new();
    recv_exact_with_fds(sock.as_fd(), buf, &mut none, 0, deadline)
}

/// Send all of `data` on a socket before `deadline`, without SIGPIPE.
pub(crate) fn send_all(
    sock: impl AsFd,
    data: &[u8],
    deadline: Option<Instant>,
) -> Result<(), Errno> {
    send_with_fds(sock.as_fd(), data, &[], deadline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::net::{AddressFamily, SocketFlags, SocketType};
    use std::time::Duration;

    fn pair() -> Result<(OwnedFd, OwnedFd), Errno> {
        rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC,
            None,
        )
    }

    fn is_cloexec(fd: &OwnedFd) -> Result<bool, Errno> {
        Ok(rustix::io::fcntl_getfd(fd)?.contains(rustix::io::FdFlags::CLOEXEC))
    }

    #[test]
    fn fds_travel_with_data_and_arrive_cloexec() -> Result<(), Box<dyn std::error::Error>> {
        let (a, b) = pair()?;
        let (p, q) = rustix::pipe::pipe()?;
        send_with_fds(a.as_fd(), b"hello", &[q.as_fd(), p.as_fd()], None)?;
        let mut buf = [0u8; 5];
        let mut fds = Vec::new();
        let n = recv_exact_with_fds(b.as_fd(), &mut buf, &mut fds, 3, None)?;
        assert_eq!((n, &buf), (5, b"hello"));
        assert_eq!(fds.len(), 2);
        for fd in &fds {
            assert!(is_cloexec(fd)?);
        }
        // The received write end reaches our read end.
        rustix::io::write(&fds[0], b"x")?;
        let mut c = [0u8; 1];
        rustix::io::read(&p, &mut c)?;
        assert_eq!(&c, b"x");
        Ok(())
    }

    #[test]
    fn too_many_fds_are_refused_and_closed() -> Result<(), Box<dyn std::error::Error>> {
        let (a, b) = pair()?;
        let (p, q) = rustix::pipe::pipe()?;
        let many: Vec<BorrowedFd<'_>> = (0..4).map(|_| p.as_fd()).collect();
        send_with_fds(a.as_fd(), b"m", &many, None)?;
        drop(many);
        drop(p);
        refused_and_closed(&b, 3, &q);
        Ok(())
    }

    /// The message on `b` is refused with `EPROTO` when at most `max` fds are taken,
    /// and every received copy of the read end of `q`'s pipe is closed: the pipe has
    /// no reader left. (Counting /proc/self/fd would race with the other tests'
    /// threads.)
    fn refused_and_closed(b: &OwnedFd, max: usize, q: &OwnedFd) {
        let mut fds = Vec::new();
        let mut buf = [0u8; 1];
        assert_eq!(
            recv_with_fds(b.as_fd(), &mut buf, &mut fds, max, None),
            Err(Errno::PROTO)
        );
        assert!(fds.is_empty());
        assert_eq!(rustix::io::write(q, b"x"), Err(Errno::PIPE));
    }

    #[test]
    fn truncated_control_data_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        let (a, b) = pair()?;
        let (p, q) = rustix::pipe::pipe()?;
        // More fds than our control buffer holds: the kernel truncates (MSG_CTRUNC).
        let many: Vec<BorrowedFd<'_>> = (0..MAX_FDS + 4).map(|_| p.as_fd()).collect();
        let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(64))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        assert!(control.push(SendAncillaryMessage::ScmRights(&many)));
        rustix::net::sendmsg(&a, &[IoSlice::new(b"m")], &mut control, SendFlags::empty())?;
        drop(many);
        drop(p);
        refused_and_closed(&b, MAX_FDS, &q);
        Ok(())
    }

    #[test]
    fn deadline_and_eof() -> Result<(), Box<dyn std::error::Error>> {
        let (a, b) = pair()?;
        let mut buf = [0u8; 4];
        let t = Instant::now();
        let r = recv_exact(
            &b,
            &mut buf,
            Some(Instant::now() + Duration::from_millis(50)),
        );
        assert_eq!(r, Err(Errno::TIMEDOUT));
        assert!(t.elapsed() >= Duration::from_millis(45));
        send_all(&a, b"ab", None)?;
        drop(a);
        assert_eq!(recv_exact(&b, &mut buf, None), Ok(2));
        // Writing to a closed peer is EPIPE, not a signal.
        assert_eq!(send_all(&b, b"x", None), Err(Errno::PIPE));
        Ok(())
    }
}
