//! ipcnotify-socket-from-fd (s6-notify-socket-from-fd): run a daemon that reports
//! readiness s6's way (a newline on an fd) under a supervisor that listens on
//! `NOTIFY_SOCKET` (systemd's `Type=notify`).
//!
//! Without `NOTIFY_SOCKET` it is a plain exec. Otherwise prog gets the write end of a
//! pipe on fd `-d` (default 1) and the watcher reads the other end: at the first
//! newline it sends `READY=1\nMAINPID=<prog's pid>\n`, then `BARRIER=1\n` with the
//! write end of a fresh pipe, and waits until the supervisor closes that fd.

use super::{EXIT_GONE, EXIT_TIMEOUT, Heard, fork_watcher};
use crate::base::error::{Error, ResultExt};
use crate::formats::sdnotify::{self, BARRIER, NOTIFY_SOCKET};
use crate::sys::diag::Diag;
use crate::sys::exec::{self, unset};
use crate::sys::fdpass::{self, send_with_fds};
use crate::sys::time::deadline;
use crate::sys::{fd, sock};
use rustix::event::PollFlags;
use rustix::fd::{AsFd, OwnedFd, RawFd};
use rustix::io::Errno;
use rustix::net::SocketType;
use rustix::pipe::{PipeFlags, pipe_with};
use rustix::process::Pid;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The watcher's name in its messages (s6: `s6-notify-socket-from-fd (child)`).
pub const CHILD_PROG: &str = "ipcnotify-socket-from-fd (child)";

/// What ipcnotify-socket-from-fd was asked to do.
#[derive(Debug, Clone)]
pub struct IpcnotifySocketFromFdConfig {
    /// `-d`: the fd prog writes its newline on (default 1, as s6).
    pub fd: u32,
    /// `-t`: how long to wait for readiness, then for the supervisor (`None`: forever).
    pub timeout: Option<Duration>,
    /// Fork the watcher twice (default) rather than once (`-f`).
    pub doublefork: bool,
    /// `-k`: leave `NOTIFY_SOCKET` in prog's environment.
    pub keep_env: bool,
    /// The program to exec, and its arguments.
    pub prog: Vec<OsString>,
}

/// Run the program. In the process that execs prog, returns only on failure; in the
/// watcher, returns its exit code (0 notified, 1 prog gone first, 99 timed out, 111
/// after printing why) once done.
///
/// # Errors
/// `pipe`, `fork`/`doublefork`, `fd_move` (the `-d` fd cannot be made), exec.
pub fn ipcnotify_socket_from_fd(
    cfg: &IpcnotifySocketFromFdConfig,
    diag: &Diag,
) -> Result<u8, Error> {
    let Some(addr) = std::env::var_os(NOTIFY_SOCKET) else {
        return Err(exec::exec(&cfg.prog, &[]));
    };
    // The pid prog will have: it is ours, since prog replaces this process.
    let prog_pid = rustix::process::getpid();
    let (rd, wr) = pipe_with(PipeFlags::CLOEXEC).op("pipe")?;
    if fork_watcher(cfg.doublefork)? {
        drop(wr);
        let child = Diag {
            prog: CHILD_PROG,
            ..*diag
        };
        return Ok(watch(&rd, prog_pid, &addr, deadline(cfg.timeout), &child));
    }
    drop(rd);
    let target = RawFd::try_from(cfg.fd).map_err(|_| Error::sys("fd_move", Errno::BADF))?;
    fd::move_to(wr, target).map_err(|e| Error::sys("fd_move", e.errno().unwrap_or(Errno::IO)))?;
    let env = if cfg.keep_env {
        Vec::new()
    } else {
        vec![unset(NOTIFY_SOCKET)]
    };
    Err(exec::exec(&cfg.prog, &env))
}

/// The watcher: wait for prog's newline, notify the supervisor at `addr`, wait for it
/// to close the barrier fd. Returns the exit code, after printing any fatal error.
fn watch(rd: &OwnedFd, prog: Pid, addr: &OsStr, deadline: Option<Instant>, diag: &Diag) -> u8 {
    let r = wait_for_newline(rd, deadline).and_then(|heard| match heard {
        Heard::Ready => notify(prog, addr, deadline),
        Heard::Gone => Ok(EXIT_GONE),
        Heard::TimedOut => Ok(EXIT_TIMEOUT),
    });
    r.unwrap_or_else(|e| diag.fatal(&e))
}

/// Read the pipe until a chunk holds a newline (ready), end of file (prog and every
/// copy of its fd gone) or the deadline.
fn wait_for_newline(rd: &OwnedFd, deadline: Option<Instant>) -> Result<Heard, Error> {
    let mut buf = [0u8; 4096];
    loop {
        match fdpass::wait(rd.as_fd(), PollFlags::IN, deadline) {
            Ok(_) => {}
            Err(Errno::TIMEDOUT) => return Ok(Heard::TimedOut),
            Err(e) => return Err(Error::sys("iopause", e)),
        }
        let n = fd::read(rd, &mut buf).op("read from parent")?;
        let got = buf.get(..n).unwrap_or_default();
        if n == 0 {
            return Ok(Heard::Gone);
        }
        if got.contains(&b'\n') {
            return Ok(Heard::Ready);
        }
    }
}

/// Send `READY=1` and `MAINPID=`, then `BARRIER=1` with a pipe's write end, and wait
/// for the supervisor to close it: 0, or 99 at the deadline.
fn notify(prog: Pid, addr: &OsStr, deadline: Option<Instant>) -> Result<u8, Error> {
    let shown = PathBuf::from(addr);
    let sock = sock::socket(SocketType::DGRAM)?;
    let (barrier_rd, barrier_wr) = pipe_with(PipeFlags::CLOEXEC).op("pipe")?;
    // Connected first, then sent: `sock::connect` reaches a path of any length, and an
    // abstract name with its exact length (s6 pads it to 108 bytes; see `sdnotify`).
    let target = sdnotify::address(addr).ok_or(Errno::NOENT);
    let sent = target
        .and_then(|t| sock::connect(&sock, &t))
        .and_then(|()| send_with_fds(sock.as_fd(), &sdnotify::ready_message(prog), &[], deadline));
    match sent {
        Err(Errno::TIMEDOUT) => return Ok(EXIT_TIMEOUT),
        r => r.op_at("send notification message to", shown.clone())?,
    }
    match send_with_fds(sock.as_fd(), BARRIER, &[barrier_wr.as_fd()], deadline) {
        Err(Errno::TIMEDOUT) => return Ok(EXIT_TIMEOUT),
        r => r.op_at("send notification barrier message to", shown)?,
    }
    drop(sock);
    drop(barrier_wr);
    match fdpass::wait(barrier_rd.as_fd(), PollFlags::IN, deadline) {
        Ok(_) => Ok(0),
        Err(Errno::TIMEDOUT) => Ok(EXIT_TIMEOUT),
        Err(e) => Err(Error::sys("iopause", e)),
    }
}
