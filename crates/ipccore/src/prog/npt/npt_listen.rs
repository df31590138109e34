//! `npt-listen` (s6-ftrig-listen's job): subscribe to several fifodirs at once, run a
//! program, and wait until the events of all of them (or of one) match their regexes.
//!
//! The fifodir+regex pairs come as an execline block, the way `execlineb` hands a
//! `{ … }` block to a program: each word prefixed with a space, the block ended by an
//! empty word (see [`split_block`]). Subscribing and matching are `fifodir`'s and
//! `npt`'s; this module only keeps several listeners in one poll loop.

use crate::base::error::{Error, ResultExt};
use crate::fs::fifodir::Listener;
use crate::sys::diag::Diag;
use crate::sys::regex::{Cflags, Regex};
use crate::sys::sig::{self, SelfPipe};
use crate::sys::spawn::Spawner;
use rustix::event::{PollFd, PollFlags};
use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

/// What to wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NptListenConfig {
    /// `-o`: one match is enough; otherwise (`-a`, the default) all must match.
    pub any: bool,
    /// `-t`: give up after this long (exit 1, as s6-ftrig-listen).
    pub timeout: Option<Duration>,
    /// The fifodirs and their regexes, in order.
    pub subs: Vec<(PathBuf, OsString)>,
    /// The program to spawn once subscribed.
    pub prog: Vec<OsString>,
}

/// Why a command line is not a block followed by a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockError {
    /// Print the reason, then the usage line (s6's cases: too few words, an empty or odd
    /// block, nothing after it).
    Usage(&'static str),
    /// No empty word ends the block.
    Unterminated,
}

/// Split `args` (after the options) into the block's words and the program, with the
/// checks s6-ftrig-listen makes, in its order. A word starting with a space loses that
/// one space (execlineb's quoting of block contents); an empty word ends the block.
///
/// # Errors
/// [`BlockError`].
pub fn split_block(args: &[OsString]) -> Result<(Vec<OsString>, Vec<OsString>), BlockError> {
    if args.len() < 4 {
        return Err(BlockError::Usage("too few arguments"));
    }
    let end = args.iter().position(|a| a.is_empty());
    // s6's count: the block's length, or one past the end when no empty word is found.
    let n = end.unwrap_or(args.len() + 1);
    if n == 0 {
        return Err(BlockError::Usage("empty block"));
    }
    if n % 2 == 1 {
        return Err(BlockError::Usage("the block is not fifodir regexp pairs"));
    }
    if args.len() == n + 1 {
        return Err(BlockError::Usage("missing prog"));
    }
    let Some(end) = end else {
        return Err(BlockError::Unterminated);
    };
    let block = args
        .get(..end)
        .unwrap_or_default()
        .iter()
        .map(|a| match a.as_bytes().strip_prefix(b" ") {
            Some(rest) => OsStr::from_bytes(rest).to_os_string(),
            None => a.clone(),
        })
        .collect();
    let prog = args.get(end + 1..).unwrap_or_default().to_vec();
    Ok((block, prog))
}

/// Signals that end the wait cleanly (our fifos removed) instead of killing us.
const TRAPPED: [i32; 3] = [sig::SIGTERM, sig::SIGINT, sig::SIGHUP];

/// One fifodir listened to, its regex, and the events it has sent so far.
struct Sub {
    listener: Listener,
    re: Regex,
    events: Vec<u8>,
    done: bool,
}

/// Subscribe to every fifodir, spawn the program, wait.
///
/// # Errors
/// `subscribe to DIR with regexp RE` (s6's wording, with the cause), `spawn PROG`,
/// `poll`; `Denied`-free: a timeout is `Error::Timeout` with s6's message (the program
/// exits 1 for it); `Interrupted` on a trapped signal.
pub fn npt_listen(cfg: &NptListenConfig, _diag: &Diag) -> Result<(), Error> {
    let mut sigs = SelfPipe::new(&[sig::SIGTERM, sig::SIGINT, sig::SIGHUP, sig::SIGCHLD])?;
    let deadline = crate::sys::time::deadline(cfg.timeout);
    let mut subs = subscribe_all(cfg)?;
    let sp = Spawner::new(&cfg.prog, &[])
        .ok_or_else(|| Error::Usage("an argument contains a NUL byte".into()))?;
    let p = cfg.prog.first().cloned().unwrap_or_default();
    sp.spawn_inheriting().op_at("spawn", PathBuf::from(p))?;
    loop {
        let matched = subs.iter().filter(|s| s.done).count();
        if (cfg.any && matched > 0) || matched == subs.len() {
            return Ok(());
        }
        handle_signals(&mut sigs)?;
        let timeout = crate::sys::time::poll_timeout(deadline);
        if timeout
            .as_ref()
            .is_some_and(|t| t.tv_sec == 0 && t.tv_nsec == 0)
        {
            return Err(Error::Timeout(
                "unable to get expected event: Connection timed out".into(),
            ));
        }
        let mut fds: Vec<PollFd<'_>> = subs
            .iter()
            .filter(|s| !s.done)
            .map(|s| PollFd::from_borrowed_fd(s.listener.fd(), PollFlags::IN))
            .collect();
        let sigfd = sigs.fd();
        fds.push(PollFd::from_borrowed_fd(sigfd, PollFlags::IN));
        match rustix::event::poll(&mut fds, timeout.as_ref()) {
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(e) => return Err(Error::sys("poll", e)),
        }
        let ready: Vec<bool> = fds.iter().map(|f| !f.revents().is_empty()).collect();
        drop(fds);
        read_events(&mut subs, &ready)?;
    }
}

/// Subscribe to each fifodir of `cfg`, with its regex compiled.
fn subscribe_all(cfg: &NptListenConfig) -> Result<Vec<Sub>, Error> {
    let mut subs = Vec::with_capacity(cfg.subs.len());
    for (dir, re) in &cfg.subs {
        let fail = |e: &Error| {
            let why = match e.errno() {
                Some(n) => crate::base::text::strerror(n),
                None => e.to_string(),
            };
            Error::Subscribe {
                dir: dir.clone(),
                re: re.clone(),
                why,
            }
        };
        // Bytes, as s6-ftrigrd compiles them (s6 reports EINVAL, not regerror's text).
        let compiled = Regex::compile(re.as_bytes(), Cflags::EXTENDED)
            .map_err(|_| fail(&Error::sys("compile", Errno::INVAL)))?;
        let listener = Listener::subscribe(dir).map_err(|e| fail(&e))?;
        subs.push(Sub {
            listener,
            re: compiled,
            events: Vec::new(),
            done: false,
        });
    }
    Ok(subs)
}

/// Reap whatever ended (prog: we do not wait for it otherwise); a trapped signal ends
/// the wait (`Interrupted`), so that our fifos are removed.
fn handle_signals(sigs: &mut SelfPipe) -> Result<(), Error> {
    for n in sigs.pending() {
        if n == sig::SIGCHLD {
            while let Ok(Some(_)) =
                rustix::process::waitpid(None, rustix::process::WaitOptions::NOHANG)
            {}
        } else if TRAPPED.contains(&n) {
            return Err(Error::Interrupted(sig::name(n)));
        }
    }
    Ok(())
}

/// Read the events of the subscriptions still waiting that poll found `ready` (in the
/// order of the poll set), and mark those that match.
fn read_events(subs: &mut [Sub], ready: &[bool]) -> Result<(), Error> {
    for (i, s) in subs.iter_mut().filter(|s| !s.done).enumerate() {
        if ready.get(i).copied().unwrap_or(false) && s.listener.read_into(&mut s.events)? > 0 {
            // regexec's time grows with what it is fed: never more than EVENTS_MAX.
            let over = s.events.len() > super::proto::EVENTS_MAX;
            s.events.truncate(super::proto::EVENTS_MAX);
            if s.re.is_match(&s.events) {
                s.done = true;
            } else if over {
                return Err(Error::TooManyEvents {
                    max: super::proto::EVENTS_MAX,
                    re: None,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn blocks_as_s6() {
        let (b, p) = split_block(&v(&[" f1", " a", "", "prog", "x"])).unwrap();
        assert_eq!(b, v(&["f1", "a"]));
        assert_eq!(p, v(&["prog", "x"]));
        // Unquoted words are taken as they are; only one space is removed.
        let (b, _) = split_block(&v(&["f1", "  a", "", "p"])).unwrap();
        assert_eq!(b, v(&["f1", " a"]));
        for (args, e) in [
            (&["f1", "a", ""][..], BlockError::Usage("too few arguments")),
            (&["", "f1", "a", "p"][..], BlockError::Usage("empty block")),
            (
                &["f1", "a", "f2", "", "p"][..],
                BlockError::Usage("the block is not fifodir regexp pairs"),
            ),
            (&["f1", "a", "f2", "b", "p"][..], BlockError::Unterminated),
            (
                &["f1", "a", "f2", "p"][..],
                BlockError::Usage("the block is not fifodir regexp pairs"),
            ),
            (
                &["f1", "a", "f2", "b", ""][..],
                BlockError::Usage("missing prog"),
            ),
        ] {
            assert_eq!(split_block(&v(args)), Err(e), "{args:?}");
        }
    }
}
