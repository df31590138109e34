//! Text for messages, with no I/O: `strerror`, and the one escaping routine for the
//! bytes nobody vetted (paths, regexes, event bytes, peer paths, rule names sent by
//! clients).
//!
//! Each such value is escaped where it is put into a message ([`escape`], [`Escaped`],
//! [`path`]): only printable ASCII is kept, a backslash is doubled, so the text is
//! unambiguous, and nothing else (controls, ESC, bidi or zero-width characters, bytes
//! that are not UTF-8) reaches a log or a terminal raw. As a safety net, every whole line
//! is escaped again on its way out (`escape_line`, used by `sys::diag`): that pass keeps
//! our own text (UTF-8 such as `…`) and backslashes, so it leaves escaped values
//! unchanged, and only catches a control byte a caller forgot.

use rustix::io::Errno;
use std::os::unix::ffi::OsStrExt;

/// The C library's message for `errno`, without rustix's ` (os error N)` suffix.
pub fn strerror(errno: Errno) -> String {
    let s = errno.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Bytes of a path or OS string, for messages: paths are written raw, never lossily
/// (the line they end up in is escaped as a whole).
pub fn bytes(s: &std::ffi::OsStr) -> &[u8] {
    s.as_bytes()
}

/// An untrusted value (a path, a regex, a name, event bytes) for a message: printable
/// ASCII as is, except the backslash, which is doubled; `\n`, `\r`, `\t` for those; and
/// `\xNN` for every other byte (controls, DEL, every byte of a non-ASCII character,
/// bytes that are not UTF-8). The result is printable ASCII, so no value can end a line,
/// reach a terminal as an escape sequence, or reorder a line with bidi characters, and
/// two different values never print the same.
pub fn escape(bytes: &[u8]) -> String {
    escape_as(bytes, Mode::Value)
}

/// A whole message (our own text around values already escaped, or a reason a peer
/// sent): `\n`, `\r`, `\t` for those, `\xNN` for every other control byte (C0, DEL,
/// the C1 controls U+0080–U+009F) and for every byte that is not part of valid UTF-8;
/// everything else is kept, UTF-8 and backslashes included, so that text [`escape`]
/// made passes unchanged (the pass is idempotent on it).
pub(crate) fn escape_line(bytes: &[u8]) -> String {
    escape_as(bytes, Mode::Line)
}

fn escape_as(bytes: &[u8], mode: Mode) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    escape_into(&mut out, bytes, mode);
    // Only ASCII escapes and whole valid UTF-8 sequences went in.
    String::from_utf8(out).unwrap_or_default()
}

/// `Display` of an OS string or path through [`escape`].
pub struct Escaped<'a>(pub &'a [u8]);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&escape(self.0))
    }
}

/// A path for a message, escaped.
pub fn path(p: &std::path::Path) -> Escaped<'_> {
    Escaped(p.as_os_str().as_bytes())
}

/// What [`escape_into`] keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A value: printable ASCII only, backslash doubled.
    Value,
    /// A whole line: every printable character, backslash as is.
    Line,
}

/// The one escaping routine, for both modes.
fn escape_into(out: &mut Vec<u8>, mut bytes: &[u8], mode: Mode) {
    fn hex(out: &mut Vec<u8>, b: u8) {
        const H: &[u8; 16] = b"0123456789abcdef";
        out.extend_from_slice(b"\\x");
        out.push(H[usize::from(b >> 4)]);
        out.push(H[usize::from(b & 15)]);
    }
    while !bytes.is_empty() {
        let (valid, rest) = match std::str::from_utf8(bytes) {
            Ok(s) => (s, &[][..]),
            Err(e) => {
                let (v, r) = bytes.split_at(e.valid_up_to());
                // `v` is the valid prefix from_utf8 reported, so this cannot fail.
                (std::str::from_utf8(v).unwrap_or_default(), r)
            }
        };
        for c in valid.chars() {
            match c {
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\\' if mode == Mode::Value => out.extend_from_slice(b"\\\\"),
                ' '..='~' => out.push(c as u8),
                c if mode == Mode::Line && !c.is_control() => {
                    let mut tmp = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                }
                c => {
                    let mut tmp = [0u8; 4];
                    for &b in c.encode_utf8(&mut tmp).as_bytes() {
                        hex(out, b);
                    }
                }
            }
        }
        // The first byte of `rest` starts an invalid sequence: escape it, go on after it.
        match rest.split_first() {
            Some((&b, tail)) => {
                hex(out, b);
                bytes = tail;
            }
            None => bytes = rest,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_strips_rustix_suffix() {
        assert_eq!(strerror(Errno::ACCESS), "Permission denied");
        assert_eq!(strerror(Errno::NOENT), "No such file or directory");
    }

    #[test]
    fn escape_controls_and_bad_utf8() {
        assert_eq!(escape(b"/run/x y/a.b-c_d"), "/run/x y/a.b-c_d");
        assert_eq!(
            escape(b"/run/x y/\xc3\xa9v\\ent"),
            "/run/x y/\\xc3\\xa9v\\\\ent"
        );
        assert_eq!(
            escape(b"a\nipcserver: info: allow 0:0\x1b[31m\x7f\r\t"),
            "a\\nipcserver: info: allow 0:0\\x1b[31m\\x7f\\r\\t"
        );
        assert_eq!(escape(b"\xff\xfe/\xc3"), "\\xff\\xfe/\\xc3");
        // A C1 control (U+009B, CSI) and a bidi override (U+202E) byte by byte.
        assert_eq!(escape("\u{9b}2J".as_bytes()), "\\xc2\\x9b2J");
        assert_eq!(escape("a\u{202e}b".as_bytes()), "a\\xe2\\x80\\xaeb");
        assert_eq!(escape(b""), "");
    }

    #[test]
    fn a_line_keeps_text_and_escaped_values() {
        let v = escape(b"d\\x\n\xc3\xa9\x1b");
        assert_eq!(escape_line(v.as_bytes()), v);
        assert_eq!(
            escape_line(b"use s6-envuidgid \xe2\x80\xa6 \\ \xc3\xa9\n\x1b\xff"),
            "use s6-envuidgid \u{2026} \\ \u{e9}\\n\\x1b\\xff"
        );
        assert_eq!(escape_line("\u{9b}".as_bytes()), "\\xc2\\x9b");
    }
}
