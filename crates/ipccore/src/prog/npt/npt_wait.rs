//! npt-wait: wait for fifodir events matching a regex—in this process, through an
//! `nptlistend` child, or through the `nptlistend` service on a local socket
//! (s6-ftrig-wait, s6-ftrig-listen1). The request protocol is [`super::proto`]'s.

use super::proto::{
    DEFAULT_IPCPATH, Outcome, REASON_MAX, REFUSED, Request, TRAPPED, compile, timed_out, wait,
};
use crate::base::error::{Error, ResultExt};
use crate::base::ucspi;
use crate::fs::fifodir::Listener;
use crate::sys::diag::Diag;
use crate::sys::fd;
use crate::sys::sig::SelfPipe;
use crate::sys::sock::{self, SockPath};
use crate::sys::spawn::Spawner;
use crate::sys::time;
use rustix::event::{PollFd, PollFlags};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::SocketType;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a client waits past the request's own timeout before it gives up on a
/// listener that did not answer.
const GRACE: Duration = Duration::from_secs(5);

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
pub(crate) fn wait_here(req: &Request, prog: &[OsString]) -> Result<Vec<u8>, Error> {
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

/// What a listener sent first.
enum First {
    /// Its first byte: the NUL, or `REFUSED`.
    Byte(u8),
    /// EOF (or a reset) before any byte.
    Eof,
    /// Nothing before the deadline.
    Stuck,
}

/// Read the listener's first byte, within `hard`. The NUL comes first and alone, since
/// nothing can match before it is sent; one byte is read so the answer is not mixed
/// into it.
fn first_byte(from: BorrowedFd<'_>, hard: Option<Instant>) -> Result<First, Error> {
    let mut first = [0u8; 1];
    loop {
        let t = time::poll_timeout(hard);
        let mut fds = [PollFd::new(&from, PollFlags::IN)];
        match rustix::event::poll(&mut fds, t.as_ref()) {
            Ok(0) => return Ok(First::Stuck),
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(e) => return Err(Error::sys("poll", e)),
        }
        match fd::read(from, &mut first) {
            Ok(0) | Err(Errno::CONNRESET) => return Ok(First::Eof),
            Ok(_) => return Ok(First::Byte(first[0])),
            Err(Errno::AGAIN) => {}
            Err(e) => return Err(Error::sys("read from listener", e)),
        }
    }
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
    let first = match first_byte(from, hard)? {
        First::Byte(b) => [b],
        First::Stuck => {
            return Ok(Reply {
                listening: false,
                refused: None,
                answer: Vec::new(),
                stuck: true,
            });
        }
        First::Eof => {
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
    };
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
pub(crate) fn wait_service(
    path: &SockPath,
    req: &Request,
    prog: &[OsString],
) -> Result<Vec<u8>, Error> {
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

/// npt-wait: wait here (`wait_here`) or through the service (`wait_service`) and
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
    // A stdout closed at start is the runtime's /dev/null now: fail as the write to the
    // closed fd fails in s6-ftrig-wait and s6-ftrig-listen1 (111), not into the void.
    if crate::sys::exec::runtime_null(1) {
        return Err(Error::sys("write to stdout", rustix::io::Errno::BADF));
    }
    std::io::Write::write_all(&mut std::io::stdout(), &ev).op("write to stdout")
}
