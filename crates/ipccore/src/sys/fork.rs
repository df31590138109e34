//! `fork`, for a program that leaves a watcher process behind it and then execs (the
//! ipcnotify pair, as s6's `doublefork`): the child is a full copy that runs on in Rust.
//!
//! A forked child of a multi-threaded process owns only the thread that forked: a lock
//! another thread held (malloc's, stdio's) stays locked in it forever, so such a child
//! may only make async-signal-safe calls until it execs. ipctools programs are
//! single-threaded, and [`fork`] does not take that on trust: it counts the threads
//! (`/proc/self/stat`) first and refuses (`EDEADLK`) if there is more than one. Only
//! this thread could start another between the count and the fork, so the count holds.
//! Handler children are made by `spawn` (`clone(CLONE_VM|CLONE_VFORK)`), not here.
//!
//! This module opts back into `unsafe` for `fork` and `_exit`.
#![allow(unsafe_code)]

use rustix::fd::AsFd;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::process::{Pid, WaitOptions};

/// Which side of a [`fork`] this process is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// The new process.
    Child,
    /// The calling process, with the child's pid.
    Parent(Pid),
}

/// `fork()`—a copy of this single-threaded process.
///
/// The child may run any Rust code (allocate, print through `Diag`), since no other
/// thread existed to hold a lock. It inherits every fd, the signal mask and the
/// dispositions (SIGPIPE ignored by the Rust runtime included).
///
/// # Errors
/// `EDEADLK` when this process has more than one thread; the errno of reading
/// `/proc/self/stat` when it cannot be read (no /proc: the count cannot be made); the
/// errno of `fork` (`EAGAIN`, `ENOMEM`).
///
/// # References
/// - [fork(2)](https://man7.org/linux/man-pages/man2/fork.2.html)
/// - [proc_pid_stat(5)](https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html)
///   (`num_threads`)
pub fn fork() -> Result<Forked, Errno> {
    if thread_count()? != 1 {
        return Err(Errno::DEADLK);
    }
    // SAFETY: this process has exactly one thread (counted just above; only this
    // thread could have started another since), so the child gets no lock held by a
    // thread that does not exist in it, and may run any code. fork takes no arguments
    // and touches no memory of ours.
    let r = unsafe { libc::fork() };
    match r {
        0 => Ok(Forked::Child),
        r if r > 0 => Pid::from_raw(r).map(Forked::Parent).ok_or(Errno::INVAL),
        _ => Err(last_errno()),
    }
}

/// A fork whose child is not ours to reap (skalibs `doublefork`): this process forks a
/// middle child, which forks the grandchild and exits at once; this process reaps the
/// middle child. The grandchild is then a child of init (or of the nearest subreaper),
/// so the program we exec next never gets a SIGCHLD or a zombie it did not ask for.
///
/// The middle child reports its fork's result on a pipe, not in its exit status: a
/// caller that ignores SIGCHLD has its children reaped by the kernel, and `waitpid`
/// then finds none (`ECHILD`), which is not a failure here.
///
/// Returns [`Forked::Child`] in the grandchild and `Forked::Parent` (with the middle
/// child's pid, already reaped) here.
///
/// # Errors
/// As [`fork`], and `pipe`'s; the errno of the grandchild's `fork`, as the middle child
/// reported it; `EINTR` when the middle child died before it could report.
///
/// # References
/// - [fork(2)](https://man7.org/linux/man-pages/man2/fork.2.html)
/// - [waitpid(2)](https://man7.org/linux/man-pages/man2/waitpid.2.html)
pub fn doublefork() -> Result<Forked, Errno> {
    let (rd, wr) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    let middle = match fork()? {
        Forked::Parent(pid) => pid,
        Forked::Child => {
            drop(rd);
            let errno = match fork() {
                Ok(Forked::Child) => return Ok(Forked::Child),
                Ok(Forked::Parent(_)) => 0,
                Err(e) => e.raw_os_error(),
            };
            // The middle child's work is done; if the report is lost, the parent
            // reads a short message and says EINTR.
            let _ = crate::sys::fd::write_all(wr.as_fd(), &errno.to_ne_bytes());
            exit_now(0)
        }
    };
    drop(wr);
    let mut report = [0u8; 4];
    let got = crate::sys::fd::read_full(rd.as_fd(), &mut report);
    // Any other error is ECHILD: SIGCHLD is ignored, and the kernel reaped it.
    while let Err(Errno::INTR) = rustix::process::waitpid(Some(middle), WaitOptions::empty()) {}
    match (got, i32::from_ne_bytes(report)) {
        (Ok(4), 0) => Ok(Forked::Parent(middle)),
        (Ok(4), e) => Err(Errno::from_raw_os_error(e)),
        (Ok(_), _) => Err(Errno::INTR),
        (Err(e), _) => Err(e),
    }
}

/// `_exit(code)`—end this process now, without running destructors, atexit handlers
/// or the Rust runtime's exit: for the middle child of [`doublefork`], which must not
/// flush or tear down anything it shares with its parent.
///
/// # References
/// - [_exit(2)](https://man7.org/linux/man-pages/man2/_exit.2.html)
#[doc(alias = "_exit")]
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit takes an integer, touches no memory of ours, and never returns.
    unsafe { libc::_exit(code) }
}

/// The number of threads of this process: field 20 (`num_threads`) of
/// `/proc/self/stat`, counted after the `)` that ends the command name (which may hold
/// spaces and parentheses itself).
fn thread_count() -> Result<u64, Errno> {
    let fd = rustix::fs::open(
        "/proc/self/stat",
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut buf = [0u8; 1024];
    let n = crate::sys::fd::read_full(fd.as_fd(), &mut buf)?;
    parse_num_threads(buf.get(..n).unwrap_or_default()).ok_or(Errno::PROTO)
}

/// `num_threads` out of a `/proc/PID/stat` line.
fn parse_num_threads(stat: &[u8]) -> Option<u64> {
    let close = stat.iter().rposition(|&c| c == b')')?;
    let rest = std::str::from_utf8(stat.get(close + 1..)?).ok()?;
    // Field 3 (state) is the first after the name; num_threads is field 20.
    rest.split_ascii_whitespace().nth(17)?.parse().ok()
}

fn last_errno() -> Errno {
    Errno::from_io_error(&std::io::Error::last_os_error()).unwrap_or(Errno::IO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn num_threads_is_field_20() {
        let line = b"4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 3 0 \
                     12345 1000 10";
        assert_eq!(parse_num_threads(line), Some(3));
        assert_eq!(parse_num_threads(b"4242 (x S 1"), None);
        assert_eq!(parse_num_threads(b""), None);
    }

    #[test]
    fn fork_refuses_with_a_second_thread() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            let _ = rx.recv();
        });
        assert!(thread_count().unwrap() >= 2);
        assert_eq!(fork(), Err(Errno::DEADLK));
        drop(tx);
        t.join().unwrap();
    }
}
