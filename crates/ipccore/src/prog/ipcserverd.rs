//! ipcserverd, and the accept loop it shares with ipcserver: limits, spawning, reaping,
//! signals.
//!
//! One poll loop over the listening socket and the signal self-pipe. The listener is
//! polled only while fewer than maxconn handlers run, so extra clients wait in the
//! kernel backlog (s6's behaviour); a client over its uid's localmaxconn is closed at
//! once. Out of fds (EMFILE/ENFILE), the listener is set aside until a handler exits
//! or a short delay passes, so the server neither spins nor stops serving.

use crate::base::error::{Error, ResultExt};
use crate::base::text;
use crate::base::ucspi;
use crate::fs::listen::Leftover;
use crate::prog::peer::{self, Peer};
use crate::sys::diag::Diag;
use crate::sys::exec;
use crate::sys::fd;

use crate::sys::sig::{self, SelfPipe};
use crate::sys::sock;
use crate::sys::spawn::{Spawner, env_entry};
use rustix::event::{PollFd, PollFlags};
use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::{SocketAddrUnix, SocketFlags};
use rustix::process::{Pid, Signal};
use std::collections::HashMap;
use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

/// s6's ceiling for maxconn: 16384 since 2.13 (2.11 and the manuals of both say 1000).
pub const MAXCONN_MAX: u32 = 16384;
/// The most concurrent connections without `-c` (s6-ipcserverd's default).
pub const MAXCONN_DEFAULT: u32 = 40;

/// How long the listener rests after accept ran out of fds or memory.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(200);

/// Connection limits, clamped as s6 does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `-c`: most connections at once (1 to 16384).
    pub maxconn: u32,
    /// `-C`: most connections at once from one uid (at most `maxconn`).
    pub localmaxconn: u32,
}

impl Limits {
    /// `-c` and `-C` as s6-ipcserverd takes them: maxconn 0 becomes 1 and is capped at
    /// 16384; localmaxconn is capped at maxconn (and equals it with `-P`, where every
    /// client counts as one user), and 0 denies every connection, as in s6-ipcserverd
    /// (ipcserver, like s6-ipcserver, turns `-C 0` into 1 before it gets here).
    pub fn new(maxconn: Option<u32>, localmaxconn: Option<u32>, peercred: bool) -> Limits {
        let maxconn = maxconn.unwrap_or(MAXCONN_DEFAULT).clamp(1, MAXCONN_MAX);
        let mut local = localmaxconn.unwrap_or(MAXCONN_DEFAULT).min(maxconn);
        if !peercred {
            local = maxconn;
        }
        Limits {
            maxconn,
            localmaxconn: local,
        }
    }
}

/// What the loop serves, and how.
#[derive(Clone, Debug)]
pub struct IpcserverdConfig {
    /// `-c` and `-C`.
    pub limits: Limits,
    /// `-p` (default): look up peer credentials. `-P`: do not.
    pub peercred: bool,
    /// `IPCLOCALPATH` for every handler: PATH as given (ipcserver), or none.
    pub local_path: Option<OsString>,
    /// `-1`: bytes written to stdout once listening, before stdout is closed.
    pub readiness: Option<Vec<u8>>,
    /// prog and its arguments, spawned for each connection.
    pub argv: Vec<OsString>,
    /// Variables removed from the handlers' environment besides the UCSPI ones.
    pub remove_env: Vec<&'static str>,
}

/// ipcserverd: serve the listening socket on fd 0, or on fd 3 when `LISTEN_FDS` and
/// `LISTEN_PID` (systemd socket activation) name this process.
///
/// # Errors
/// `fstat` of a closed fd, `NotListening`, a bad `LISTEN_FDS`, then those of the loop.
pub fn ipcserverd(cfg: &IpcserverdConfig, diag: &Diag) -> Result<(), Error> {
    let (mut cfg, diag) = (cfg.clone(), *diag);
    check_readiness_fd(&cfg)?;
    let activated = listen_fds_for_me()?;
    let (n, what) = if activated.is_some() {
        (3, "fd 3")
    } else {
        (0, "stdin")
    };
    // s6-ipcserverd's exit codes: a closed fd fails its fstat (111), and a socket that
    // does not listen is "trouble with socket" (111) at the first poll; we say which.
    if n == 0 && exec::closed_at_start(0) == Some(true) {
        // The Rust runtime put /dev/null there before main.
        return Err(Error::sys_at("fstat", what, Errno::BADF));
    }
    let inherited = fd::adopt_listener(n, what).map_err(|e| match e {
        Error::Usage(m) if m.ends_with("is not open") => Error::sys_at("fstat", what, Errno::BADF),
        Error::Usage(m) if m.ends_with(" is not a listening socket") => Error::NotListening {
            what: m.trim_end_matches(" is not a listening socket").into(),
        },
        Error::Usage(m) if activated.is_none() => Error::Usage(not_activated(m)),
        e => e,
    })?;
    // Only fd 3 is served; further listeners (a chain of local-*-socket-listen) must not
    // leak into every connection handler. sd_listen_fds(3) sets CLOEXEC on them too.
    for extra in 4..activated.unwrap_or(0).saturating_add(3).min(65536) {
        fd::close_on_exec(extra)?;
    }
    cfg.remove_env
        .extend([ucspi::LISTEN_FDS, ucspi::LISTEN_PID, ucspi::LISTEN_FDNAMES]);
    // Move the listener off fd 0, so stdin can become /dev/null like stdout.
    let listener = rustix::io::fcntl_dupfd_cloexec(&inherited, 3).op("dup listening socket")?;
    drop(inherited);
    fd::ensure_std_fds()?;
    serve(listener, &cfg, diag)
}

/// `msg` (`stdin is not a socket`), and why `LISTEN_FDS` did not apply, if it is set:
/// a `LISTEN_PID` naming another process is a common mistake in a run script.
fn not_activated(msg: String) -> String {
    let Some(_) = std::env::var_os(ucspi::LISTEN_FDS) else {
        return msg;
    };
    match std::env::var_os(ucspi::LISTEN_PID) {
        None => format!("{msg}: LISTEN_FDS is set but LISTEN_PID is not"),
        Some(pid) => {
            // Environment bytes, escaped for the log.
            let shown: String = pid
                .as_bytes()
                .iter()
                .map(|&c| match c {
                    b'!'..=b'~' if c != b'\\' => char::from(c).to_string(),
                    _ => format!("\\x{c:02x}"),
                })
                .collect();
            format!("{msg}: LISTEN_FDS is set but LISTEN_PID is {shown}, not us")
        }
    }
}

/// `-1` with stdout closed at start (the Rust runtime has put /dev/null there since):
/// s6-ipcserverd's usage error, instead of a readiness line nobody reads.
pub(super) fn check_readiness_fd(cfg: &IpcserverdConfig) -> Result<(), Error> {
    if cfg.readiness.is_some() && exec::closed_at_start(1) == Some(true) {
        return Err(Error::Usage(
            "called with option -1 but stdout said: Bad file descriptor".into(),
        ));
    }
    Ok(())
}

/// The number of fds `LISTEN_FDS` passes, if `LISTEN_PID` names this process.
fn listen_fds_for_me() -> Result<Option<i32>, Error> {
    let (Some(fds), Some(pid)) = (
        std::env::var_os(ucspi::LISTEN_FDS),
        std::env::var_os(ucspi::LISTEN_PID),
    ) else {
        return Ok(None);
    };
    let me = rustix::process::getpid().as_raw_nonzero().get();
    if pid.to_str().and_then(|p| p.parse::<i32>().ok()) != Some(me) {
        return Ok(None);
    }
    match fds.to_str().and_then(|f| f.parse::<i32>().ok()) {
        Some(n) if n > 0 => Ok(Some(n)),
        _ => Err(Error::Usage("invalid $LISTEN_FDS".into())),
    }
}

/// How an accept round ended.
pub(crate) enum Accepted {
    /// No client waiting any more, or no free slot.
    Drained,
    /// accept failed for lack of resources; the listener should rest.
    Starved(Errno),
}

impl Accepted {
    /// What a failed accept means: `None` for a client that gave up before we got to
    /// it (try the next), `Drained` when none is waiting, `Starved` for EMFILE, ENFILE,
    /// ENOBUFS, ENOMEM or anything unexpected: the listener stays readable, so
    /// retrying at once would spin.
    pub(crate) fn after_error(e: Errno) -> Option<Accepted> {
        match e {
            Errno::AGAIN => Some(Accepted::Drained),
            Errno::INTR | Errno::CONNABORTED | Errno::PROTO => None,
            e => Some(Accepted::Starved(e)),
        }
    }
}

/// The listener's rest after accept starved, shared by ipcserverd and ipchttpgate's
/// listening mode: [`ACCEPT_BACKOFF`] each time, one warning per episode.
#[derive(Default)]
pub(crate) struct AcceptRest {
    until: Option<Instant>,
    starved: bool,
}

impl AcceptRest {
    /// Whether the listener may be polled now (the rest, if any, is over).
    pub(crate) fn over(&mut self) -> bool {
        if self.until.is_some_and(|t| Instant::now() >= t) {
            self.until = None;
        }
        self.until.is_none()
    }

    /// When the rest ends, for the poll's timeout.
    pub(crate) fn until(&self) -> Option<Instant> {
        self.until
    }

    /// Take an accept round's end into account.
    pub(crate) fn after(&mut self, round: Accepted, diag: &Diag) {
        match round {
            Accepted::Drained => self.starved = false,
            Accepted::Starved(e) => {
                if !self.starved {
                    diag.warn(format!(
                        "unable to accept: {}: pausing accept until resources free up",
                        text::strerror(e)
                    ));
                }
                self.starved = true;
                self.until = Some(Instant::now() + ACCEPT_BACKOFF);
            }
        }
    }
}

struct Child {
    uid: u32,
}

/// The loop's state: live handlers and per-uid counts. Owned by `serve`, no globals.
struct Server<'a> {
    cfg: &'a IpcserverdConfig,
    diag: Diag,
    spawner: Spawner,
    children: HashMap<Pid, Child>,
    per_uid: HashMap<u32, u32>,
    local_path: Option<CString>,
}

/// Serve `listener` until TERM, QUIT or ABRT.
fn serve(listener: OwnedFd, cfg: &IpcserverdConfig, diag: Diag) -> Result<(), Error> {
    serve_after(listener, cfg, diag, Leftover::default())
}

/// `serve`, closing `leftover` right after the readiness notification.
pub(super) fn serve_after(
    listener: OwnedFd,
    cfg: &IpcserverdConfig,
    diag: Diag,
    leftover: Leftover,
) -> Result<(), Error> {
    let (spawner, local_path) = prepare_spawn(cfg)?;
    let mut sigs = install_signals()?;
    rustix::io::ioctl_fionbio(&listener, true).op("set listening socket non-blocking")?;
    announce_ready(cfg, leftover)?;
    let mut srv = Server {
        cfg,
        diag,
        spawner,
        children: HashMap::new(),
        per_uid: HashMap::new(),
        local_path,
    };
    diag.info("starting");
    srv.status();
    srv.run(&listener, &mut sigs)
}

/// The handlers' spawner: prog, and our environment without the per-connection
/// variables (set at each spawn) and `cfg.remove_env`; and the `IPCLOCALPATH` entry.
fn prepare_spawn(cfg: &IpcserverdConfig) -> Result<(Spawner, Option<CString>), Error> {
    let mut remove: Vec<&str> = vec![
        ucspi::PROTO,
        ucspi::IPCREMOTEEUID,
        ucspi::IPCREMOTEEGID,
        ucspi::IPCREMOTEGIDLIST,
        ucspi::IPCREMOTEPID,
        ucspi::IPCREMOTEPATH,
        ucspi::IPCCONNNUM,
        // Our count includes the new connection: a stale "counts from 0" must not
        // reach an ipcconnlimit behind us.
        ucspi::IPCCONNNUMBASE,
    ];
    if cfg.local_path.is_some() {
        remove.push(ucspi::IPCLOCALPATH);
    }
    remove.extend(cfg.remove_env.iter().copied());
    let spawner = Spawner::new(&cfg.argv, &remove)
        .ok_or_else(|| Error::Usage("program arguments must not contain NUL bytes".into()))?;
    let local_path = match &cfg.local_path {
        Some(p) => Some(
            env_entry(ucspi::IPCLOCALPATH, p.as_bytes())
                .ok_or_else(|| Error::Usage("path contains a NUL byte".into()))?,
        ),
        None => None,
    };
    Ok((spawner, local_path))
}

/// Trap the signals the loop handles, on a self-pipe.
fn install_signals() -> Result<SelfPipe, Error> {
    let trapped = [
        sig::SIGCHLD,
        sig::SIGTERM,
        sig::SIGHUP,
        sig::SIGQUIT,
        sig::SIGABRT,
    ];
    let sigs = SelfPipe::new(&trapped)?;
    // A caller's mask must not keep them from us (s6-ipcserverd unblocks what it
    // traps): a blocked SIGCHLD would leave every handler unreaped.
    crate::sys::spawn::unblock(&trapped);
    Ok(sigs)
}

/// Point stdin and stdout at /dev/null, writing the `-1` readiness line in between,
/// and close `leftover` right after it.
fn announce_ready(cfg: &IpcserverdConfig, leftover: Leftover) -> Result<(), Error> {
    // Once the readiness line is out no fd may appear (supervisors and tests count fds
    // from then on): open /dev/null before it, and after it only copy stdin.
    fd::null_stdin()?;
    if let Some(msg) = &cfg.readiness {
        fd::write_all(rustix::stdio::stdout(), msg).op("write readiness notification")?;
    }
    drop(leftover);
    fd::stdout_from_stdin()
}

impl Server<'_> {
    /// The loop: poll the self-pipe, and the listener while fewer than maxconn handlers
    /// run and accept is not resting; until TERM, QUIT or ABRT.
    fn run(&mut self, listener: &OwnedFd, sigs: &mut SelfPipe) -> Result<(), Error> {
        let diag = self.diag;
        let mut rest = AcceptRest::default();
        loop {
            let accepting = rest.over() && self.children.len() < self.cfg.limits.maxconn as usize;
            let timeout = crate::sys::time::poll_timeout(rest.until());
            let sigfd = sigs.fd();
            let mut fds = vec![PollFd::new(&sigfd, PollFlags::IN)];
            if accepting {
                fds.push(PollFd::new(listener, PollFlags::IN));
            }
            match rustix::event::poll(&mut fds, timeout.as_ref()) {
                Ok(_) => {}
                Err(Errno::INTR) => continue,
                Err(e) => return Err(Error::sys("poll", e)),
            }
            let sig_ready = !fds[0].revents().is_empty();
            let conn_ready = accepting && fds.get(1).is_some_and(|f| !f.revents().is_empty());
            drop(fds);
            if sig_ready && sigs.pending().into_iter().any(|s| self.on_signal(s)) {
                diag.info("exiting");
                return Ok(());
            }
            if conn_ready {
                let round = self.accept_some(listener);
                rest.after(round, &diag);
            }
        }
    }

    fn status(&self) {
        self.diag.info(format!(
            "status: {}/{}",
            self.children.len(),
            self.cfg.limits.maxconn
        ));
    }

    /// Handle one signal; true means exit now.
    fn on_signal(&mut self, s: i32) -> bool {
        let d = self.diag;
        match s {
            sig::SIGCHLD => {
                self.reap();
                false
            }
            sig::SIGTERM => {
                d.info("received SIGTERM, quitting");
                true
            }
            sig::SIGHUP => {
                d.info("received SIGHUP, sending SIGTERM+SIGCONT to all connections");
                self.kill_all(&[Signal::TERM, Signal::CONT]);
                false
            }
            sig::SIGQUIT => {
                d.info("received SIGQUIT, sending SIGTERM+SIGCONT to all connections and quitting");
                self.kill_all(&[Signal::TERM, Signal::CONT]);
                true
            }
            sig::SIGABRT => {
                d.info("received SIGABRT, sending SIGKILL to all connections and quitting");
                self.kill_all(&[Signal::KILL]);
                true
            }
            _ => false,
        }
    }

    fn kill_all(&self, sigs: &[Signal]) {
        for &s in sigs {
            for pid in self.children.keys() {
                let _ = rustix::process::kill_process(*pid, s);
            }
        }
    }

    fn reap(&mut self) {
        loop {
            match rustix::process::waitpid(None, rustix::process::WaitOptions::NOHANG) {
                Ok(Some((pid, status))) => {
                    let Some(child) = self.children.remove(&pid) else {
                        continue;
                    };
                    if let Some(n) = self.per_uid.get_mut(&child.uid) {
                        *n = n.saturating_sub(1);
                        if *n == 0 {
                            self.per_uid.remove(&child.uid);
                        }
                    }
                    if self.diag.verbosity >= 2 {
                        let uid = if self.cfg.peercred {
                            child.uid.to_string()
                        } else {
                            "?".into()
                        };
                        let how = match (status.exit_status(), status.terminating_signal()) {
                            (Some(c), _) => format!("exitcode {c}"),
                            (None, Some(s)) => format!("signal {s}"),
                            _ => "status unknown".into(),
                        };
                        self.diag
                            .info(format!("end pid {} uid {uid} {how}", pid.as_raw_nonzero()));
                        self.status();
                    }
                }
                Ok(None) => return,
                Err(Errno::INTR) => {}
                Err(_) => return,
            }
        }
    }

    /// Accept while connections are waiting and slots are free.
    fn accept_some(&mut self, listener: &OwnedFd) -> Accepted {
        while self.children.len() < self.cfg.limits.maxconn as usize {
            match rustix::net::acceptfrom_with(listener, SocketFlags::CLOEXEC) {
                Ok((conn, addr)) => {
                    let peer_path = addr
                        .and_then(|a| SocketAddrUnix::try_from(a).ok())
                        .map(|u| sock::addr_path_bytes(&u))
                        .unwrap_or_default();
                    self.handle(conn, &peer_path);
                }
                Err(e) => {
                    if let Some(end) = Accepted::after_error(e) {
                        return end;
                    }
                }
            }
        }
        Accepted::Drained
    }

    fn handle(&mut self, conn: OwnedFd, peer_path: &[u8]) {
        let d = self.diag;
        let (uid, gid, cred_pid) = if self.cfg.peercred {
            match crate::sys::cred::peer_creds(&conn) {
                Ok(c) => (c.uid, c.gid, c.pid),
                Err(e) => {
                    d.warn(format!("unable to getpeereid: {}", text::strerror(e)));
                    return;
                }
            }
        } else {
            (0, 0, 0)
        };
        let ids = |u: u32, g: u32| {
            if self.cfg.peercred {
                format!("{u}:{g}")
            } else {
                "?:?".into()
            }
        };
        let local = self.cfg.limits.localmaxconn;
        let count = self.per_uid.get(&uid).copied().unwrap_or(0);
        if count >= local {
            // At every verbosity, -q included, as s6-ipcserverd (2.11 and 2.15).
            d.always_info(format!("deny {} count {count}/{local}", ids(uid, gid)));
            return;
        }
        // Our additions (`prog::peer`): groups and pid, with the credentials.
        let peer = self.cfg.peercred.then(|| peer::lookup(&conn, cred_pid));
        let mut env: Vec<CString> = Vec::with_capacity(8);
        let mut push = |name: &str, v: &[u8]| {
            if let Some(c) = env_entry(name, v) {
                env.push(c);
            }
        };
        push(ucspi::PROTO, b"IPC");
        if self.cfg.peercred {
            push(ucspi::IPCREMOTEEUID, uid.to_string().as_bytes());
            push(ucspi::IPCREMOTEEGID, gid.to_string().as_bytes());
            push(ucspi::IPCCONNNUM, (count + 1).to_string().as_bytes());
        } else {
            push(ucspi::IPCCONNNUM, b"");
        }
        push(ucspi::IPCREMOTEPATH, peer_path);
        if let Some(lp) = &self.local_path {
            env.push(lp.clone());
        }
        env.extend(peer.iter().flat_map(Peer::env));
        let c = Some(conn.as_fd());
        match self.spawner.spawn([c, c, None], &env) {
            Ok(pid) => {
                self.children.insert(pid, Child { uid });
                *self.per_uid.entry(uid).or_insert(0) += 1;
                if d.verbosity >= 2 {
                    let who = if self.cfg.peercred {
                        (count + 1).to_string()
                    } else {
                        "?".into()
                    };
                    let client = peer.as_ref().map(Peer::log_suffix).unwrap_or_default();
                    let (ids, pid) = (ids(uid, gid), pid.as_raw_nonzero());
                    d.info(format!("allow {ids} pid {pid} count {who}/{local}{client}"));
                    self.status();
                }
            }
            // As s6-ipcserverd ≥ 2.12 (posix_spawn): the exec's failure is known here; the
            // connection is closed and not counted.
            Err(e) => {
                let mut msg = b"unable to spawn ".to_vec();
                msg.extend_from_slice(self.spawner.prog());
                msg.extend_from_slice(b": ");
                msg.extend_from_slice(text::strerror(e).as_bytes());
                msg.extend_from_slice(exec_hint(e).as_bytes());
                d.warn(msg);
            }
        }
    }
}

/// What the end of an `unable to spawn` line tells the operator: this connection only
/// (the server goes on), and what to fix.
fn exec_hint(e: Errno) -> &'static str {
    match e {
        Errno::NOENT => {
            " (this connection got end of file; the server goes on: install prog, or fix its name or PATH)"
        }
        Errno::ACCESS => {
            " (this connection got end of file; the server goes on: make prog executable for the server's uid)"
        }
        _ => " (this connection got end of file; the server goes on)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_clamp_like_s6() {
        assert_eq!(
            Limits::new(None, None, true),
            Limits {
                maxconn: 40,
                localmaxconn: 40
            }
        );
        assert_eq!(
            Limits::new(Some(0), Some(0), true),
            Limits {
                maxconn: 1,
                localmaxconn: 0
            }
        );
        assert_eq!(Limits::new(Some(5000), None, true).maxconn, 5000);
        assert_eq!(Limits::new(Some(20000), None, true).maxconn, 16384);
        assert_eq!(Limits::new(Some(10), Some(20), true).localmaxconn, 10);
        assert_eq!(Limits::new(Some(10), Some(2), false).localmaxconn, 10);
    }
}
