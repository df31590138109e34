//! Chain-loading: environment edits and exec.
//!
//! A chain-loader is as transparent as `exec(2)`: the next program gets the signal mask
//! and dispositions our caller gave us, SIGPIPE included. The Rust runtime sets SIGPIPE
//! to SIG_IGN before `main`, so the disposition we inherited is recorded earlier, by a
//! function in `.init_array` (run by the C start-up code, static or dynamic, before
//! Rust's `lang_start`), and put back just before `execve`. Any other signal's start-up
//! disposition is recorded just before a program traps it (`note_dispositions`, called
//! by `sys::sig`, the one place dispositions change). Nothing else is touched:
//! std's `CommandExt::exec` would also force SIGPIPE to SIG_DFL, losing a caller's
//! SIG_IGN, as s6 (written in C) never does. The same entry records which of fds 0-2
//! were closed and the signal mask at start, for ipcserverd's checks and npt-wait's
//! transparent spawn; [`hand_on_closed_stdio`] then makes the runtime's /dev/null on
//! those fds close-on-exec, so that every next program finds them closed, as under s6.
//!
//! This module opts back into `unsafe` for the sigaction query, the `.init_array` entry
//! and `execve`.
#![allow(unsafe_code)]

use crate::base::error::Error;
use crate::sys::spawn::path::Search;
use rustix::io::Errno;
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

/// One environment edit: set NAME to a value, or unset it (`None`).
pub(crate) type EnvMod = (OsString, Option<OsString>);

/// An edit that sets `name` to `value` in the next program's environment
/// (`IPCREMOTEEUID=1000`, a rule's `env/` file).
pub fn set(name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> EnvMod {
    (name.as_ref().to_owned(), Some(value.as_ref().to_owned()))
}

/// An edit that removes `name` from the next program's environment (ipcserver-access
/// `-E` drops the UCSPI variables, an empty `env/` file unsets one).
pub fn unset(name: impl AsRef<OsStr>) -> EnvMod {
    (name.as_ref().to_owned(), None)
}

/// The signals (1 to 64) that were ignored when the process started, bit n-1 for signal
/// n, as far as [`KNOWN_AT_START`] says they were looked at. Only SIG_DFL and SIG_IGN
/// survive an exec, so "ignored or not" is all there is to know.
static IGNORED_AT_START: AtomicU64 = AtomicU64::new(0);
/// The signals whose start-up disposition was looked at: SIGPIPE before `main`, and
/// each signal a program traps, just before it does ([`note_dispositions`]). A signal
/// never looked at was never changed by us, so it still has its start-up disposition
/// (what the transparent spawn child relies on, `spawn::child`).
static KNOWN_AT_START: AtomicU64 = AtomicU64::new(0);
/// Whether the `.init_array` entry ran (false: e.g. a harness linking us another way).
static IGNORED_RECORDED: AtomicBool = AtomicBool::new(false);

/// Whether signal `sig` is ignored now, through the raw syscall, which sees glibc's own
/// signals 32 and 33 too (glibc's sigaction refuses them). `None` if the kernel refuses
/// the query (not a signal number).
fn ignored_now(sig: i32) -> Option<bool> {
    // A kernel `struct sigaction` (handler first), larger than the kernel's.
    let mut old = [0u64; 8];
    // SAFETY: a query (NULL new action); the kernel writes at most its struct into
    // `old`, ours and larger; 8 is the kernel's sigset size. Nothing of the Rust
    // runtime is needed (this also runs before it is set up).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            sig,
            ptr::null::<u64>(),
            old.as_mut_ptr(),
            8usize,
        )
    };
    (rc == 0).then_some(old[0] == libc::SIG_IGN as u64)
}

/// Record the start-up disposition of each of `sigs` not recorded yet: called just
/// before a program changes them (`sig::SelfPipe::new`, `sig::trap_flag`), so that a
/// spawned or exec'ed program can be handed the one the caller gave us.
pub(crate) fn note_dispositions(sigs: &[i32]) {
    for &sig in sigs {
        let Some(bit) = u32::try_from(sig - 1).ok().filter(|&b| b < 64) else {
            continue;
        };
        if KNOWN_AT_START.load(Ordering::Relaxed) & (1 << bit) != 0 {
            continue;
        }
        if let Some(ignored) = ignored_now(sig) {
            if ignored {
                IGNORED_AT_START.fetch_or(1 << bit, Ordering::Relaxed);
            }
            KNOWN_AT_START.fetch_or(1 << bit, Ordering::Relaxed);
        }
    }
}

/// Record the start-up state the Rust runtime is about to change or hide: whether
/// SIGPIPE was ignored (the runtime ignores it; every other signal is looked at only
/// when a program is about to trap it, [`note_dispositions`]: one query at start instead
/// of 64), which of fds 0, 1, 2 were closed (the runtime puts /dev/null there), and the
/// mask.
extern "C" fn record_ignored() {
    note_dispositions(&[libc::SIGPIPE]);
    IGNORED_RECORDED.store(true, Ordering::Relaxed);
    let mut closed = 1u8;
    for fd in 0..3 {
        // SAFETY: F_GETFD only reads the flags of fd `fd`, touches no memory, and is
        // defined for a closed fd (EBADF).
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            closed |= 2 << fd;
        }
    }
    CLOSED_AT_START.store(closed, Ordering::Relaxed);
    MASK_AT_START.store(
        crate::sys::sig::mask(libc::SIG_BLOCK, None),
        Ordering::Relaxed,
    );
    MASK_RECORDED.store(true, Ordering::Relaxed);
}

/// The signal mask at start (the kernel's 64 bits), for a transparent spawn.
static MASK_AT_START: AtomicU64 = AtomicU64::new(0);
static MASK_RECORDED: AtomicBool = AtomicBool::new(false);

/// The signal mask the process started with (the kernel's 64 bits), if recorded.
pub(crate) fn mask_at_start() -> Option<u64> {
    let _ = std::hint::black_box(&RECORD_IGNORED);
    MASK_RECORDED
        .load(Ordering::Relaxed)
        .then(|| MASK_AT_START.load(Ordering::Relaxed))
}

/// Which of fds 0, 1, 2 were closed at start (bit n+1 for fd n, bit 0 once recorded):
/// the Rust runtime opens /dev/null on them before `main`, and a program that must
/// tell "closed" from "not a socket" (ipcserverd's stdin, as s6-ipcserverd) asks here.
static CLOSED_AT_START: AtomicU8 = AtomicU8::new(0);

/// Whether fd `fd` (0, 1 or 2) was closed when the process started (`None`: not
/// recorded, or another fd).
pub(crate) fn closed_at_start(fd: i32) -> Option<bool> {
    let _ = std::hint::black_box(&RECORD_IGNORED);
    let bits = CLOSED_AT_START.load(Ordering::Relaxed);
    (bits & 1 == 1 && (0..3).contains(&fd)).then(|| bits & (2 << fd) != 0)
}

/// Whether fd `fd` (0, 1 or 2) was closed at start and still holds what the Rust
/// runtime put there: /dev/null (character device 1:3). A chain-loader hands such an
/// fd on closed, as exec(2) would have; one the program has filled since (the socket
/// ipcserver-socketbinder puts on fd 0) is left alone.
pub fn runtime_null(fd: i32) -> bool {
    use std::os::fd::AsFd;
    if closed_at_start(fd) != Some(true) {
        return false;
    }
    let st = match fd {
        0 => rustix::fs::fstat(std::io::stdin().as_fd()),
        1 => rustix::fs::fstat(std::io::stdout().as_fd()),
        2 => rustix::fs::fstat(std::io::stderr().as_fd()),
        _ => return false,
    };
    st.is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::CharacterDevice
            && rustix::fs::major(st.st_rdev) == 1
            && rustix::fs::minor(st.st_rdev) == 3
    })
}

/// Make each of fds 0, 1, 2 that was closed at start, and is now the runtime's
/// /dev/null ([`runtime_null`]), close-on-exec: every program we exec or spawn then
/// finds it closed, as it would under s6 (its chain-loaders, s6-ipcserverd's handlers,
/// s6-sudod's command, s6-ftrig-listen1's prog). The fd itself stays open here, so
/// nothing we open later lands on 0, 1 or 2 (our messages keep going to /dev/null, and
/// never into a socket that took fd 2's number). Called once, at start, by every
/// program; a program that puts an fd of its own there later (dup2 clears
/// close-on-exec) hands that one on.
pub fn hand_on_closed_stdio() {
    use std::os::fd::AsFd;
    for fd in 0..3 {
        if runtime_null(fd) {
            let cloexec = rustix::io::FdFlags::CLOEXEC;
            // Nothing to do if it fails: the fd then stays as the runtime left it.
            let _ = match fd {
                0 => rustix::io::fcntl_setfd(std::io::stdin().as_fd(), cloexec),
                1 => rustix::io::fcntl_setfd(std::io::stdout().as_fd(), cloexec),
                _ => rustix::io::fcntl_setfd(std::io::stderr().as_fd(), cloexec),
            };
        }
    }
}

/// The `.init_array` entry: the C start-up code calls it before `main`, so before the
/// Rust runtime ignores SIGPIPE.
#[used]
#[unsafe(link_section = ".init_array")]
static RECORD_IGNORED: extern "C" fn() = record_ignored;

/// Whether signal `sig` (1 to 64) was ignored when this process started (`None`: not
/// recorded, never looked at, or not a signal number).
pub(crate) fn ignored_at_start(sig: i32) -> Option<bool> {
    // Referencing the entry keeps its object file in the link: an unreferenced member
    // of the ipccore archive would be dropped, entry and all.
    let _ = std::hint::black_box(&RECORD_IGNORED);
    let recorded = IGNORED_RECORDED.load(Ordering::Relaxed);
    let known = KNOWN_AT_START.load(Ordering::Relaxed);
    let bits = IGNORED_AT_START.load(Ordering::Relaxed);
    let bit = (1..=64).contains(&sig).then(|| 1u64 << (sig - 1))?;
    (recorded && known & bit != 0).then_some(bits & bit != 0)
}

/// The signals whose start-up disposition is recorded (bit n-1 for signal n), and of
/// those the ignored ones: `(known, ignored)`. Every signal not in `known` still has
/// the disposition it started with.
pub(crate) fn dispositions_at_start() -> (u64, u64) {
    let _ = std::hint::black_box(&RECORD_IGNORED);
    if !IGNORED_RECORDED.load(Ordering::Relaxed) {
        return (0, 0);
    }
    let known = KNOWN_AT_START.load(Ordering::Relaxed);
    (known, IGNORED_AT_START.load(Ordering::Relaxed) & known)
}

/// Whether SIGPIPE was ignored when this process started (`None`: not recorded).
fn sigpipe_ignored_at_start() -> Option<bool> {
    ignored_at_start(libc::SIGPIPE)
}

/// Put SIGPIPE back as the caller gave it to us (SIG_DFL if unknown, as std does).
/// Returns what to restore if the exec fails.
pub(crate) fn restore_inherited_sigpipe() -> libc::sighandler_t {
    let want = if sigpipe_ignored_at_start() == Some(true) {
        libc::SIG_IGN
    } else {
        libc::SIG_DFL
    };
    // SAFETY: SIG_DFL or SIG_IGN installs no handler, so no code can run from it, and
    // signal(2) touches no memory of ours.
    unsafe { libc::signal(libc::SIGPIPE, want) }
}

/// The current environment, edited by `env` (later edits win), as `NAME=value` strings.
/// Entries containing a NUL byte cannot be passed and are dropped.
pub(crate) fn edited_env(env: &[EnvMod]) -> Vec<CString> {
    let mut vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    for (k, v) in env {
        vars.retain(|(name, _)| name != k);
        if let Some(v) = v {
            vars.push((k.clone(), v.clone()));
        }
    }
    vars.into_iter()
        .filter_map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).ok()
        })
        .collect()
}

/// Exec `argv` with execvp semantics (a name without `/` is searched in `$PATH`, the
/// value from the edited environment), the current environment edited by `env`, the
/// signal mask and dispositions as the caller gave them to us. Returns only on failure.
///
/// # Errors
/// `unable to exec PROG: …` with the errno of the last attempt, or EACCES if any
/// candidate gave it, as execvp does (exit 127 for ENOENT, else 126); an empty `argv`
/// is a usage error.
///
/// # References
/// - [execve(2)](https://man7.org/linux/man-pages/man2/execve.2.html)
/// - [execvp(3)](https://man7.org/linux/man-pages/man3/execvp.3.html) (the search)
#[doc(alias = "execve")]
#[doc(alias = "execvp")]
pub fn exec(argv: &[OsString], env: &[EnvMod]) -> Error {
    let Some(prog) = argv.first() else {
        return Error::Usage("no program to execute".into());
    };
    let exec_err = |errno| Error::Exec {
        prog: prog.clone(),
        errno,
    };
    let Some(cargv) = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()).ok())
        .collect::<Option<Vec<_>>>()
    else {
        return exec_err(Errno::INVAL);
    };
    let envp = edited_env(env);
    let path = envp
        .iter()
        .find_map(|e| e.to_bytes().strip_prefix(b"PATH="))
        .map(<[u8]>::to_vec);
    let cands = crate::sys::spawn::path::candidates(prog.as_bytes(), path.as_deref());
    let argv_p: Vec<*const libc::c_char> = cargv
        .iter()
        .map(|a| a.as_ptr())
        .chain([ptr::null()])
        .collect();
    let envp_p: Vec<*const libc::c_char> = envp
        .iter()
        .map(|e| e.as_ptr())
        .chain([ptr::null()])
        .collect();
    let old = restore_inherited_sigpipe();
    let mut search = Search::new();
    for c in &cands {
        // SAFETY: `c`, and the NULL-terminated arrays `argv_p` and `envp_p` of pointers
        // to valid C strings (owned by `cargv`, `envp`), outlive the call; an execve
        // that returns has changed nothing.
        unsafe { libc::execve(c.as_ptr(), argv_p.as_ptr(), envp_p.as_ptr()) };
        let errno = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::ENOENT);
        if !search.failed(errno) {
            break;
        }
    }
    let err = Errno::from_raw_os_error(search.errno());
    // SAFETY: `old` is what `restore_inherited_sigpipe` replaced: SIG_IGN (ipctools
    // programs never catch SIGPIPE) or SIG_DFL (or SIG_ERR, which signal(2) refuses),
    // so no handler is installed. Putting it back means our own error message cannot
    // kill us on a closed stderr.
    unsafe { libc::signal(libc::SIGPIPE, old) };
    exec_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigpipe_recorded_before_main() {
        // The test harness inherits SIGPIPE from cargo; whatever it was, it was recorded,
        // and not as the runtime's SIG_IGN unless cargo passed it so.
        assert!(sigpipe_ignored_at_start().is_some());
        assert_eq!(ignored_at_start(0), None);
        assert_eq!(ignored_at_start(65), None);
        assert!(closed_at_start(0).is_some());
        assert_eq!(closed_at_start(3), None);
    }

    #[test]
    fn env_edits_apply_in_order() {
        let e = edited_env(&[set("IPC_T_A", "1"), set("IPC_T_A", "2"), unset("IPC_T_B")]);
        let mine: Vec<_> = e
            .iter()
            .filter(|c| c.to_bytes().starts_with(b"IPC_T_"))
            .collect();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].to_bytes(), b"IPC_T_A=2");
    }
}
