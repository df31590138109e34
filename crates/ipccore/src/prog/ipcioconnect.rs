//! The full-duplex relay of `ipcioconnect` (s6-ioconnect's job): stdin to the remote
//! write fd (7), the remote read fd (6) to stdout, each direction on its own, in one
//! single-threaded poll loop.
//!
//! Data moves with `splice(2)` through a private pipe, so it never enters user space:
//! one copy into pipe pages on the way in (none at all from a pipe), page moves on the
//! way out. Where the kernel refuses to splice an fd (a terminal, a file opened with
//! `O_APPEND`: `EINVAL`), that direction falls back to a plain read/write loop, taking
//! with it whatever already sits in the pipe. End of input on one side is passed on as
//! `shutdown(SHUT_WR)` on a socket (a close on anything else) while the other direction
//! keeps flowing, as s6-ioconnect does. What this module leaves out: options and
//! messages other than the per-direction warnings.

use crate::base::error::{Error, ResultExt};
use crate::sys::diag::Diag;
use rustix::event::{PollFd, PollFlags};
use rustix::fd::{OwnedFd, RawFd};
use rustix::fs::{FileType, OFlags};
use rustix::io::Errno;
use rustix::net::Shutdown;
use rustix::pipe::{PipeFlags, SpliceFlags};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// What the relay is given.
#[derive(Debug, Clone)]
pub struct IpcioconnectConfig {
    /// Idle time after which both ends are closed and the relay gives up (`-t`); `None`
    /// waits for ever.
    pub timeout: Option<Duration>,
    /// The fd read from the remote side (`-r`, default 6).
    pub remote_read: RawFd,
    /// The fd written to the remote side (`-w`, default 7).
    pub remote_write: RawFd,
}

impl Default for IpcioconnectConfig {
    fn default() -> Self {
        IpcioconnectConfig {
            timeout: None,
            remote_read: 6,
            remote_write: 7,
        }
    }
}

/// How the relay ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Both directions reached end of input (or a dead writer) and were flushed.
    Done,
    /// Nothing moved for the `-t` time while no data was waiting (s6 exits 1).
    Idle,
}

/// Largest pipe we ask for: more bytes per splice, fewer system calls. The kernel caps it
/// at `/proc/sys/fs/pipe-max-size` (1 MiB by default); failure keeps the default 64 KiB.
const PIPE_SIZE: usize = 1 << 20;
/// Buffer of the read/write fallback.
const COPY_SIZE: usize = 1 << 16;
/// Rounds one direction may run before the loop polls again, so a source that never
/// blocks (a regular file) cannot starve the other direction.
const ROUNDS: u32 = 64;

/// One end of a direction: the fd and whether it is a socket (then EOF is passed on
/// with `shutdown`, since closing our copy would not end a socket shared with others).
struct End {
    fd: OwnedFd,
    number: RawFd,
    socket: bool,
}

impl End {
    fn new(fd: OwnedFd, ty: FileType) -> Result<End, Error> {
        let number = crate::sys::fd::number(&fd);
        // Non-blocking, as s6-ioconnect: a read or write must never stall the other
        // direction. (The flag is on the open file description: it stays after we exit,
        // as with s6.)
        let fl = rustix::fs::fcntl_getfl(&fd).op_at("set", format!("fd {number} non-blocking"))?;
        rustix::fs::fcntl_setfl(&fd, fl | OFlags::NONBLOCK)
            .op_at("set", format!("fd {number} non-blocking"))?;
        if ty == FileType::Fifo {
            // A bigger pipe on our side means fewer, larger splices and fewer wakeups of
            // the process at its other end; where the kernel says no, the size stays.
            let _ = rustix::pipe::fcntl_setpipe_size(&fd, PIPE_SIZE);
        }
        Ok(End {
            fd,
            number,
            socket: ty == FileType::Socket,
        })
    }

    /// Close, telling a socket peer first (`how`).
    fn close(self, how: Shutdown) {
        if self.socket {
            // ENOTCONN and friends are fine: the peer is gone already.
            let _ = rustix::net::shutdown(&self.fd, how);
        }
        drop(self.fd);
    }
}

/// Where the bytes in flight are kept.
enum Store {
    /// In a private pipe: `len` bytes, `full` once the pipe refused more.
    Pipe {
        read: OwnedFd,
        write: OwnedFd,
        len: usize,
        cap: usize,
        full: bool,
    },
    /// In user memory, `buf[start..end]`.
    Copy {
        buf: Vec<u8>,
        start: usize,
        end: usize,
    },
}

impl Store {
    fn pending(&self) -> usize {
        match self {
            Store::Pipe { len, .. } => *len,
            Store::Copy { start, end, .. } => end - start,
        }
    }
}

/// One direction: `src` to `dst`.
struct Direction {
    src: Option<End>,
    dst: Option<End>,
    store: Store,
    /// Worth trying a read (no EAGAIN since the last readiness).
    can_read: bool,
    /// Worth trying a write.
    can_write: bool,
}

impl Direction {
    fn new(src: End, dst: End) -> Result<Direction, Error> {
        let (read, write) =
            rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK).op("create pipe")?;
        let cap = match rustix::pipe::fcntl_setpipe_size(&write, PIPE_SIZE) {
            Ok(n) => n,
            Err(_) => rustix::pipe::fcntl_getpipe_size(&write).op("get pipe size")?,
        };
        Ok(Direction {
            src: Some(src),
            dst: Some(dst),
            store: Store::Pipe {
                read,
                write,
                len: 0,
                cap,
                full: false,
            },
            can_read: true,
            can_write: true,
        })
    }

    fn done(&self) -> bool {
        self.dst.is_none()
    }

    /// Whether the source should be polled for input.
    fn wants_input(&self) -> bool {
        self.src.is_some()
            && !self.can_read
            && match &self.store {
                Store::Pipe { full, .. } => !full,
                Store::Copy { end, buf, .. } => *end < buf.len(),
            }
    }

    /// Leave splicing for the read/write loop, moving what is in the pipe to memory.
    fn switch_to_copy(&mut self) -> Result<(), Error> {
        let Store::Pipe { read, len, .. } = &self.store else {
            return Ok(());
        };
        let mut buf = vec![0u8; COPY_SIZE.max(*len)];
        let end = crate::sys::fd::read_full(read, &mut buf[..*len]).op("read from pipe")?;
        self.store = Store::Copy { buf, start: 0, end };
        Ok(())
    }

    /// End of input (or a read error): close the source, and the destination too
    /// once nothing is left to write.
    fn end_input(&mut self) {
        if let Some(src) = self.src.take() {
            src.close(Shutdown::Read);
        }
        if self.store.pending() == 0 {
            self.finish();
        }
    }

    /// The direction is over: pass EOF on and close both ends.
    fn finish(&mut self) {
        if let Some(src) = self.src.take() {
            src.close(Shutdown::Read);
        }
        if let Some(dst) = self.dst.take() {
            dst.close(Shutdown::Write);
        }
    }

    /// Write what is stored. Returns whether bytes moved.
    fn drain(&mut self) -> Result<bool, Error> {
        let Some(dst) = &self.dst else {
            return Ok(false);
        };
        if !self.can_write || self.store.pending() == 0 {
            return Ok(false);
        }
        let r = match &mut self.store {
            Store::Pipe { read, len, .. } => rustix::pipe::splice(
                &*read,
                None,
                &dst.fd,
                None,
                *len,
                SpliceFlags::NONBLOCK | SpliceFlags::MOVE,
            ),
            Store::Copy { buf, start, end } => rustix::io::write(&dst.fd, &buf[*start..*end]),
        };
        match r {
            Ok(n) => {
                match &mut self.store {
                    Store::Pipe { len, full, .. } => {
                        *len -= n.min(*len);
                        *full = false;
                    }
                    Store::Copy { start, end, .. } => {
                        *start += n;
                        if start == end {
                            (*start, *end) = (0, 0);
                        }
                    }
                }
                if self.store.pending() == 0 && self.src.is_none() {
                    self.finish();
                }
                Ok(n > 0)
            }
            Err(Errno::AGAIN) => {
                self.can_write = false;
                Ok(false)
            }
            Err(Errno::INTR) => Ok(true),
            Err(Errno::INVAL) if matches!(self.store, Store::Pipe { .. }) => {
                self.switch_to_copy()?;
                Ok(true)
            }
            // The reader is gone (EPIPE) or the fd broke: this direction is dead, as
            // with s6-ioconnect, which says nothing here either.
            Err(_) => {
                self.finish();
                Ok(false)
            }
        }
    }

    /// Read more into the store. Returns whether anything happened.
    fn fill(&mut self, diag: &Diag) -> Result<bool, Error> {
        let Some(src) = &self.src else {
            return Ok(false);
        };
        if !self.can_read {
            return Ok(false);
        }
        let r = match &mut self.store {
            Store::Pipe {
                write,
                len,
                cap,
                full,
                ..
            } => {
                if *full || *len >= *cap {
                    return Ok(false);
                }
                rustix::pipe::splice(
                    &src.fd,
                    None,
                    &*write,
                    None,
                    *cap - *len,
                    SpliceFlags::NONBLOCK | SpliceFlags::MOVE,
                )
            }
            Store::Copy { buf, end, .. } => {
                if *end == buf.len() {
                    return Ok(false);
                }
                rustix::io::read(&src.fd, &mut buf[*end..])
            }
        };
        match r {
            Ok(0) => {
                self.end_input();
                Ok(true)
            }
            Ok(n) => {
                match &mut self.store {
                    Store::Pipe { len, .. } => *len += n,
                    Store::Copy { end, .. } => *end += n,
                }
                Ok(true)
            }
            Err(Errno::AGAIN) => {
                match &mut self.store {
                    // With bytes in the pipe, EAGAIN may be the pipe's (its slots are
                    // pages, fuller than `len` says): wait for a drain, not for input,
                    // or a readable source would spin the loop.
                    Store::Pipe { len, full, .. } if *len > 0 => *full = true,
                    _ => self.can_read = false,
                }
                Ok(false)
            }
            Err(Errno::INTR) => Ok(true),
            Err(Errno::INVAL) if matches!(self.store, Store::Pipe { .. }) => {
                self.switch_to_copy()?;
                Ok(true)
            }
            Err(e) => {
                diag.warn(format!(
                    "unable to read from fd {}: {}",
                    src.number,
                    crate::base::text::strerror(e)
                ));
                self.end_input();
                Ok(true)
            }
        }
    }

    /// Move data until neither side can go on (or `ROUNDS` passed). Returns whether
    /// anything moved, and whether the direction is still busy (the loop should poll
    /// without waiting).
    fn pump(&mut self, diag: &Diag) -> Result<(bool, bool), Error> {
        let mut moved = false;
        for _ in 0..ROUNDS {
            let w = self.drain()?;
            let r = self.fill(diag)?;
            if !w && !r {
                return Ok((moved, false));
            }
            moved = true;
        }
        Ok((moved, true))
    }

    /// The destination reported an error or hangup while polled.
    fn dst_broken(&mut self, diag: &Diag) {
        if let Some(dst) = &self.dst
            && self.store.pending() > 0
        {
            // Try once, to report why (s6-ioconnect warns here too).
            self.can_write = true;
            let number = dst.number;
            let e = match &self.store {
                Store::Pipe { read, len, .. } => {
                    rustix::pipe::splice(read, None, &dst.fd, None, *len, SpliceFlags::NONBLOCK)
                }
                Store::Copy { buf, start, end } => rustix::io::write(&dst.fd, &buf[*start..*end]),
            };
            if let Err(e) = e {
                diag.warn(format!(
                    "unable to write to fd {number}: {}",
                    crate::base::text::strerror(e)
                ));
            }
        }
        self.finish();
    }
}

/// Run the relay until both directions are done or the idle timeout passes.
///
/// SIGTERM is trapped and does nothing, as in s6-ioconnect (it only wakes the loop).
///
/// Returns the exit code: 0 when both directions are done, 1 at the idle timeout.
///
/// # Errors
/// `fstat fd N` (a closed fd), `set fd N non-blocking`, `create pipe`, `poll`.
pub fn ipcioconnect(cfg: &IpcioconnectConfig, diag: &Diag) -> Result<u8, Error> {
    relay(cfg, diag).map(|o| match o {
        Outcome::Done => 0,
        Outcome::Idle => 1,
    })
}

/// [`ipcioconnect`]'s relay, telling how it ended.
fn relay(cfg: &IpcioconnectConfig, diag: &Diag) -> Result<Outcome, Error> {
    let mut dirs = open_directions(cfg)?;
    let term = Arc::new(AtomicBool::new(false));
    crate::sys::sig::trap_flag(crate::sys::sig::SIGTERM, term)?;
    run(&mut dirs, cfg.timeout, diag)
}

/// The same relay between fds the caller owns: `local_in` to `remote`, `remote` to
/// `local_out`, each end of input passed on as a half-close (ipchttpgate after a 101
/// Switching Protocols). Unlike [`ipcioconnect`], it leaves SIGTERM alone. Returns
/// whether both directions are done (false: the idle `timeout` passed).
///
/// # Errors
/// As [`ipcioconnect`]'s, and `dup fd`.
pub fn relay_fds(
    local_in: OwnedFd,
    local_out: OwnedFd,
    remote: OwnedFd,
    timeout: Option<Duration>,
    diag: &Diag,
) -> Result<bool, Error> {
    let kind = |fd: &OwnedFd| -> Result<FileType, Error> {
        let st = rustix::fs::fstat(fd).op("fstat")?;
        Ok(FileType::from_raw_mode(st.st_mode))
    };
    let (tin, tout, tr) = (kind(&local_in)?, kind(&local_out)?, kind(&remote)?);
    let remote_read = rustix::io::fcntl_dupfd_cloexec(&remote, 3).op("dup fd")?;
    let mut dirs = [
        Direction::new(End::new(local_in, tin)?, End::new(remote, tr)?)?,
        Direction::new(End::new(remote_read, tr)?, End::new(local_out, tout)?)?,
    ];
    run(&mut dirs, timeout, diag).map(|o| o == Outcome::Done)
}

/// The poll loop of both relays.
fn run(
    dirs: &mut [Direction; 2],
    timeout: Option<Duration>,
    diag: &Diag,
) -> Result<Outcome, Error> {
    let mut last = Instant::now();
    loop {
        let mut busy = false;
        for d in dirs.iter_mut() {
            let (moved, more) = d.pump(diag)?;
            busy |= more;
            if moved {
                // Activity, for -t: a source that never blocks (a file) is never polled.
                last = Instant::now();
            }
        }
        if dirs.iter().all(Direction::done) {
            return Ok(Outcome::Done);
        }
        let (slots, mut fds) = poll_set(dirs);
        let idle = dirs.iter().all(|d| d.store.pending() == 0);
        let wait = if busy {
            Some(Duration::ZERO)
        } else if idle {
            timeout.map(|t| t.saturating_sub(last.elapsed()))
        } else {
            None
        };
        let ts = wait.map(crate::sys::time::timespec);
        let n = match rustix::event::poll(&mut fds, ts.as_ref()) {
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(Error::sys("poll", e)),
        };
        if n == 0 && !busy {
            if idle && timeout.is_some_and(|t| last.elapsed() >= t) {
                return Ok(Outcome::Idle);
            }
            continue;
        }
        let revents: Vec<PollFlags> = fds.iter().map(PollFd::revents).collect();
        drop(fds);
        if n > 0 {
            last = Instant::now();
        }
        dispatch(dirs, slots, revents, diag);
    }
}

/// The two directions, from the fds in s6's order: stdin, remote write, remote read,
/// stdout.
fn open_directions(cfg: &IpcioconnectConfig) -> Result<[Direction; 2], Error> {
    let (stdin, tin) = crate::sys::fd::adopt(0)?;
    let (rw, trw) = crate::sys::fd::adopt(cfg.remote_write)?;
    let (rr, trr) = if cfg.remote_read == cfg.remote_write {
        // One fd for both ways: take a second number, so each direction owns its own
        // (closing one must not close, or let a new fd reuse, the other).
        let dup = rustix::io::fcntl_dupfd_cloexec(&rw, 3).op("dup fd")?;
        (dup, trw)
    } else {
        crate::sys::fd::adopt(cfg.remote_read)?
    };
    let (stdout, tout) = crate::sys::fd::adopt(1)?;
    Ok([
        Direction::new(End::new(stdin, tin)?, End::new(rw, trw)?)?,
        Direction::new(End::new(rr, trr)?, End::new(stdout, tout)?)?,
    ])
}

/// What to poll: sources we wait input from, destinations we wait room on; every live
/// destination is polled for errors too (a reader that went away while idle). Each fd
/// comes with its direction and whether it is the destination.
fn poll_set(dirs: &[Direction; 2]) -> (Vec<(usize, bool)>, Vec<PollFd<'_>>) {
    let mut slots: Vec<(usize, bool)> = Vec::with_capacity(4);
    let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(4);
    for (i, d) in dirs.iter().enumerate() {
        if d.wants_input()
            && let Some(src) = &d.src
        {
            fds.push(PollFd::new(&src.fd, PollFlags::IN));
            slots.push((i, false));
        }
        if let Some(dst) = &d.dst {
            let ev = if d.store.pending() > 0 && !d.can_write {
                PollFlags::OUT
            } else {
                PollFlags::empty()
            };
            fds.push(PollFd::new(&dst.fd, ev));
            slots.push((i, true));
        }
    }
    (slots, fds)
}

/// Act on what poll reported for each fd of `poll_set`.
fn dispatch(
    dirs: &mut [Direction; 2],
    slots: Vec<(usize, bool)>,
    revents: Vec<PollFlags>,
    diag: &Diag,
) {
    for ((i, is_dst), ev) in slots.into_iter().zip(revents) {
        let Some(d) = dirs.get_mut(i) else { continue };
        if is_dst {
            if ev.intersects(PollFlags::ERR | PollFlags::HUP | PollFlags::NVAL) {
                d.dst_broken(diag);
            } else if ev.contains(PollFlags::OUT) {
                d.can_write = true;
            }
        } else if ev.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) {
            d.can_read = true;
        }
    }
}
