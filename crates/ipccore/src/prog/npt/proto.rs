//! The nptlistend request protocol, shared by npt-wait (the client) and nptlistend (the
//! listener): the request, the regex, the wait on a subscribed fifodir.
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
//! Fifo handling is `fifodir`'s; this module never prints.

use crate::base::error::Error;
use crate::fs::fifodir::Listener;
use crate::sys::fd;
use crate::sys::regex::{Cflags, Regex};
use crate::sys::sig::{self, SelfPipe};
use crate::sys::time;
use rustix::event::{PollFd, PollFlags};
use rustix::fd::BorrowedFd;
use rustix::io::Errno;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where the nptlistend service listens unless `$NPT_IPCPATH` says otherwise.
pub(crate) const DEFAULT_IPCPATH: &str = "/run/nptlistend/socket";

/// The longest request accepted: a service must not buffer whatever a client sends.
pub const REQUEST_MAX: usize = 65536;

/// The most event bytes kept while nothing matches. Anyone may write to a listener
/// fifo (mode 0622), so the buffer must have a ceiling; and the regex is matched
/// against all of it after every read, which glibc's regexec does in time about
/// quadratic in its length for some patterns (`a.*b` over 16 KiB of `a`: about a
/// second), so the ceiling is low.
pub const EVENTS_MAX: usize = 16 << 10;

/// Signals that end a wait cleanly (fifo removed, exit 111) instead of killing it:
/// ipcserver's HUP and QUIT send TERM to its children.
pub(super) const TRAPPED: [i32; 3] = [sig::SIGTERM, sig::SIGINT, sig::SIGHUP];

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
    } else if w.nullable_repeat {
        "a repetition of what can match nothing is not accepted by the service".to_string()
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

pub(super) fn timed_out(re: &str) -> Error {
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

/// The first byte of a refusal on the wire: a service that cannot take a request
/// answers `!` and the reason (UTF-8, escaped), instead of the NUL, then closes.
pub(super) const REFUSED: u8 = b'!';

/// The longest refusal reason a client reads.
pub(super) const REASON_MAX: usize = 4096;

/// How long a service client has to send its whole request, by default (nptlistend
/// `-t`): ample for a local client, short enough that idle connections cannot hold the
/// service's slots.
pub const REQUEST_TIMEOUT_MS: u64 = 5000;

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
        let e = check_service_regex("((|z){480})+").unwrap_err();
        assert!(
            e.to_string()
                .ends_with("a repetition of what can match nothing is not accepted by the service")
        );
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
}
