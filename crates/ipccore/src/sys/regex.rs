//! POSIX extended regular expressions through the C library's `regcomp`/`regexec`,
//! the engine s6 uses for fd-holder rules (`S6_FDHOLDER_*_REGEX`) and fifodir events
//! (s6-ftrigrd): the same pattern then means the same thing to both on one system,
//! glibc's extensions (`\<`, `\w`, back-references in ERE) and quirks (`\d` is `d`, a
//! backslash in brackets is a backslash) included.
//!
//! Subjects are handed over as C strings, as s6 hands them: matching stops at the first
//! NUL byte. The programs never call `setlocale`, so patterns and subjects are bytes in
//! the C locale, as in s6.
//!
//! Cost (glibc): without back-references, matching takes time about quadratic in the
//! subject for patterns that can match a long run starting at many places (`a.*b`
//! over a long run of `a`); with back-references it can take exponential time even on
//! 255 bytes. Compiling copies every bounded repetition (`a{0,1000}` is a thousand
//! nested optional copies), in time and memory about quadratic in the copies. Callers
//! bound their subjects; [`weigh`] tells how big a pattern will be before compiling it,
//! for callers that take patterns from untrusted clients. Left out: submatches.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};

/// `regcomp` flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cflags(libc::c_int);

impl Cflags {
    /// `REG_EXTENDED`: POSIX extended syntax (ERE).
    pub const EXTENDED: Cflags = Cflags(libc::REG_EXTENDED);
    /// `REG_EXTENDED | REG_NOSUB`: ERE, no submatch bookkeeping (s6-fdholderd's flags).
    pub const EXTENDED_NOSUB: Cflags = Cflags(libc::REG_EXTENDED | libc::REG_NOSUB);
}

/// A pattern `regcomp` refused: its error code and `regerror`'s text for it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct CompileError {
    /// The `REG_*` code (`REG_EPAREN`…), 0 for a pattern with a NUL byte.
    pub code: libc::c_int,
    /// The C library's description (`Unmatched ( or \(`).
    pub text: String,
}

/// A compiled pattern; `regfree` is called on drop.
pub struct Regex {
    // Boxed: the C library owns what the struct points to, and keeping the struct at
    // one address spares us from relying on it being movable.
    re: Box<libc::regex_t>,
}

impl std::fmt::Debug for Regex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Regex")
    }
}

impl Regex {
    /// `regcomp(&re, pattern, flags)`—compile `pattern`. An empty pattern is compiled
    /// as `.*`, as skalibs' `skalibs_regcomp` does for s6.
    ///
    /// # References
    /// - [regcomp(3)](https://man7.org/linux/man-pages/man3/regcomp.3.html)
    ///
    /// # Errors
    /// `CompileError` with `regerror`'s text; a pattern with a NUL byte (which s6 can
    /// never be given) is refused with code 0.
    #[doc(alias = "regcomp")]
    pub fn compile(pattern: &[u8], flags: Cflags) -> Result<Regex, CompileError> {
        let pattern = if pattern.is_empty() { b".*" } else { pattern };
        let c = CString::new(pattern).map_err(|_| CompileError {
            code: 0,
            text: "the pattern contains a NUL byte".into(),
        })?;
        // SAFETY: regex_t is a struct of integers and raw pointers, for which all-zero
        // bytes are a valid value; regcomp initialises it before any use.
        let zeroed: libc::regex_t = unsafe { std::mem::zeroed() };
        let mut re = Box::new(zeroed);
        // SAFETY: `re` is a valid, exclusively borrowed regex_t; `c` is a NUL-terminated
        // string that outlives the call.
        let r = unsafe { libc::regcomp(&raw mut *re, c.as_ptr(), flags.0) };
        if r == 0 {
            Ok(Regex { re })
        } else {
            // regcomp frees what it allocated when it fails: no regfree here.
            Err(CompileError {
                code: r,
                text: error_text(r, &re),
            })
        }
    }

    /// `regexec(&re, subject, 0, NULL, 0)`—whether the pattern matches somewhere in
    /// `subject`, read up to its first NUL byte as s6 reads its C strings. A failure
    /// other than "no match" (`REG_ESPACE`) counts as no match, as in s6.
    ///
    /// # References
    /// - [regexec(3)](https://man7.org/linux/man-pages/man3/regexec.3.html)
    #[doc(alias = "regexec")]
    pub fn is_match(&self, subject: &[u8]) -> bool {
        let end = subject
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(subject.len());
        let subject = subject.get(..end).unwrap_or_default();
        // fd-holder ids (at most 255 bytes) fit on the stack: no allocation per request.
        let mut small = [0u8; 320];
        let heap;
        let buf: &[u8] = match small.get_mut(..=end) {
            Some(b) => {
                if let Some(head) = b.get_mut(..end) {
                    head.copy_from_slice(subject);
                }
                b
            }
            None => {
                let mut v = Vec::with_capacity(end + 1);
                v.extend_from_slice(subject);
                v.push(0);
                heap = v;
                &heap
            }
        };
        let Ok(c) = CStr::from_bytes_until_nul(buf) else {
            return false;
        };
        // SAFETY: `re` was initialised by a successful regcomp and not freed; `c` is
        // NUL-terminated and outlives the call; nmatch is 0, so pmatch may be null.
        let r =
            unsafe { libc::regexec(&raw const *self.re, c.as_ptr(), 0, std::ptr::null_mut(), 0) };
        r == 0
    }
}

impl Drop for Regex {
    /// `regfree(&re)`.
    fn drop(&mut self) {
        // SAFETY: `re` was initialised by a successful regcomp and is freed only here.
        unsafe { libc::regfree(&raw mut *self.re) }
    }
}

/// `regerror(code, re, buf, 256)`—the C library's text for a regcomp error (s6 uses a
/// 256-byte buffer too).
fn error_text(code: libc::c_int, re: &libc::regex_t) -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `re` is a regex_t regcomp has just used; `buf` is writable for the
    // length passed, and regerror NUL-terminates within it.
    unsafe { libc::regerror(code, re, buf.as_mut_ptr().cast(), buf.len()) };
    CStr::from_bytes_until_nul(&buf)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What compiling a pattern will cost, estimated from its text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Weight {
    /// Atoms after every repetition is copied out as glibc copies it (`(ab){3}` is 6,
    /// `a+` is 2): an upper estimate of the compiled size.
    pub size: usize,
    /// Whether the pattern has a back-reference (`\1`…`\9`), which makes matching
    /// exponential in the worst case.
    pub backref: bool,
    /// Whether a repetition applies to something that can match the empty string
    /// (`(|z){480}`, `a{,11}*`, `(a*)+`): glibc's regcomp takes time about cubic in
    /// the copies of such an element, seconds for a pattern of small [`size`](Self::size)
    /// (found by fuzzing nptlistend's service check).
    pub nullable_repeat: bool,
}

/// One open group while weighing: the alternatives closed so far, the current one,
/// and the last atom's size (for a repetition that follows it); and whether each can
/// match the empty string: some closed alternative, the current one before its last
/// atom, the last atom.
struct Group {
    closed: usize,
    cur: usize,
    last: usize,
    closed_nullable: bool,
    prefix_nullable: bool,
    last_nullable: bool,
}

impl Default for Group {
    fn default() -> Self {
        Group {
            closed: 0,
            cur: 0,
            last: 0,
            closed_nullable: false,
            // An empty alternative matches the empty string.
            prefix_nullable: true,
            last_nullable: true,
        }
    }
}

impl Group {
    fn atom(&mut self, size: usize) {
        self.atom_of(size, false);
    }

    fn atom_of(&mut self, size: usize, nullable: bool) {
        self.cur = self.cur.saturating_add(size);
        self.last = size;
        self.prefix_nullable &= self.last_nullable;
        self.last_nullable = nullable;
    }

    /// `|`: the current alternative is closed.
    fn alternative(&mut self) {
        self.closed = self.size();
        self.closed_nullable |= self.nullable();
        self.cur = 0;
        self.last = 0;
        self.prefix_nullable = true;
        self.last_nullable = true;
    }

    /// Whether the group, as far as it goes, can match the empty string.
    fn nullable(&self) -> bool {
        self.closed_nullable || (self.prefix_nullable && self.last_nullable)
    }

    /// Repeat the last atom so that it appears `copies` times in all.
    fn repeat(&mut self, copies: usize) {
        let more = self.last.saturating_mul(copies.saturating_sub(1));
        self.cur = self.cur.saturating_add(more);
        self.last = self.last.saturating_mul(copies);
    }

    fn size(&self) -> usize {
        self.closed.saturating_add(self.cur)
    }
}

/// Weigh an ERE before compiling it. The parse is only good enough to count: a
/// pattern regcomp refuses gets some weight, and the real check is regcomp's.
pub fn weigh(pattern: &[u8]) -> Weight {
    let mut backref = false;
    let mut nullable_repeat = false;
    let mut stack = vec![Group::default()];
    let mut i = 0;
    while let Some(&c) = pattern.get(i) {
        i += 1;
        let nested = stack.len() > 1;
        let Some(g) = stack.last_mut() else { break };
        match c {
            b'(' => stack.push(Group::default()),
            b')' if nested => {
                let (inner, empty) = stack
                    .pop()
                    .map_or((0, true), |g| (g.size().max(1), g.nullable()));
                if let Some(g) = stack.last_mut() {
                    g.atom_of(inner, empty);
                }
            }
            b'|' => g.alternative(),
            // Anchors match the empty string.
            b'^' | b'$' => g.atom_of(1, true),
            b'*' | b'?' => {
                nullable_repeat |= g.last_nullable && g.last > 0;
                g.last_nullable = true;
            }
            // glibc turns `a+` into `aa*`.
            b'+' => {
                nullable_repeat |= g.last_nullable && g.last > 0;
                g.repeat(2);
            }
            b'{' => match interval(pattern, i) {
                Some((copies, next)) => {
                    nullable_repeat |= g.last_nullable && g.last > 0;
                    g.repeat(copies.max(1));
                    // `{0,n}` and `{,n}` may match nothing.
                    g.last_nullable |= interval_min_is_zero(pattern, i);
                    i = next;
                }
                None => g.atom(1),
            },
            b'[' => {
                i = bracket_end(pattern, i);
                g.atom(1);
            }
            b'\\' => {
                backref |= pattern.get(i).is_some_and(|d| (b'1'..=b'9').contains(d));
                i += 1;
                g.atom(1);
            }
            _ => g.atom(1),
        }
    }
    let mut size = 0usize;
    while let Some(g) = stack.pop() {
        size = g.size().saturating_add(size);
    }
    Weight {
        size,
        backref,
        nullable_repeat,
    }
}

/// `{m}`, `{m,}`, `{m,n}` or `{,n}` (glibc's `{0,n}`) starting at `at` (just after
/// the `{`): how many copies of the atom glibc makes (`n`, or `m + 1` when unbounded),
/// and where the interval ends.
fn interval(p: &[u8], at: usize) -> Option<(usize, usize)> {
    let rest = p.get(at..)?;
    let close = rest.iter().position(|&b| b == b'}')?;
    let body = std::str::from_utf8(rest.get(..close)?).ok()?;
    let num = |s: &str| -> Option<usize> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
    };
    let copies = match body.split_once(',') {
        None => num(body)?,
        Some((m, "")) => num(m)?.saturating_add(1),
        Some(("", n)) => num(n)?,
        Some((m, n)) => num(m)?.max(num(n)?),
    };
    Some((copies, at + close + 1))
}

/// Whether the interval starting at `at` (just after the `{`) allows zero copies:
/// its minimum (before the comma, or the whole count) is empty or 0.
fn interval_min_is_zero(p: &[u8], at: usize) -> bool {
    let min = p
        .get(at..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b != b',' && b != b'}');
    min.clone().all(|&b| b == b'0')
}

/// Where the bracket expression starting at `at` (just after the `[`) ends: a `]`
/// first (after an optional `^`) is a member, and `[:…:]`, `[=…=]`, `[.….]` are
/// skipped whole.
fn bracket_end(p: &[u8], mut at: usize) -> usize {
    if p.get(at) == Some(&b'^') {
        at += 1;
    }
    if p.get(at) == Some(&b']') {
        at += 1;
    }
    while let Some(&c) = p.get(at) {
        match (c, p.get(at + 1)) {
            (b']', _) => return at + 1,
            (b'[', Some(&k @ (b':' | b'=' | b'.'))) => {
                let end = p
                    .get(at + 2..)
                    .and_then(|r| r.windows(2).position(|w| w == [k, b']']));
                at = match end {
                    Some(e) => at + 2 + e + 2,
                    None => p.len(),
                };
            }
            _ => at += 1,
        }
    }
    p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(re: &str, s: &[u8]) -> bool {
        match Regex::compile(re.as_bytes(), Cflags::EXTENDED_NOSUB) {
            Ok(r) => r.is_match(s),
            Err(e) => panic!("{re}: {e}"),
        }
    }

    #[test]
    fn posix_not_perl() {
        // The review's rows: `\d` and `\w` inside brackets are not classes.
        assert!(!m(r"^pub:\d+$", b"pub:123"));
        assert!(m(r"^pub:\d+$", b"pub:ddd"));
        assert!(!m(r"^pub:[\w.]+$", b"pub:secret"));
        assert!(m(r"^pub:[\w.]+$", b"pub:\\w"));
        assert!(!m(r"^pub:[^\/]*$", b"pub:a\\b"));
        assert!(m(r"^pub:[^\/]*$", b"pub:ab"));
        let e = Regex::compile(b"^(?i)pub:", Cflags::EXTENDED);
        assert!(e.is_err_and(|e| e.code != 0 && !e.text.is_empty()));
    }

    #[test]
    fn subjects_are_c_strings() {
        assert!(m("", b"anything"));
        assert!(m("^a$", b"a\0b"));
        assert!(!m("b", b"a\0b"));
        assert!(m("a.b", b"a\nb"));
        assert!(!m(".^", b"x"));
        assert!(m("[[:digit:]]+$", b"id\xff42"));
        let long = vec![b'x'; 5000];
        assert!(m("^x{4}", &long));
        assert!(!m("y", &long));
    }

    #[test]
    fn compile_errors_carry_regerror_text() {
        let e = Regex::compile(b"a(", Cflags::EXTENDED).err();
        assert_eq!(e.map(|e| e.text), Some("Unmatched ( or \\(".to_string()));
        let e = Regex::compile(b"a\0b", Cflags::EXTENDED).err();
        assert_eq!(e.map(|e| e.code), Some(0));
    }

    #[test]
    fn weights() {
        let w = |p: &str| weigh(p.as_bytes());
        assert_eq!(w("abc").size, 3);
        assert_eq!(w("a{0,1000}").size, 1000);
        assert_eq!(w("(ab){3}c").size, 7);
        assert_eq!(w("(a{0,30}){0,30}").size, 900);
        assert_eq!(w("a+").size, 2);
        assert_eq!(w("a{2,}").size, 3);
        assert_eq!(w("x|y{5}").size, 6);
        assert_eq!(w("[]{}]{4}").size, 4);
        assert_eq!(w("[[:alpha:]]{3}").size, 3);
        assert_eq!(w("a{").size, 2);
        // glibc reads `{,n}` as `{0,n}`: found by fuzz/ci.sh, `}{,0010}{,001010}{,0010}`
        // weighed 4 and took over 1 GiB in regcomp.
        assert_eq!(w("a{,1010}").size, 1010);
        assert_eq!(w("}{,0010}{,001010}{,0010}").size, 101_000);
        assert!(!m("^a{,3}$", b"aaaa") && m("^a{,3}$", b"aaa"));
        assert_eq!(
            w("(((((a{32767}){32767}){32767}){32767}){32767})").size,
            usize::MAX
        );
        assert!(!w(r"a\.b").backref);
        assert!(w(r"(a)\1").backref);
        // Repetitions of what can match nothing: fuzz/known/npt-regcomp-nullable-*
        // (regcomp took 10-19 s on each while its size weighed under 1024).
        for p in [
            "((|z){480})+",
            "a{,11}*{,09}{,10}",
            "^(x|(|z){93}{2,4}[^]a-c]{0,7})+$",
            "(a*)+",
            "(a|)*",
            "(^)*",
            "a?{3}",
            "(a{0,3}){2}",
            "(a{00,3})+",
        ] {
            assert!(w(p).nullable_repeat, "{p}");
        }
        for p in [
            "^[ud]*U$",
            "(ab)+",
            "a*b*",
            "(a|b){3}",
            "(a+b?)*",
            "x{2,3}y",
            "(x{01,3})+",
            "[*]+",
            "a|",
        ] {
            assert!(!w(p).nullable_repeat, "{p}");
        }
    }
}
