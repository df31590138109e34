//! The fd-holding daemon (ipcfdholderd, drop-in s6-fdholderd): one poll loop over the
//! listening socket, the clients and a signal self-pipe; no thread, no blocking call.
//!
//! Every wait is bounded: a client that sends nothing, or stops reading, for `-t`
//! milliseconds is dropped, at any point of its connection (s6-fdholderd stops timing
//! a client once its first answer is out, so an idle client can keep a slot forever).
//! A malformed message drops its client; fds that came with it are closed then.
//!
//! Whatever clients send, the daemon keeps the fds it needs for its own work: every
//! fd above those open at start is counted (`in_use`), `maxfds` is clamped so that
//! held fds and clients fit under the open-file limit with room to spare, and before
//! each read or accept, clients holding fds for messages they do not finish are
//! evicted to make room (`make_room`); a message must be whole [`MESSAGE_TIME`]
//! after its first byte. A store whose fd the kernel could not hand over is answered
//! ENFILE, like a full holder.
//! Left out: socket creation and privileges (`ipcfdholder-daemon`), the codec (`wire`).

use super::store::Store;
use crate::base::error::Error;
use crate::formats::fdholder::{self as wire, Frame, Receiver, Request, Sender, Tain, code};
use crate::formats::rulescdb::{self, Rule};
use crate::prog::ipcserver_access::{self as access, Verdict};
use crate::sys::diag::Diag;
use crate::sys::regex::{Cflags, Regex};
use crate::sys::sig::{SIGHUP, SIGTERM, SelfPipe};
use rustix::event::{PollFd, PollFlags};
use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::SocketFlags;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Rules env names (s6's).
const STORE_REGEX: &str = "S6_FDHOLDER_STORE_REGEX";
const RETRIEVE_REGEX: &str = "S6_FDHOLDER_RETRIEVE_REGEX";
/// The rules variable that allows listing the held ids (s6's name).
pub const LIST: &str = "S6_FDHOLDER_LIST";
const GETDUMP: &str = "S6_FDHOLDER_GETDUMP";
const SETDUMP: &str = "S6_FDHOLDER_SETDUMP";

/// s6's `S6_FDHOLDER_MAX`: the most connections.
pub const MAXCONN_MAX: u32 = 256;
/// The most connections without `-c` (s6-fdholderd's default).
pub const MAXCONN_DEFAULT: u32 = 16;
/// The most fds held without `-n` (s6-fdholderd's default).
pub const MAXFDS_DEFAULT: u32 = 1000;

/// Where the rules are (`-i` or `-x`).
#[derive(Clone, Debug)]
pub enum Rules {
    /// `-i`: a rules directory, read at each connection.
    Dir(PathBuf),
    /// `-x`: a rules cdb, opened at start and on SIGHUP.
    Cdb(PathBuf),
}

/// What ipcfdholderd was asked to do.
#[derive(Clone, Debug)]
pub struct IpcfdholderdConfig {
    /// `-1`: a newline on stdout once serving.
    pub ready: bool,
    /// `-c`: most clients at once.
    pub maxconn: u32,
    /// `-n`: most fds held at once (clamped to the open-file limit at start).
    pub maxfds: u32,
    /// `-t`: longest silence of a client.
    pub timeout: Option<Duration>,
    /// `-T`: how long clients get to finish after SIGTERM.
    pub lameduck: Option<Duration>,
    /// `-i` or `-x`: who may do what.
    pub rules: Rules,
}

/// What a connected client may do, from the env part of its rule.
struct Perms {
    store: Option<Rc<Regex>>,
    retrieve: Option<Rc<Regex>>,
    list: bool,
    getdump: bool,
    setdump: bool,
}

/// Compile a POSIX ERE as s6-fdholderd does: the C library's regcomp with
/// `REG_EXTENDED | REG_NOSUB`, unanchored; an empty regex matches everything
/// (skalibs_regcomp).
fn compile_regex(re: &[u8]) -> Result<Regex, String> {
    Regex::compile(re, Cflags::EXTENDED_NOSUB).map_err(|e| e.to_string())
}

fn matches(re: &Option<Rc<Regex>>, id: &[u8]) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(id))
}

/// Escape untrusted bytes for a log line.
fn esc(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

/// Permissions from a rule's environment edits, as s6-fdholderd reads them: a variable
/// counts only when set (an empty env/ file unsets it); the first setting wins.
///
/// # Errors
/// A message naming the variable whose regex does not compile.
fn perms_from_env(
    env: &[(OsString, Option<OsString>)],
    cache: &mut RegexCache,
) -> Result<Perms, String> {
    let mut p = Perms {
        store: None,
        retrieve: None,
        list: false,
        getdump: false,
        setdump: false,
    };
    let (mut got_store, mut got_retrieve) = (false, false);
    for (k, v) in env {
        let Some(v) = v else { continue };
        let k = k.as_bytes();
        let mut re = |name: &str| {
            cache
                .get(v.as_bytes())
                .map_err(|e| format!("invalid {name} value: {}: {e}", esc(v.as_bytes())))
        };
        if k == LIST.as_bytes() {
            p.list = true;
        } else if k == GETDUMP.as_bytes() {
            p.getdump = true;
        } else if k == SETDUMP.as_bytes() {
            p.setdump = true;
        } else if k == STORE_REGEX.as_bytes() && !got_store {
            p.store = Some(re(STORE_REGEX)?);
            got_store = true;
        } else if k == RETRIEVE_REGEX.as_bytes() && !got_retrieve {
            p.retrieve = Some(re(RETRIEVE_REGEX)?);
            got_retrieve = true;
        }
    }
    Ok(p)
}

/// Compiled regexes by source: rules repeat the same few, and compiling one costs far
/// more than serving a request. Bounded: cleared when it grows past 256.
#[derive(Default)]
struct RegexCache {
    map: std::collections::HashMap<Vec<u8>, Rc<Regex>>,
}

impl RegexCache {
    fn get(&mut self, src: &[u8]) -> Result<Rc<Regex>, String> {
        if let Some(r) = self.map.get(src) {
            return Ok(r.clone());
        }
        let r = Rc::new(compile_regex(src)?);
        if self.map.len() >= 256 {
            self.map.clear();
        }
        self.map.insert(src.to_vec(), r.clone());
        Ok(r)
    }
}

/// The rules, with a cdb opened once (and again on SIGHUP), as s6-fdholderd does.
enum Loaded {
    Dir(PathBuf),
    Cdb(PathBuf, cdb2::CDB),
}

impl Loaded {
    /// The verdict for a client, looked up under `keys` ([`access::keys`]).
    fn check(&self, keys: &[String]) -> Result<Verdict, Error> {
        match self {
            Loaded::Dir(d) => access::dir_check(d, keys),
            Loaded::Cdb(path, db) => {
                for key in keys {
                    let v = match db.get(key.as_bytes()) {
                        None => continue,
                        Some(Err(e)) => {
                            return Err(Error::sys_at(
                                "read cdb ruleset",
                                path,
                                Errno::from_io_error(&e).unwrap_or(Errno::IO),
                            ));
                        }
                        Some(Ok(v)) => v,
                    };
                    let key = key.clone();
                    return match rulescdb::decode(&v) {
                        Ok(None) => continue,
                        Ok(Some(Rule::Deny)) => Ok(Verdict::Deny { key }),
                        Ok(Some(Rule::Allow { env, exec })) => Ok(Verdict::Allow {
                            key: Some(key),
                            env,
                            exec,
                        }),
                        Err(e) => Err(Error::InvalidRule {
                            key,
                            ruleset: None,
                            why: e.to_string(),
                        }),
                    };
                }
                Ok(Verdict::NoRule)
            }
        }
    }
}

/// Longest a message may take from its first byte to its last, whatever `-t` says:
/// the fds that came with an unfinished message are ours to hold meanwhile.
/// (s6-fdholderd drops a message that is not complete in one read.)
pub const MESSAGE_TIME: Duration = Duration::from_secs(2);
/// Fds kept free to accept one client and check its rule (a rules directory needs one
/// fd at a time: it reads `env/` through a second one only when there is one to spare;
/// a cdb is mapped in memory).
const ACCEPT_FDS: usize = 2;
/// Fds one read can bring (one `SCM_RIGHTS` message).
const READ_FDS: usize = wire::SCM_MAX_FD;
/// Reads of one client per round: enough for the longest request, few enough that one
/// client cannot keep the others waiting.
const READS_PER_ROUND: usize = 16;

struct Client {
    sock: OwnedFd,
    rx: Receiver,
    tx: Sender,
    /// `-t`: when a silent client goes.
    deadline: Option<Instant>,
    perms: Perms,
    /// fds still announced by a set-dump in progress.
    dumping: u32,
    /// Dropped to make room for others; closed at the end of the round.
    evicted: bool,
}

impl Client {
    /// When the client goes: silent for `-t`, or a message unfinished for
    /// [`MESSAGE_TIME`] (a whole message waiting for its turn is ours to handle:
    /// only `-t` and the fd budget bound a client that does not read its answers).
    fn until(&self) -> Option<Instant> {
        let unfinished = !self.rx.has_frame();
        let msg = self.rx.partial_since().filter(|_| unfinished);
        let msg = msg.map(|t| t + MESSAGE_TIME);
        match (self.deadline, msg) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the client holds fds for a message we cannot act on yet.
    fn stalled(&self) -> bool {
        !self.evicted && self.rx.pending_fds() > 0
    }
}

/// The open-file limit, and how many fds the daemon holds for itself (standard fds,
/// listener, signal pipe): everything above is counted, so that the daemon always
/// keeps [`ACCEPT_FDS`] for its own work.
struct FdBudget {
    limit: usize,
    base: usize,
}

struct Daemon<'a> {
    cfg: &'a IpcfdholderdConfig,
    diag: &'a Diag,
    listener: OwnedFd,
    sigs: SelfPipe,
    store: Store,
    clients: Vec<Client>,
    rules: Loaded,
    regexes: RegexCache,
    /// Where every client's bytes are read into, zeroed once.
    chunk: Box<[u8]>,
    budget: FdBudget,
    pid: rustix::process::Pid,
    /// Our euid and egid, for the rules' `uid/self` and `gid/self` keys (they never
    /// change: asking the kernel at each connection costs two system calls).
    ids: (u32, u32),
    /// The rules' lookup keys of the last client's uid and gid: most connections come
    /// from the same few users. Only the names: the rules are read at every connection.
    keys: ((u32, u32), Vec<String>),
    /// False once SIGTERM came.
    cont: bool,
    lameduck: Option<Instant>,
    /// accept(2) failed for lack of fds: try again after a pause, instead of spinning
    /// on a listener that stays readable (s6-fdholderd dies there).
    accept_pause: Option<Instant>,
}

/// ipcfdholderd: take the listening socket on stdin, clamp `maxfds` to the open-file
/// limit, and serve until SIGTERM and the lame-duck period end. Returns the exit code
/// s6-fdholderd would: 1 if fds were still held, plus 2 if clients were still
/// connected.
///
/// # Errors
/// `open file limit too low`, `stdin is not a socket` (100), `called with option -1
/// but stdout said: …` (100); start-up failures (`open cdb ruleset`, `trap signals`),
/// `poll` and `accept` failures other than transient ones.
pub fn ipcfdholderd(cfg: &IpcfdholderdConfig, diag: &Diag) -> Result<u8, Error> {
    let limit = fd_limit()?;
    let listener = take_listener(cfg.ready)?;
    crate::sys::fd::ensure_std_fds()?;
    let rules = load_rules(&cfg.rules, diag)?;
    let sigs = SelfPipe::new(&[SIGTERM, SIGHUP])?;
    announce_and_close_stdout(cfg.ready);
    let base = open_fds(limit);
    let cfg = IpcfdholderdConfig {
        maxfds: clamp_maxfds(cfg.maxfds, limit, base, cfg.maxconn),
        ..cfg.clone()
    };
    let mut d = Daemon {
        cfg: &cfg,
        diag,
        listener,
        sigs,
        store: Store::new(cfg.maxfds as usize),
        clients: Vec::new(),
        rules,
        regexes: RegexCache::default(),
        chunk: vec![0; wire::RECV_CHUNK].into_boxed_slice(),
        budget: FdBudget { limit, base },
        pid: rustix::process::getpid(),
        ids: (
            rustix::process::geteuid().as_raw(),
            rustix::process::getegid().as_raw(),
        ),
        keys: ((0, 0), Vec::new()),
        cont: true,
        lameduck: None,
        accept_pause: None,
    };
    d.run()
}

/// The rules as given; a rules directory that is not there yet is named in a warning
/// (every client is refused until it appears), a cdb is opened now, as s6 does.
fn load_rules(rules: &Rules, diag: &Diag) -> Result<Loaded, Error> {
    match rules {
        Rules::Dir(d) => {
            // Read and search rights: the rules are read as the daemon's user.
            let rx = rustix::fs::Access::READ_OK | rustix::fs::Access::EXEC_OK;
            if let Err(e) = rustix::fs::access(d, rx) {
                diag.warn(format!(
                    "unable to read rules directory {}: {}; every client is refused until it can be read",
                    crate::base::text::path(d),
                    crate::base::text::strerror(e)
                ));
            }
            Ok(Loaded::Dir(d.clone()))
        }
        Rules::Cdb(p) => Ok(Loaded::Cdb(p.clone(), rulescdb::open(p)?)),
    }
}

/// The readiness line, then stdout closed, as s6-fdholderd does: fd 1 is one more
/// fd for clients at a low open-file limit, and nothing here writes to stdout.
fn announce_and_close_stdout(ready: bool) {
    if ready {
        let _ = crate::sys::fd::write_all(rustix::stdio::stdout(), b"\n");
    }
    // Claiming the inherited fd 1 and dropping it closes it. It fails only if fd 1 is
    // not open, or is one of ours (close-on-exec): then leave it.
    drop(crate::sys::fd::claim(1));
}

impl Daemon<'_> {
    /// The loop: expire, wait, then signals, clients and new connections.
    fn run(&mut self) -> Result<u8, Error> {
        loop {
            self.expire();
            if self.finished() {
                break;
            }
            let accepting = self.accepting();
            let revents = self.wait(accepting)?;
            if revents.first().is_some_and(|r| !r.is_empty()) {
                self.on_signals();
            }
            self.client_io(&revents);
            if accepting && revents.get(1).is_some_and(|r| !r.is_empty()) {
                self.accept()?;
            }
        }
        let (held, conns) = (!self.store.is_empty(), !self.clients.is_empty());
        Ok(u8::from(held) | (u8::from(conns) << 1))
    }

    /// A log line s6-fdholderd does not print: only at verbosity 3 and more, and only
    /// then made (some come at every connection).
    fn trace(&self, msg: impl FnOnce() -> String) {
        if self.diag.verbosity >= 3 {
            self.diag.info(msg());
        }
    }

    /// Close the fds whose date passed; drop clients silent for `-t`, or whose message
    /// takes longer than [`MESSAGE_TIME`].
    fn expire(&mut self) {
        let n = self.store.expire(Tain::now());
        if n > 0 {
            self.trace(|| format!("expired {n} fd(s)"));
        }
        let now = Instant::now();
        self.clients
            .retain(|c| !c.evicted && c.until().is_none_or(|t| t > now));
    }

    /// After SIGTERM: whether every operation ended, or the lame-duck time did.
    fn finished(&self) -> bool {
        if self.cont {
            return false;
        }
        let busy = self
            .clients
            .iter()
            .any(|c| !c.tx.is_empty() || c.rx.has_partial());
        !busy || self.lameduck.is_some_and(|t| t <= Instant::now())
    }

    /// Whether to poll the listener: a free slot, and fds to accept and check a rule
    /// (or stalled clients to make them).
    fn accepting(&mut self) -> bool {
        if self.accept_pause.is_some_and(|t| t <= Instant::now()) {
            self.accept_pause = None;
        }
        self.cont
            && self.clients.len() < self.cfg.maxconn as usize
            && self.accept_pause.is_none()
            && (self.free() >= ACCEPT_FDS || self.clients.iter().any(Client::stalled))
    }

    /// One poll over the signal pipe, the listener and the clients, until the nearest
    /// deadline. Returns each fd's events, in that order.
    fn wait(&self, accepting: bool) -> Result<Vec<PollFlags>, Error> {
        let listen = if accepting {
            PollFlags::IN
        } else {
            PollFlags::empty()
        };
        let mut pfds = Vec::with_capacity(2 + self.clients.len());
        pfds.push(PollFd::from_borrowed_fd(self.sigs.fd(), PollFlags::IN));
        pfds.push(PollFd::from_borrowed_fd(self.listener.as_fd(), listen));
        for c in &self.clients {
            let mut ev = PollFlags::empty();
            if c.tx.is_empty() && (self.cont || c.rx.has_partial()) {
                ev |= PollFlags::IN;
            }
            if !c.tx.is_empty() {
                ev |= PollFlags::OUT;
            }
            pfds.push(PollFd::from_borrowed_fd(c.sock.as_fd(), ev));
        }
        let ts = crate::sys::time::timespec(self.wait_time());
        match rustix::event::poll(&mut pfds, Some(&ts)) {
            Ok(_) | Err(Errno::INTR) => Ok(pfds.iter().map(PollFd::revents).collect()),
            Err(e) => Err(Error::sys("poll", e)),
        }
    }

    /// Until the nearest deadline: an fd's expiry, a client's, the lame duck's, the
    /// accept pause; at most a minute, as expiry dates are wall-clock and the clock may
    /// jump.
    fn wait_time(&self) -> Duration {
        let inst = Instant::now();
        let mut wait = Duration::from_secs(60);
        if let Some(t) = self.store.next_limit() {
            wait = wait.min(t.until(Tain::now()));
        }
        let times = self.clients.iter().map(Client::until);
        for t in times.chain([self.lameduck, self.accept_pause]).flatten() {
            wait = wait.min(t.saturating_duration_since(inst));
        }
        // Round up, so a deadline is past when we wake.
        wait.saturating_add(Duration::from_micros(1))
    }

    fn on_signals(&mut self) {
        for s in self.sigs.pending() {
            if s == SIGTERM && self.cont {
                self.cont = false;
                self.lameduck = crate::sys::time::deadline(self.cfg.lameduck);
                self.trace(|| "received SIGTERM, finishing pending operations".into());
            } else if s == SIGHUP {
                self.reload();
            }
        }
    }

    fn reload(&mut self) {
        if let Loaded::Cdb(p, db) = &mut self.rules {
            match rulescdb::open(p) {
                Ok(new) => *db = new,
                Err(e) => self.diag.warn(format!("keeping the old rules: {e}")),
            }
        }
    }

    /// Serve every client poll woke, from the end, so removals keep earlier indexes
    /// valid; then close the evicted ones.
    fn client_io(&mut self, revents: &[PollFlags]) {
        for i in (0..self.clients.len()).rev() {
            let r = revents.get(2 + i).copied().unwrap_or_else(PollFlags::empty);
            if !r.is_empty() && !self.service(i, r) {
                self.clients.swap_remove(i);
            }
        }
        self.clients.retain(|c| !c.evicted);
    }

    fn deadline(&self) -> Option<Instant> {
        crate::sys::time::deadline(self.cfg.timeout)
    }

    /// Fds the daemon uses now: its own, the clients' sockets, what they sent that is
    /// not handled yet, the held fds, and fds waiting to be sent that the store let go.
    fn in_use(&self) -> usize {
        let clients: usize = self
            .clients
            .iter()
            .map(|c| 1 + c.rx.pending_fds() + c.tx.owned_fds())
            .sum();
        self.budget.base + self.store.len() + clients
    }

    fn free(&self) -> usize {
        self.budget.limit.saturating_sub(self.in_use())
    }

    /// Evict stalled clients (other than `keep`), those holding the most fds first,
    /// until `need` fds are free or none is left: fds held for unfinished messages
    /// never keep the daemon from its own work or from a client with a whole request.
    fn make_room(&mut self, need: usize, keep: Option<usize>) {
        while self.free() < need {
            let victim = self
                .clients
                .iter()
                .enumerate()
                .filter(|&(j, c)| Some(j) != keep && c.stalled())
                .max_by_key(|(_, c)| c.rx.pending_fds())
                .map(|(j, _)| j);
            let Some(c) = victim.and_then(|j| self.clients.get_mut(j)) else {
                return;
            };
            c.evicted = true;
            c.rx.drop_fds();
            self.trace(|| "dropped a stalled client to free its fds".into());
        }
    }

    /// A new connection, when there are fds for it and its rule.
    fn accept(&mut self) -> Result<(), Error> {
        self.make_room(ACCEPT_FDS, None);
        self.clients.retain(|c| !c.evicted);
        if self.free() < ACCEPT_FDS {
            return Ok(());
        }
        let flags = SocketFlags::CLOEXEC | SocketFlags::NONBLOCK;
        match rustix::net::accept_with(&self.listener, flags) {
            Ok(sock) => {
                let n = self.clients.len();
                self.admit(sock);
                // Clients send their request right after connecting: by the time the
                // rule is read it is usually there, so read now and save a poll.
                if self.clients.len() > n && !self.service(n, PollFlags::IN) {
                    self.clients.swap_remove(n);
                }
            }
            Err(Errno::AGAIN | Errno::INTR | Errno::CONNABORTED) => {}
            Err(e @ (Errno::MFILE | Errno::NFILE | Errno::NOBUFS | Errno::NOMEM)) => {
                let e = crate::base::text::strerror(e);
                self.diag.warn(format!("unable to accept: {e}"));
                self.accept_pause = Some(Instant::now() + Duration::from_millis(100));
            }
            Err(e) => return Err(Error::sys("accept", e)),
        }
        Ok(())
    }

    /// A new connection: its rule decides whether it stays, and what it may do.
    fn admit(&mut self, sock: OwnedFd) {
        let cred = match crate::sys::cred::peer_creds(&sock) {
            Ok(c) => c,
            Err(e) => {
                let e = crate::base::text::strerror(e);
                self.diag.warn(format!("unable to getpeereid: {e}"));
                return;
            }
        };
        let (uid, gid) = (cred.uid, cred.gid);
        if self.keys.1.is_empty() || self.keys.0 != (uid, gid) {
            let (euid, egid) = self.ids;
            self.keys = ((uid, gid), access::keys(uid, gid, euid, egid));
        }
        let env = match self.rules.check(&self.keys.1) {
            Ok(Verdict::Allow { env, exec, .. }) => {
                if exec.is_some() {
                    self.diag.warn(format!(
                        "unused exec string in rules for uid {uid} gid {gid}"
                    ));
                }
                env
            }
            Ok(_) => {
                self.trace(|| format!("deny uid {uid} gid {gid}"));
                return;
            }
            Err(e) => {
                self.diag.warn(format!("error while checking rules: {e}"));
                return;
            }
        };
        let perms = match perms_from_env(&env, &mut self.regexes) {
            Ok(p) => p,
            Err(m) => {
                self.diag.warn(m);
                return;
            }
        };
        self.trace(|| format!("allow uid {uid} gid {gid}"));
        let deadline = self.deadline();
        self.clients.push(Client {
            sock,
            rx: Receiver::new(wire::REQUEST_MAX),
            tx: Sender::default(),
            deadline,
            perms,
            dumping: 0,
            evicted: false,
        });
    }

    /// Serve client `i` after poll said `r`. False when it must go.
    fn service(&mut self, i: usize, r: PollFlags) -> bool {
        let (dl, cont) = (self.deadline(), self.cont);
        let Some(c) = self.clients.get_mut(i) else {
            return false;
        };
        if c.evicted {
            return true;
        }
        if r.contains(PollFlags::OUT) {
            match c.tx.flush(c.sock.as_fd()) {
                Ok(_) => c.deadline = dl,
                Err(_) => return false,
            }
        }
        let read = r.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR)
            && c.tx.is_empty()
            && (cont || c.rx.has_partial());
        if read && !self.read(i, dl) {
            return false;
        }
        self.answer_all(i)
    }

    /// Read what client `i` sent, until a whole message is there or nothing more is.
    /// Each read first makes room for what it may bring. False when the client goes.
    fn read(&mut self, i: usize, dl: Option<Instant>) -> bool {
        for _ in 0..READS_PER_ROUND {
            self.make_room(READ_FDS + ACCEPT_FDS, Some(i));
            let Daemon { clients, chunk, .. } = self;
            let Some(c) = clients.get_mut(i) else {
                return false;
            };
            match c.rx.fill_with(c.sock.as_fd(), chunk) {
                Ok(0) => return false,
                Ok(_) => c.deadline = dl,
                Err(Errno::AGAIN) => return true,
                Err(_) => return false,
            }
            if c.rx.has_frame() || !c.rx.has_partial() {
                return true;
            }
        }
        true
    }

    /// Answer the requests client `i` sent, one at a time: the next is decoded only
    /// once the answer to the last is out, so a client that sends without reading
    /// cannot make us queue answers without bound (and is dropped after -t).
    fn answer_all(&mut self, i: usize) -> bool {
        loop {
            let frame = match self.clients.get_mut(i) {
                Some(c) if c.tx.is_empty() => match c.rx.next_frame() {
                    Ok(Some(f)) => f,
                    Ok(None) => return true,
                    Err(_) => return false,
                },
                Some(_) => return true,
                None => return false,
            };
            if self.handle(i, frame).is_err() {
                return false;
            }
            // Answer at once; what the socket does not take waits for POLLOUT.
            if let Some(c) = self.clients.get_mut(i)
                && c.tx.flush(c.sock.as_fd()).is_err()
            {
                return false;
            }
        }
    }

    /// One request. `Err` is a protocol error: the client is dropped.
    fn handle(&mut self, i: usize, mut frame: Frame) -> Result<(), Errno> {
        let req = wire::decode_request(&frame.data, frame.fds.len() + frame.lost)?;
        let pid = self.pid;
        let Daemon { store, clients, .. } = self;
        let c = clients.get_mut(i).ok_or(Errno::PROTO)?;
        if c.dumping > 0 && !matches!(req, Request::SetDumpData { .. }) {
            return Err(Errno::PROTO);
        }
        match req {
            Request::Store { limit, id } => on_store(c, store, (limit, id), frame.fds.pop(), pid),
            Request::Delete { id } => on_delete(c, store, &id),
            Request::Retrieve { delete, id } => on_retrieve(c, store, delete, &id),
            Request::List => on_list(c, store),
            Request::GetDump => on_getdump(c, store),
            Request::SetDump { count } => on_setdump(c, store, count),
            Request::SetDumpData { entries } => {
                return on_setdump_data(c, store, entries, frame.fds, frame.lost > 0);
            }
        }
        Ok(())
    }
}

/// Whether `fd` is a socket connected to this very process: the client end of a
/// connection to our listener, whose peer (the listener's owner, as the kernel
/// recorded it at `listen`) is our pid. Held, it would keep its own connection open
/// for ever (F3).
fn is_own_socket(fd: &OwnedFd, pid: rustix::process::Pid) -> bool {
    crate::sys::cred::peer_creds(fd)
        .is_ok_and(|c| c.pid == pid.as_raw_nonzero().get().unsigned_abs())
}

/// `S`: hold the fd under `id`. A fd that did not reach us (we were out of fds) is
/// answered as a full holder: ENFILE.
fn on_store(
    c: &mut Client,
    store: &mut Store,
    (limit, id): (Tain, Vec<u8>),
    fd: Option<OwnedFd>,
    pid: rustix::process::Pid,
) {
    let a = if !matches(&c.perms.store, &id) {
        code::EPERM
    } else if store.len() >= store.max() {
        code::ENFILE
    } else if store.get(&id).is_some() {
        code::EBUSY
    } else {
        match fd {
            None => code::ENFILE,
            Some(fd) if is_own_socket(&fd, pid) => code::EPERM,
            Some(fd) => {
                store.insert(id, Rc::new(fd), limit);
                code::OK
            }
        }
    };
    c.tx.answer(a);
}

/// `D`: close the fd held under `id`.
fn on_delete(c: &mut Client, store: &mut Store, id: &[u8]) {
    let a = if !matches(&c.perms.store, id) {
        code::EPERM
    } else if store.remove(id).is_none() {
        code::ENOENT
    } else {
        code::OK
    };
    c.tx.answer(a);
}

/// `R`: send the fd held under `id`, and stop holding it if `delete`.
fn on_retrieve(c: &mut Client, store: &mut Store, delete: bool, id: &[u8]) {
    if !matches(&c.perms.retrieve, id) || (delete && !matches(&c.perms.store, id)) {
        return c.tx.answer(code::EPERM);
    }
    let e = if delete {
        store.remove(id)
    } else {
        store.get(id).cloned()
    };
    match e {
        None => c.tx.answer(code::ENOENT),
        Some(e) => c.tx.put(&[0], vec![e.fd]),
    }
}

/// `L`: the held identifiers.
fn on_list(c: &mut Client, store: &Store) {
    if c.perms.list {
        let ids = store.iter().map(|(id, _)| id.as_slice());
        c.tx.put(&wire::encode_list(ids), Vec::new());
    } else {
        c.tx.answer(code::EPERM);
    }
}

/// `?`: every held fd, in chunks of at most SCM_MAX_FD fds: the kernel refuses more
/// in one message (s6-fdholderd tries 255 and fails past 253).
fn on_getdump(c: &mut Client, store: &Store) {
    if !c.perms.getdump {
        return c.tx.answer(code::EPERM);
    }
    let all: Vec<_> = store.iter().collect();
    let chunks = all.len().div_ceil(wire::SCM_MAX_FD);
    c.tx.put(
        &wire::encode_counts(&[chunks as u32, all.len() as u32]),
        Vec::new(),
    );
    for part in all.chunks(wire::SCM_MAX_FD) {
        let mut data = Vec::new();
        let mut fds = Vec::with_capacity(part.len());
        for (id, e) in part {
            wire::put_entry(&mut data, e.limit, id);
            fds.push(e.fd.clone());
        }
        c.tx.put(&data, fds);
    }
}

/// `!`: a set dump of `count` fds starts, if they fit.
fn on_setdump(c: &mut Client, store: &Store, count: u32) {
    if !c.perms.setdump {
        c.tx.answer(code::EPERM);
    } else if count as usize > store.max() || count as usize + store.len() > store.max() {
        c.tx.answer(code::ENFILE);
    } else {
        c.dumping = count;
        // The trip count s6 clients expect, in chunks of 255.
        let trips = (count as usize).div_ceil(wire::MSG_MAXFDS) as u32;
        c.tx.put(&wire::encode_counts(&[trips]), Vec::new());
    }
}

/// `.`: one chunk of a set dump. A chunk whose fds did not reach us (out of fds), or
/// that would overfill the holder, is ENFILE and ends the set dump.
fn on_setdump_data(
    c: &mut Client,
    store: &mut Store,
    entries: Vec<wire::Entry>,
    fds: Vec<OwnedFd>,
    lost: bool,
) -> Result<(), Errno> {
    let n = entries.len();
    if n as u64 > u64::from(c.dumping) {
        return Err(Errno::PROTO);
    }
    if !c.perms.setdump {
        c.tx.answer(code::EPERM);
        return Ok(());
    }
    let replaced = entries
        .iter()
        .filter(|(_, id)| store.get(id).is_some())
        .count();
    if lost || store.len() + n - replaced > store.max() {
        c.dumping = 0;
        c.tx.answer(code::ENFILE);
        return Ok(());
    }
    for ((limit, id), fd) in entries.into_iter().zip(fds) {
        store.insert(id, Rc::new(fd), limit);
    }
    c.dumping -= n as u32;
    c.tx.answer(if c.dumping > 0 {
        code::EAGAIN
    } else {
        code::OK
    });
    Ok(())
}

/// Read the daemon's inherited listening socket (fd 0) and check `-1`'s stdout.
/// (The Rust runtime reopens closed standard fds on /dev/null before `main`, so from
/// a Rust `main` the stdout check only catches a runtime that did not.)
///
/// # Errors
/// `stdin is not a socket` (100), `called with option -1 but stdout said: …` (100).
fn take_listener(ready: bool) -> Result<OwnedFd, Error> {
    let l = crate::sys::fd::adopt_listener(0, "stdin")?;
    if ready && !crate::sys::fd::is_open(1) {
        return Err(Error::Usage(format!(
            "called with option -1 but stdout said: {}",
            crate::base::text::strerror(Errno::BADF)
        )));
    }
    Ok(l)
}

/// The open-file limit (a large number for none).
///
/// # Errors
/// `open file limit too low` under 7, as s6-fdholderd.
fn fd_limit() -> Result<usize, Error> {
    let lim = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    match lim.current {
        Some(cur) if cur < 7 => Err(Error::LimitTooLow {
            what: "open file limit",
        }),
        Some(cur) => Ok(usize::try_from(cur).unwrap_or(usize::MAX / 2)),
        None => Ok(usize::MAX / 2),
    }
}

/// How many fds below `limit` are open now (from `/proc/self/fd`, else a scan): only
/// those take places new fds could have, whatever is open above the limit.
fn open_fds(limit: usize) -> usize {
    let below = |n: usize| n < limit;
    match std::fs::read_dir("/proc/self/fd") {
        // Less the one read_dir itself holds (it is below the limit: it was just made).
        Ok(rd) => rd
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<usize>().ok())
            .filter(|&n| below(n))
            .count()
            .saturating_sub(1),
        Err(_) => (0..limit.min(1 << 16))
            .filter(|&n| i32::try_from(n).is_ok_and(crate::sys::fd::is_open))
            .count(),
    }
}

/// `maxfds` as the open-file limit allows: held fds, `maxconn` clients and the fds the
/// daemon keeps for its own work (accepting a client, checking its rule, and one fd in
/// flight) must fit beside the `base` fds it has. When they do not, held fds get what
/// the clients do not need, and at least half the room; clients past what fits wait
/// in the listen backlog. At least 1. (s6-fdholderd lowers `maxfds` only below the
/// limit itself, to the limit minus 6.)
fn clamp_maxfds(maxfds: u32, limit: usize, base: usize, maxconn: u32) -> u32 {
    let want = maxfds.max(1) as usize;
    let room = limit.saturating_sub(base + ACCEPT_FDS + 1);
    let conns = maxconn as usize;
    let m = if want.saturating_add(conns) <= room {
        want
    } else {
        want.min(room.saturating_sub(conns).max(room / 2))
    };
    u32::try_from(m.max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_as_posix_regexec() -> Result<(), String> {
        let r = compile_regex(b"^unix:/tmp/")?;
        assert!(r.is_match(b"unix:/tmp/x"));
        assert!(!r.is_match(b"xunix:/tmp/x"));
        // Unanchored, like regexec.
        assert!(compile_regex(b"foo.bar")?.is_match(b"a foo\nbar b"));
        assert!(compile_regex(b"")?.is_match(b"anything"));
        assert!(!compile_regex(b".^")?.is_match(b"x"));
        assert!(compile_regex(b"[[:digit:]]+$")?.is_match(b"id\xff42"));
        assert!(compile_regex(b"(").is_err());
        Ok(())
    }

    #[test]
    fn maxfds_leaves_room_for_clients_and_the_daemon() {
        // Room for everything: as asked.
        assert_eq!(clamp_maxfds(1000, 1024, 4, 16), 1000);
        assert_eq!(clamp_maxfds(0, 1024, 4, 16), 1);
        // The limit, less the daemon's fds, its reserve and the clients.
        assert_eq!(clamp_maxfds(1000, 64, 4, 16), 41);
        // Tiny limits: half the room, at least 1.
        assert_eq!(clamp_maxfds(1000, 20, 4, 16), 6);
        assert_eq!(clamp_maxfds(1000, 7, 4, 16), 1);
        assert_eq!(clamp_maxfds(1000, 24, 4, 16), 8);
    }

    #[test]
    fn perms_follow_set_and_unset() -> Result<(), String> {
        let env = vec![
            (OsString::from(LIST), None),
            (OsString::from(GETDUMP), Some(OsString::new())),
            (OsString::from(STORE_REGEX), Some(OsString::from("^a"))),
        ];
        let p = perms_from_env(&env, &mut RegexCache::default())?;
        assert!(!p.list && p.getdump && !p.setdump);
        assert!(matches(&p.store, b"ab") && !matches(&p.store, b"ba"));
        assert!(!matches(&p.retrieve, b"ab"));
        let bad = vec![(OsString::from(RETRIEVE_REGEX), Some(OsString::from("(")))];
        assert!(perms_from_env(&bad, &mut RegexCache::default()).is_err());
        Ok(())
    }
}
