//! Diagnostics on stderr, in skalibs' forms: `PROG: fatal: …`, `PROG: warning: …`,
//! `PROG: info: …`, `PROG: usage: …`.
//!
//! Each line is built in memory, escaped as a whole (`base::text::escape_line`), and
//! sent with one `write` to fd 2, so lines from a server and its children never
//! interleave mid-line; write errors are ignored, as strerr does: a program must not die
//! because its log is gone. Verbosity is a value, not a global.

use crate::base::error::Error;
use crate::base::text::escape_line;

/// Where messages go, and how many of them.
#[derive(Clone, Copy, Debug)]
pub struct Diag {
    /// The program name every line starts with (a constant, as s6's `PROG`, never
    /// `argv[0]`).
    pub prog: &'static str,
    /// How much besides fatal errors is printed: 0 (`-q`) nothing, 1 (default)
    /// warnings, 2 (`-v`) info lines too.
    pub verbosity: u32,
}

impl Diag {
    /// Diagnostics prefixed with `prog`, at the default verbosity (warnings).
    pub fn new(prog: &'static str) -> Self {
        Diag { prog, verbosity: 1 }
    }

    fn line(&self, kind: &str, msg: &[u8]) {
        let mut buf = Vec::with_capacity(self.prog.len() + kind.len() + msg.len() + 4);
        buf.extend_from_slice(self.prog.as_bytes());
        buf.extend_from_slice(b": ");
        buf.extend_from_slice(kind.as_bytes());
        buf.extend_from_slice(b": ");
        buf.extend_from_slice(escape_line(msg).as_bytes());
        buf.push(b'\n');
        write_stderr(&buf);
    }

    /// `PROG: fatal: MSG`, whatever the verbosity.
    pub fn fatal_msg(&self, msg: impl AsRef<[u8]>) {
        self.line("fatal", msg.as_ref());
    }

    /// Print `err` as fatal and return the exit code that goes with it.
    pub fn fatal(&self, err: &Error) -> u8 {
        self.fatal_msg(err.to_string());
        err.exit_code()
    }

    /// `PROG: usage: USAGE`; the caller exits 100.
    pub fn usage(&self, usage: &str) -> u8 {
        self.line("usage", usage.as_bytes());
        100
    }

    /// `PROG: warning: MSG` at verbosity ≥ 1.
    pub fn warn(&self, msg: impl AsRef<[u8]>) {
        if self.verbosity >= 1 {
            self.line("warning", msg.as_ref());
        }
    }

    /// `PROG: info: MSG` at verbosity ≥ 2.
    pub fn info(&self, msg: impl AsRef<[u8]>) {
        if self.verbosity >= 2 {
            self.line("info", msg.as_ref());
        }
    }

    /// `PROG: info: MSG` at every verbosity (s6-ipcserverd's deny line).
    pub fn always_info(&self, msg: impl AsRef<[u8]>) {
        self.line("info", msg.as_ref());
    }

    /// `PROG: info: MSG` at verbosity ≥ 1 (for events s6 reports even when not verbose).
    pub(crate) fn notice(&self, msg: impl AsRef<[u8]>) {
        if self.verbosity >= 1 {
            self.line("info", msg.as_ref());
        }
    }
}

fn write_stderr(buf: &[u8]) {
    use std::os::fd::AsFd;
    // Errors are ignored, as strerr does: a lost log line must not kill the program.
    let _ = crate::sys::fd::write_all(std::io::stderr().as_fd(), buf);
}
