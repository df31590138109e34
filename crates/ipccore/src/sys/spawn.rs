//! Spawning one handler per connection with `clone(CLONE_VM|CLONE_VFORK)`.
//!
//! This is how glibc's posix_spawn works too: the server's memory is never copied, which is
//! where a forking server (s6-ipcserverd ≤ 2.11) spends its CPU. It is done here rather
//! than through posix_spawn to drop posix_spawn's per-call costs (measured in
//! doc/performance.md): glibc mmaps and munmaps a child stack on every call (the munmap
//! needs a TLB shootdown) and checks each dup2 action against RLIMIT_NOFILE. Our child
//! stack is allocated once. Two child states:
//! - clean (a server's handler, ipcsudod's command): its stdio from given fds, an empty
//!   signal mask and every signal at its default disposition, glibc's 32 and 33 included
//!   (a server started with SIGINT ignored by a shell must not pass that on);
//! - transparent (npt-wait's prog): the signal mask and dispositions this process was
//!   started with, as an exec would pass them, SIGPIPE included (see `exec`).
//!
//! Both use the same PATH search and error rules as glibc's posix_spawnp. All of our own
//! fds are CLOEXEC, so nothing else is inherited.
//!
//! A server's handlers are spawned without the vfork wait, by `Spawner::spawn_async`
//! (`spawn_async.rs`); this path remains for the callers that need the exec's result at
//! once, and for a server whose 8 asynchronous slots are all in flight.
//!
//! This module opts back into `unsafe`: no safe wrapper runs code in a vfork child.
#![allow(unsafe_code)]

use rustix::fd::{AsRawFd, BorrowedFd};
use rustix::io::Errno;
use rustix::process::Pid;
use std::cell::OnceCell;
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::ptr;

#[path = "spawn_async.rs"]
mod pool;

/// The vfork child's stack, in 16-byte units. The child only calls sigaction,
/// sigprocmask, dup2, fcntl, execve and _exit; glibc gives its helper 32 KiB plus the
/// size of argv.
const STACK_WORDS: usize = 64 * 1024 / 16;

/// posix_spawnp's search path when PATH is unset (glibc's `CS_PATH`).
const DEFAULT_PATH: &[u8] = b"/bin:/usr/bin";

/// A prepared command line and base environment, spawned once per connection.
pub struct Spawner {
    argv: Vec<CString>,
    env: Vec<CString>,
    /// Where to exec argv[0], in order: itself if it contains a slash, else one entry
    /// per PATH element, as posix_spawnp builds them (from our own PATH, as it does).
    candidates: Vec<CString>,
    /// The child's stack, allocated once (u128: 16-byte aligned).
    stack: Vec<u128>,
    /// The signals whose disposition is not SIG_DFL here, taken at the first spawn
    /// (ipctools programs set up their handlers before they spawn anything): only those
    /// need resetting in the child, which spares it some 60 syscalls per spawn while the
    /// parent waits for it.
    non_default: OnceCell<Vec<libc::c_int>>,
    /// The asynchronous spawn's slots (`spawn_async`), made at its first use.
    pool: pool::Pool,
}

impl Drop for Spawner {
    fn drop(&mut self) {
        // A child of `spawn_async` between clone and exec may still read these: leak
        // them then, as `Pool` leaks its slots (the process is exiting).
        if self.pool.busy() {
            std::mem::forget(std::mem::take(&mut self.argv));
            std::mem::forget(std::mem::take(&mut self.env));
            std::mem::forget(std::mem::take(&mut self.candidates));
            std::mem::forget(std::mem::take(&mut self.non_default));
        }
    }
}

/// What the vfork child reads, and the errno it leaves when exec fails.
struct ChildArgs {
    candidates: *const *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    /// What to put on fds 0, 1 and 2: an fd of ours, or -1 to leave it alone.
    fds: [libc::c_int; 3],
    /// Chain-loading (`spawn_inheriting`): keep the mask and ignored signals as they
    /// are, SIGPIPE as inherited; else the clean state.
    transparent: bool,
    /// The standard signals ignored at start (bit n for signal n), for the transparent
    /// mode.
    ignored: u32,
    /// The mask to give the child in the transparent mode (the caller's).
    mask: *const libc::sigset_t,
    /// The signals to reset to SIG_DFL.
    sigs: *const libc::c_int,
    nsigs: usize,
    err: libc::c_int,
}

/// Every signal number the kernel knows (`_NSIG - 1` on Linux).
const NSIG: libc::c_int = 64;

/// A kernel `struct sigaction`, zeroed: SIG_DFL, no flags, empty mask. Larger than the
/// kernel's on every architecture, so a query can never write past it.
type KernelSigaction = [u64; 8];

/// The signals whose disposition here is SIG_IGN or a handler, through the raw syscall
/// (glibc's sigaction hides its internal signals 32 and 33).
fn non_default_signals() -> Vec<libc::c_int> {
    (1..=NSIG)
        .filter(|&sig| {
            let mut old: KernelSigaction = [0; 8];
            // SAFETY: a query (NULL new action) into `old`, a buffer we own that is
            // larger than the kernel's struct sigaction, so the kernel's write stays in
            // it; sigsetsize 8 is the kernel's.
            let rc = unsafe {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    sig,
                    ptr::null::<u64>(),
                    old.as_mut_ptr(),
                    8usize,
                )
            };
            rc == 0 && old[0] != 0
        })
        .collect()
}

fn cstring(b: &[u8]) -> Option<CString> {
    CString::new(b).ok()
}

/// posix_spawnp's candidate paths for `file`: `file` itself if it has a slash, else
/// `dir/file` for each PATH element, an empty element meaning the current directory.
pub(crate) fn candidates(file: &[u8], path: Option<&[u8]>) -> Vec<CString> {
    if file.is_empty() {
        return Vec::new();
    }
    if file.contains(&b'/') {
        return cstring(file).into_iter().collect();
    }
    path.unwrap_or(DEFAULT_PATH)
        .split(|&b| b == b':')
        .filter_map(|dir| {
            let mut v = dir.to_vec();
            if !v.is_empty() {
                v.push(b'/');
            }
            v.extend_from_slice(file);
            cstring(&v)
        })
        .collect()
}

impl Spawner {
    /// Prepare `argv`, and the current environment minus the names in `remove` (the
    /// per-connection variables are appended at each spawn). `None` if an argument
    /// contains a NUL byte, which no exec can pass, or if the child's stack cannot be
    /// allocated.
    pub fn new(argv: &[OsString], remove: &[&str]) -> Option<Spawner> {
        let mut env = Vec::new();
        for (k, v) in std::env::vars_os() {
            if remove.iter().any(|r| OsStr::new(r) == k) {
                continue;
            }
            let mut kv = k.into_vec_bytes();
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
    pub fn with_env(argv: &[OsString], env: Vec<CString>) -> Option<Spawner> {
        if argv.is_empty() {
            return None;
        }
        let argv = argv
            .iter()
            .map(|a| cstring(a.as_bytes()))
            .collect::<Option<Vec<_>>>()?;
        let path = std::env::var_os("PATH");
        let candidates = candidates(
            argv.first().map(|a| a.to_bytes()).unwrap_or_default(),
            path.as_ref().map(|p| p.as_bytes()),
        );
        let mut stack = Vec::new();
        stack.try_reserve_exact(STACK_WORDS).ok()?;
        stack.resize(STACK_WORDS, 0);
        Some(Spawner {
            non_default: OnceCell::new(),
            pool: pool::Pool::default(),
            argv,
            env,
            candidates,
            stack,
        })
    }

    /// The program name, for messages.
    pub fn prog(&self) -> &[u8] {
        self.argv.first().map(|c| c.to_bytes()).unwrap_or_default()
    }

    /// Spawn the command with `conn` on fds 0 and 1 and `extra` (`NAME=value` strings)
    /// added to the environment.
    ///
    /// # Errors
    /// The errno of the failed `clone`, or of the failed exec (ENOENT, EACCES, as
    /// posix_spawnp reports them): the vfork child leaves it in `ChildArgs::err` before
    /// it exits, and we read it once it has.
    ///
    /// # References
    /// - [clone(2)](https://man7.org/linux/man-pages/man2/clone.2.html)
    /// - [execve(2)](https://man7.org/linux/man-pages/man2/execve.2.html)
    pub fn spawn(&self, conn: BorrowedFd<'_>, extra: &[CString]) -> Result<Pid, Errno> {
        let c = conn.as_raw_fd();
        self.spawn_raw([c, c, -1], false, extra)
    }

    /// As [`Spawner::spawn`], but a child whose exec failed is not reaped: it has exited
    /// 127 (ENOENT) or 126, and the caller reaps it with its other children, as
    /// s6-ipcserverd does with a forked child that could not exec. Returns its pid and,
    /// if the exec failed, why.
    ///
    /// # Errors
    /// The errno of a failed clone.
    pub fn spawn_unreaped(
        &self,
        conn: BorrowedFd<'_>,
        extra: &[CString],
    ) -> Result<(Pid, Option<Errno>), Errno> {
        let c = conn.as_raw_fd();
        self.spawn_inner([c, c, -1], false, extra, false)
    }

    /// Spawn the command in the clean state (empty mask, default dispositions) with
    /// `stdio[n]` on fd n (`None`: our own fd n): ipcsudod's command.
    ///
    /// # Errors
    /// As [`Spawner::spawn`].
    pub fn spawn_stdio(&self, stdio: [Option<BorrowedFd<'_>>; 3]) -> Result<Pid, Errno> {
        let fds = stdio.map(|f| f.map_or(-1, |f| f.as_raw_fd()));
        // A source on a lower target fd would be overwritten before it is copied.
        if fds
            .iter()
            .enumerate()
            .any(|(i, &f)| (0..3).contains(&f) && f != i as libc::c_int)
        {
            return Err(Errno::BADF);
        }
        self.spawn_raw(fds, false, &[])
    }

    /// Spawn the command sharing our fds 0, 1 and 2 (everything else of ours is
    /// CLOEXEC), as transparently as an exec: the prog of `npt-wait`, started once the
    /// subscription exists. It gets our caller's signal mask and dispositions: what we
    /// ignore stays ignored, SIGPIPE is as we inherited it (not as the Rust runtime set
    /// it), and only signals we catch go back to their default (exec would do that).
    ///
    /// # Errors
    /// As [`Spawner::spawn`].
    pub fn spawn_inheriting(&self) -> Result<Pid, Errno> {
        self.spawn_raw([-1, -1, -1], true, &[])
    }

    fn spawn_raw(
        &self,
        fds: [libc::c_int; 3],
        transparent: bool,
        extra: &[CString],
    ) -> Result<Pid, Errno> {
        match self.spawn_inner(fds, transparent, extra, true)? {
            (pid, None) => Ok(pid),
            (_, Some(e)) => Err(e),
        }
    }

    fn spawn_inner(
        &self,
        fds: [libc::c_int; 3],
        transparent: bool,
        extra: &[CString],
        reap_failed: bool,
    ) -> Result<(Pid, Option<Errno>), Errno> {
        let argv: Vec<*const libc::c_char> = self
            .argv
            .iter()
            .map(|a| a.as_ptr())
            .chain([ptr::null()])
            .collect();
        let mut envp: Vec<*const libc::c_char> =
            Vec::with_capacity(self.env.len() + extra.len() + 1);
        envp.extend(self.env.iter().map(|e| e.as_ptr()));
        envp.extend(extra.iter().map(|e| e.as_ptr()));
        envp.push(ptr::null());
        let cands: Vec<*const libc::c_char> = self
            .candidates
            .iter()
            .map(|c| c.as_ptr())
            .chain([ptr::null()])
            .collect();
        let sigs = self.non_default.get_or_init(non_default_signals);
        let ignored = (1..32)
            .filter(|&s| crate::sys::exec::ignored_at_start(s) == Some(true))
            .fold(0u32, |b, s| b | 1 << s);
        // SAFETY: sigset_t is plain integers, for which all-zero is a valid value.
        let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
        // The transparent child gets the mask the process started with, not one this
        // program changed since (a server unblocking what it traps).
        let start_mask = crate::sys::exec::mask_at_start();
        let mut args = ChildArgs {
            candidates: cands.as_ptr(),
            argv: argv.as_ptr(),
            envp: envp.as_ptr(),
            fds,
            transparent,
            ignored,
            mask: ptr::null(),
            sigs: sigs.as_ptr(),
            nsigs: sigs.len(),
            err: 0,
        };
        let top = self
            .stack
            .as_ptr_range()
            .end
            .cast_mut()
            .cast::<libc::c_void>();
        // SAFETY: sigset_t is plain integers (all-zero is valid), filled by sigfillset;
        // pthread_sigmask reads `all` and writes the old mask into `old`, both ours.
        unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        }
        args.mask = match &start_mask {
            Some(m) => m,
            None => &old,
        };
        // SAFETY: the stack is memory we own and nothing else uses while the child runs;
        // its end is 16-byte aligned. With CLONE_VFORK this thread is suspended until the
        // child has exec'ed or exited, so `args` and everything it points to (argv, envp,
        // candidates, sigs, the mask: locals and fields of `self` that live to the end of
        // this function) outlive the child's use of them, and the child's writes to
        // `args.err` and to errno (it shares our memory and TLS) happen while we are not
        // running. All signals are blocked (above) around the clone so no handler of ours
        // ever runs in the child; it resets them before it unblocks any.
        let pid = unsafe {
            libc::clone(
                child,
                top,
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                (&raw mut args).cast::<libc::c_void>(),
            )
        };
        let clone_err = if pid < 0 { errno() } else { 0 };
        // SAFETY: `old` is the mask saved above; pthread_sigmask only reads it.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, ptr::null_mut()) };
        if pid < 0 {
            return Err(Errno::from_raw_os_error(clone_err));
        }
        let pid = Pid::from_raw(pid).ok_or(Errno::SRCH)?;
        if args.err != 0 {
            // The child exited 126 or 127 after the exec failed; reap it, as posix_spawn
            // does, unless the caller wants to see it end.
            if reap_failed {
                let _ = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty());
            }
            return Ok((pid, Some(Errno::from_raw_os_error(args.err))));
        }
        Ok((pid, None))
    }
}

/// The last error of a libc call on this thread. Safe, and it neither allocates nor
/// unwinds, so the vfork child may use it.
fn errno() -> libc::c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// A disposition the child may install: never a handler, so installing one cannot make
/// code run.
#[derive(Clone, Copy)]
enum Disposition {
    Default,
    Ignore,
}

/// Set `sig`'s disposition through the raw syscall (glibc's sigaction refuses its
/// internal signals 32 and 33). Errors (an invalid or unchangeable signal) are ignored,
/// as posix_spawn ignores them.
fn set_disposition(sig: libc::c_int, to: Disposition) {
    let mut act: KernelSigaction = [0; 8];
    if let Disposition::Ignore = to {
        act[0] = libc::SIG_IGN as u64;
    }
    // SAFETY: `act` is a kernel `struct sigaction` (larger than the kernel's, so the
    // kernel reads only initialised memory we own) holding SIG_DFL or SIG_IGN, never a
    // handler address; no old action is asked for (NULL); sigsetsize 8 is the kernel's.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            sig,
            act.as_ptr(),
            ptr::null_mut::<u64>(),
            8usize,
        );
    }
}

/// The child's signal dispositions. As posix_spawn with every signal in
/// POSIX_SPAWN_SETSIGDEF: each signal that is not SIG_DFL in the parent is reset (a
/// caught one would otherwise run our handler in this child once it unblocks; an ignored
/// one would stay ignored across exec). Transparent mode, as exec(2) of our own start-up
/// image would: a signal that was ignored when we started is ignored (even if we trap
/// it, or the Rust runtime ignores it: SIGPIPE), every other one we changed is back to
/// SIG_DFL, and realtime signals, which we never change, stay as inherited.
fn reset_signals(sigs: &[libc::c_int], transparent: bool, ignored: u32) {
    for &sig in sigs {
        let ignored_at_start = (1..32).contains(&sig) && ignored & (1 << sig) != 0;
        if transparent && ignored_at_start {
            set_disposition(sig, Disposition::Ignore);
        } else if !(transparent && sig >= 32) {
            set_disposition(sig, Disposition::Default);
        }
    }
}

/// Put `fds[n]` on fd n for n in 0..3 (-1: leave fd n alone), without CLOEXEC, as
/// posix_spawn's dup2 actions do. Returns the errno of the first failure.
///
/// # Safety
///
/// Only in a child that will exec or `_exit` next: fds 0 to 2 are replaced whoever owns
/// them, which breaks the I/O safety of any `OwnedFd`/`BorrowedFd` for them in the
/// parent's memory this child shares; nothing runs after the exec to use them.
unsafe fn move_stdio(fds: &[libc::c_int; 3]) -> Result<(), libc::c_int> {
    for (target, &src) in (0..).zip(fds) {
        if src < 0 {
            continue;
        }
        // SAFETY: fcntl and dup2 act on the fd table only, no memory; replacing `target`
        // is what the caller allows (see `# Safety`).
        let rc = unsafe {
            if src == target {
                // dup2 onto itself would leave CLOEXEC set (posix_spawn clears it).
                libc::fcntl(src, libc::F_SETFD, 0)
            } else {
                libc::dup2(src, target)
            }
        };
        if rc < 0 {
            return Err(errno());
        }
    }
    Ok(())
}

/// Set this thread's signal mask to `*mask`, or to the empty set if `mask` is NULL.
///
/// # Safety
///
/// `mask` is NULL or points to an initialised `sigset_t`. Only in the vfork child after
/// `reset_signals`: unblocking must not run a handler of the parent's.
unsafe fn set_mask(mask: *const libc::sigset_t) {
    // SAFETY: an all-zero sigset_t is a valid set, emptied again by sigemptyset; `mask`
    // is valid if not NULL (the caller's promise); sigprocmask only reads it.
    unsafe {
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        let set = if mask.is_null() { &empty } else { mask };
        libc::sigprocmask(libc::SIG_SETMASK, set, ptr::null_mut());
    }
}

/// Exec the first candidate that runs, as glibc's __execvpex searches: EACCES is
/// remembered and the search goes on, as do the "not here" errors; anything else stops
/// it. Returns only on failure, with the errno to report.
///
/// # Safety
///
/// `candidates`, `argv` and `envp` are NULL-terminated arrays of pointers to valid
/// NUL-terminated C strings that stay alive across the call.
unsafe fn exec_candidates(
    candidates: *const *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
) -> libc::c_int {
    let mut err = libc::ENOENT;
    let mut eacces = false;
    let mut c = candidates;
    // SAFETY: the caller's promise: each `*c` read is within the NULL-terminated
    // `candidates` (we stop at its NULL), and execve gets valid strings and arrays; an
    // execve that returns has changed nothing.
    unsafe {
        while !(*c).is_null() {
            libc::execve(*c, argv, envp);
            err = errno();
            match err {
                libc::EACCES => eacces = true,
                libc::ENOENT | libc::ESTALE | libc::ENOTDIR | libc::ENODEV | libc::ETIMEDOUT => {}
                _ => break,
            }
            c = c.add(1);
        }
        if eacces && (*c).is_null() {
            err = libc::EACCES;
        }
    }
    if err == 0 { libc::ENOENT } else { err }
}

/// End the vfork child without running anything of the parent's: no atexit handlers,
/// no stdio flush (they would act on the parent's state, which the child shares).
fn child_exit(code: libc::c_int) -> ! {
    // SAFETY: _exit is async-signal-safe and touches no memory of the process.
    unsafe { libc::_exit(code) }
}

/// The vfork child: signals to default, the connection on fds 0 and 1, the mask, exec.
/// It runs on `Spawner::stack` and must not allocate, unwind or touch anything but
/// `arg`; every helper it calls is async-signal-safe.
extern "C" fn child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the parent's live `ChildArgs` (see `spawn_inner`), and the
    // parent, suspended by CLONE_VFORK, does not touch it until we exec or exit, so this
    // is the only reference.
    let a = unsafe { &mut *arg.cast::<ChildArgs>() };
    // SAFETY: `sigs` points to `nsigs` signal numbers owned by the suspended parent.
    let sigs = unsafe { std::slice::from_raw_parts(a.sigs, a.nsigs) };
    reset_signals(sigs, a.transparent, a.ignored);
    // SAFETY: this child execs or exits next (below).
    if let Err(e) = unsafe { move_stdio(&a.fds) } {
        a.err = e;
        child_exit(127);
    }
    let mask = if a.transparent { a.mask } else { ptr::null() };
    // SAFETY: `a.mask` points to the parent's live sigset (see `spawn_inner`); the
    // signals were reset above.
    unsafe { set_mask(mask) };
    // SAFETY: `candidates`, `argv` and `envp` are NULL-terminated arrays of C strings
    // owned by the suspended parent (built in `spawn_inner`).
    a.err = unsafe { exec_candidates(a.candidates, a.argv, a.envp) };
    // The exec convention (skalibs, shells): 127 not found, 126 found but not run.
    child_exit(if a.err == libc::ENOENT { 127 } else { 126 })
}

/// `sigprocmask(SIG_UNBLOCK, signals)`—let the signals a program traps through, whatever
/// mask its caller gave it (s6's selfpipe does the same). The clean spawn empties the
/// mask anyway, and the transparent one restores the mask the process started with.
pub fn unblock(signals: &[i32]) {
    // SAFETY: a sigset we own (all-zero is a valid sigset_t), filled by
    // sigemptyset/sigaddset (which reject invalid numbers); pthread_sigmask only reads
    // it, and unblocking has no memory effects.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in signals {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, ptr::null_mut());
    }
}

/// `NAME=value` as a C string, for `Spawner::spawn`'s `extra`.
pub fn env_entry(name: &str, value: &[u8]) -> Option<CString> {
    let mut v = Vec::with_capacity(name.len() + 1 + value.len());
    v.extend_from_slice(name.as_bytes());
    v.push(b'=');
    v.extend_from_slice(value);
    cstring(&v)
}

trait IntoVecBytes {
    fn into_vec_bytes(self) -> Vec<u8>;
}

impl IntoVecBytes for OsString {
    fn into_vec_bytes(self) -> Vec<u8> {
        use std::os::unix::ffi::OsStringExt;
        self.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: Vec<CString>) -> Vec<String> {
        v.into_iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn candidates_follow_posix_spawnp() {
        assert_eq!(strs(candidates(b"/bin/cat", Some(b"/x"))), ["/bin/cat"]);
        assert_eq!(strs(candidates(b"./cat", Some(b"/x"))), ["./cat"]);
        assert_eq!(
            strs(candidates(b"cat", Some(b"/a::/b"))),
            ["/a/cat", "cat", "/b/cat"]
        );
        assert_eq!(strs(candidates(b"cat", None)), ["/bin/cat", "/usr/bin/cat"]);
        assert!(candidates(b"", Some(b"/a")).is_empty());
    }

    #[test]
    fn spawn_reports_exec_errors_and_runs() -> Result<(), Errno> {
        use rustix::fd::AsFd;
        use rustix::net::{AddressFamily, SocketFlags, SocketType};
        let (a, _b) = rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC,
            None,
        )?;
        let missing = Spawner::new(&["/nonexistent/prog".into()], &[]).ok_or(Errno::INVAL)?;
        assert_eq!(missing.spawn(a.as_fd(), &[]), Err(Errno::NOENT));
        let t = Spawner::new(&["true".into()], &[]).ok_or(Errno::INVAL)?;
        let pid = t.spawn(a.as_fd(), &[])?;
        let st = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty())?;
        assert_eq!(st.and_then(|(_, s)| s.exit_status()), Some(0));
        Ok(())
    }
}
