//! Spawning a child with `clone(CLONE_VM|CLONE_VFORK)`: a server's handler, ipcsudod's
//! command, npt-wait's and npt-listen's prog.
//!
//! This is how glibc's posix_spawn works too: the parent's memory is never copied, which
//! is where a forking server (s6-ipcserverd ≤ 2.11) spends its CPU, and the parent thread
//! waits until the child has exec'ed, so the spawn returns the exec's result (s6 ≥ 2.12
//! spawns with posix_spawn, and reports a failure the same way). It is done here rather
//! than through posix_spawn to drop its per-call costs (doc/performance.md): glibc mmaps
//! and munmaps a child stack on every call (the munmap needs a TLB shootdown) and checks
//! each dup2 action against RLIMIT_NOFILE; our child stack is allocated once. Two child
//! states:
//! - clean (`Spawner::spawn`: a server's handler, ipcsudod's command): its stdio from
//!   given fds, an empty signal mask and every signal at its default disposition, glibc's
//!   32 and 33 included (a server started with SIGINT ignored by a shell must not pass
//!   that on);
//! - transparent (`Spawner::spawn_inheriting`: npt-wait's prog): the signal mask and
//!   ignored signals this process was started with, as an exec would pass them, SIGPIPE
//!   included (see `exec`).
//!
//! Both search PATH as execvp does (`path`). All of our own fds are CLOEXEC, so nothing
//! else is inherited. The child itself is `child`.
//!
//! This module opts back into `unsafe`: no safe wrapper runs code in a vfork child.
#![allow(unsafe_code)]

mod child;
pub(crate) mod path;

use crate::sys::sig;
use child::ChildArgs;
use rustix::fd::{AsRawFd, BorrowedFd};
use rustix::io::Errno;
use rustix::process::Pid;
use std::cell::Cell;
use std::ffi::{CString, OsStr, OsString, c_char, c_int, c_void};
use std::marker::PhantomData;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::ptr;

/// The child's stack, in 16-byte units. The child only calls rt_sigaction, sigprocmask,
/// dup2, fcntl, execve and _exit; glibc gives its posix_spawn helper 32 KiB plus the size
/// of argv.
const STACK_WORDS: usize = 64 * 1024 / 16;

/// A prepared command line and base environment, spawned as often as needed.
pub(crate) struct Spawner {
    argv: Vec<CString>,
    env: Vec<CString>,
    /// Where to exec argv[0], in order (`path::candidates`, from our own PATH, as
    /// posix_spawnp does).
    candidates: Vec<CString>,
    /// The child's stack, allocated once (u128: 16-byte aligned). In `Cell`s: the child
    /// writes it while `run` holds only `&self`, and memory behind a shared reference
    /// may be written only inside an `UnsafeCell`.
    stack: Vec<Cell<u128>>,
    /// Neither `Send` nor `Sync`: two threads spawning through one `Spawner` at once
    /// would run two children on one stack. vfork suspends only the calling thread.
    _one_thread: PhantomData<*const ()>,
}

fn cstring(b: &[u8]) -> Option<CString> {
    CString::new(b).ok()
}

impl Spawner {
    /// Prepare `argv`, and the current environment minus the names in `remove` (the
    /// per-connection variables are added at each spawn). `None` if an argument contains
    /// a NUL byte, which no exec can pass, or if the child's stack cannot be allocated.
    pub fn new(argv: &[OsString], remove: &[&str]) -> Option<Spawner> {
        let mut env = Vec::new();
        for (k, v) in std::env::vars_os() {
            if remove.iter().any(|r| OsStr::new(r) == k) {
                continue;
            }
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            if let Some(c) = cstring(&kv) {
                env.push(c);
            }
        }
        Spawner::with_env(argv, env)
    }

    /// Prepare `argv` with exactly `env` as its environment (`NAME=value` strings). The
    /// program is searched in our own `PATH`, as posix_spawnp does.
    pub(crate) fn with_env(argv: &[OsString], env: Vec<CString>) -> Option<Spawner> {
        if argv.is_empty() {
            return None;
        }
        let argv = argv
            .iter()
            .map(|a| cstring(a.as_bytes()))
            .collect::<Option<Vec<_>>>()?;
        let path = std::env::var_os("PATH");
        let candidates = path::candidates(
            argv.first().map(|a| a.to_bytes()).unwrap_or_default(),
            path.as_ref().map(|p| p.as_bytes()),
        );
        let mut stack = Vec::new();
        stack.try_reserve_exact(STACK_WORDS).ok()?;
        stack.resize(STACK_WORDS, Cell::new(0));
        Some(Spawner {
            argv,
            env,
            candidates,
            stack,
            _one_thread: PhantomData,
        })
    }

    /// The program name, for messages.
    pub fn prog(&self) -> &[u8] {
        self.argv.first().map(|c| c.to_bytes()).unwrap_or_default()
    }

    /// Spawn the command in the clean state (empty mask, every signal at its default)
    /// with `stdio[n]` on fd n (`None`: our own fd n) and `extra` (`NAME=value` strings)
    /// added to its environment: a server's handler (the connection on 0 and 1), or
    /// ipcsudod's command.
    ///
    /// # Errors
    /// `EBADF` for a source fd below 3 that is not its own target (it would be
    /// overwritten before it is copied); the errno of a failed `clone`; or that of the
    /// failed dup2 or exec (ENOENT, EACCES, as posix_spawnp reports them), in which case
    /// the child (exit 127 or 126) has been reaped.
    ///
    /// # References
    /// - [clone(2)](https://man7.org/linux/man-pages/man2/clone.2.html)
    /// - [execve(2)](https://man7.org/linux/man-pages/man2/execve.2.html)
    #[doc(alias = "posix_spawnp")]
    pub fn spawn(
        &self,
        stdio: [Option<BorrowedFd<'_>>; 3],
        extra: &[CString],
    ) -> Result<Pid, Errno> {
        let fds = stdio.map(|f| f.map_or(-1, |f| f.as_raw_fd()));
        if fds
            .iter()
            .enumerate()
            .any(|(i, &f)| (0..3).contains(&f) && f != i as c_int)
        {
            return Err(Errno::BADF);
        }
        self.run(fds, false, extra)
    }

    /// Spawn the command sharing our fds 0, 1 and 2 (everything else of ours is
    /// CLOEXEC), as transparently as an exec: the prog of `npt-wait`, started once the
    /// subscription exists. It gets our caller's signal mask, and the signals our caller
    /// ignored stay ignored (SIGPIPE as we inherited it, not as the Rust runtime set
    /// it); every other signal is at its default, as exec(2) would leave it.
    ///
    /// # Errors
    /// As `Spawner::spawn`.
    pub(crate) fn spawn_inheriting(&self) -> Result<Pid, Errno> {
        self.run([-1, -1, -1], true, &[])
    }

    /// Clone the child with every signal blocked, wait (CLONE_VFORK) for its exec, and
    /// reap it if the exec failed.
    fn run(&self, fds: [c_int; 3], transparent: bool, extra: &[CString]) -> Result<Pid, Errno> {
        let argv = null_terminated(self.argv.iter());
        let envp = null_terminated(self.env.iter().chain(extra));
        let candidates = null_terminated(self.candidates.iter());
        let (known, ignored) = crate::sys::exec::dispositions_at_start();
        let old = sig::mask(libc::SIG_SETMASK, Some(!0));
        // The transparent child gets the mask the process started with, not one this
        // program changed since (a server unblocking what it traps).
        let mask = match transparent {
            true => crate::sys::exec::mask_at_start().unwrap_or(old),
            false => 0,
        };
        let mut args = ChildArgs {
            candidates: candidates.as_ptr(),
            argv: argv.as_ptr(),
            envp: envp.as_ptr(),
            fds,
            transparent,
            known,
            ignored,
            mask,
            err: 0,
        };
        let top = self.stack.as_ptr_range().end.cast_mut().cast::<c_void>();
        // SAFETY: the stack is memory we own, used by no one else while the child runs
        // (`Spawner` is neither Send nor Sync, and CLONE_VFORK suspends this thread until
        // the child has exec'ed or exited); its end is 16-byte aligned. So `args` and
        // everything it points to (argv, envp, candidates: locals of this function)
        // outlive the child's use of them, and the child's writes to
        // `args.err` and to errno happen while we are not running. Every signal is
        // blocked around the clone, so no handler of ours runs in the child before it
        // has reset them all.
        let pid = unsafe {
            libc::clone(
                child::child,
                top,
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                (&raw mut args).cast::<c_void>(),
            )
        };
        let clone_err = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        sig::mask(libc::SIG_SETMASK, Some(old));
        if pid < 0 {
            return Err(Errno::from_raw_os_error(clone_err));
        }
        let pid = Pid::from_raw(pid).ok_or(Errno::SRCH)?;
        if args.err != 0 {
            // The child exited 126 or 127; reap it, as posix_spawn does.
            let _ = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty());
            return Err(Errno::from_raw_os_error(args.err));
        }
        Ok(pid)
    }
}

/// The pointers of `strings`, NULL-terminated, as execve wants them.
fn null_terminated<'a>(strings: impl Iterator<Item = &'a CString>) -> Vec<*const c_char> {
    strings.map(|s| s.as_ptr()).chain([ptr::null()]).collect()
}

/// `sigprocmask(SIG_UNBLOCK, signals)`—let the signals a program traps through, whatever
/// mask its caller gave it (s6's selfpipe does the same). The clean spawn empties the
/// mask anyway, and the transparent one restores the mask the process started with.
pub fn unblock(signals: &[i32]) {
    sig::mask(libc::SIG_UNBLOCK, Some(sig::mask_bits(signals)));
}

/// `NAME=value` as a C string, for `Spawner::spawn`'s `extra`.
pub(crate) fn env_entry(name: &str, value: &[u8]) -> Option<CString> {
    let mut v = Vec::with_capacity(name.len() + 1 + value.len());
    v.extend_from_slice(name.as_bytes());
    v.push(b'=');
    v.extend_from_slice(value);
    cstring(&v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fd::AsFd;

    #[test]
    fn spawn_reports_exec_errors_and_runs() -> Result<(), Errno> {
        // A pipe stands in for the connection: the handler's fds 0 and 1.
        let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        let stdio = [Some(r.as_fd()), Some(w.as_fd()), None];
        let missing = Spawner::new(&["/nonexistent/prog".into()], &[]).ok_or(Errno::INVAL)?;
        assert_eq!(missing.spawn(stdio, &[]), Err(Errno::NOENT));
        let t = Spawner::new(&["true".into()], &[]).ok_or(Errno::INVAL)?;
        let pid = t.spawn(stdio, &[])?;
        let st = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty())?;
        assert_eq!(st.and_then(|(_, s)| s.exit_status()), Some(0));
        Ok(())
    }

    #[test]
    fn a_low_source_fd_is_refused() -> Result<(), Errno> {
        let t = Spawner::new(&["true".into()], &[]).ok_or(Errno::INVAL)?;
        let stdin = rustix::stdio::stdin();
        assert_eq!(t.spawn([None, Some(stdin), None], &[]), Err(Errno::BADF));
        Ok(())
    }

    /// The child resets every signal, not a list taken earlier: a signal this process
    /// ignores (or catches) only after its first spawn is still at its default in the
    /// next child (an ignored one would otherwise survive the exec, and a caught one
    /// could run our handler in the child).
    #[test]
    fn a_signal_changed_after_the_first_spawn_is_reset() -> Result<(), Errno> {
        use rustix::pipe::{PipeFlags, pipe_with};
        let t = Spawner::new(&["true".into()], &[]).ok_or(Errno::INVAL)?;
        let pid = t.spawn([None, None, None], &[])?;
        let _ = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty())?;
        // SAFETY: SIG_IGN installs no handler; SIGUSR2 is used by nothing else here.
        let old = unsafe { libc::signal(libc::SIGUSR2, libc::SIG_IGN) };
        let (r, w) = pipe_with(PipeFlags::CLOEXEC)?;
        let grep = Spawner::new(
            &["grep".into(), "^SigIgn".into(), "/proc/self/status".into()],
            &[],
        )
        .ok_or(Errno::INVAL)?;
        let spawned = grep.spawn([None, Some(w.as_fd()), None], &[]);
        // SAFETY: `old` is SIGUSR2's disposition before, SIG_DFL in this test process.
        unsafe { libc::signal(libc::SIGUSR2, old) };
        let pid = spawned?;
        drop(w);
        let mut out = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            match rustix::io::read(&r, &mut buf)? {
                0 => break,
                n => out.extend_from_slice(&buf[..n]),
            }
        }
        let _ = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty())?;
        assert_eq!(String::from_utf8_lossy(&out), "SigIgn:\t0000000000000000\n");
        Ok(())
    }
}
