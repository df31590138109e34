//! Spawning one handler per connection with `posix_spawnp`.
//!
//! glibc's posix_spawn is a `clone(CLONE_VM|CLONE_VFORK)`: the server's memory is never
//! copied, which is where a forking server (s6-ipcserverd ≤ 2.11) spends its CPU. The
//! child gets the connection on fds 0 and 1, an empty signal mask and every signal at
//! its default disposition (a server started with SIGINT ignored by a shell must not
//! pass that on). All of our own fds are CLOEXEC, so nothing else is inherited.
//!
//! This module opts back into `unsafe`: posix_spawn has no safe wrapper in rustix or std
//! that lets us set the full default-signal set and reuse a prepared environment.
#![allow(unsafe_code)]

use rustix::fd::{AsRawFd, BorrowedFd};
use rustix::io::Errno;
use rustix::process::Pid;
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::ptr;

/// A prepared command line and base environment, spawned once per connection.
pub struct Spawner {
    argv: Vec<CString>,
    env: Vec<CString>,
}

fn cstring(b: &[u8]) -> Option<CString> {
    CString::new(b).ok()
}

impl Spawner {
    /// Prepare `argv`, and the current environment minus the names in `remove` (the
    /// per-connection variables are appended at each spawn). `None` if an argument
    /// contains a NUL byte, which no exec can pass.
    pub fn new(argv: &[OsString], remove: &[&str]) -> Option<Spawner> {
        if argv.is_empty() {
            return None;
        }
        let argv = argv
            .iter()
            .map(|a| cstring(a.as_bytes()))
            .collect::<Option<Vec<_>>>()?;
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
        Some(Spawner { argv, env })
    }

    /// The program name, for messages.
    pub fn prog(&self) -> &[u8] {
        self.argv.first().map(|c| c.to_bytes()).unwrap_or_default()
    }

    /// Spawn the command with `conn` on fds 0 and 1 and `extra` (`NAME=value` strings)
    /// added to the environment.
    ///
    /// # Errors
    /// The errno of the failed spawn; with glibc this includes a failed exec (ENOENT,
    /// EACCES), since its posix_spawn waits for the exec.
    ///
    /// # References
    /// - [posix_spawn](https://man7.org/linux/man-pages/man3/posix_spawn.3.html)
    pub fn spawn(&self, conn: BorrowedFd<'_>, extra: &[CString]) -> Result<Pid, Errno> {
        self.spawn_raw(Some(conn.as_raw_fd()), extra)
    }

    /// Spawn the command sharing our fds 0, 1 and 2 (everything else of ours is
    /// CLOEXEC), with an empty signal mask and every signal at its default disposition:
    /// the prog of `npt-wait`, started once the subscription exists. std's `Command`
    /// would leave signals we inherited as ignored (SIGINT from a shell's `&`) ignored.
    ///
    /// # Errors
    /// As [`Spawner::spawn`].
    pub fn spawn_inheriting(&self) -> Result<Pid, Errno> {
        self.spawn_raw(None, &[])
    }

    fn spawn_raw(&self, conn: Option<libc::c_int>, extra: &[CString]) -> Result<Pid, Errno> {
        let mut argv: Vec<*mut libc::c_char> =
            self.argv.iter().map(|a| a.as_ptr().cast_mut()).collect();
        argv.push(ptr::null_mut());
        let mut envp: Vec<*mut libc::c_char> = Vec::with_capacity(self.env.len() + extra.len() + 1);
        envp.extend(self.env.iter().map(|e| e.as_ptr().cast_mut()));
        envp.extend(extra.iter().map(|e| e.as_ptr().cast_mut()));
        envp.push(ptr::null_mut());

        let mut pid: libc::pid_t = 0;
        // SAFETY: attr and file actions are initialized before use and destroyed on every
        // path; argv and envp are NULL-terminated arrays of pointers into CStrings that
        // outlive the call; `conn`, if any, is open for the duration of the call.
        let rc = unsafe {
            let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
            let mut fa: libc::posix_spawn_file_actions_t = std::mem::zeroed();
            let mut rc = libc::posix_spawnattr_init(&mut attr);
            if rc != 0 {
                return Err(Errno::from_raw_os_error(rc));
            }
            rc = libc::posix_spawn_file_actions_init(&mut fa);
            if rc != 0 {
                libc::posix_spawnattr_destroy(&mut attr);
                return Err(Errno::from_raw_os_error(rc));
            }
            let mut empty: libc::sigset_t = std::mem::zeroed();
            let mut all: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            libc::sigfillset(&mut all);
            add_internal_signals(&mut all);
            let flags = libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF;
            rc = libc::posix_spawnattr_setflags(&mut attr, flags as libc::c_short);
            if rc == 0 {
                rc = libc::posix_spawnattr_setsigmask(&mut attr, &empty);
            }
            if rc == 0 {
                rc = libc::posix_spawnattr_setsigdefault(&mut attr, &all);
            }
            if let Some(fd) = conn {
                if rc == 0 {
                    rc = libc::posix_spawn_file_actions_adddup2(&mut fa, fd, 0);
                }
                if rc == 0 {
                    rc = libc::posix_spawn_file_actions_adddup2(&mut fa, fd, 1);
                }
            }
            if rc == 0 {
                rc =
                    libc::posix_spawnp(&mut pid, argv[0], &fa, &attr, argv.as_ptr(), envp.as_ptr());
            }
            libc::posix_spawn_file_actions_destroy(&mut fa);
            libc::posix_spawnattr_destroy(&mut attr);
            rc
        };
        if rc != 0 {
            return Err(Errno::from_raw_os_error(rc));
        }
        Pid::from_raw(pid).ok_or(Errno::SRCH)
    }
}

/// glibc's sigfillset leaves out its two internal signals (32 and 33), and its
/// posix_spawn then sets them to SIG_IGN in the child, which survives exec. Setting their
/// bits directly asks for SIG_DFL for them too, so handlers start with nothing ignored.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn add_internal_signals(set: &mut libc::sigset_t) {
    const WORDS: usize = std::mem::size_of::<libc::sigset_t>() / 8;
    // SAFETY: glibc's sigset_t is a plain bitmap of unsigned longs (128 bytes on Linux),
    // bit (sig - 1) standing for signal `sig`; viewing it as u64 words is exact.
    let words = unsafe { &mut *(set as *mut libc::sigset_t).cast::<[u64; WORDS]>() };
    words[0] |= (1 << 31) | (1 << 32);
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn add_internal_signals(_set: &mut libc::sigset_t) {}

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
