//! The gate's listening mode: fd 0 is a listening Unix stream socket (left there by
//! ipcserver-socketbinder, s6-ipcserver-socketbinder, or systemd with
//! `StandardInput=socket`), and the gate accepts its connections itself instead of
//! running as one process per connection under ipcserver.
//!
//! One poll loop over the listener, the signal self-pipe and a wake-up pipe; each
//! connection goes to a thread (one kept from an earlier connection, or a new one,
//! [`Pool`]) that runs the handler mode's connection loop ([`Gate`](super::conn::Gate))
//! on the accepted fd. The identity comes from the kernel
//! for each connection, as ipcserver gets it for `IPCREMOTE*` (`SO_PEERCRED`,
//! `SO_PEERGROUPS`, the pid checked through its pidfd). The limits are ipcserverd's:
//! at `-c` connections the listener is not polled, so clients wait in the backlog; a
//! client whose uid has `-C` connections already is closed at once. The rules file is
//! looked at (stat) at each accept and read again when it changed; a broken one closes
//! every new connection until it is fixed, since serving by the old, perhaps looser,
//! rules would be failing open. SIGPIPE stays ignored, as the Rust runtime leaves it
//! before `main` (the gate never execs, so never restores it): a write to a client or
//! backend that is gone fails with EPIPE and ends that connection only. What this
//! leaves out: SIGHUP (only TERM, INT and QUIT, which end the process and every
//! connection in flight), `LISTEN_FDS` (fd 3), and a `-1` readiness line.

use super::conn::Gate;
use super::{FileKey, Identity, IpchttpgateConfig, read_rules};
use crate::base::error::{Error, ResultExt};
use crate::base::text;
use crate::formats::httprules::{Client, Rules};
use crate::prog::ipcserverd::{AcceptRest, Accepted};
use crate::prog::peer;
use crate::sys::diag::Diag;
use crate::sys::sig::{self, SelfPipe};
use rustix::event::{PollFd, PollFlags};
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketFlags, SocketType};
use rustix::pipe::PipeFlags;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The stack of a connection's thread: the connection loop keeps its buffers on the
/// heap, so this is room for the parser's field array and the regex matcher.
const STACK: usize = 256 * 1024;
/// How long a thread that served a connection waits for another before it ends.
const IDLE_THREAD: Duration = Duration::from_secs(5);

/// Whether fd 0 is a listening socket: then the gate serves it itself. A connected
/// socket (under ipcserver), a pipe or a closed fd 0 is the handler mode.
pub(super) fn stdin_listens() -> bool {
    matches!(
        rustix::net::sockopt::socket_acceptconn(rustix::stdio::stdin()),
        Ok(true)
    )
}

/// Serve the listening socket on fd 0 until SIGTERM, SIGINT or SIGQUIT; then 0.
///
/// # Errors
/// fd 0 not a Unix stream socket (100); the rules file as in handler mode (100, 111);
/// the set-up of signals and pipes (111). Nothing after the start is fatal: a
/// connection's failure is logged and ends that connection only.
pub(super) fn serve(cfg: &IpchttpgateConfig, diag: &Diag) -> Result<u8, Error> {
    // First: one of these before this kills the process (or is lost, where the caller
    // left it ignored) instead of giving exit 0. QUIT is what supervisors send a server
    // that must take its connections with it (service/httpgate's down-signal); here
    // every stop does.
    let trapped = [sig::SIGTERM, sig::SIGINT, sig::SIGQUIT];
    let sigs = SelfPipe::new(&trapped)?;
    crate::sys::spawn::unblock(&trapped);
    let listener = crate::sys::fd::adopt_listener(0, "stdin")?;
    let domain = rustix::net::sockopt::socket_domain(&listener).op("get socket domain")?;
    let ty = rustix::net::sockopt::socket_type(&listener).op("get socket type")?;
    if domain != AddressFamily::UNIX || ty != SocketType::STREAM {
        return Err(Error::Usage(
            "stdin is a listening socket, but not a Unix stream socket".into(),
        ));
    }
    let rules = RulesFile::load(cfg.rules.clone())?;
    rustix::io::ioctl_fionbio(&listener, true).op("set listening socket non-blocking")?;
    let flags = PipeFlags::CLOEXEC | PipeFlags::NONBLOCK;
    let (wake_rd, wake_wr) = rustix::pipe::pipe_with(flags).op("create pipe")?;
    let shared = Arc::new(Shared {
        cfg: cfg.clone(),
        diag: *diag,
        counts: Mutex::new(Counts::default()),
        wake: wake_wr,
    });
    diag.info("starting");
    let mut l = Listen {
        shared,
        rules,
        listener,
        sigs,
        wake: wake_rd,
        pool: Arc::default(),
    };
    l.run()
}

/// What every connection's thread shares with the loop.
struct Shared {
    cfg: IpchttpgateConfig,
    diag: Diag,
    counts: Mutex<Counts>,
    /// Written when a connection ends while the loop waits for a free slot.
    wake: OwnedFd,
}

/// Connections being served, in all and per client uid.
#[derive(Default)]
struct Counts {
    total: u32,
    per_uid: HashMap<u32, u32>,
}

impl Shared {
    /// The counts, even if a thread panicked while holding them (the counts are
    /// updated in one step each, so they are never half-changed).
    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn full(&self) -> bool {
        self.counts().total >= self.cfg.limits.maxconn
    }
}

/// A connection's place in the counts, given back when it is dropped: at the end of
/// its thread, or with the connection if it is refused or no thread starts.
struct Slot {
    shared: Arc<Shared>,
    uid: u32,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let was_full = {
            let mut c = self.shared.counts();
            let was_full = c.total >= self.shared.cfg.limits.maxconn;
            c.total = c.total.saturating_sub(1);
            if let Some(n) = c.per_uid.get_mut(&self.uid) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    c.per_uid.remove(&self.uid);
                }
            }
            was_full
        };
        if was_full {
            // The loop stopped polling the listener; a full pipe already wakes it.
            let _ = rustix::io::write(&self.shared.wake, b"x");
        }
        self.shared.diag.info(format!("end uid {}", self.uid));
    }
}

/// A place for a connection from `uid`, and its count for that uid; `Err` with the
/// count when the uid is at `-C`.
fn take(shared: &Arc<Shared>, uid: u32) -> Result<(Slot, u32), u32> {
    let mut c = shared.counts();
    let count = c.per_uid.get(&uid).copied().unwrap_or(0);
    if count >= shared.cfg.limits.localmaxconn {
        return Err(count);
    }
    c.total = c.total.saturating_add(1);
    c.per_uid.insert(uid, count + 1);
    let slot = Slot {
        shared: Arc::clone(shared),
        uid,
    };
    Ok((slot, count + 1))
}

/// The rules as last read, and which version of the file that was.
struct RulesFile {
    path: PathBuf,
    /// `None` while the file is broken, unreadable or missing: every connection is
    /// refused.
    rules: Option<Arc<Rules>>,
    /// The version of the file `rules` (or the failure) is about; `None` when the file
    /// could not be looked at.
    key: Option<FileKey>,
}

impl RulesFile {
    /// The first read: a broken file is fatal, as in handler mode.
    fn load(path: PathBuf) -> Result<RulesFile, Error> {
        let (rules, key) = read_rules(&path)?;
        Ok(RulesFile {
            path,
            rules: Some(Arc::new(rules)),
            key: Some(key),
        })
    }

    /// The rules for a new connection: read again if the file changed since the last
    /// look; `None` (refuse) while it is broken. Each change of state is logged once.
    fn current(&mut self, diag: &Diag) -> Option<Arc<Rules>> {
        let now = match rustix::fs::stat(&self.path) {
            Ok(st) => FileKey::of(&st),
            Err(e) => {
                if self.key.is_some() || self.rules.is_some() {
                    diag.warn(format!(
                        "unable to stat {}: {}: refusing connections until it is back",
                        text::path(&self.path),
                        text::strerror(e)
                    ));
                }
                (self.rules, self.key) = (None, None);
                return None;
            }
        };
        if self.key == Some(now) {
            return self.rules.clone();
        }
        match read_rules(&self.path) {
            Ok((rules, key)) => {
                diag.info(format!("read {}", text::path(&self.path)));
                (self.rules, self.key) = (Some(Arc::new(rules)), Some(key));
            }
            Err(e) => {
                diag.warn(format!(
                    "{e}: refusing connections until the rules file is fixed"
                ));
                (self.rules, self.key) = (None, Some(now));
            }
        }
        self.rules.clone()
    }
}

/// The loop's state, owned by `serve`.
struct Listen {
    shared: Arc<Shared>,
    rules: RulesFile,
    listener: OwnedFd,
    sigs: SelfPipe,
    wake: OwnedFd,
    pool: Arc<Pool>,
}

impl Listen {
    /// Poll the self-pipe, the wake-up pipe, and the listener while fewer than maxconn
    /// connections are served and accept is not resting; until TERM, INT or QUIT.
    fn run(&mut self) -> Result<u8, Error> {
        let diag = self.shared.diag;
        let mut rest = AcceptRest::default();
        loop {
            let accepting = rest.over() && !self.shared.full();
            let (sig_ready, wake_ready, conn_ready) = self.wait(accepting, rest.until())?;
            if sig_ready && self.signalled() {
                diag.info("exiting");
                return Ok(0);
            }
            if wake_ready {
                let mut buf = [0u8; 64];
                while matches!(rustix::io::read(&self.wake, &mut buf), Ok(n) if n > 0) {}
            }
            if conn_ready {
                let round = self.accept_some();
                rest.after(round, &diag);
            }
        }
    }

    /// One poll: whether a signal, a wake-up and a connection are there.
    fn wait(&self, accepting: bool, until: Option<Instant>) -> Result<(bool, bool, bool), Error> {
        let timeout = crate::sys::time::poll_timeout(until);
        let sigfd = self.sigs.fd();
        let mut fds = vec![
            PollFd::new(&sigfd, PollFlags::IN),
            PollFd::new(&self.wake, PollFlags::IN),
        ];
        if accepting {
            fds.push(PollFd::new(&self.listener, PollFlags::IN));
        }
        match rustix::event::poll(&mut fds, timeout.as_ref()) {
            Ok(_) => {}
            Err(Errno::INTR) => return Ok((false, false, false)),
            Err(e) => return Err(Error::sys("poll", e)),
        }
        let ready = |i: usize| fds.get(i).is_some_and(|f| !f.revents().is_empty());
        Ok((ready(0), ready(1), accepting && ready(2)))
    }

    /// Whether a pending signal ends the loop.
    fn signalled(&mut self) -> bool {
        let diag = self.shared.diag;
        let mut quit = false;
        for s in self.sigs.pending() {
            if trapped_stop(s) {
                diag.info(format!("received {}, quitting", sig::name(s)));
                quit = true;
            }
        }
        quit
    }

    /// Accept while connections are waiting and slots are free.
    fn accept_some(&mut self) -> Accepted {
        while !self.shared.full() {
            match rustix::net::accept_with(
                &self.listener,
                SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            ) {
                Ok(conn) => self.handle(conn),
                Err(e) => {
                    if let Some(end) = Accepted::after_error(e) {
                        return end;
                    }
                }
            }
        }
        Accepted::Drained
    }

    /// Count the connection against the limits (ipcserverd's `deny` line when its
    /// uid is at `-C`), and take its place.
    fn take_slot(&self, uid: u32, gid: u32) -> Option<(Slot, u32)> {
        match take(&self.shared, uid) {
            Ok(taken) => Some(taken),
            Err(count) => {
                let local = self.shared.cfg.limits.localmaxconn;
                // s6-ipcserverd's line; at -v 1 and up only, since -v 0 means fatal
                // errors only here.
                let msg = format!("deny {uid}:{gid} count {count}/{local}");
                self.shared.diag.notice(msg);
                None
            }
        }
    }

    /// One new connection: its identity from the kernel, the limits, the rules, then
    /// a thread. Every failure closes this connection only.
    fn handle(&mut self, conn: OwnedFd) {
        let diag = self.shared.diag;
        let cred = match crate::sys::cred::peer_creds(&conn) {
            Ok(c) => c,
            Err(e) => {
                diag.warn(format!("unable to getpeereid: {}", text::strerror(e)));
                return;
            }
        };
        let Some((slot, count)) = self.take_slot(cred.uid, cred.gid) else {
            return;
        };
        let Some(rules) = self.rules.current(&diag) else {
            diag.notice(format!("refuse uid {}: the rules file is broken", cred.uid));
            return;
        };
        let peer = peer::lookup(&conn, cred.pid);
        if diag.verbosity >= 2 {
            let local = self.shared.cfg.limits.localmaxconn;
            diag.info(format!(
                "allow {}:{} count {count}/{local}{}",
                cred.uid,
                cred.gid,
                peer.log_suffix()
            ));
        }
        let id = Identity {
            client: Client {
                uid: cred.uid,
                egid: cred.gid,
                groups: peer.groups.unwrap_or_default(),
            },
            pid: peer.pid,
        };
        self.pool.dispatch(Job {
            conn,
            id,
            rules,
            slot,
        });
    }
}

/// Whether `s` is one of the signals that end a listening gate.
fn trapped_stop(s: i32) -> bool {
    s == sig::SIGTERM || s == sig::SIGINT || s == sig::SIGQUIT
}

/// A connection handed to a thread, with what it is served with.
struct Job {
    conn: OwnedFd,
    id: Identity,
    rules: Arc<Rules>,
    slot: Slot,
}

/// Threads kept for connections to come. Starting a thread for each connection (the
/// clone, a fresh stack faulted in, glibc giving the stack back with madvise at the
/// thread's end) was most of what a one-request connection cost, so a thread that has
/// served one waits [`IDLE_THREAD`] for the next before it ends. There are never more
/// threads than connections being served plus idle ones, so never more than `-c`.
#[derive(Default)]
struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
}

#[derive(Default)]
struct PoolState {
    jobs: VecDeque<Job>,
    /// Threads waiting for a job.
    idle: usize,
}

impl Pool {
    fn state(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queue `job` for an idle thread, or start one for it. If none can start, the
    /// connection is closed (and its slot given back) here.
    fn dispatch(self: &Arc<Pool>, job: Job) {
        let diag = job.slot.shared.diag;
        let mut st = self.state();
        let covered = st.idle > st.jobs.len();
        st.jobs.push_back(job);
        if covered {
            drop(st);
            self.work.notify_one();
            return;
        }
        drop(st);
        let pool = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .stack_size(STACK)
            .spawn(move || pool.work());
        if let Err(e) = spawned {
            let why = e.raw_os_error().map_or_else(
                || e.to_string(),
                |n| text::strerror(Errno::from_raw_os_error(n)),
            );
            diag.warn(format!("unable to start a thread: {why}"));
            // The queue now holds one job more than threads will take: close the
            // newest (this one, unless a thread took it meanwhile).
            let _ = self.state().jobs.pop_back();
        }
    }

    /// A thread's life: serve jobs until none comes for [`IDLE_THREAD`].
    fn work(&self) {
        while let Some(job) = self.next_job() {
            let shared = Arc::clone(&job.slot.shared);
            serve_conn(&shared, &job.rules, &job.id, job.conn);
            drop(job.slot);
        }
    }

    fn next_job(&self) -> Option<Job> {
        let mut st = self.state();
        loop {
            if let Some(job) = st.jobs.pop_front() {
                return Some(job);
            }
            st.idle += 1;
            let (back, waited) = self
                .work
                .wait_timeout(st, IDLE_THREAD)
                .unwrap_or_else(PoisonError::into_inner);
            st = back;
            st.idle -= 1;
            if waited.timed_out() && st.jobs.is_empty() {
                return None;
            }
        }
    }
}

/// One connection, start to end; an error ends it, with a line in the log.
fn serve_conn(shared: &Shared, rules: &Rules, id: &Identity, conn: OwnedFd) {
    let r = Gate::new(&shared.cfg, &shared.diag, rules, id, conn, None).and_then(Gate::serve);
    if let Err(e) = r {
        shared.diag.warn(format!("uid {}: {e}", id.client.uid));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prog::ipcserverd::Limits;
    use crate::sys::sock::SockPath;

    fn shared(maxconn: u32, local: u32) -> Arc<Shared> {
        let (_, wake) =
            rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK).expect("pipe");
        Arc::new(Shared {
            cfg: IpchttpgateConfig {
                rules: PathBuf::from("/nonexistent"),
                backend: SockPath::Fs("/nonexistent".into()),
                header_timeout: None,
                idle_timeout: None,
                limits: Limits::new(Some(maxconn), Some(local), true),
            },
            diag: Diag::new("test"),
            counts: Mutex::new(Counts::default()),
            wake,
        })
    }

    #[test]
    fn slots_are_counted_and_given_back() {
        let s = shared(3, 2);
        let slot = |uid| take(&s, uid).ok().map(|(slot, _)| slot);
        let a = slot(1).unwrap();
        let b = slot(1).unwrap();
        assert!(slot(1).is_none());
        let c = slot(2).unwrap();
        assert!(s.full());
        drop(a);
        assert!(!s.full());
        drop((b, c));
        assert_eq!(s.counts().total, 0);
        assert!(s.counts().per_uid.is_empty());
    }
}
