//! Signals as events: a self-pipe (signal-hook's), polled by the accept loop with
//! everything else. The handlers only write a byte; all work happens in the loop. And
//! the signal mask, as the kernel's 64 bits ([`mask`]).
//!
//! This module opts back into `unsafe` for the one `rt_sigprocmask` call.
#![allow(unsafe_code)]

use crate::base::error::{Error, ResultExt};
use rustix::fd::{AsFd, BorrowedFd};
use signal_hook::iterator::backend::SignalDelivery;
use signal_hook::iterator::exfiltrator::SignalOnly;
use std::os::unix::net::UnixStream;

pub use signal_hook::consts::signal::{SIGABRT, SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM};

/// The signals a program asked for, waiting to be read.
pub struct SelfPipe {
    delivery: SignalDelivery<UnixStream, SignalOnly>,
}

impl SelfPipe {
    /// Trap `signals`: from now on they are delivered through `fd()`.
    pub fn new(signals: &[i32]) -> Result<SelfPipe, Error> {
        crate::sys::exec::note_dispositions(signals);
        let (read, write) = UnixStream::pair().op("create selfpipe")?;
        let delivery =
            SignalDelivery::with_pipe(read, write, SignalOnly, signals).op("trap signals")?;
        Ok(SelfPipe { delivery })
    }

    /// The fd to poll with the loop's other fds: readable when a signal is pending.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.delivery.get_read().as_fd()
    }

    /// The signals received since the last call (each at most once).
    pub fn pending(&mut self) -> Vec<i32> {
        self.delivery.pending().collect()
    }
}

/// Trap `sig` by setting `flag` when it comes (signal-hook's flag handler), its
/// start-up disposition recorded first, as every change of a disposition must be
/// (`exec::note_dispositions`).
pub fn trap_flag(
    sig: i32,
    flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<(), Error> {
    crate::sys::exec::note_dispositions(&[sig]);
    signal_hook::flag::register(sig, flag).op("trap signal")?;
    Ok(())
}

/// The short name of a signal, for log lines (`SIGTERM`).
pub fn name(sig: i32) -> String {
    match signal_hook::low_level::signal_name(sig) {
        Some(n) => n.to_string(),
        None => format!("signal {sig}"),
    }
}

/// `rt_sigprocmask(how, set, &old, 8)`—change the calling thread's signal mask by `set`
/// (`SIG_BLOCK`, `SIG_UNBLOCK` or `SIG_SETMASK`; `None`: only read it), and return the
/// mask before, as the kernel's 64 bits (bit n-1 for signal n).
///
/// The raw syscall, not glibc's `pthread_sigmask`, which hides its own signals 32 and
/// 33 from both the new mask and the old one: a transparent spawn must hand on the
/// exact mask the process started with. No allocation, no lock, no unwinding: the
/// vfork child calls it too. The kernel never fails it with these arguments (it
/// ignores SIGKILL and SIGSTOP in `set`).
///
/// # References
/// - [rt_sigprocmask(2)](https://man7.org/linux/man-pages/man2/rt_sigprocmask.2.html)
#[doc(alias = "rt_sigprocmask")]
#[doc(alias = "pthread_sigmask")]
pub(crate) fn mask(how: libc::c_int, set: Option<u64>) -> u64 {
    let mut old = 0u64;
    let new = set.as_ref().map_or(std::ptr::null(), std::ptr::from_ref);
    // SAFETY: `new` is NULL or points to a u64 we own, the kernel's 8-byte sigset, which
    // it only reads; it writes the old mask into `old`, ours and of that size. Changing
    // the mask touches no memory.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            how,
            new,
            &raw mut old,
            std::mem::size_of::<u64>(),
        )
    };
    old
}

/// The mask bits of `signals` (bit n-1 for signal n; numbers outside 1 to 64 ignored).
pub(crate) fn mask_bits(signals: &[i32]) -> u64 {
    signals
        .iter()
        .filter(|&&s| (1..=64).contains(&s))
        .fold(0, |b, &s| b | 1u64 << (s - 1))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read the source tree") {
            let p = e.expect("a directory entry").path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// Dispositions change here only (and in the vfork child, exec's SIGPIPE, and a
    /// spawn test): a change elsewhere would skip `exec::note_dispositions`, and a
    /// transparent spawn or an exec would then hand on our disposition as the caller's.
    #[test]
    fn dispositions_change_only_through_this_module() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        rust_files(&top, &mut files);
        let allowed = [
            "sys/sig.rs",
            "sys/exec.rs",
            "sys/spawn/child.rs",
            "sys/spawn/mod.rs",
        ];
        let changes = [
            "signal_hook::flag::",
            "signal_hook::low_level::register",
            "SignalDelivery::",
            "libc::signal(",
            "libc::sigaction(",
            "SYS_rt_sigaction",
        ];
        let mut found = Vec::new();
        for f in &files {
            let name = f.to_string_lossy();
            if allowed.iter().any(|a| name.ends_with(a)) {
                continue;
            }
            let text = std::fs::read_to_string(f).expect("read a source file");
            for c in changes {
                if text.contains(c) {
                    found.push(format!("{name}: {c}"));
                }
            }
        }
        assert!(found.is_empty(), "{found:?}");
        assert!(files.len() > 50, "the scan found {} files", files.len());
    }
}
