//! The vfork child: signal dispositions, stdio, mask, exec, as glibc's posix_spawn child
//! does them.
//!
//! It runs on the `Spawner`'s stack, in the parent's memory and with its TLS, while the
//! parent thread is suspended (`CLONE_VFORK`). So it must not allocate, lock, unwind or
//! panic, and it reads only what `ChildArgs` points to. It calls libc's wrappers, which
//! may set the shared `errno`: the parent reads `errno` only when the clone failed, and
//! then no child ran. Errors stay raw `c_int`s until the parent converts them. It is
//! entered through glibc's `clone` wrapper, whose child side touches no TLS since glibc
//! 2.25 (which dropped the cached pid that older wrappers reset).
//!
//! Every signal, 1 to 64, gets its disposition set before the mask is lowered, whatever
//! this process did with it: a handler of ours must never run here, even one installed
//! after the `Spawner` was made.

use super::path::Search;
use crate::sys::sig;
use std::ffi::{c_char, c_int, c_void};

/// Every signal number the kernel knows (`_NSIG - 1` on Linux).
const NSIG: c_int = 64;

/// The kernel's signal set size, which rt_sigaction requires exactly.
const KERNEL_SIGSET_SIZE: usize = 8;

/// A kernel `struct sigaction`, zeroed: SIG_DFL, no flags, empty mask. Larger than the
/// kernel's on every architecture, so it is never read past its end.
type KernelSigaction = [u64; 8];

/// What the vfork child reads, and the errno it leaves when it fails.
pub(super) struct ChildArgs {
    /// NULL-terminated: where to exec argv[0], in order (`path::candidates`).
    pub(super) candidates: *const *const c_char,
    /// NULL-terminated argv.
    pub(super) argv: *const *const c_char,
    /// NULL-terminated environment.
    pub(super) envp: *const *const c_char,
    /// What to put on fds 0, 1 and 2: an fd of ours, or -1 to leave it alone.
    pub(super) fds: [c_int; 3],
    /// Chain-loading (`Spawner::spawn_inheriting`): the signals ignored at start stay
    /// ignored and the mask is `mask`; else the clean state (all SIG_DFL, empty mask).
    pub(super) transparent: bool,
    /// The signals whose start-up disposition was recorded (bit n-1 for signal n);
    /// every other one still has it (`exec::note_dispositions`).
    pub(super) known: u64,
    /// Of `known`, the ones ignored when the process started.
    pub(super) ignored: u64,
    /// The mask to set before the exec (bit n-1 for signal n): the one the process
    /// started with for a transparent child, empty for a clean one.
    pub(super) mask: u64,
    /// Set by the child: the errno of its failure (dup2 or exec); 0 if it exec'ed.
    pub(super) err: c_int,
}

/// The last error of a libc call on this thread. It neither allocates nor unwinds.
fn errno() -> c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Set `sig`'s disposition to SIG_DFL, or SIG_IGN if `ignore`, through the raw syscall
/// (glibc's sigaction refuses its internal signals 32 and 33), and say whether it was
/// ignored before. A failure (SIGKILL, SIGSTOP) is ignored, as posix_spawn ignores it,
/// and reads as "not ignored".
fn set_disposition(sig: c_int, ignore: bool) -> bool {
    let mut act: KernelSigaction = [0; 8];
    if ignore {
        act[0] = libc::SIG_IGN as u64;
    }
    let mut old: KernelSigaction = [0; 8];
    // SAFETY: `act` is a kernel `struct sigaction` we own (larger than the kernel's, so
    // the kernel reads only initialised memory) holding SIG_DFL or SIG_IGN, never a
    // handler address, so no code can run from it; the kernel writes at most its struct
    // into `old`, ours and larger.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            sig,
            act.as_ptr(),
            old.as_mut_ptr(),
            KERNEL_SIGSET_SIZE,
        )
    };
    rc == 0 && old[0] == libc::SIG_IGN as u64
}

/// Every signal's disposition, unconditionally: SIG_DFL (posix_spawn with every signal
/// in POSIX_SPAWN_SETSIGDEF), except in transparent mode for a signal that was ignored
/// when the process started, which stays ignored as across exec(2). A signal whose
/// start-up disposition was never recorded (`known`) was never changed by this
/// process: it is ignored at start exactly if it is ignored now, which setting it to
/// SIG_DFL tells (then it is put back to SIG_IGN). So every signal costs one system
/// call, rarely two.
fn reset_signals(transparent: bool, known: u64, ignored: u64) {
    for sig in 1..=NSIG {
        let bit = 1u64 << (sig - 1);
        let ignore = transparent && ignored & bit != 0;
        let was_ignored = set_disposition(sig, ignore);
        if transparent && known & bit == 0 && was_ignored {
            set_disposition(sig, true);
        }
    }
}

/// Put `fds[n]` on fd n for n in 0..3 (-1: leave fd n alone), without CLOEXEC, as
/// posix_spawn's dup2 actions do. Returns the errno of the first failure.
///
/// Only for this child, which execs or exits next: fds 0 to 2 are replaced whoever owns
/// them, and nothing of the parent's runs here afterwards to use them.
fn move_stdio(fds: &[c_int; 3]) -> Result<(), c_int> {
    for (target, &src) in (0..).zip(fds) {
        if src < 0 {
            continue;
        }
        let rc = if src == target {
            // SAFETY: F_SETFD on fd `src` changes its flags only; no memory is touched.
            // dup2 onto itself would leave CLOEXEC set (posix_spawn clears it).
            unsafe { libc::fcntl(src, libc::F_SETFD, 0) }
        } else {
            // SAFETY: dup2 acts on the fd table only; replacing `target` in this child,
            // which execs or exits next, is the point.
            unsafe { libc::dup2(src, target) }
        };
        if rc < 0 {
            return Err(errno());
        }
    }
    Ok(())
}

/// Exec the first candidate that runs (`path::Search`). Returns only on failure, with
/// the errno to report.
fn exec_candidates(a: &ChildArgs) -> c_int {
    let mut search = Search::new();
    let mut c = a.candidates;
    loop {
        // SAFETY: `c` points into the parent's NULL-terminated `candidates` array, and
        // we stop at its NULL (below), so this read is in bounds.
        let path = unsafe { *c };
        if path.is_null() {
            break;
        }
        // SAFETY: `path`, `argv` and `envp` are valid NUL-terminated strings and
        // NULL-terminated arrays of them, owned by the suspended parent; an execve
        // that returns has changed nothing.
        unsafe { libc::execve(path, a.argv, a.envp) };
        if !search.failed(errno()) {
            break;
        }
        // SAFETY: `path` was not the terminating NULL, so the next element is still
        // within the array.
        c = unsafe { c.add(1) };
    }
    search.errno()
}

/// End the child without running anything of the parent's: no atexit handlers, no
/// stdio flush (they would act on the parent's state, which the child shares).
fn child_exit(code: c_int) -> ! {
    // SAFETY: _exit touches no memory of the process and never returns.
    unsafe { libc::_exit(code) }
}

/// The vfork child's entry (`clone`'s `fn`): signals, stdio, mask, exec.
pub(super) extern "C" fn child(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the parent's live `ChildArgs` (`Spawner::run`), and the parent,
    // suspended by CLONE_VFORK, does not touch it until we exec or exit: this is the
    // only reference.
    let a = unsafe { &mut *arg.cast::<ChildArgs>() };
    reset_signals(a.transparent, a.known, a.ignored);
    if let Err(e) = move_stdio(&a.fds) {
        a.err = e;
        child_exit(127);
    }
    // Only now: lowering the mask must not run a handler of the parent's.
    sig::mask(libc::SIG_SETMASK, Some(a.mask));
    a.err = exec_candidates(a);
    // The exec convention (skalibs, shells): 127 not found, 126 found but not run.
    child_exit(if a.err == libc::ENOENT { 127 } else { 126 })
}
