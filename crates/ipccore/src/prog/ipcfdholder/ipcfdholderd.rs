//! The fd-holding daemon (ipcfdholderd, drop-in s6-fdholderd): one poll loop over the
//! listening socket, the clients and a signal self-pipe; no thread, no blocking call.
//!
//! Every wait is bounded: a client that sends nothing, or stops reading, for `-t`
//! milliseconds is dropped, at any point of its connection (s6-fdholderd stops timing
//! a client once its first answer is out, so an idle client can keep a slot forever).
//! A malformed message drops its client; fds that came with it are closed then.
//! Left out: socket creation and privileges (`ipcfdholder-daemon`), the codec (`wire`).

use super::store::Store;
use crate::base::error::{Error, ResultExt};
use crate::formats::fdholder::{self as wire, Frame, Receiver, Request, Sender, Tain, code};
use crate::formats::rulescdb::{self, Rule};
use crate::prog::ipcserver_access::{self as access, Ruleset, Verdict};
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
    fn check(&self, uid: u32, gid: u32) -> Result<Verdict, Error> {
        match self {
            Loaded::Dir(d) => access::check(&Ruleset::Dir(d.clone()), uid, gid),
            Loaded::Cdb(path, db) => {
                let euid = rustix::process::geteuid().as_raw();
                let egid = rustix::process::getegid().as_raw();
                for key in access::keys(uid, gid, euid, egid) {
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

struct Client {
    sock: OwnedFd,
    rx: Receiver,
    tx: Sender,
    deadline: Option<Instant>,
    perms: Perms,
    /// fds still announced by a set-dump in progress.
    dumping: u32,
}

struct Daemon<'a> {
    cfg: &'a IpcfdholderdConfig,
    diag: &'a Diag,
    store: Store,
    clients: Vec<Client>,
    rules: Loaded,
    regexes: RegexCache,
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
    let cfg = IpcfdholderdConfig {
        maxfds: clamp_maxfds(cfg.maxfds)?,
        ..cfg.clone()
    };
    let listener = take_listener(cfg.ready)?;
    crate::sys::fd::ensure_std_fds()?;
    serve(listener, &cfg, diag)
}

/// Run the daemon on `listener` (a listening stream socket).
fn serve(listener: OwnedFd, cfg: &IpcfdholderdConfig, diag: &Diag) -> Result<u8, Error> {
    let rules = match &cfg.rules {
        Rules::Dir(d) => Loaded::Dir(d.clone()),
        Rules::Cdb(p) => Loaded::Cdb(p.clone(), rulescdb::open(p)?),
    };
    let mut sigs = SelfPipe::new(&[SIGTERM, SIGHUP])?;
    let mut d = Daemon {
        cfg,
        diag,
        store: Store::new(cfg.maxfds as usize),
        clients: Vec::new(),
        rules,
        regexes: RegexCache::default(),
    };
    if cfg.ready {
        let _ = crate::sys::fd::write_all(rustix::stdio::stdout(), b"\n");
    }
    // stdout is closed (on /dev/null) either way, as s6-fdholderd closes it.
    let null = rustix::fs::open(
        "/dev/null",
        rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .op_at("open", "/dev/null")?;
    rustix::stdio::dup2_stdout(&null).op("dup2 /dev/null to stdout")?;
    drop(null);
    let mut cont = true;
    let mut lameduck: Option<Instant> = None;
    // Out of fds: accept again only after a pause, instead of spinning on a listener
    // that stays readable (s6-fdholderd dies there).
    let mut accept_pause: Option<Instant> = None;
    loop {
        let now = Tain::now();
        let n = d.store.expire(now);
        if n > 0 {
            diag.info(format!("expired {n} fd(s)"));
        }
        let inst = Instant::now();
        d.clients.retain(|c| c.deadline.is_none_or(|t| t > inst));
        if !cont {
            let busy = d
                .clients
                .iter()
                .any(|c| !c.tx.is_empty() || c.rx.has_partial());
            if !busy || lameduck.is_some_and(|t| t <= inst) {
                break;
            }
        }
        if accept_pause.is_some_and(|t| t <= inst) {
            accept_pause = None;
        }
        let accepting = cont && d.clients.len() < cfg.maxconn as usize && accept_pause.is_none();
        let mut pfds = Vec::with_capacity(2 + d.clients.len());
        pfds.push(PollFd::from_borrowed_fd(sigs.fd(), PollFlags::IN));
        pfds.push(PollFd::from_borrowed_fd(
            listener.as_fd(),
            if accepting {
                PollFlags::IN
            } else {
                PollFlags::empty()
            },
        ));
        for c in &d.clients {
            let mut ev = PollFlags::empty();
            if c.tx.is_empty() && (cont || c.rx.has_partial()) {
                ev |= PollFlags::IN;
            }
            if !c.tx.is_empty() {
                ev |= PollFlags::OUT;
            }
            pfds.push(PollFd::from_borrowed_fd(c.sock.as_fd(), ev));
        }
        let mut wait: Option<Duration> = d.store.next_limit().map(|t| t.until(now));
        let mut bound = |t: Option<Instant>| {
            if let Some(t) = t {
                let left = t.saturating_duration_since(inst);
                wait = Some(wait.map_or(left, |w| w.min(left)));
            }
        };
        for c in &d.clients {
            bound(c.deadline);
        }
        bound(lameduck);
        bound(accept_pause);
        // Expiry dates are wall-clock: wake at least every minute to follow clock jumps.
        let wait = wait
            .unwrap_or(Duration::from_secs(60))
            .min(Duration::from_secs(60));
        // Round up, so a deadline is past when we wake.
        let ts = crate::sys::time::timespec(wait.saturating_add(Duration::from_micros(1)));
        match rustix::event::poll(&mut pfds, Some(&ts)) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => return Err(Error::sys("poll", e)),
        }
        let revents: Vec<PollFlags> = pfds.iter().map(PollFd::revents).collect();
        drop(pfds);
        if revents.first().is_some_and(|r| !r.is_empty()) {
            for s in sigs.pending() {
                if s == SIGTERM && cont {
                    cont = false;
                    lameduck = crate::sys::time::deadline(cfg.lameduck);
                    diag.info("received SIGTERM, finishing pending operations");
                } else if s == SIGHUP {
                    d.reload();
                }
            }
        }
        // Clients first, from the end, so removals keep earlier indexes valid.
        for i in (0..d.clients.len()).rev() {
            let r = revents.get(2 + i).copied().unwrap_or_else(PollFlags::empty);
            if !r.is_empty() && !d.service(i, r, cont) {
                d.clients.swap_remove(i);
            }
        }
        if accepting && revents.get(1).is_some_and(|r| !r.is_empty()) {
            match rustix::net::accept_with(&listener, SocketFlags::CLOEXEC | SocketFlags::NONBLOCK)
            {
                Ok(sock) => d.admit(sock),
                Err(Errno::AGAIN | Errno::INTR | Errno::CONNABORTED) => {}
                Err(e @ (Errno::MFILE | Errno::NFILE | Errno::NOBUFS | Errno::NOMEM)) => {
                    diag.warn(format!(
                        "unable to accept: {}",
                        crate::base::text::strerror(e)
                    ));
                    accept_pause = Some(Instant::now() + Duration::from_millis(100));
                }
                Err(e) => return Err(Error::sys("accept", e)),
            }
        }
    }
    Ok(u8::from(!d.store.is_empty()) | (u8::from(!d.clients.is_empty()) << 1))
}

impl Daemon<'_> {
    fn reload(&mut self) {
        if let Loaded::Cdb(p, db) = &mut self.rules {
            match rulescdb::open(p) {
                Ok(new) => *db = new,
                Err(e) => self.diag.warn(format!("keeping the old rules: {e}")),
            }
        }
    }

    fn deadline(&self) -> Option<Instant> {
        crate::sys::time::deadline(self.cfg.timeout)
    }

    /// A new connection: its rule decides whether it stays, and what it may do.
    fn admit(&mut self, sock: OwnedFd) {
        let cred = match crate::sys::cred::peer(&sock) {
            Ok(c) => c,
            Err(e) => {
                self.diag.warn(format!(
                    "unable to getpeereid: {}",
                    crate::base::text::strerror(e)
                ));
                return;
            }
        };
        let (uid, gid) = (cred.uid.as_raw(), cred.gid.as_raw());
        let env = match self.rules.check(uid, gid) {
            Ok(Verdict::Allow { env, exec, .. }) => {
                if exec.is_some() {
                    self.diag.warn(format!(
                        "unused exec string in rules for uid {uid} gid {gid}"
                    ));
                }
                env
            }
            Ok(_) => {
                self.diag.info(format!("deny uid {uid} gid {gid}"));
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
        self.diag.info(format!("allow uid {uid} gid {gid}"));
        let deadline = self.deadline();
        self.clients.push(Client {
            sock,
            rx: Receiver::new(wire::REQUEST_MAX),
            tx: Sender::default(),
            deadline,
            perms,
            dumping: 0,
        });
    }

    /// Serve client `i` after poll said `r`. False when it must go.
    fn service(&mut self, i: usize, r: PollFlags, cont: bool) -> bool {
        let dl = self.deadline();
        let Some(c) = self.clients.get_mut(i) else {
            return false;
        };
        if r.contains(PollFlags::OUT) {
            match c.tx.flush(c.sock.as_fd()) {
                Ok(_) => c.deadline = dl,
                Err(_) => return false,
            }
        }
        if r.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR)
            && c.tx.is_empty()
            && (cont || c.rx.has_partial())
        {
            match c.rx.fill(c.sock.as_fd()) {
                Ok(0) => return false,
                Ok(_) => c.deadline = dl,
                Err(Errno::AGAIN) => {}
                Err(_) => return false,
            }
        }
        // One request at a time: the next is decoded only once the answer to the last
        // is out, so a client that sends without reading cannot make us queue answers
        // without bound (and is dropped after -t).
        loop {
            let frame = match self.clients.get_mut(i) {
                Some(c) if c.tx.is_empty() => match c.rx.next_frame() {
                    Ok(Some(f)) => f,
                    Ok(None) => break,
                    Err(_) => return false,
                },
                Some(_) => break,
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
        true
    }

    /// One request. `Err` is a protocol error: the client is dropped.
    fn handle(&mut self, i: usize, mut frame: Frame) -> Result<(), Errno> {
        let req = wire::decode_request(&frame.data, frame.fds.len())?;
        let store = &mut self.store;
        let c = self.clients.get_mut(i).ok_or(Errno::PROTO)?;
        if c.dumping > 0 && !matches!(req, Request::SetDumpData { .. }) {
            return Err(Errno::PROTO);
        }
        match req {
            Request::Store { limit, id } => {
                let a = if !matches(&c.perms.store, &id) {
                    code::EPERM
                } else if store.len() >= store.max() {
                    code::ENFILE
                } else if store.get(&id).is_some() {
                    code::EBUSY
                } else {
                    let fd = frame.fds.pop().ok_or(Errno::PROTO)?;
                    store.insert(id, Rc::new(fd), limit);
                    code::OK
                };
                c.tx.answer(a);
            }
            Request::Delete { id } => {
                let a = if !matches(&c.perms.store, &id) {
                    code::EPERM
                } else if store.remove(&id).is_none() {
                    code::ENOENT
                } else {
                    code::OK
                };
                c.tx.answer(a);
            }
            Request::Retrieve { delete, id } => {
                if !matches(&c.perms.retrieve, &id) || (delete && !matches(&c.perms.store, &id)) {
                    c.tx.answer(code::EPERM);
                } else {
                    let e = if delete {
                        store.remove(&id)
                    } else {
                        store.get(&id).cloned()
                    };
                    match e {
                        None => c.tx.answer(code::ENOENT),
                        Some(e) => c.tx.put(&[0], vec![e.fd]),
                    }
                }
            }
            Request::List => {
                if c.perms.list {
                    let ids = store.iter().map(|(id, _)| id.as_slice());
                    c.tx.put(&wire::encode_list(ids), Vec::new());
                } else {
                    c.tx.answer(code::EPERM);
                }
            }
            Request::GetDump => {
                if !c.perms.getdump {
                    c.tx.answer(code::EPERM);
                    return Ok(());
                }
                // Chunks of at most SCM_MAX_FD fds: the kernel refuses more in one
                // message (s6-fdholderd tries 255 and fails past 253).
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
            Request::SetDump { count } => {
                if !c.perms.setdump {
                    c.tx.answer(code::EPERM);
                } else if count as usize > store.max() || count as usize + store.len() > store.max()
                {
                    c.tx.answer(code::ENFILE);
                } else {
                    c.dumping = count;
                    // The trip count s6 clients expect, in chunks of 255.
                    let trips = (count as usize).div_ceil(wire::MSG_MAXFDS) as u32;
                    c.tx.put(&wire::encode_counts(&[trips]), Vec::new());
                }
            }
            Request::SetDumpData { entries } => {
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
                if store.len() + n - replaced > store.max() {
                    c.dumping = 0;
                    c.tx.answer(code::ENFILE);
                    return Ok(());
                }
                for ((limit, id), fd) in entries.into_iter().zip(frame.fds.drain(..)) {
                    store.insert(id, Rc::new(fd), limit);
                }
                c.dumping -= n as u32;
                c.tx.answer(if c.dumping > 0 {
                    code::EAGAIN
                } else {
                    code::OK
                });
            }
        }
        Ok(())
    }
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

/// The open-file limit caps how many fds can be held: s6-fdholderd keeps 6 for
/// itself. Returns the clamped `maxfds` (at least 1).
///
/// # Errors
/// `open file limit too low` under 7.
fn clamp_maxfds(maxfds: u32) -> Result<u32, Error> {
    let lim = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    let mut m = maxfds.max(1);
    if let Some(cur) = lim.current {
        if cur < 7 {
            return Err(Error::LimitTooLow {
                what: "open file limit",
            });
        }
        if u64::from(m) > cur {
            m = u32::try_from(cur - 6).unwrap_or(u32::MAX);
        }
    }
    Ok(m.max(1))
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
