//! Errors of every ipccore operation, and the one map from an error to an exit code.
//!
//! A system error carries the failed operation as a skalibs-style verb phrase ("bind
//! to", "create socket") and the path it concerned, so a program can print
//! `unable to bind to /run/x: Permission denied` without knowing what went wrong where.

use rustix::io::Errno;
use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// Everything an ipccore call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call failed.
    #[error("unable to {op}{}: {}", Arg(.path), crate::base::text::strerror(*.errno))]
    Sys {
        /// The failed step as a verb phrase ("bind to", "create socket").
        op: &'static str,
        /// The path the step concerned, if any.
        path: Option<PathBuf>,
        /// Printed in the message, not exposed as `source`: a chain would print it twice.
        errno: Errno,
    },
    /// `rename(from, to)` failed.
    #[error("unable to rename {} to {}: {}", crate::base::text::path(.from), crate::base::text::path(.to), crate::base::text::strerror(*.errno))]
    Rename {
        /// The name renamed.
        from: PathBuf,
        /// The name it was to get.
        to: PathBuf,
        /// Why `rename` failed.
        errno: Errno,
    },
    /// A peer closed the connection before `op` could complete.
    #[error("unable to {op}: connection closed")]
    Closed {
        /// The step that found the connection closed ("read banner from server").
        op: &'static str,
    },
    /// A request that does not follow the protocol (`why` says how).
    #[error("malformed request: {0}")]
    MalformedRequest(String),
    /// A trapped signal (named) ended the wait.
    #[error("interrupted by {0}")]
    Interrupted(String),
    /// A cdb ruleset that is not a valid cdb file.
    #[error("invalid cdb ruleset {}: {why}", crate::base::text::path(.path))]
    InvalidRuleset {
        /// The cdb file.
        path: PathBuf,
        /// What is wrong with it (cdb2's reason).
        why: String,
    },
    /// A path that is not what it should be (it appeared, changed, or is another
    /// kind of file): ipctools refuses to `act` on it rather than race for it.
    #[error("{} {why}: refusing to {act} it", crate::base::text::path(.path))]
    Refusing {
        /// The path.
        path: PathBuf,
        /// What it turned out to be ("is a symbolic link").
        why: String,
        /// What was to be done to it ("remove").
        act: &'static str,
    },
    /// The read `op` got fewer bytes than the protocol's fixed-size message.
    #[error("unable to {op}: short read")]
    ShortRead {
        /// The read ("read banner from server").
        op: &'static str,
    },
    /// An s6-sudo server hung up before its banner: what an access check that says no
    /// looks like from the client.
    #[error(
        "connection refused by the server (it closed the connection before its banner: access rules?)"
    )]
    RefusedByServer,
    /// A peer (a fifodir listener, nptlistend, its service) broke the protocol, failed
    /// or refused.
    #[error("{peer} {why}")]
    Protocol {
        /// Who, already escaped ("listener", "nptlistend service at /run/x").
        peer: String,
        /// What it did ("refused the request: …", "was killed").
        why: String,
    },
    /// A regular expression that does not compile.
    #[error("invalid regex {}: {why}", crate::base::text::Escaped(.re.as_bytes()))]
    InvalidRegex {
        /// The regex as given (escaped when printed).
        re: String,
        /// The parser's one-line reason.
        why: String,
    },
    /// npt-listen could not subscribe to a fifodir for a regex.
    #[error(
        "unable to subscribe to {} with regexp {}: {why}",
        crate::base::text::path(.dir),
        crate::base::text::Escaped(.re.as_bytes())
    )]
    Subscribe {
        /// The fifodir.
        dir: PathBuf,
        /// The regex as given.
        re: OsString,
        /// The strerror or the reason.
        why: String,
    },
    /// Too many bytes of fifodir events arrived without a match.
    #[error("more than {max} bytes of events without a match{}", ForRe(.re))]
    TooManyEvents {
        /// The limit, in bytes.
        max: usize,
        /// The regex waited for, when the message names it.
        re: Option<String>,
    },
    /// A resource limit is below what the program needs.
    #[error("{what} too low")]
    LimitTooLow {
        /// The limit ("open file limit").
        what: &'static str,
    },
    /// A cdb rule whose value does not decode.
    #[error("invalid rule {key} in cdb{}: {why}", InRuleset(.ruleset))]
    InvalidRule {
        /// The rule's key ("uid0", "gid100").
        key: String,
        /// The cdb file, when the message names it.
        ruleset: Option<PathBuf>,
        /// The decoder's reason.
        why: String,
    },
    /// A cdb file that cannot be read as access rules while decompiling it.
    #[error("unable to {op}: {why}")]
    InvalidCdb {
        /// The step that failed ("cdb_traverse_next", "handle cdb record").
        op: &'static str,
        /// Why.
        why: String,
    },
    /// A rules file whose content cannot be used (too big, a value too long).
    #[error("{}: {why}", crate::base::text::path(.path))]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with its content.
        why: String,
    },
    /// A configuration file (ipchttpgate's rules) with a line that cannot be used: the
    /// program refuses to start (exit 100). Line 0 is the file as a whole.
    #[error("{}: line {line}: {why}", crate::base::text::path(.path))]
    BadConfig {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it (escaped where it quotes the file).
        why: String,
    },
    /// An inherited fd that is a socket, but not a listening one.
    #[error("{what} is not a listening socket")]
    NotListening {
        /// The fd as messages name it ("stdin", "fd 3").
        what: String,
    },
    /// A check on an inherited fd failed (`notification-fd sanity check failed: Bad
    /// file descriptor`, s6-notify-fd-from-socket's words).
    #[error("{what} sanity check failed: {}", crate::base::text::strerror(*.errno))]
    SanityCheck {
        /// The fd as the message names it ("notification-fd").
        what: &'static str,
        /// Why the check failed.
        errno: Errno,
    },
    /// Bad environment or bad request data, reported like a usage error (exit 100).
    #[error("{0}")]
    Usage(String),
    /// The program to chain-load could not be executed.
    #[error("unable to exec {}: {}", crate::base::text::Escaped(.prog.as_bytes()), crate::base::text::strerror(*.errno))]
    Exec {
        /// The program (argv\[0\]).
        prog: OsString,
        /// Why `execve` failed (ENOENT: 127, else 126).
        errno: Errno,
    },
    /// An access check said no (exit 1).
    #[error("{0}")]
    Denied(String),
    /// A deadline passed (exit 99).
    #[error("{0}")]
    Timeout(String),
    /// Something that cannot happen did (exit 101).
    #[error("internal error: {0}: please submit a bug report")]
    Internal(String),
}

struct Arg<'a>(&'a Option<PathBuf>);

/// ` for RE`, or nothing.
struct ForRe<'a>(&'a Option<String>);

impl fmt::Display for ForRe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(re) => write!(f, " for {re}"),
            None => Ok(()),
        }
    }
}

/// ` ruleset PATH`, or nothing.
struct InRuleset<'a>(&'a Option<PathBuf>);

impl fmt::Display for InRuleset<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => write!(f, " ruleset {}", crate::base::text::path(p)),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Arg<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            // Escaped: the path may come from a client or a hostile directory, and this
            // text may reach a log by another way than `Diag`.
            Some(p) => write!(f, " {}", crate::base::text::path(p)),
            None => Ok(()),
        }
    }
}

impl Error {
    /// A system error for `op`, with no path.
    pub fn sys(op: &'static str, errno: Errno) -> Self {
        Error::Sys {
            op,
            path: None,
            errno,
        }
    }

    /// A system error for `op` on `path`.
    pub(crate) fn sys_at(op: &'static str, path: impl Into<PathBuf>, errno: Errno) -> Self {
        Error::Sys {
            op,
            path: Some(path.into()),
            errno,
        }
    }

    /// The errno, for a system or exec error.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Sys { errno, .. }
            | Error::Rename { errno, .. }
            | Error::Exec { errno, .. }
            | Error::SanityCheck { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// The exit code a program uses for this error (documented in every man page).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Sys { .. }
            | Error::Rename { .. }
            | Error::Closed { .. }
            | Error::MalformedRequest(_)
            | Error::Interrupted(_)
            | Error::InvalidRuleset { .. }
            | Error::Refusing { .. }
            | Error::ShortRead { .. }
            | Error::RefusedByServer
            | Error::Protocol { .. }
            | Error::InvalidRegex { .. }
            | Error::Subscribe { .. }
            | Error::TooManyEvents { .. }
            | Error::LimitTooLow { .. }
            | Error::InvalidRule { .. }
            | Error::InvalidCdb { .. }
            | Error::BadFile { .. }
            | Error::NotListening { .. }
            | Error::SanityCheck { .. } => 111,
            Error::Usage(_) | Error::BadConfig { .. } => 100,
            Error::Exec { errno, .. } => {
                if *errno == Errno::NOENT {
                    127
                } else {
                    126
                }
            }
            Error::Denied(_) => 1,
            Error::Timeout(_) => 99,
            Error::Internal(_) => 101,
        }
    }
}

/// `.op("create socket")?` and `.op_at("bind to", path)?` on rustix results.
pub trait ResultExt<T> {
    /// Name the failed operation (`unable to OP`).
    fn op(self, op: &'static str) -> Result<T, Error>;
    /// Name the failed operation and the path it was done on (`unable to OP PATH`).
    fn op_at(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T, Error>;
}

impl<T> ResultExt<T> for Result<T, Errno> {
    fn op(self, op: &'static str) -> Result<T, Error> {
        self.map_err(|e| Error::sys(op, e))
    }
    fn op_at(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T, Error> {
        self.map_err(|e| Error::sys_at(op, path, e))
    }
}

impl<T> ResultExt<T> for std::io::Result<T> {
    fn op(self, op: &'static str) -> Result<T, Error> {
        self.map_err(|e| Error::sys(op, Errno::from_io_error(&e).unwrap_or(Errno::IO)))
    }
    fn op_at(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T, Error> {
        self.map_err(|e| Error::sys_at(op, path, Errno::from_io_error(&e).unwrap_or(Errno::IO)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sys_message_names_op_path_and_strerror() {
        let e = Error::sys_at("bind to", "/run/x", Errno::ACCESS);
        assert_eq!(e.to_string(), "unable to bind to /run/x: Permission denied");
        assert_eq!(e.exit_code(), 111);
        let e = Error::sys_at("create fifo in", "/x\n\x1by", Errno::ACCESS);
        assert_eq!(
            e.to_string(),
            "unable to create fifo in /x\\n\\x1by: Permission denied"
        );
    }

    #[test]
    fn errno_is_said_once() {
        use std::error::Error as _;
        let e = Error::sys("bind", Errno::ACCESS);
        assert!(e.source().is_none());
        assert_eq!(e.errno(), Some(Errno::ACCESS));
        let e = Error::Rename {
            from: "/d/x:tmp".into(),
            to: "/d/x".into(),
            errno: Errno::NOSPC,
        };
        assert_eq!(
            e.to_string(),
            "unable to rename /d/x:tmp to /d/x: No space left on device"
        );
        assert_eq!((e.errno(), e.exit_code()), (Some(Errno::NOSPC), 111));
    }

    #[test]
    fn specific_variants_keep_the_old_text() {
        for (e, text) in [
            (
                Error::Closed {
                    op: "get exit status from server",
                },
                "unable to get exit status from server: connection closed",
            ),
            (
                Error::MalformedRequest("too long".into()),
                "malformed request: too long",
            ),
            (
                Error::Interrupted("SIGTERM".into()),
                "interrupted by SIGTERM",
            ),
            (
                Error::InvalidRuleset {
                    path: "/r\n.cdb".into(),
                    why: "truncated header".into(),
                },
                "invalid cdb ruleset /r\\n.cdb: truncated header",
            ),
            (
                Error::ShortRead {
                    op: "read banner from server",
                },
                "unable to read banner from server: short read",
            ),
            (
                Error::RefusedByServer,
                "connection refused by the server (it closed the connection before its \
                 banner: access rules?)",
            ),
            (
                Error::Protocol {
                    peer: "listener".into(),
                    why: "protocol error: no NUL byte".into(),
                },
                "listener protocol error: no NUL byte",
            ),
            (
                Error::InvalidRegex {
                    re: "a(\n".into(),
                    why: "unclosed group".into(),
                },
                "invalid regex a(\\n: unclosed group",
            ),
            (
                Error::Subscribe {
                    dir: "/d\x1b".into(),
                    re: "x".into(),
                    why: "No such file or directory".into(),
                },
                "unable to subscribe to /d\\x1b with regexp x: No such file or directory",
            ),
            (
                Error::TooManyEvents { max: 8, re: None },
                "more than 8 bytes of events without a match",
            ),
            (
                Error::TooManyEvents {
                    max: 8,
                    re: Some("^a".into()),
                },
                "more than 8 bytes of events without a match for ^a",
            ),
            (
                Error::LimitTooLow {
                    what: "open file limit",
                },
                "open file limit too low",
            ),
            (
                Error::InvalidRule {
                    key: "uid0".into(),
                    ruleset: None,
                    why: "bad".into(),
                },
                "invalid rule uid0 in cdb: bad",
            ),
            (
                Error::InvalidRule {
                    key: "uid0".into(),
                    ruleset: Some("/r.cdb".into()),
                    why: "bad".into(),
                },
                "invalid rule uid0 in cdb ruleset /r.cdb: bad",
            ),
            (
                Error::InvalidCdb {
                    op: "cdb_traverse_next",
                    why: "invalid cdb".into(),
                },
                "unable to cdb_traverse_next: invalid cdb",
            ),
            (
                Error::BadFile {
                    path: "/r/exec".into(),
                    why: "file too big (over 4096 bytes)".into(),
                },
                "/r/exec: file too big (over 4096 bytes)",
            ),
            (
                Error::NotListening {
                    what: "stdin".into(),
                },
                "stdin is not a listening socket",
            ),
            (
                Error::SanityCheck {
                    what: "notification-fd",
                    errno: Errno::BADF,
                },
                "notification-fd sanity check failed: Bad file descriptor",
            ),
        ] {
            assert_eq!((e.to_string().as_str(), e.exit_code()), (text, 111));
        }
    }

    #[test]
    fn codes_outside_111() {
        for (e, code) in [
            (Error::Usage("PROTO not set".into()), 100),
            (
                Error::BadConfig {
                    path: "/r\n".into(),
                    line: 3,
                    why: "unknown action x".into(),
                },
                100,
            ),
            (Error::Denied("denied".into()), 1),
            (Error::Timeout("timed out".into()), 99),
            (Error::Internal("x".into()), 101),
        ] {
            assert_eq!(e.exit_code(), code, "{e}");
        }
        assert_eq!(
            Error::Internal("x".into()).to_string(),
            "internal error: x: please submit a bug report"
        );
    }

    #[test]
    fn exec_codes() {
        let p = OsString::from("nope");
        assert_eq!(
            Error::Exec {
                prog: p.clone(),
                errno: Errno::NOENT
            }
            .exit_code(),
            127
        );
        assert_eq!(
            Error::Exec {
                prog: p,
                errno: Errno::ACCESS
            }
            .exit_code(),
            126
        );
    }
}
