//! Waiting for fifodir events: the `nptlistend` request protocol, and three ways to
//! wait—in this process, through an `nptlistend` child, or through the `nptlistend`
//! service on a local socket.
//!
//! The protocol (ours; pipe-tools' own was never published): the client sends three
//! fields, each ended by a NUL byte—FIFODIR, REGEX (an extended regular expression),
//! TIMEOUT in milliseconds (0: none). The listener subscribes to FIFODIR, answers one
//! NUL byte ("listening: trigger now"), accumulates the events, and after each read
//! searches REGEX in the accumulated bytes (`^` and `$` anchor to their start and end,
//! as s6 ≥ 2.15 does). On a match it writes the accumulated bytes and exits 0; on
//! timeout it exits 99; when the client closes its end it exits 0 without an answer.
//! Any error exits 111. Over a socket the client sees no exit code: "EOF and no
//! answer" means a timeout once the deadline has passed, a failure before it. A
//! service that fails before the NUL sends `!` and the reason instead (an addition a
//! NUL-only client still reads as a failure).
//!
//! Over a socket (service mode) the caller is whoever the kernel says is at the other
//! end (`SO_PEERCRED`), never what the environment claims: see `identify`.
//!
//! Fifo handling is `fifodir`'s; this module never prints.

use crate::base::error::{Error, ResultExt};
use crate::base::ucspi;
use crate::fs::fifodir::Listener;
use crate::sys::diag::Diag;
use crate::sys::fd;
use crate::sys::privs::{self, Ids};
use crate::sys::regex::{Cflags, Regex};
use crate::sys::sig::{self, SelfPipe};
use crate::sys::sock::{self, SockPath};
use crate::sys::spawn::Spawner;
use crate::sys::time;
use rustix::event::{PollFd, PollFlags};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::SocketType;
use rustix::process::{Gid, Uid};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where the nptlistend service listens unless `$NPT_IPCPATH` says otherwise.
pub const DEFAULT_IPCPATH: &str = "/run/nptlistend/socket";
/// The longest request accepted: a service must not buffer whatever a client sends.
pub const REQUEST_MAX: usize = 65536;
/// The most event bytes kept while nothing matches. Anyone may write to a listener
/// fifo (mode 0622), so the buffer must have a ceiling; and the regex is matched
/// against all of it after every read, which glibc's regexec does in time about
/// quadratic in its length for some patterns (`a.*b` over 16 KiB of `a`: about a
/// second), so the ceiling is low.
pub const EVENTS_MAX: usize = 16 << 10;
/// How long a client waits past the request's own timeout before it gives up on a
/// listener that did not answer.
const GRACE: Duration = Duration::from_secs(5);
/// Signals that end a wait cleanly (fifo removed, exit 111) instead of killing it:
/// ipcserver's HUP and QUIT send TERM to its children.
const TRAPPED: [i32; 3] = [sig::SIGTERM, sig::SIGINT, sig::SIGHUP];

/// One wait: the fifodir, the expression, the timeout (`None`: wait forever).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The fifodir to subscribe to.
    pub fifodir: PathBuf,
    /// The extended regular expression the events must match.
    pub regex: String,
    /// How long to wait (`None`: forever).
    pub timeout: Option<Duration>,
}

impl Request {
    /// The request on the wire: `FIFODIR\0REGEX\0TIMEOUT\0`.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let dir = self.fifodir.as_os_str().as_bytes();
        if dir.contains(&0) || self.regex.as_bytes().contains(&0) {
            return Err(Error::Usage("a request field contains a NUL byte".into()));
        }
        let ms = self.timeout.map_or(0, |d| d.as_millis().max(1));
        let mut v = Vec::with_capacity(dir.len() + self.regex.len() + 24);
        v.extend_from_slice(dir);
        v.push(0);
        v.extend_from_slice(self.regex.as_bytes());
        v.push(0);
        v.extend_from_slice(ms.to_string().as_bytes());
        v.push(0);
        Ok(v)
    }

    /// Parse exactly three NUL-ended fields. Bytes after the third NUL are not looked at.
    ///
    /// # Errors
    /// `MalformedRequest` for a missing field, an empty FIFODIR, a
    /// non-UTF-8 REGEX, or a TIMEOUT that is not a decimal number.
    pub fn parse(buf: &[u8]) -> Result<Request, Error> {
        let bad = |why: &str| Error::MalformedRequest(why.into());
        let mut fields = buf.splitn(4, |&b| b == 0);
        let (Some(dir), Some(re), Some(ms), Some(_)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(bad("missing fields"));
        };
        if dir.is_empty() {
            return Err(bad("empty fifodir"));
        }
        let regex = std::str::from_utf8(re)
            .map_err(|_| bad("regex is not UTF-8"))?
            .to_string();
        let ms = std::str::from_utf8(ms)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| bad("timeout is not a number of milliseconds"))?;
        Ok(Request {
            fifodir: PathBuf::from(OsString::from_vec(dir.to_vec())),
            regex,
            timeout: (ms != 0).then(|| Duration::from_millis(ms)),
        })
    }
}

/// Compile an extended regular expression for matching event bytes as s6-ftrigrd
/// does: the C library's regcomp with `REG_EXTENDED`; `.` matches any byte, newline
/// included, and `^`/`$` anchor to the start and end of the accumulated events
/// (`regexec` without `REG_NEWLINE`).
///
/// # Errors
/// `InvalidRegex` (`invalid regex RE: …`, with the C library's reason).
pub fn compile(re: &str) -> Result<Regex, Error> {
    Regex::compile(re.as_bytes(), Cflags::EXTENDED).map_err(|e| Error::InvalidRegex {
        re: re.to_string(),
        why: e.text,
    })
}

/// The largest regex nptlistend compiles for a client, counted as
/// [`crate::sys::regex::weigh`] counts (bounded repetitions copied out): the C
/// library's regcomp takes time and memory about quadratic in that size
/// (`a{0,32767}` takes gigabytes), and the client's pattern is compiled by the
/// service.
pub const SERVICE_REGEX_WEIGHT_MAX: usize = 1024;

/// Refuse, for the nptlistend service, a regex too costly to compile or match: one
/// whose repetitions expand past [`SERVICE_REGEX_WEIGHT_MAX`], or with a back-reference
/// (matching time exponential in the events' length).
///
/// # Errors
/// `InvalidRegex` saying which.
pub fn check_service_regex(re: &str) -> Result<(), Error> {
    let w = crate::sys::regex::weigh(re.as_bytes());
    let why = if w.backref {
        "back-references are not accepted by the service".to_string()
    } else if w.size > SERVICE_REGEX_WEIGHT_MAX {
        format!("its repetitions expand past {SERVICE_REGEX_WEIGHT_MAX} positions")
    } else {
        return Ok(());
    };
    Err(Error::InvalidRegex {
        re: re.to_string(),
        why,
    })
}

/// How a wait ended, short of an error or a timeout.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The accumulated events, which match.
    Matched(Vec<u8>),
    /// The watched fd (the client's end) was closed first.
    Abandoned,
}

fn timed_out(re: &str) -> Error {
    Error::Timeout(format!(
        "unable to match regexp on {re}: Connection timed out"
    ))
}

/// Wait on `listener` until the accumulated events match `re`, `deadline` passes
/// (`Error::Timeout`), or `watch` (the client's end, for nptlistend) reaches EOF
/// (`Outcome::Abandoned`). Bytes arriving on `watch` are read and ignored. A signal
/// arriving through `sigs` ends the wait with an error, so that the caller's
/// `Listener` is dropped and its fifo removed rather than left for the next notifier
/// to clean up.
///
/// # Errors
/// `poll`, `read fifo in`, `read from client`; `TooManyEvents` when more than `EVENTS_MAX`
/// bytes arrived without a match, or on a signal (`interrupted by SIGTERM`).
pub fn wait(
    listener: &Listener,
    re: &Regex,
    re_src: &str,
    deadline: Option<Instant>,
    watch: Option<BorrowedFd<'_>>,
    mut sigs: Option<&mut SelfPipe>,
) -> Result<Outcome, Error> {
    let mut events = Vec::new();
    let fifo = listener.fd();
    loop {
        if let Some(s) = sigs.as_deref_mut()
            && let Some(&n) = s.pending().first()
        {
            return Err(Error::Interrupted(sig::name(n)));
        }
        let timeout = time::poll_timeout(deadline);
        if timeout
            .as_ref()
            .is_some_and(|t| t.tv_sec == 0 && t.tv_nsec == 0)
        {
            return Err(timed_out(re_src));
        }
        let sigfd = sigs.as_deref().map(SelfPipe::fd);
        let mut fds = vec![PollFd::new(&fifo, PollFlags::IN)];
        if let Some(w) = watch.as_ref() {
            fds.push(PollFd::new(w, PollFlags::IN));
        }
        if let Some(f) = sigfd.as_ref() {
            fds.push(PollFd::new(f, PollFlags::IN));
        }
        match rustix::event::poll(&mut fds, timeout.as_ref()) {
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(e) => return Err(Error::sys("poll", e)),
        }
        let fifo_ready = fds.first().is_some_and(|f| !f.revents().is_empty());
        let client_ready = watch.is_some() && fds.get(1).is_some_and(|f| !f.revents().is_empty());
        drop(fds);
        if fifo_ready && listener.read_into(&mut events)? > 0 {
            // regexec's time grows with what it is fed: never more than EVENTS_MAX.
            let over = events.len() > EVENTS_MAX;
            events.truncate(EVENTS_MAX);
            if re.is_match(&events) {
                return Ok(Outcome::Matched(events));
            }
            if over {
                return Err(Error::TooManyEvents {
                    max: EVENTS_MAX,
                    re: Some(re_src.to_string()),
                });
            }
        }
        if client_ready && let Some(w) = watch {
            let mut junk = [0u8; 512];
            match fd::read(w, &mut junk) {
                Ok(0) | Err(Errno::CONNRESET) => return Ok(Outcome::Abandoned),
                Ok(_) | Err(Errno::AGAIN) => {}
                Err(e) => return Err(Error::sys("read from client", e)),
            }
        }
    }
}

/// Read one request from `fd` (nptlistend's stdin), stopping after the third NUL,
/// within `deadline` (`None`: no limit). A client that connects and sends nothing must
/// not hold a service slot for ever.
///
/// # Errors
/// `read request`, `poll`; `MalformedRequest` on EOF before three fields
/// or more than `REQUEST_MAX` bytes; `Timeout` when the request is not complete at the
/// deadline.
pub fn read_request(fd: BorrowedFd<'_>, deadline: Option<Instant>) -> Result<Request, Error> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // NULs are counted per chunk as it arrives: a slow client sending a byte at a time
    // must not make each read rescan the whole buffer.
    let mut nuls = 0;
    while nuls < 3 {
        if buf.len() > REQUEST_MAX {
            return Err(Error::MalformedRequest("too long".into()));
        }
        let t = time::poll_timeout(deadline);
        if t.as_ref().is_some_and(|t| t.tv_sec == 0 && t.tv_nsec == 0) {
            return Err(Error::Timeout(format!(
                "no complete request after {} bytes",
                buf.len()
            )));
        }
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        match rustix::event::poll(&mut fds, t.as_ref()) {
            Ok(0) | Err(Errno::INTR) => continue,
            Ok(_) => {}
            Err(e) => return Err(Error::sys("poll", e)),
        }
        match fd::read(fd, &mut chunk) {
            Ok(0) => return Err(Error::MalformedRequest("missing fields".into())),
            Ok(n) => {
                let got = chunk.get(..n).unwrap_or_default();
                nuls += got.iter().filter(|&&b| b == 0).count();
                buf.extend_from_slice(got);
            }
            Err(Errno::AGAIN) => {}
            Err(e) => return Err(Error::sys("read request", e)),
        }
    }
    Request::parse(&buf)
}

/// The caller's identity under a super-server: `IPCREMOTEEUID` and `IPCREMOTEEGID`,
/// when both are set. The supplementary groups are reduced to the caller's gid: the
/// kernel reports no others, and the caller must not get more rights than it has.
///
/// # Errors
/// `Usage` for an invalid number or for one variable without the other (exit 100).
pub fn caller_ids(euid: Option<&OsStr>, egid: Option<&OsStr>) -> Result<Option<Ids>, Error> {
    let num = |name: &str, v: &OsStr| -> Result<u32, Error> {
        v.to_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::Usage(format!("invalid ${name}")))
    };
    match (euid, egid) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::Usage(format!("{} not set", ucspi::IPCREMOTEEGID))),
        (None, Some(_)) => Err(Error::Usage(format!("{} not set", ucspi::IPCREMOTEEUID))),
        (Some(u), Some(g)) => {
            let uid = Uid::from_raw(num(ucspi::IPCREMOTEEUID, u)?);
            let gid = Gid::from_raw(num(ucspi::IPCREMOTEEGID, g)?);
            Ok(Some(Ids {
                uid: Some(uid),
                gid: Some(gid),
                groups: Some(vec![gid]),
            }))
        }
    }
}

/// Who nptlistend works for, and as whom.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Caller {
    /// Stdin is a socket: a super-server handed us a connection (service mode).
    pub service: bool,
    /// The peer's credentials, from the kernel (service mode only).
    pub peer: Option<(Uid, Gid, i32)>,
    /// What to drop to before the request is read (`None`: stay as we are).
    pub drop: Option<Ids>,
    /// Things the log should hear about (the environment disagreeing with the kernel).
    pub warnings: Vec<String>,
}

/// Work out who nptlistend serves, from `stdin` and the `IPCREMOTEEUID`/`IPCREMOTEEGID`
/// values.
///
/// - Stdin not a socket (a pipe from npt-wait): child mode, as before. The caller
///   already chose our identity; when we are root and both variables are set, we drop
///   to them.
/// - Stdin a Unix socket (ipcserver, s6-ipcserver, socat `nofork`, systemd `Accept=yes`,
///   inetd): service mode. The caller is the peer the kernel reports (`SO_PEERCRED`),
///   whatever the environment says (a disagreeing environment is a warning). As root we
///   drop to the peer's uid and gid (its supplementary groups are not known, so none are
///   kept); as another user we serve only a peer with our own uid.
///
/// # Errors
/// `Usage` (exit 100), and nothing is served: stdin is a socket and the peer cannot be
/// identified (not a Unix socket, `SO_PEERCRED` fails, or the peer is our own parent,
/// that is, a relay such as socat's `EXEC` without `nofork`, which hides the real
/// client); we are not root and the peer is another uid; in child mode, the variables
/// are invalid or only one is set.
fn identify(
    stdin: BorrowedFd<'_>,
    env_euid: Option<&OsStr>,
    env_egid: Option<&OsStr>,
) -> Result<Caller, Error> {
    let st = rustix::fs::fstat(stdin).op("stat stdin")?;
    let euid = rustix::process::geteuid();
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::Socket {
        let drop = caller_ids(env_euid, env_egid)?.filter(|_| euid.is_root());
        return Ok(Caller {
            service: false,
            peer: None,
            drop,
            warnings: Vec::new(),
        });
    }
    let refuse =
        |why: String| Error::Usage(format!("refusing to serve: stdin is a socket and {why}"));
    match rustix::net::sockopt::socket_domain(stdin) {
        Ok(rustix::net::AddressFamily::UNIX) => {}
        Ok(_) => return Err(refuse("not a Unix socket: no peer credentials".into())),
        Err(e) => {
            return Err(refuse(format!(
                "its domain is unknown: {}",
                crate::base::text::strerror(e)
            )));
        }
    }
    let cred = crate::sys::cred::peer(stdin).map_err(|e| {
        refuse(format!(
            "its peer credentials are unavailable: {}",
            crate::base::text::strerror(e)
        ))
    })?;
    let pid = cred.pid.as_raw_nonzero().get();
    if cred.uid.as_raw() == u32::MAX {
        return Err(refuse("its peer has no credentials".into()));
    }
    let ppid = rustix::process::getppid().map_or(0, |p| p.as_raw_nonzero().get());
    if pid != 0 && pid == ppid {
        return Err(refuse(format!(
            "its peer is our parent (pid {pid}), a relay that hides the real client \
             (socat: use EXEC:...,nofork)"
        )));
    }
    let mut warnings = Vec::new();
    match caller_ids(env_euid, env_egid) {
        Ok(Some(ids)) if ids.uid == Some(cred.uid) && ids.gid == Some(cred.gid) => {}
        Ok(None) => {}
        _ => warnings.push(format!(
            "{}/{} disagree with the kernel's peer credentials {}:{}: using the kernel's",
            ucspi::IPCREMOTEEUID,
            ucspi::IPCREMOTEEGID,
            cred.uid.as_raw(),
            cred.gid.as_raw()
        )),
    }
    let drop = if euid.is_root() {
        (!cred.uid.is_root()).then(|| Ids {
            uid: Some(cred.uid),
            gid: Some(cred.gid),
            groups: Some(vec![cred.gid]),
        })
    } else if cred.uid == euid {
        None
    } else {
        return Err(Error::Usage(format!(
            "refusing to serve uid {}: not root, and not running as that uid ({})",
            cred.uid.as_raw(),
            euid.as_raw()
        )));
    };
    Ok(Caller {
        service: true,
        peer: Some((cred.uid, cred.gid, pid)),
        drop,
        warnings,
    })
}

/// The first byte of a refusal on the wire: a service that cannot take a request
/// answers `!` and the reason (UTF-8, escaped), instead of the NUL, then closes.
const REFUSED: u8 = b'!';
/// The longest refusal reason a client reads.
const REASON_MAX: usize = 4096;
/// How long a service client has to send its whole request, by default (nptlistend
/// `-t`): ample for a local client, short enough that idle connections cannot hold the
/// service's slots.
pub const REQUEST_TIMEOUT_MS: u64 = 5000;

/// Tell the client on `output` that its request is refused, and why (`REFUSED` and the
/// escaped reason), when `output` is a socket (service mode; a child's caller shares our
/// stderr and reads the reason there). Best effort: the client may be gone.
fn refuse(output: BorrowedFd<'_>, err: &Error) {
    let is_socket = rustix::fs::fstat(output).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Socket
    });
    if !is_socket {
        return;
    }
    let mut msg = vec![REFUSED];
    msg.extend_from_slice(crate::base::text::escape_line(err.to_string().as_bytes()).as_bytes());
    let _ = crate::sys::fd::write_all(output, &msg);
    // Closing a Unix socket with unread input resets the connection, and the reset can
    // overtake the reason on its way through a relay. Read what already came (bounded:
    // a request is at most REQUEST_MAX bytes) so the close is an orderly one.
    let _ = rustix::net::shutdown(output, rustix::net::Shutdown::Write);
    let mut junk = [0u8; 4096];
    for _ in 0..=REQUEST_MAX / junk.len() {
        match rustix::net::recv(output, &mut junk, rustix::net::RecvFlags::DONTWAIT) {
            Ok((0, _)) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// nptlistend: drop to `caller.drop`, read the request on `input` (complete within
/// `request_timeout`, `None`: no limit), subscribe, send the NUL on `output`, wait, and
/// write the matching events on `output`.
///
/// The drop comes first, before the request is even read: the fifodir is only ever
/// touched with the caller's rights, so a service run as root lets nobody listen where
/// they could not themselves. In service mode, a failure before the NUL is also told to
/// the client (`REFUSED` and the reason), and a relative FIFODIR is refused: it would
/// be resolved in our working directory, not the client's.
///
/// # Errors
/// Those of `privs::drop_to`, `read_request`, `compile`, `Listener::subscribe`, `wait`;
/// `write to client`; `Timeout` at the deadline; `Usage` for a relative FIFODIR in
/// service mode. `Failure::refusable` says the NUL was not sent yet: the caller logs
/// the error, then tells the client with `refuse` (in that order: a relay such as
/// socat may kill us as soon as the client has its answer).
fn listend(
    input: BorrowedFd<'_>,
    output: BorrowedFd<'_>,
    caller: &Caller,
    request_timeout: Option<Duration>,
) -> Result<Outcome, Failure> {
    let set_up = || -> Result<_, Error> {
        if let Some(ids) = &caller.drop {
            privs::drop_to(ids)?;
        }
        let req = read_request(input, time::deadline(request_timeout)).map_err(|e| match e {
            Error::Timeout(why) => Error::Timeout(format!(
                "{why}{} within {} ms: dropping the connection",
                peer_text(caller),
                request_timeout.map_or(0, |d| d.as_millis())
            )),
            e => e,
        })?;
        if caller.service && !req.fifodir.is_absolute() {
            return Err(Error::Usage(format!(
                "fifodir {} is not an absolute path",
                crate::base::text::path(&req.fifodir)
            )));
        }
        if caller.service {
            check_service_regex(&req.regex)?;
        }
        let re = compile(&req.regex)?;
        let sigs = SelfPipe::new(&TRAPPED)?;
        let listener = Listener::subscribe(&req.fifodir)?;
        Ok((req, re, sigs, listener))
    };
    let (req, re, mut sigs, listener) = set_up().map_err(|err| Failure {
        err,
        refusable: true,
    })?;
    let after = |err| Failure {
        err,
        refusable: false,
    };
    let deadline = time::deadline(req.timeout);
    crate::sys::fd::write_all(output, b"\0")
        .map_err(|e| after(Error::sys("write to client", e)))?;
    let out = wait(
        &listener,
        &re,
        &req.regex,
        deadline,
        Some(input),
        Some(&mut sigs),
    )
    .map_err(after)?;
    drop(listener);
    if let Outcome::Matched(ev) = &out {
        crate::sys::fd::write_all(output, ev)
            .map_err(|e| after(Error::sys("write to client", e)))?;
    }
    Ok(out)
}

/// How `listend` failed.
#[derive(Debug)]
struct Failure {
    err: Error,
    /// Before the NUL: the client may still be told why (`refuse`).
    refusable: bool,
}

fn peer_text(caller: &Caller) -> String {
    match caller.peer {
        Some((u, g, p)) => format!(" from {}:{} pid {p}", u.as_raw(), g.as_raw()),
        None => String::new(),
    }
}

/// Start `prog` (s6-ftrig-listen1's prog), sharing our stdin, stdout and stderr, with a
/// clean signal mask and default dispositions. It is not waited for: the wait ends
/// with the event, not with the program (an unreaped child is reaped by init when we
/// exit).
fn start(prog: &[OsString]) -> Result<(), Error> {
    let Some(p) = prog.first() else {
        return Ok(());
    };
    let sp = Spawner::new(prog, &[])
        .ok_or_else(|| Error::Usage("an argument contains a NUL byte".into()))?;
    sp.spawn_inheriting()
        .map(drop)
        .op_at("spawn", PathBuf::from(p))
}

/// Subscribe to `req.fifodir` in this process, run `prog` if not empty, and wait for
/// the events to match. Returns the accumulated events.
///
/// # Errors
/// Those of `compile`, `Listener::subscribe`, `wait`; `spawn` for prog; `Timeout`.
pub fn wait_here(req: &Request, prog: &[OsString]) -> Result<Vec<u8>, Error> {
    let re = compile(&req.regex)?;
    let mut sigs = SelfPipe::new(&TRAPPED)?;
    let listener = Listener::subscribe(&req.fifodir)?;
    let deadline = time::deadline(req.timeout);
    start(prog)?;
    match wait(&listener, &re, &req.regex, deadline, None, Some(&mut sigs))? {
        Outcome::Matched(ev) => Ok(ev),
        Outcome::Abandoned => Err(Error::Internal(
            "wait without a client was abandoned".into(),
        )),
    }
}

/// Read from `fd` until EOF or `deadline`. `Ok(None)` at the deadline.
fn read_to_eof(fd: BorrowedFd<'_>, deadline: Option<Instant>) -> Result<Option<Vec<u8>>, Errno> {
    let mut v = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let t = time::poll_timeout(deadline);
        if t.as_ref().is_some_and(|t| t.tv_sec == 0 && t.tv_nsec == 0) {
            return Ok(None);
        }
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        match rustix::event::poll(&mut fds, t.as_ref()) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e),
        }
        match fd::read(fd, &mut chunk) {
            Ok(0) => return Ok(Some(v)),
            Ok(n) => v.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(Errno::AGAIN) => {}
            Err(Errno::CONNRESET) => return Ok(Some(v)),
            Err(e) => return Err(e),
        }
    }
}

/// What a remote listener said: whether it sent its NUL, and what followed until EOF.
struct Reply {
    listening: bool,
    /// It sent `REFUSED` and this reason instead of the NUL.
    refused: Option<String>,
    answer: Vec<u8>,
    /// EOF never came before our own deadline.
    stuck: bool,
}

/// Talk to a listener at the other end of `to`/`from`: send `req`, wait for its NUL,
/// run prog, read its answer.
fn converse(
    to: BorrowedFd<'_>,
    from: BorrowedFd<'_>,
    req: &Request,
    prog: &[OsString],
) -> Result<Reply, Error> {
    let guard = req.timeout.map(|t| t.saturating_add(GRACE));
    // A service that refuses at once (it cannot identify us) may close before our
    // request is in: its reason is then already waiting to be read, and worth more than
    // "Broken pipe".
    let sent = crate::sys::fd::write_all(to, &req.encode()?);
    let hard = time::deadline(guard);
    // The NUL comes first and alone, since nothing can match before it is sent; read
    // one byte so the answer is not mixed into it.
    let mut first = [0u8; 1];
    loop {
        let t = time::poll_timeout(hard);
        let mut fds = [PollFd::new(&from, PollFlags::IN)];
        match rustix::event::poll(&mut fds, t.as_ref()) {
            Ok(0) => {
                return Ok(Reply {
                    listening: false,
                    refused: None,
                    answer: Vec::new(),
                    stuck: true,
                });
            }
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(e) => return Err(Error::sys("poll", e)),
        }
        match fd::read(from, &mut first) {
            Ok(0) | Err(Errno::CONNRESET) => {
                if let Err(e) = sent {
                    return Err(Error::sys("send request", e));
                }
                return Ok(Reply {
                    listening: false,
                    refused: None,
                    answer: Vec::new(),
                    stuck: false,
                });
            }
            Ok(_) => break,
            Err(Errno::AGAIN) => {}
            Err(e) => return Err(Error::sys("read from listener", e)),
        }
    }
    if let Err(e) = sent
        && first != [REFUSED]
    {
        return Err(Error::sys("send request", e));
    }
    if first == [REFUSED] {
        let mut why = read_to_eof(from, hard)
            .map_err(|e| Error::sys("read from listener", e))?
            .unwrap_or_default();
        why.truncate(REASON_MAX);
        return Ok(Reply {
            listening: false,
            refused: Some(crate::base::text::escape_line(&why)),
            answer: Vec::new(),
            stuck: false,
        });
    }
    if first != [0] {
        return Err(Error::Protocol {
            peer: "listener".into(),
            why: "protocol error: no NUL byte".into(),
        });
    }
    start(prog)?;
    match read_to_eof(from, hard).map_err(|e| Error::sys("read from listener", e))? {
        Some(answer) => Ok(Reply {
            listening: true,
            refused: None,
            answer,
            stuck: false,
        }),
        None => Ok(Reply {
            listening: true,
            refused: None,
            answer: Vec::new(),
            stuck: true,
        }),
    }
}

/// Spawn `nptlistend` (found at `listend`, or in `$PATH` for a bare name) as a child
/// on two pipes, send it `req`, run `prog` once it listens, and return its answer. Its
/// exit code tells a timeout (99) from a failure (111, whose message is on our stderr,
/// which the child shares).
///
/// # Errors
/// `spawn`, `send request`, `read from listener`; `Timeout`; `Protocol` when the child
/// broke the protocol or failed.
pub fn wait_child(listend: &Path, req: &Request, prog: &[OsString]) -> Result<Vec<u8>, Error> {
    let mut child = Command::new(listend)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .op_at("spawn", listend)?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(Error::Internal("child pipes missing".into()));
    };
    let stdin: OwnedFd = stdin.into();
    let stdout: OwnedFd = stdout.into();
    let reply = converse(stdin.as_fd(), stdout.as_fd(), req, prog);
    drop(stdin);
    if !matches!(&reply, Ok(r) if !r.stuck) {
        let _ = child.kill();
    }
    let status = child.wait().op("wait for nptlistend")?;
    let reply = reply?;
    if reply.stuck {
        return Err(timed_out(&req.regex));
    }
    match status.code() {
        Some(0) if reply.listening && !reply.answer.is_empty() => Ok(reply.answer),
        Some(99) => Err(timed_out(&req.regex)),
        Some(c) => Err(Error::Protocol {
            peer: crate::base::text::path(listend).to_string(),
            why: format!("failed with exit code {c}"),
        }),
        None => Err(Error::Protocol {
            peer: crate::base::text::path(listend).to_string(),
            why: "was killed".into(),
        }),
    }
}

/// Connect to the nptlistend service at `path`, send `req` (its FIFODIR made absolute
/// against our working directory: the service cannot know it), run `prog` once it
/// listens, and return its answer. The service's exit code does not reach us: an
/// answerless EOF after the request's timeout is a timeout, one before it a failure.
/// A service that refuses says why (`REFUSED`); an older one just closes (its log says
/// why).
///
/// # Errors
/// `create socket`, `connect to` with the path; `get current directory`; `send
/// request`, `read from listener`; `Timeout`; `Protocol` when the service refused, failed,
/// or never answered (it never took the connection in time: busy, at its connection
/// limit, or stuck), which is not a timeout of the wait.
pub fn wait_service(path: &SockPath, req: &Request, prog: &[OsString]) -> Result<Vec<u8>, Error> {
    let mut req = req.clone();
    if !req.fifodir.is_absolute() {
        let cwd = std::env::current_dir().op("get current directory")?;
        req.fifodir = cwd.join(&req.fifodir);
    }
    let fd = sock::socket(SocketType::STREAM)?;
    sock::connect(&fd, path).op_at("connect to", path.display_path())?;
    let started = Instant::now();
    let reply = converse(fd.as_fd(), fd.as_fd(), &req, prog)?;
    let peer = format!(
        "nptlistend service at {}",
        crate::base::text::path(&path.display_path())
    );
    if let Some(why) = reply.refused {
        return Err(Error::Protocol {
            peer,
            why: format!("refused the request: {why}"),
        });
    }
    if reply.stuck && !reply.listening {
        return Err(Error::Protocol {
            peer,
            why: format!(
                "did not take the request within {} ms (busy or stuck)",
                req.timeout
                    .map_or(0, |t| t.saturating_add(GRACE).as_millis())
            ),
        });
    }
    if reply.stuck {
        return Err(timed_out(&req.regex));
    }
    if !reply.answer.is_empty() {
        return Ok(reply.answer);
    }
    if reply.listening && req.timeout.is_some_and(|t| started.elapsed() >= t) {
        return Err(timed_out(&req.regex));
    }
    let why = if reply.listening {
        "stopped listening without an answer"
    } else {
        "refused the request (see its log)"
    };
    Err(Error::Protocol {
        peer,
        why: why.into(),
    })
}

/// What npt-wait was asked to do.
#[derive(Clone, Debug)]
pub struct NptWaitConfig {
    /// The fifodir, regex and timeout.
    pub req: Request,
    /// `-s`: wait through the nptlistend service (`$NPT_IPCPATH`) instead of here.
    pub service: bool,
    /// The program to start once listening (s6-ftrig-listen1's prog); empty: none.
    pub prog: Vec<OsString>,
}

/// npt-wait: wait here ([`wait_here`]) or through the service ([`wait_service`]) and
/// write the matching events, and a newline, on stdout.
///
/// # Errors
/// Those of the wait; an invalid `$NPT_IPCPATH`; `write to stdout`.
pub fn npt_wait(cfg: &NptWaitConfig, _diag: &Diag) -> Result<(), Error> {
    let mut ev = if cfg.service {
        let path = std::env::var_os(ucspi::NPT_IPCPATH).unwrap_or(DEFAULT_IPCPATH.into());
        wait_service(&SockPath::parse(&path)?, &cfg.req, &cfg.prog)?
    } else {
        wait_here(&cfg.req, &cfg.prog)?
    };
    ev.push(b'\n');
    std::io::Write::write_all(&mut std::io::stdout(), &ev).op("write to stdout")
}

/// What nptlistend was asked to do.
#[derive(Clone, Debug, Default)]
pub struct NptlistendConfig {
    /// `-t`: how long a client has to send its whole request (`None`: no limit).
    pub request_timeout: Option<Duration>,
}

/// nptlistend: identify the caller on stdin, then serve one request (stdin, stdout).
/// Returns the exit code.
///
/// The one entry point that logs its own fatal error: a failure before the listening
/// NUL is logged first, then told to a service client (`refuse`), in that order
/// because a relay such as socat may kill us as soon as the client has its answer.
/// Such a failure is `Ok` with its exit code; a later one is returned as usual.
///
/// # Errors
/// A failure after the NUL: those of the wait, `write to client`, `Timeout`.
pub fn nptlistend(cfg: &NptlistendConfig, diag: &Diag) -> Result<u8, Error> {
    let (stdin, stdout) = (std::io::stdin(), std::io::stdout());
    let caller = match identify(
        stdin.as_fd(),
        std::env::var_os(ucspi::IPCREMOTEEUID).as_deref(),
        std::env::var_os(ucspi::IPCREMOTEEGID).as_deref(),
    ) {
        Ok(c) => c,
        Err(e) => {
            let code = diag.fatal(&e);
            refuse(stdout.as_fd(), &e);
            return Ok(code);
        }
    };
    for w in &caller.warnings {
        diag.warn(w);
    }
    match listend(stdin.as_fd(), stdout.as_fd(), &caller, cfg.request_timeout) {
        Ok(_) => Ok(0),
        Err(Failure {
            err,
            refusable: true,
        }) => {
            let code = diag.fatal(&err);
            refuse(stdout.as_fd(), &err);
            Ok(code)
        }
        Err(Failure { err, .. }) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let r = Request {
            fifodir: "/run/x/event".into(),
            regex: "u|U".into(),
            timeout: Some(Duration::from_millis(1500)),
        };
        let b = r.encode()?;
        assert_eq!(b, b"/run/x/event\0u|U\x001500\0");
        assert_eq!(Request::parse(&b)?, r);
        let r0 = Request::parse(b"d\0x\x000\0")?;
        assert_eq!(r0.timeout, None);
        Ok(())
    }

    #[test]
    fn bad_requests() {
        for bad in [
            &b"d\0x\0"[..],
            b"d\0x\x0012",
            b"\0x\x001\0",
            b"d\0x\0-1\0",
            b"d\0x\0 1\0",
            b"d\0x\0\0",
            b"d\0\xff\x001\0",
        ] {
            let e = Request::parse(bad).unwrap_err();
            assert!(e.to_string().starts_with("malformed request: "), "{e}");
            assert_eq!(e.exit_code(), 111);
        }
    }

    #[test]
    fn regex_semantics() -> Result<(), Box<dyn std::error::Error>> {
        let re = compile("^u")?;
        assert!(re.is_match(b"uD"));
        assert!(!re.is_match(b"du"));
        assert!(compile("D$")?.is_match(b"uD"));
        assert!(!compile("D$")?.is_match(b"D\n"));
        assert!(compile("a.b")?.is_match(b"a\nb"));
        assert!(compile("a.b")?.is_match(b"a\xffb"));
        assert!(compile("ab+c")?.is_match(b"xxabbbcz"));
        assert!(compile("[[:upper:]]")?.is_match(b"xU"));
        assert_eq!(compile("a(").unwrap_err().exit_code(), 111);
        // POSIX, not Perl: `\d` is a `d`.
        assert!(compile(r"^\d$")?.is_match(b"d"));
        assert!(!compile(r"^\d$")?.is_match(b"1"));
        Ok(())
    }

    #[test]
    fn service_refuses_costly_regexes() {
        assert!(check_service_regex("^[ud]*U$").is_ok());
        assert!(check_service_regex("a{0,1024}").is_ok());
        let e = check_service_regex("a{0,1025}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid regex a{0,1025}: its repetitions expand past 1024 positions"
        );
        let e = check_service_regex(r"(u)\1").unwrap_err();
        assert!(
            e.to_string()
                .ends_with("back-references are not accepted by the service")
        );
    }

    #[test]
    fn identify_pipe_and_socket() -> Result<(), Box<dyn std::error::Error>> {
        // A pipe: child mode, the environment decides (only as root).
        let (r, _w) = rustix::pipe::pipe()?;
        let c = identify(r.as_fd(), None, None)?;
        assert!(!c.service && c.peer.is_none() && c.drop.is_none());
        assert_eq!(
            identify(r.as_fd(), Some(OsStr::new("1")), None)
                .unwrap_err()
                .exit_code(),
            100
        );
        // A socketpair: service mode; the peer is this process (not our parent), so
        // it is served as us, and an environment claiming otherwise is only a warning.
        let (a, _b) = rustix::net::socketpair(
            rustix::net::AddressFamily::UNIX,
            SocketType::STREAM,
            rustix::net::SocketFlags::CLOEXEC,
            None,
        )?;
        let c = identify(
            a.as_fd(),
            Some(OsStr::new("4242")),
            Some(OsStr::new("4242")),
        )?;
        let me = rustix::process::geteuid();
        assert!(c.service);
        assert_eq!(c.peer.map(|p| p.0), Some(me));
        assert_eq!(c.drop, None, "the peer is ourselves: nothing to drop");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].ends_with(": using the kernel's"));
        // A socket that is not a Unix socket: no peer credentials, refused.
        let udp = rustix::net::socket(rustix::net::AddressFamily::INET, SocketType::DGRAM, None)?;
        let e = identify(udp.as_fd(), None, None).unwrap_err();
        assert_eq!(e.exit_code(), 100);
        assert_eq!(
            e.to_string(),
            "refusing to serve: stdin is a socket and not a Unix socket: no peer credentials"
        );
        Ok(())
    }

    #[test]
    fn caller() -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(caller_ids(None, None)?, None);
        let ids = caller_ids(Some(OsStr::new("65534")), Some(OsStr::new("65534")))?
            .ok_or("caller_ids gave no ids for uid/gid 65534")?;
        assert_eq!(ids.uid, Some(Uid::from_raw(65534)));
        assert_eq!(ids.groups, Some(vec![Gid::from_raw(65534)]));
        assert_eq!(
            caller_ids(Some(OsStr::new("1")), None)
                .unwrap_err()
                .exit_code(),
            100
        );
        assert_eq!(
            caller_ids(Some(OsStr::new("x")), Some(OsStr::new("1")))
                .unwrap_err()
                .exit_code(),
            100
        );
        Ok(())
    }
}
