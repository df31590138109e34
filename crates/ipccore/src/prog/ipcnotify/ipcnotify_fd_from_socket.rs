//! ipcnotify-fd-from-socket (s6-notify-fd-from-socket): run, under s6-supervise, a
//! daemon that reports readiness systemd's way (`READY=1` sent to `NOTIFY_SOCKET`).
//!
//! It binds a datagram socket to an abstract name the kernel picks (autobind), forks a
//! watcher that holds the socket and the service's notification fd, and execs prog with
//! `NOTIFY_SOCKET=@name`. The watcher polls the *socket* (s6 2.15.1.0 polls the
//! notification fd instead: under s6-supervise, a pipe, it never sees the datagram,
//! and with a regular file it spins past its deadline), and prog's pidfd, so that it
//! also ends when prog dies unready. At the first `READY=1` line it writes one newline
//! on the notification fd and exits.

use super::{EXIT_GONE, Heard, fork_watcher};
use crate::base::error::{Error, ResultExt};
use crate::formats::sdnotify::{self, MAX_DATAGRAM, NOTIFY_SOCKET};
use crate::sys::diag::Diag;
use crate::sys::exec::{self, set};
use crate::sys::fd;
use crate::sys::time::deadline;
use rustix::event::{PollFd, PollFlags};
use rustix::fd::{AsFd, OwnedFd, RawFd};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::net::{AddressFamily, RecvFlags, SocketAddrUnix, SocketFlags, SocketType};
use rustix::process::PidfdFlags;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

/// The file of a service directory that names its notification fd (s6-supervise's).
pub const NOTIFICATION_FD_FILE: &str = "notification-fd";

/// What ipcnotify-fd-from-socket was asked to do.
#[derive(Debug, Clone)]
pub struct IpcnotifyFdFromSocketConfig {
    /// `-3`: the notification fd; `None`: the number in `./notification-fd`.
    pub fd: Option<u32>,
    /// `-t`: how long the watcher waits for `READY=1` (`None`: until prog exits).
    pub timeout: Option<Duration>,
    /// Fork the watcher twice (default) rather than once (`-f`).
    pub doublefork: bool,
    /// The program to exec, and its arguments.
    pub prog: Vec<OsString>,
}

/// Run the program. In the process that execs prog, returns only on failure; in the
/// watcher, returns its exit code (0 notified, 1 prog gone unready, 99 timed out, 111
/// after printing why) once done.
///
/// # Errors
/// `read ./notification-fd`, `invalid ./notification-fd` (100), `notification-fd
/// sanity check failed` (the fd is not open), `create socket`, `bind`, `getsockname`,
/// `fork`/`doublefork`, exec.
pub fn ipcnotify_fd_from_socket(
    cfg: &IpcnotifyFdFromSocketConfig,
    diag: &Diag,
) -> Result<u8, Error> {
    let n = match cfg.fd {
        Some(n) => n,
        None => read_notification_fd()?,
    };
    let notif = adopt_notification_fd(n)?;
    let sock = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )
    .op("create socket")?;
    let name = autobind(&sock)?;
    // prog's pidfd, made before the fork so that it names prog and nothing else (a pid
    // could be reused by the time the watcher looked it up). Kernels before 5.3 have no
    // pidfd: the watcher then waits for READY=1 or the deadline only, as s6's.
    let prog_fd = rustix::process::pidfd_open(rustix::process::getpid(), PidfdFlags::empty()).ok();
    if fork_watcher(cfg.doublefork)? {
        return Ok(watch(
            &sock,
            &notif,
            prog_fd.as_ref(),
            deadline(cfg.timeout),
            diag,
        ));
    }
    // The socket and the pidfd are close-on-exec; the notification fd is closed here
    // so that prog does not hold the service's pipe.
    drop(notif);
    let value = OsStr::from_bytes(&sdnotify::abstract_value(&name)).to_owned();
    Err(exec::exec(&cfg.prog, &[set(NOTIFY_SOCKET, value)]))
}

/// The number in `./notification-fd`, read as s6 reads it: its first 11 bytes, up to
/// a newline, decimal digits only.
fn read_notification_fd() -> Result<u32, Error> {
    let path = format!("./{NOTIFICATION_FD_FILE}");
    let file = rustix::fs::open(
        path.as_str(),
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .op_at("read", path.as_str())?;
    let mut buf = [0u8; 11];
    let got = fd::read_full(&file, &mut buf).op_at("read", path.as_str())?;
    let text = buf.get(..got).unwrap_or_default();
    let line = text.split(|&c| c == b'\n').next().unwrap_or_default();
    crate::base::ucspi::uint0_scan(line).ok_or_else(|| Error::Usage(format!("invalid {path}")))
}

/// Take the notification fd `n` over (the watcher writes on it; prog must not get it).
/// An fd that is not open, or was closed when we started (the Rust runtime put
/// /dev/null there), fails s6's sanity check.
fn adopt_notification_fd(n: u32) -> Result<OwnedFd, Error> {
    let bad = |errno| Error::SanityCheck {
        what: "notification-fd",
        errno,
    };
    let n = RawFd::try_from(n).map_err(|_| bad(Errno::BADF))?;
    if exec::closed_at_start(n) == Some(true) {
        return Err(bad(Errno::BADF));
    }
    fd::claim(n).map_err(bad)
}

/// Bind `sock` to an abstract name of the kernel's choosing (five hex digits on Linux)
/// and return the name, without its leading NUL.
///
/// # Errors
/// `bind`, `getsockname`, and `autobind to an abstract socket` (EINVAL) if the kernel
/// gave no abstract name.
fn autobind(sock: &OwnedFd) -> Result<Vec<u8>, Error> {
    rustix::net::bind(sock, &SocketAddrUnix::new_unnamed()).op("bind")?;
    let any = rustix::net::getsockname(sock).op("getsockname")?;
    let addr =
        SocketAddrUnix::try_from(any).map_err(|_| Error::sys("getsockname", Errno::AFNOSUPPORT))?;
    match addr.abstract_name() {
        Some(name) if !name.is_empty() => Ok(name.to_vec()),
        _ => Err(Error::sys("autobind to an abstract socket", Errno::INVAL)),
    }
}

/// The watcher: wait for `READY=1` on `sock`, then write a newline on `notif`. Returns
/// the exit code, after printing any fatal error.
fn watch(
    sock: &OwnedFd,
    notif: &OwnedFd,
    prog: Option<&OwnedFd>,
    deadline: Option<Instant>,
    diag: &Diag,
) -> u8 {
    let r = wait_for_ready(sock, prog, deadline).and_then(|heard| match heard {
        Heard::Ready => fd::write_all(notif.as_fd(), b"\n")
            .op("write to notification-fd")
            .map(|()| 0),
        Heard::Gone => Ok(EXIT_GONE),
        Heard::TimedOut => Err(Error::Timeout("timed out waiting for notification".into())),
    });
    match r {
        Ok(code) => code,
        Err(e) => diag.fatal(&e),
    }
}

/// Poll the socket (and prog's pidfd) until a datagram says `READY=1`, prog is gone,
/// or the deadline passes. Datagrams already queued when prog dies are read first.
fn wait_for_ready(
    sock: &OwnedFd,
    prog: Option<&OwnedFd>,
    deadline: Option<Instant>,
) -> Result<Heard, Error> {
    loop {
        if drain(sock)? {
            return Ok(Heard::Ready);
        }
        // Checked here too: under a flood of datagrams poll never times out.
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(Heard::TimedOut);
        }
        let timeout = crate::sys::time::poll_timeout(deadline);
        let mut fds = vec![PollFd::new(sock, PollFlags::IN)];
        fds.extend(prog.map(|p| PollFd::new(p, PollFlags::IN)));
        match rustix::event::poll(&mut fds, timeout.as_ref()) {
            Ok(0) => return Ok(Heard::TimedOut),
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(e) => return Err(Error::sys("iopause", e)),
        }
        let gone = fds.get(1).is_some_and(|p| !p.revents().is_empty());
        if gone {
            return Ok(if drain(sock)? {
                Heard::Ready
            } else {
                Heard::Gone
            });
        }
    }
}

/// At most this many datagrams are read between two looks at the deadline and prog.
const DRAIN_MAX: usize = 64;

/// Read the queued datagrams (the socket is non-blocking), [`DRAIN_MAX`] at most; true
/// once one says `READY=1`. A datagram's fds, if any, are discarded by the kernel (no
/// control buffer).
fn drain(sock: &OwnedFd) -> Result<bool, Error> {
    let mut buf = [0u8; MAX_DATAGRAM];
    for _ in 0..DRAIN_MAX {
        match rustix::net::recv(sock, &mut buf, RecvFlags::empty()) {
            Ok((n, _)) => {
                if sdnotify::says_ready(buf.get(..n).unwrap_or_default()) {
                    return Ok(true);
                }
            }
            Err(Errno::AGAIN) => return Ok(false),
            Err(Errno::INTR) => {}
            Err(e) => return Err(Error::sys("recv", e)),
        }
    }
    Ok(false)
}
