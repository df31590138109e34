//! The asynchronous spawn of a server's handlers: `clone(CLONE_VM|CLONE_CHILD_CLEARTID)`
//! without `CLONE_VFORK`, so the server goes on accepting while its child waits for a CPU
//! and execs (doc/performance.md, "Concurrent connections/s", item 4).
//!
//! The child runs at the same time as the server, in its memory and with its TLS (the
//! same fs base: glibc's `errno` is the server's). So the child:
//! - runs on a stack of its own, one of a small pool of slots allocated once, and reads
//!   only what its slot and the `Spawner` own, which nobody changes or frees until the
//!   kernel has cleared the slot's tid word (`CLONE_CHILD_CLEARTID`: in `mm_release`, on
//!   the child's exec or exit, the point where a vfork parent would be released);
//! - makes only raw `syscall` instructions (the `syscalls` crate), which return their
//!   error and never touch `errno` (not libc's wrappers, not even `libc::syscall`); it neither allocates, nor
//!   locks, nor can panic;
//! - gets every signal blocked by the server around the clone and resets the
//!   dispositions before it unblocks them, so no handler of the server ever runs in it.
//!
//! An exec failure cannot be returned by the spawn any more: the child stores its errno
//! in a cell of its own and exits 127 (126), and the server asks for it when it reaps the
//! pid (`Spawner::reap`). The cell is not in the slot: the slot is free again as soon as
//! the child has exited, which may be well before the server reaps it. When all slots are in flight the spawn falls back to the
//! vfork path, which waits for the exec; its failure is kept for the reap the same way,
//! so the server reports both alike.
//!
//! Only the clean child state (a server's handler) is offered here: the other users of
//! `Spawner` (npt-wait's prog, npt-listen, ipcsudod) need the exec result at once.
#![allow(unsafe_code)]

use super::{Spawner, non_default_signals};
use rustix::fd::{BorrowedFd, RawFd};
use rustix::io::Errno;
use rustix::process::{Pid, WaitOptions, WaitStatus, waitpid};
// The child's system calls: inline `syscall` instructions that return their error and
// never touch errno (rustix's own errno-free execve and sigaction are only in its hidden
// runtime module, which is not for programs like ours).
use rustix::thread::futex;
use rustix::time::Timespec;
use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::ffi::{CString, c_char, c_int, c_void};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::time::{Duration, Instant};
use syscalls::{Sysno, syscall};

/// How many children may be between clone and exec at once; one more spawn waits for its
/// exec (the vfork path). A handler's exec takes a fraction of a millisecond once it has
/// a CPU, so on a few cores 8 in flight are plenty (the prototype, doc/performance.md).
const SLOTS: usize = 8;

/// A slot's stack, in 16-byte units. The child's deepest call is a rustix system call
/// from a small function: far less than this, and the pages it never touches are never
/// made resident (the allocation is zeroed by calloc/mmap, not written).
const STACK_WORDS: usize = 16 * 1024 / 16;

/// The kernel's signal set size (64 signals), which rt_sigaction and rt_sigprocmask
/// require exactly.
const KERNEL_SIGSET_SIZE: usize = 8;

/// The tid word of a slot in use, from just before the clone until the kernel clears it.
const BUSY: u32 = u32::MAX;

/// Everything the child reads, by pointer. Written by the server only while the slot is
/// free (tid word 0), read by the child only while it is busy.
struct Job {
    /// `Spawner::candidates` (pointer and length).
    candidates: *const CString,
    ncandidates: usize,
    /// NULL-terminated argv, `Pool::argv`.
    argv: *const *const c_char,
    /// NULL-terminated envp, `SlotData::envp`.
    envp: *const *const c_char,
    /// The connection, for fds 0 and 1.
    conn: RawFd,
    /// The signals to reset to SIG_DFL, `Pool::sigs`.
    sigs: *const c_int,
    nsigs: usize,
    /// Where the child leaves the errno of a failed exec.
    err: *const AtomicI32,
}

/// What the server writes into a free slot for one spawn.
struct SlotData {
    /// The child's stack (u128: 16-byte aligned).
    stack: Vec<u128>,
    /// The per-connection `NAME=value` strings, owned here until the next use of the
    /// slot, so that the child's envp points to live strings.
    extra: Vec<CString>,
    envp: Vec<*const c_char>,
    job: Job,
}

struct Slot {
    /// The `CLONE_CHILD_CLEARTID` word: `BUSY` from just before the clone; 0 once the
    /// child has exec'ed or exited (the kernel's store) or been reaped (ours).
    tid: AtomicU32,
    /// The child's pid, while `tid` may be busy. Server only.
    pid: UnsafeCell<Option<Pid>>,
    /// Written by the server only while `tid` is 0; read by the child while busy.
    data: UnsafeCell<SlotData>,
}

impl Slot {
    fn busy(&self) -> bool {
        // Acquire: pairs with the kernel's clearing store, after which the child reads
        // nothing of the slot any more, so our next writes to it cannot race its reads.
        self.tid.load(Ordering::Acquire) != 0
    }
}

/// The slots, the children's exec-error cells, and the arrays shared by all spawns.
#[derive(Default)]
pub(super) struct Pool {
    /// Allocated on demand (a server that never has two spawns in flight makes one),
    /// freed in `Drop` only if no child uses them. Raw pointers, not `Box`es: a `Box`
    /// asserts unique access, and a busy slot is shared with its child.
    slots: Vec<NonNull<Slot>>,
    /// Each unreaped child's exec-error cell (0: no error known), until `reaped`.
    errs: HashMap<Pid, NonNull<AtomicI32>>,
    /// `Spawner::argv` as a NULL-terminated array, built at the first spawn.
    argv: Vec<*const c_char>,
    /// `Spawner::env` as pointers (without the NULL).
    env: Vec<*const c_char>,
    /// The signals to reset in the child.
    sigs: Vec<c_int>,
}

impl Pool {
    /// Whether any child may still use a slot.
    pub(super) fn busy(&self) -> bool {
        self.slots.iter().any(|s| {
            // SAFETY: every pointer in `slots` comes from `Box::leak` and stays
            // valid until `Drop` (the only place it is freed); `&Slot` is shared, and
            // its fields the child may touch are atomics or behind UnsafeCell.
            unsafe { s.as_ref() }.busy()
        })
    }

    /// A free slot: a busy one the kernel has cleared since, or a new one while there
    /// are fewer than `SLOTS`.
    fn free_slot(&mut self) -> Option<NonNull<Slot>> {
        for &s in &self.slots {
            // SAFETY: as in `busy`.
            if !unsafe { s.as_ref() }.busy() {
                return Some(s);
            }
        }
        if self.slots.len() >= SLOTS {
            return None;
        }
        let slot = Box::new(Slot {
            tid: AtomicU32::new(0),
            pid: UnsafeCell::new(None),
            data: UnsafeCell::new(SlotData {
                // Zeroed by the allocator (calloc): untouched pages stay unmapped.
                stack: vec![0u128; STACK_WORDS],
                extra: Vec::new(),
                envp: Vec::new(),
                job: Job {
                    candidates: ptr::null(),
                    ncandidates: 0,
                    argv: ptr::null(),
                    envp: ptr::null(),
                    conn: -1,
                    sigs: ptr::null(),
                    nsigs: 0,
                    err: ptr::null(),
                },
            }),
        });
        let s = NonNull::from(Box::leak(slot));
        self.slots.push(s);
        Some(s)
    }

    /// Remember `err` (0: none known yet) for `pid`, in a cell that lives until
    /// `reaped(pid)`.
    fn new_cell(err: i32) -> NonNull<AtomicI32> {
        NonNull::from(Box::leak(Box::new(AtomicI32::new(err))))
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // A child between clone and exec still runs on its slot and may still write its
        // cell: then leak everything (the process is about to exit anyway). `Spawner`'s
        // own Drop leaks the strings for the same reason.
        if self.busy() {
            return;
        }
        for s in self.slots.drain(..) {
            // SAFETY: from `Box::leak` in `free_slot`, freed once
            // here; no child uses it (not busy).
            drop(unsafe { Box::from_raw(s.as_ptr()) });
        }
        for (_, c) in self.errs.drain() {
            // SAFETY: from `Box::leak` in `new_cell`, freed once here; the children
            // that could write it have all exec'ed or exited (no slot busy).
            drop(unsafe { Box::from_raw(c.as_ptr()) });
        }
    }
}

impl Spawner {
    /// Spawn the command in the clean state with `conn` on fds 0 and 1 and `extra`
    /// (`NAME=value` strings) added to the environment, without waiting for its exec:
    /// a server's handler. Whether the exec failed is known once the child is reaped,
    /// through [`Spawner::reap`] (or [`Spawner::unreaped_exec_errors`] before an exit).
    ///
    /// # Errors
    /// The errno of a failed `clone`.
    ///
    /// # References
    /// - [clone(2)](https://man7.org/linux/man-pages/man2/clone.2.html)
    /// - [set_tid_address(2)](https://man7.org/linux/man-pages/man2/set_tid_address.2.html)
    ///   (`CLONE_CHILD_CLEARTID`)
    #[doc(alias = "CLONE_CHILD_CLEARTID")]
    pub fn spawn_async(&mut self, conn: BorrowedFd<'_>, extra: Vec<CString>) -> Result<Pid, Errno> {
        self.prepare_pool();
        let Some(slot) = self.pool.free_slot() else {
            // All slots in flight: wait for this one's exec instead.
            let (pid, failed) = self.spawn_unreaped(conn, &extra)?;
            if let Some(e) = failed {
                let cell = Pool::new_cell(e.raw_os_error());
                self.pool.errs.insert(pid, cell);
            }
            return Ok(pid);
        };
        let cell = Pool::new_cell(0);
        match self.clone_into(slot, conn, extra, cell) {
            Ok(pid) => {
                // An entry already there would be a child's reaped by someone else
                // (its pid reused): it writes nothing any more, and is only leaked.
                self.pool.errs.insert(pid, cell);
                Ok(pid)
            }
            Err(e) => {
                // SAFETY: from `Box::leak` in `new_cell`; the clone failed, so no child
                // has its pointer.
                drop(unsafe { Box::from_raw(cell.as_ptr()) });
                Err(e)
            }
        }
    }

    /// `waitpid(-1, WNOHANG)`—reap one child, and give the exec error of a child of
    /// [`Spawner::spawn_async`] (`None`: it exec'ed, or is not one of those) with its
    /// status. `Ok(None)`: no child has ended.
    ///
    /// The reap is done here, so that a child's slot and error cell are released only
    /// once it has certainly ended: a pid is not reused before its reap.
    ///
    /// # Errors
    /// waitpid's (ECHILD: no children; EINTR).
    ///
    /// # References
    /// - [waitpid(2)](https://man7.org/linux/man-pages/man2/waitpid.2.html)
    pub fn reap(&mut self) -> Result<Option<(Pid, WaitStatus, Option<Errno>)>, Errno> {
        let Some((pid, status)) = waitpid(None, WaitOptions::NOHANG)? else {
            return Ok(None);
        };
        Ok(Some((pid, status, self.reaped(pid))))
    }

    /// The exec error of `pid`, a child that `waitpid` has just returned, and forget it.
    /// Only for such a pid: a live child may still use its slot and write its cell.
    fn reaped(&mut self, pid: Pid) -> Option<Errno> {
        for &s in &self.pool.slots {
            // SAFETY: as in `Pool::busy`.
            let slot = unsafe { s.as_ref() };
            // SAFETY: `pid` is only ever touched by the server, never by a child, and
            // no other reference to it exists.
            let owner = unsafe { &mut *slot.pid.get() };
            if *owner == Some(pid) {
                *owner = None;
                // Reaped, so it runs no more: its slot is free even if the kernel did
                // not clear the word (it leaves it for a core dump).
                slot.tid.store(0, Ordering::Release);
            }
        }
        let cell = self.pool.errs.remove(&pid)?;
        // SAFETY: from `Box::leak` in `new_cell`, removed from the map so freed once;
        // the child that could write it has been reaped (a pid in the map belongs to a
        // live child of ours, or to one reaped since, so waitpid returning it means that
        // child has ended), and its store happened before its exit, which waitpid has
        // observed.
        let err = unsafe { Box::from_raw(cell.as_ptr()) }.load(Ordering::Acquire);
        (err != 0).then(|| Errno::from_raw_os_error(err))
    }

    /// The exec errors of the children of [`Spawner::spawn_async`] not reaped yet, in
    /// pid order, after waiting up to `limit` for those still between clone and exec: what
    /// a server exiting now must still report (a forked child would report it itself).
    ///
    /// # References
    /// - [futex(2)](https://man7.org/linux/man-pages/man2/futex.2.html)
    pub fn unreaped_exec_errors(&mut self, limit: Duration) -> Vec<Errno> {
        let deadline = Instant::now() + limit;
        for &s in &self.pool.slots {
            // SAFETY: as in `Pool::busy`.
            let slot = unsafe { s.as_ref() };
            while slot.busy() {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                let ts = Timespec {
                    tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
                    tv_nsec: i64::from(left.subsec_nanos()),
                };
                // Not FUTEX_PRIVATE: the kernel's wake for CLONE_CHILD_CLEARTID is a
                // shared one, whose key a private wait would not match. EAGAIN (already
                // cleared), EINTR and ETIMEDOUT all mean look again.
                let _ = futex::wait(&slot.tid, futex::Flags::empty(), BUSY, Some(&ts));
            }
        }
        let mut errs: Vec<(Pid, i32)> = self
            .pool
            .errs
            .iter()
            .map(|(&pid, c)| {
                // SAFETY: a live cell (freed only by `reaped` or `Drop`). The child's
                // store, if any, came before it exited, and it has exited if its slot
                // is clear: the kernel's exit path is fully ordered (an atomic
                // decrement returning its value) before it clears the tid word, which
                // we read with Acquire. A child still busy gives 0 or its error.
                (pid, unsafe { c.as_ref() }.load(Ordering::Acquire))
            })
            .filter(|&(_, e)| e != 0)
            .collect();
        errs.sort_unstable_by_key(|&(pid, _)| pid.as_raw_nonzero());
        errs.into_iter()
            .map(|(_, e)| Errno::from_raw_os_error(e))
            .collect()
    }

    /// Build the arrays every spawn shares, once.
    fn prepare_pool(&mut self) {
        if !self.pool.argv.is_empty() {
            return;
        }
        let p = &mut self.pool;
        p.argv = self.argv.iter().map(|a| a.as_ptr()).collect();
        p.argv.push(ptr::null());
        p.env = self.env.iter().map(|e| e.as_ptr()).collect();
        let sigs = self.non_default.get_or_init(non_default_signals);
        // 1 to 64: the kernel's signal numbers (glibc's reserved 32 and 33 included).
        p.sigs = sigs
            .iter()
            .copied()
            .filter(|s| (1..=64).contains(s))
            .collect();
    }

    /// Fill the free `slot` and clone a child on it.
    fn clone_into(
        &self,
        slot: NonNull<Slot>,
        conn: BorrowedFd<'_>,
        extra: Vec<CString>,
        cell: NonNull<AtomicI32>,
    ) -> Result<Pid, Errno> {
        use rustix::fd::AsRawFd;
        // SAFETY: as in `Pool::busy`.
        let slot = unsafe { slot.as_ref() };
        // SAFETY: the slot is free (tid word 0, seen with Acquire): no child reads its
        // data any more and none will until the clone below, so this is the only
        // reference.
        let data = unsafe { &mut *slot.data.get() };
        data.extra = extra;
        data.envp.clear();
        data.envp.extend_from_slice(&self.pool.env);
        data.envp.extend(data.extra.iter().map(|e| e.as_ptr()));
        data.envp.push(ptr::null());
        data.job = Job {
            candidates: self.candidates.as_ptr(),
            ncandidates: self.candidates.len(),
            argv: self.pool.argv.as_ptr(),
            envp: data.envp.as_ptr(),
            conn: conn.as_raw_fd(),
            sigs: self.pool.sigs.as_ptr(),
            nsigs: self.pool.sigs.len(),
            err: cell.as_ptr(),
        };
        let top = data.stack.as_mut_ptr_range().end.cast::<c_void>();
        let job = (&raw mut data.job).cast::<c_void>();
        slot.tid.store(BUSY, Ordering::Relaxed);
        let old = block_all();
        // SAFETY: the child runs `child` on the slot's stack (memory we own, 16-byte
        // aligned end, used by nothing else while the tid word is busy) and reads only
        // `job` and what it points to: the slot's envp and strings, the pool's argv and
        // signal list, the Spawner's strings. None of them is written or freed while the
        // tid word is busy (`free_slot` skips busy slots, `prepare_pool` runs once before
        // any clone, and `Drop` leaks them all if a slot is busy). The kernel clears the
        // word (CLONE_CHILD_CLEARTID, a 4-byte aligned u32 we own) once the child has
        // exec'ed or is exiting. The child writes only its stack, its fd table, its
        // signal state and `*cell` (an atomic nobody frees before reaping it), and
        // makes only raw syscalls (`syscalls`), so it never writes errno or anything else
        // of ours. All signals are blocked (above) around the clone, so no handler of
        // ours runs in the child; it resets them before it unblocks any. No CLONE_FILES:
        // it has its own copy of our fds, so closing `conn` after we return is fine.
        let pid = unsafe {
            libc::clone(
                child,
                top,
                libc::CLONE_VM | libc::CLONE_CHILD_CLEARTID | libc::SIGCHLD,
                job,
                ptr::null_mut::<c_int>(),
                ptr::null_mut::<c_void>(),
                slot.tid.as_ptr(),
            )
        };
        // Read errno before anything else can call libc (only we do: no child exists
        // if the clone failed).
        let clone_err = if pid < 0 { super::errno() } else { 0 };
        restore_mask(&old);
        let Some(pid) = Pid::from_raw(pid) else {
            // No child: the slot is free again.
            slot.tid.store(0, Ordering::Release);
            return Err(Errno::from_raw_os_error(clone_err));
        };
        // SAFETY: the server alone touches `pid` (see `Slot`).
        unsafe { *slot.pid.get() = Some(pid) };
        Ok(pid)
    }
}

/// Block every signal in this thread; returns the old mask.
fn block_all() -> libc::sigset_t {
    // SAFETY: sigset_t is plain integers (all-zero is valid), filled by sigfillset;
    // pthread_sigmask reads `all` and writes the old mask into `old`, both ours.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        old
    }
}

fn restore_mask(old: &libc::sigset_t) {
    // SAFETY: `old` is a mask pthread_sigmask gave us; it is only read.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old, ptr::null_mut()) };
}

/// Put `conn` on fds 0 and 1 without CLOEXEC, as posix_spawn's dup2 actions do, with
/// errno-free calls. `dup3` rather than `dup2`, which aarch64 does not have; dup3 refuses
/// to copy an fd onto itself, and there only CLOEXEC needs clearing (posix_spawn clears
/// it too).
fn child_stdio(conn: RawFd) -> Result<(), Errno> {
    for target in [0, 1] {
        // SAFETY: plain numbers, no memory: F_SETFD on an fd of our own fd table (this
        // child's copy), or dup3 of it onto 0 or 1, which belong to nobody here: the
        // child execs or exits next, and no Rust object in it owns those numbers.
        let r = unsafe {
            if conn == target {
                syscall!(Sysno::fcntl, conn, libc::F_SETFD, 0)
            } else {
                syscall!(Sysno::dup3, conn, target, 0)
            }
        };
        r.map_err(|e| Errno::from_raw_os_error(e.into_raw()))?;
    }
    Ok(())
}

/// Exec the first candidate that runs, as glibc's __execvpex searches (as
/// `super::exec_candidates`, with errno-free calls). Returns the errno to report.
///
/// # Safety
///
/// `argv` and `envp` are NULL-terminated arrays of pointers to NUL-terminated strings
/// that stay alive across the call.
unsafe fn child_exec(
    candidates: &[CString],
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> Errno {
    let mut err = Errno::NOENT;
    let mut eacces = false;
    let mut exhausted = true;
    for c in candidates {
        // SAFETY: the caller's promise; an execve that returns has changed nothing.
        err = match unsafe { syscall!(Sysno::execve, c.as_ptr(), argv, envp) } {
            Ok(_) => Errno::NOENT, // execve returns only on failure
            Err(e) => Errno::from_raw_os_error(e.into_raw()),
        };
        match err {
            Errno::ACCESS => eacces = true,
            Errno::NOENT | Errno::STALE | Errno::NOTDIR | Errno::NODEV | Errno::TIMEDOUT => {}
            _ => {
                exhausted = false;
                break;
            }
        }
    }
    if eacces && exhausted {
        err = Errno::ACCESS;
    }
    err
}

/// The child: signals to default, the connection on fds 0 and 1, an empty mask, exec.
/// It runs on a slot's stack, concurrently with the server in its memory: no allocation,
/// no lock, no libc call (errno is the server's), nothing that can panic.
extern "C" fn child(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the slot's live `Job` (see `clone_into`), which the server does
    // not write while the slot is busy, i.e. until we exec or exit.
    let job = unsafe { &*arg.cast::<Job>() };
    // SAFETY: `sigs` points to `nsigs` signals owned by the pool, unchanged while busy.
    let sigs = unsafe { std::slice::from_raw_parts(job.sigs, job.nsigs) };
    for &sig in sigs {
        // SAFETY: `act` is a zeroed kernel sigaction on our stack (SIG_DFL, no flags, an
        // empty mask; larger than the kernel's struct on every architecture, so it reads
        // only our memory) and no old action is asked for (NULL). No handler address:
        // nothing of the server's can run here. Errors (a signal that cannot be changed)
        // are ignored, as posix_spawn ignores them.
        let act: super::KernelSigaction = [0; 8];
        let _ = unsafe {
            syscall!(
                Sysno::rt_sigaction,
                sig,
                act.as_ptr(),
                0,
                KERNEL_SIGSET_SIZE
            )
        };
    }
    // `conn` is open in our copy of the fd table (clone without CLONE_FILES copied it
    // while the server held it).
    let (err, code) = match child_stdio(job.conn) {
        Err(e) => (e, 127),
        Ok(()) => {
            // SAFETY: `empty` is a kernel signal set on our stack, read only, no old mask
            // asked for; every disposition is SIG_DFL now (above), so unblocking runs no
            // handler. glibc's reserved signals need not be kept
            // blocked: no libc code runs in this process before the exec.
            let empty: u64 = 0;
            let _ = unsafe {
                syscall!(
                    Sysno::rt_sigprocmask,
                    libc::SIG_SETMASK,
                    &raw const empty,
                    0,
                    KERNEL_SIGSET_SIZE
                )
            };
            // SAFETY: `candidates` points to `ncandidates` strings of the Spawner, and
            // argv and envp are the NULL-terminated arrays of the pool and slot, all
            // unchanged while the slot is busy.
            let err = unsafe {
                let candidates = std::slice::from_raw_parts(job.candidates, job.ncandidates);
                child_exec(candidates, job.argv, job.envp)
            };
            // The exec convention (skalibs, shells): 127 not found, 126 found but not run.
            (err, if err == Errno::NOENT { 127 } else { 126 })
        }
    };
    // SAFETY: `err` points to the cell the server keeps until it has reaped us.
    unsafe { &*job.err }.store(err.raw_os_error(), Ordering::Release);
    loop {
        // SAFETY: exit_group takes a number and does not return; the loop only gives
        // this function its type.
        let _ = unsafe { syscall!(Sysno::exit_group, code) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fd::{AsFd, OwnedFd};
    use rustix::net::{AddressFamily, SocketFlags, SocketType};

    fn pair() -> Result<(OwnedFd, OwnedFd), Errno> {
        rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC,
            None,
        )
    }

    /// Reap `pid` and return its exit code and exec error.
    fn finish(sp: &mut Spawner, pid: Pid) -> Result<(Option<i32>, Option<Errno>), Errno> {
        let st = waitpid(Some(pid), WaitOptions::empty())?;
        Ok((st.and_then(|(_, s)| s.exit_status()), sp.reaped(pid)))
    }

    #[test]
    fn exec_errors_come_with_the_reap() -> Result<(), Errno> {
        let (a, _b) = pair()?;
        let mut ok = Spawner::new(&["true".into()], &[]).ok_or(Errno::INVAL)?;
        let pid = ok.spawn_async(a.as_fd(), Vec::new())?;
        assert_eq!(finish(&mut ok, pid)?, (Some(0), None));
        let mut missing = Spawner::new(&["/nonexistent/prog".into()], &[]).ok_or(Errno::INVAL)?;
        let pid = missing.spawn_async(a.as_fd(), Vec::new())?;
        assert_eq!(finish(&mut missing, pid)?, (Some(127), Some(Errno::NOENT)));
        // Reported once: the cell is gone after the reap.
        assert_eq!(missing.reaped(pid), None);
        let mut noexec = Spawner::new(&["/etc/passwd".into()], &[]).ok_or(Errno::INVAL)?;
        let pid = noexec.spawn_async(a.as_fd(), Vec::new())?;
        assert_eq!(finish(&mut noexec, pid)?, (Some(126), Some(Errno::ACCESS)));
        Ok(())
    }

    #[test]
    fn unreaped_failures_are_known_before_exit() -> Result<(), Errno> {
        let (a, _b) = pair()?;
        let mut sp = Spawner::new(&["/nonexistent/prog".into()], &[]).ok_or(Errno::INVAL)?;
        let pids = [
            sp.spawn_async(a.as_fd(), Vec::new())?,
            sp.spawn_async(a.as_fd(), Vec::new())?,
        ];
        assert_eq!(
            sp.unreaped_exec_errors(Duration::from_secs(30)),
            [Errno::NOENT, Errno::NOENT]
        );
        for pid in pids {
            assert_eq!(finish(&mut sp, pid)?, (Some(127), Some(Errno::NOENT)));
        }
        assert!(sp.unreaped_exec_errors(Duration::ZERO).is_empty());
        Ok(())
    }

    #[test]
    fn all_slots_busy_falls_back_to_the_vfork_path() -> Result<(), Errno> {
        let (a, _b) = pair()?;
        let mut sp = Spawner::new(&["/nonexistent/prog".into()], &[]).ok_or(Errno::INVAL)?;
        // Occupy every slot as children between clone and exec would.
        while let Some(s) = sp.pool.free_slot() {
            // SAFETY: a live slot of this pool (see `Pool::busy`).
            unsafe { s.as_ref() }.tid.store(BUSY, Ordering::Release);
        }
        assert_eq!(sp.pool.slots.len(), SLOTS);
        let pid = sp.spawn_async(a.as_fd(), Vec::new())?;
        assert_eq!(finish(&mut sp, pid)?, (Some(127), Some(Errno::NOENT)));
        for &s in &sp.pool.slots {
            // SAFETY: as above; no child uses these slots.
            unsafe { s.as_ref() }.tid.store(0, Ordering::Release);
        }
        Ok(())
    }

    #[test]
    fn the_child_stays_far_inside_its_stack() -> Result<(), Errno> {
        let (a, _b) = pair()?;
        // The deepest path: every candidate of a PATH search fails, then the exit.
        let mut sp =
            Spawner::with_env(&["ipct-no-such-prog".into()], Vec::new()).ok_or(Errno::INVAL)?;
        let extra = vec![CString::new("A=b").map_err(|_| Errno::INVAL)?];
        let pid = sp.spawn_async(a.as_fd(), extra)?;
        assert_eq!(finish(&mut sp, pid)?, (Some(127), Some(Errno::NOENT)));
        let slot = sp.pool.slots.first().ok_or(Errno::INVAL)?;
        // SAFETY: a live slot whose child has been reaped: nothing else uses it.
        let data = unsafe { &*slot.as_ref().data.get() };
        let untouched = data.stack.iter().take_while(|&&w| w == 0).count();
        let used = (STACK_WORDS - untouched) * 16;
        // A debug build (the tests') has the largest frames.
        assert!(used > 0 && used < STACK_WORDS * 16 / 4, "{used} bytes");
        Ok(())
    }
}
