//! The ipcnotify pair: readiness notification bridged between s6's protocol (a newline
//! written on a notification fd) and systemd's (`READY=1` sent to `NOTIFY_SOCKET`),
//! as s6 2.15's s6-notify-socket-from-fd and s6-notify-fd-from-socket.
//!
//! Both leave a watcher process behind and exec prog, which keeps the pid of the
//! caller (the pid a supervisor knows). The watcher is forked twice by default, so
//! that prog never sees it as a child (`-f`: once, and prog must reap it). It waits for
//! prog's readiness in one protocol, reports it in the other, and exits; its exit code
//! is for tests and tracing only, since nobody waits for it. What the pair leaves out:
//! every line of systemd's protocol but `READY=1` (and, sent, `MAINPID=` and
//! `BARRIER=1`).

use crate::base::error::{Error, ResultExt};
use crate::sys::fork::{self, Forked};

pub mod ipcnotify_fd_from_socket;
pub mod ipcnotify_socket_from_fd;

/// The watcher's exit code when prog is gone before it was ready.
pub const EXIT_GONE: u8 = 1;
/// The watcher's exit code when the deadline passed.
pub const EXIT_TIMEOUT: u8 = 99;

/// What the watcher saw of prog before the deadline.
enum Heard {
    /// prog said it is ready.
    Ready,
    /// prog is gone (end of file on its pipe, or its pidfd) without saying so.
    Gone,
    /// The deadline passed first.
    TimedOut,
}

/// Fork the watcher: twice (s6's default, `doublefork`) or once (`-f`). True in the
/// watcher, false in the process that goes on to exec prog.
///
/// # Errors
/// `unable to doublefork` or `unable to fork` (s6's words), with the errno; `EDEADLK`
/// if the process has grown a second thread.
fn fork_watcher(doublefork: bool) -> Result<bool, Error> {
    let r = if doublefork {
        fork::doublefork().op("doublefork")
    } else {
        fork::fork().op("fork")
    };
    Ok(r? == Forked::Child)
}
