//! Reads bounded by a deadline (poll, then read; EINTR retried), on sockets and pipes.

use rustix::event::{PollFd, PollFlags};
use rustix::fd::{AsFd, BorrowedFd};
use std::io::{self, Read};
use std::time::Instant;

/// Wait until one of `fds` is readable (or at end of file, or in error), at most until
/// `deadline`; the number of such fds, 0 at the deadline.
pub fn poll_in(fds: &[BorrowedFd<'_>], deadline: Instant) -> io::Result<usize> {
    let mut pfds: Vec<PollFd<'_>> = fds.iter().map(|f| PollFd::new(f, PollFlags::IN)).collect();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ts = rustix::time::Timespec {
            tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(left.subsec_nanos()),
        };
        match rustix::event::poll(&mut pfds, Some(&ts)) {
            Ok(n) => return Ok(n),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// One read into `chunk` once `r` is readable; `TimedOut` at the deadline.
pub fn read_by<R: Read + AsFd>(
    r: &mut R,
    deadline: Instant,
    chunk: &mut [u8],
) -> io::Result<usize> {
    loop {
        if poll_in(&[r.as_fd()], deadline)? == 0 {
            return Err(io::ErrorKind::TimedOut.into());
        }
        match r.read(chunk) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            res => return res,
        }
    }
}

/// Append to `buf` until end of file.
pub fn read_to_end_by<R: Read + AsFd>(
    r: &mut R,
    deadline: Instant,
    buf: &mut Vec<u8>,
) -> io::Result<()> {
    let mut chunk = [0u8; 4096];
    loop {
        match read_by(r, deadline, &mut chunk)? {
            0 => return Ok(()),
            n => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
}

/// Append to `buf` until it holds a newline (`true`) or end of file (`false`). Bytes
/// after the newline, if any arrived in the same read, are kept in `buf`.
pub fn read_line_by<R: Read + AsFd>(
    r: &mut R,
    deadline: Instant,
    buf: &mut Vec<u8>,
) -> io::Result<bool> {
    let mut chunk = [0u8; 256];
    while !buf.contains(&b'\n') {
        match read_by(r, deadline, &mut chunk)? {
            0 => return Ok(false),
            n => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    #[test]
    fn line_then_eof_then_timeout() {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let soon = || Instant::now() + Duration::from_millis(50);
        let mut buf = Vec::new();
        let e = read_line_by(&mut b, soon(), &mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        a.write_all(b"one\ntwo").unwrap();
        assert!(read_line_by(&mut b, soon(), &mut buf).unwrap());
        assert_eq!(buf, b"one\ntwo");
        drop(a);
        let mut rest = Vec::new();
        read_to_end_by(&mut b, soon(), &mut rest).unwrap();
        assert!(rest.is_empty());
        assert!(!read_line_by(&mut b, soon(), &mut Vec::new()).unwrap());
    }
}
