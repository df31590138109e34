//! Option parsing of every program, and the one runner their `main`s share.
//!
//! Each program's parser lives in its own file here (`cli::ipcserver::parse`, …), so the
//! fuzz crate and the unit tests call exactly what the binaries call. A parser only turns
//! argv into a validated `Opts`; it neither prints nor exits. [`run`] does that: on a
//! parse error it prints the reason (`PROG: fatal: -c: x is not a number`), then the
//! usage line, and exits 100. s6 prints only the usage line; the reason is our addition
//! (every man page says so under COMPATIBILITY).
//!
//! Numbers are read as s6 reads them (skalibs `uint0_scan`, `uint0_oscan`): ASCII digits
//! only, no sign, no spaces, no `0x`, and a value that does not fit is refused rather
//! than wrapped. The nosh-derived listeners read numbers as nosh does (`strtol` base 0):
//! see [`local_socket_listen`].

use ipccore::sys::diag::Diag;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitCode;

pub mod ipcclient;
pub mod ipcconnlimit;
pub mod ipchttpgate;
pub mod ipcioconnect;
pub mod ipcnotify_fd_from_socket;
pub mod ipcnotify_socket_from_fd;
pub mod ipcrules_cdb;
pub mod ipcrules_fs;
pub mod ipcserver;
pub mod ipcserver_access;
pub mod ipcserver_socketbinder;
pub mod ipcserverd;
pub mod ipcsudo;
pub mod ipcsudoc;
pub mod ipcsudod;
pub mod local_datagram_socket_listen;
pub mod local_seqpacket_socket_listen;
pub mod local_socket_listen;
pub mod local_stream_socket_listen;
pub mod npt_cleanfifodir;
pub mod npt_listen;
pub mod npt_mkfifodir;
pub mod npt_notify;
pub mod npt_wait;
pub mod nptlistend;

// The ipcfdholder family (s6-fdholder-*).
pub mod fdholder;
pub mod ipcfdholder_daemon;
pub mod ipcfdholder_delete;
pub mod ipcfdholder_getdump;
pub mod ipcfdholder_list;
pub mod ipcfdholder_retrieve;
pub mod ipcfdholder_setdump;
pub mod ipcfdholder_store;
pub mod ipcfdholder_transferdump;
pub mod ipcfdholderd;

/// Why a command line was refused: the text after `PROG: fatal: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

impl From<&str> for UsageError {
    fn from(s: &str) -> Self {
        UsageError(s.to_owned())
    }
}

impl From<String> for UsageError {
    fn from(s: String) -> Self {
        UsageError(s)
    }
}

impl From<lexopt::Error> for UsageError {
    fn from(e: lexopt::Error) -> Self {
        use lexopt::Error as E;
        UsageError(match e {
            E::MissingValue { option: Some(o) } => format!("{o}: missing argument"),
            E::MissingValue { option: None } => "missing argument".into(),
            E::UnexpectedOption(o) => format!("unknown option {}", show(OsStr::new(&o))),
            E::UnexpectedArgument(v) => format!("unexpected argument {}", show(&v)),
            E::UnexpectedValue { option, value } => {
                format!("{option} takes no value (got {})", show(&value))
            }
            E::NonUnicodeValue(v) => format!("{} is not valid UTF-8", show(&v)),
            E::ParsingFailed { value, error } => format!("{value}: {error}"),
            E::Custom(e) => e.to_string(),
        })
    }
}

/// The result every parser returns.
pub type Parsed<T> = Result<T, UsageError>;

/// Parse argv (without the program name) with `parse`; on success hand the options and
/// a [`Diag`] for `prog` to `body`, whose exit code is the program's. On failure print
/// the reason and `PROG: usage: USAGE`, and exit 100.
///
/// `--help` and `--version` are ours, not s6's, and count only as the FIRST argument:
/// `--help` prints `usage: USAGE` and `help` (one line per option) on stdout,
/// `--version` prints `PROG (ipctools) VERSION`; both exit 0. Anywhere else they are
/// what they were (an unknown option, or an argument of the next program), so a
/// command line written for s6 keeps its meaning.
pub fn run<O>(
    prog: &'static str,
    usage: &str,
    help: &str,
    parse: impl FnOnce(Vec<OsString>) -> Parsed<O>,
    body: impl FnOnce(O, Diag) -> ExitCode,
) -> ExitCode {
    // An fd among 0-2 closed when we started reaches the next program closed, as
    // through s6 (the Rust runtime put /dev/null there).
    ipccore::sys::exec::hand_on_closed_stdio();
    let diag = Diag::new(prog);
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if let Some(text) = args
        .first()
        .and_then(|a| help_or_version(a, prog, usage, help))
    {
        // Ignored as strerr ignores a failed write: there is nobody to tell.
        let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
        return ExitCode::SUCCESS;
    }
    match parse(args) {
        Ok(opts) => body(opts, diag),
        Err(e) => {
            diag.fatal_msg(e.0.as_bytes());
            ExitCode::from(diag.usage(usage))
        }
    }
}

/// What `--help` or `--version` as the first argument prints; `None` for any other
/// argument.
pub fn help_or_version(first: &OsStr, prog: &str, usage: &str, help: &str) -> Option<String> {
    match first.as_bytes() {
        b"--help" => Some(format!("usage: {usage}\n{help}")),
        b"--version" => Some(format!("{prog} (ipctools) {}\n", env!("CARGO_PKG_VERSION"))),
        _ => None,
    }
}

/// What an `ipccore::prog` entry point returns on success, as an exit code.
pub trait Success {
    /// The exit code.
    fn code(self) -> u8;
}

impl Success for u8 {
    fn code(self) -> u8 {
        self
    }
}

impl Success for () {
    fn code(self) -> u8 {
        0
    }
}

impl Success for std::convert::Infallible {
    fn code(self) -> u8 {
        match self {}
    }
}

/// The exit code for an entry point's result: its success code, or the error printed
/// by `diag.fatal` and its code (`Error::exit_code`).
pub fn exit<T: Success>(diag: &Diag, r: Result<T, ipccore::Error>) -> ExitCode {
    ExitCode::from(match r {
        Ok(v) => v.code(),
        Err(e) => diag.fatal(&e),
    })
}

/// `v` for a message, escaped by `ipccore::base::text::escape` (printable ASCII only, so an
/// argument cannot forge a log line), and `""` when it is empty.
pub fn show(v: &OsStr) -> String {
    if v.is_empty() {
        return "\"\"".into();
    }
    ipccore::base::text::escape(v.as_bytes())
}

/// A decimal number as s6 reads one (skalibs `uint0_scan`): ASCII digits only (no sign,
/// no space, no `0x`), at most `u32::MAX`.
pub fn uint(opt: &str, v: &OsStr) -> Parsed<u32> {
    scan(opt, v, 10, u64::from(u32::MAX)).map(|n| n as u32)
}

/// An octal number as s6 reads one (skalibs `uint0_oscan`): digits 0–7 only.
pub fn octal(opt: &str, v: &OsStr) -> Parsed<u32> {
    scan(opt, v, 8, u64::from(u32::MAX)).map(|n| n as u32)
}

/// Digits of `radix` only, the value at most `max`; the refusal says which rule failed.
fn scan(opt: &str, v: &OsStr, radix: u32, max: u64) -> Parsed<u64> {
    let b = v.as_bytes();
    let what = if radix == 8 {
        "an octal number"
    } else {
        "a number"
    };
    let bad = |why: &str| Err(UsageError(format!("{opt}: {} {why}", show(v))));
    if b.is_empty() {
        return bad(&format!("is not {what}"));
    }
    // A sign before digits gets its own hint: str::parse would have taken `+5`.
    let signed = matches!(b, [b'+' | b'-', rest @ ..] if !rest.is_empty() && rest.iter().all(u8::is_ascii_digit));
    let mut n: u64 = 0;
    for &c in b {
        let Some(d) = char::from(c).to_digit(radix).filter(|_| c.is_ascii_digit()) else {
            return if signed {
                bad(&format!("is not {what} (digits only, no sign)"))
            } else {
                bad(&format!("is not {what}"))
            };
        };
        n = match n
            .checked_mul(u64::from(radix))
            .and_then(|n| n.checked_add(u64::from(d)))
        {
            Some(n) if n <= max => n,
            _ => return bad(&format!("is too large (at most {})", fmt_radix(max, radix))),
        };
    }
    Ok(n)
}

fn fmt_radix(n: u64, radix: u32) -> String {
    if radix == 8 {
        format!("0{n:o}")
    } else {
        n.to_string()
    }
}

/// Where names given for user and group options are looked up: `/etc/passwd` and
/// `/etc/group` (tests give their own files).
#[derive(Clone, Copy, Debug)]
pub struct IdFiles<'a> {
    /// The passwd file.
    pub passwd: &'a Path,
    /// The group file.
    pub group: &'a Path,
}

/// The system's files.
pub fn etc() -> IdFiles<'static> {
    IdFiles {
        passwd: Path::new(ipccore::fs::idnames::PASSWD),
        group: Path::new(ipccore::fs::idnames::GROUP),
    }
}

/// A user or group id for `opt`: a number (s6 `uid0_scan`/`gid0_scan`; a number is
/// always a number), or a name, looked up in `/etc/passwd` or `/etc/group` (an
/// addition: s6 takes numbers only). A name not found there gets a hint naming
/// s6-envuidgid, for accounts that live in LDAP or sssd (a static build has no NSS).
pub fn id(opt: &str, v: &OsStr, user: bool, prog: &str) -> Parsed<u32> {
    id_in(etc(), opt, v, user, prog)
}

/// [`id`], looking names up in `files`.
pub fn id_in(files: IdFiles<'_>, opt: &str, v: &OsStr, user: bool, prog: &str) -> Parsed<u32> {
    if !ipccore::base::idnames::is_name(v.as_bytes()) {
        return uint(opt, v);
    }
    name_to_id(files, opt, v, user, Some(prog))
}

/// The id of the user or group named `v`, or why not. `prog`: the program whose `-U`
/// the hint for an LDAP or sssd user names (`None`: it has no `-U`).
pub fn name_to_id(
    files: IdFiles<'_>,
    opt: &str,
    v: &OsStr,
    user: bool,
    prog: Option<&str>,
) -> Parsed<u32> {
    let name = show(v);
    let (found, file) = if user {
        (
            ipccore::fs::idnames::user(v, files.passwd).map(|u| u.map(|(uid, _)| uid)),
            files.passwd,
        )
    } else {
        (ipccore::fs::idnames::group(v, files.group), files.group)
    };
    match found {
        Ok(Some(n)) => Ok(n),
        Ok(None) if user => Err(UsageError(format!(
            "{opt}: no user {name} in {} (it is read directly, without NSS: for an LDAP or \
             sssd user, {})",
            file.display(),
            match prog {
                Some(prog) => format!("use s6-envuidgid {name} {prog} -U …"),
                None => format!("give the number: id -u {name}"),
            }
        ))),
        Ok(None) => Err(UsageError(format!(
            "{opt}: no group {name} in {} (it is read directly, without NSS: for an LDAP or \
             sssd group, give the number: getent group {name})",
            file.display()
        ))),
        Err(e) => Err(UsageError(format!("{opt}: {name}: {e}"))),
    }
}

/// An option s6's `gol` parser (s6 2.14+: the ipcnotify pair) does not know, refused
/// in its words: `unrecognized short option: x`, `unrecognized boolean option: --x`,
/// `unrecognized option with argument: --x=v`, `invalid option: --=v`.
pub enum GolBad {
    /// An unknown short option letter.
    Short(char),
    /// An unknown long option name (its value, if any, is still in the parser).
    Long(String),
    /// Anything else lexopt hands back (cannot happen after `Value` is matched).
    Other(String),
}

impl GolBad {
    /// The refused `arg`, owned, so that the parser can be asked for its value.
    pub fn of(arg: lexopt::Arg<'_>) -> GolBad {
        match arg {
            lexopt::Arg::Short(c) => GolBad::Short(c),
            lexopt::Arg::Long(l) => GolBad::Long(l.to_owned()),
            lexopt::Arg::Value(v) => GolBad::Other(show(&v)),
        }
    }

    /// The reason, in gol's words.
    pub fn reason(self, p: &mut lexopt::Parser) -> UsageError {
        UsageError(match self {
            GolBad::Short(c) => format!("unrecognized short option: {c}"),
            GolBad::Long(l) => match p.optional_value() {
                Some(v) if l.is_empty() => format!("invalid option: --={}", show(&v)),
                Some(v) => format!("unrecognized option with argument: --{l}={}", show(&v)),
                None => format!("unrecognized boolean option: --{l}"),
            },
            GolBad::Other(v) => format!("unexpected argument {v}"),
        })
    }
}

/// A gol boolean long option (`--doublefork`): `value` if it came alone; gol refuses
/// it with a value attached (`--doublefork=1`).
pub fn gol_flag(p: &mut lexopt::Parser, name: &str, value: bool) -> Parsed<bool> {
    match p.optional_value() {
        Some(v) => Err(UsageError(format!(
            "unrecognized option with argument: --{name}={}",
            show(&v)
        ))),
        None => Ok(value),
    }
}

/// An optional number refused in s6 2.15's words (`timeout must be an unsigned
/// integer`), read as [`uint`] reads one.
pub fn gol_uint(v: Option<OsString>, what: &str) -> Parsed<Option<u32>> {
    v.map(|v| uint(what, &v).map_err(|_| UsageError(format!("{what} must be an unsigned integer"))))
        .transpose()
}

/// A `-t` timeout in milliseconds as s6 2.15 reads it: 0 (or none) is no timeout.
pub fn gol_timeout(v: Option<OsString>) -> Parsed<Option<std::time::Duration>> {
    Ok(gol_uint(v, "timeout")?
        .filter(|&ms| ms != 0)
        .map(|ms| std::time::Duration::from_millis(ms.into())))
}

/// What the ipcnotify pair's command lines hold (s6's notify pair, skalibs `gol`):
/// values still unchecked, since each program checks them in its s6 model's order.
pub struct NotifyArgs {
    /// `-3`/`-d fd`, `--notification-fd=fd`.
    pub fd: Option<OsString>,
    /// `-t ms`, `--timeout=ms`.
    pub timeout: Option<OsString>,
    /// Cleared by `-f`, `--no-doublefork`; set by `--doublefork`.
    pub doublefork: bool,
    /// `-k`, `--keep-environment` (only where `keep_env` is offered).
    pub keep_env: bool,
    /// `prog...`, unparsed (empty when missing).
    pub prog: Vec<OsString>,
}

/// The option loop the ipcnotify pair shares: `fd_letter` names the notification fd
/// (`3` or `d`), and `-k`/`--keep-environment` are options only with `keep_env`.
pub fn notify_args(
    args: impl IntoIterator<Item = OsString>,
    fd_letter: char,
    keep_env: bool,
) -> Parsed<NotifyArgs> {
    use lexopt::Arg::{Long, Short, Value};
    let mut p = parser(args);
    let mut a = NotifyArgs {
        fd: None,
        timeout: None,
        doublefork: true,
        keep_env: false,
        prog: Vec::new(),
    };
    while let Some(arg) = p.next()? {
        match arg {
            Short(c) if c == fd_letter => a.fd = Some(p.value()?),
            Long("notification-fd") => a.fd = Some(p.value()?),
            Short('t') | Long("timeout") => a.timeout = Some(p.value()?),
            Short('f') => a.doublefork = false,
            Long("no-doublefork") => a.doublefork = gol_flag(&mut p, "no-doublefork", false)?,
            Long("doublefork") => a.doublefork = gol_flag(&mut p, "doublefork", true)?,
            Short('k') if keep_env => a.keep_env = true,
            Long("keep-environment") if keep_env => {
                a.keep_env = gol_flag(&mut p, "keep-environment", true)?;
            }
            Value(v) => {
                a.prog = rest(&mut p, v)?;
                break;
            }
            _ => return Err(GolBad::of(arg).reason(&mut p)),
        }
    }
    Ok(a)
}

/// The value of a long option given as `--name=value`, the one form s6 2.15's skalibs
/// `gol` takes (`--timeout 300` is refused there, and here).
pub fn eq_value(p: &mut lexopt::Parser, opt: &str) -> Parsed<OsString> {
    p.optional_value()
        .ok_or_else(|| UsageError(format!("{opt}: missing value (write {opt}=value)")))
}

/// The first positional argument and everything after it, unparsed (`raw_args`): the
/// next program's command line is never read as our options.
pub fn rest(p: &mut lexopt::Parser, first: OsString) -> Parsed<Vec<OsString>> {
    let mut v = vec![first];
    v.extend(p.raw_args()?);
    Ok(v)
}

/// A new parser over `args`, with `-cVALUE` taken whole (`-c=5` is the value `=5`, as
/// in s6's `subgetopt`).
pub fn parser(args: impl IntoIterator<Item = OsString>) -> lexopt::Parser {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    p
}

/// `v` as a command line, for the parsers' tests.
#[cfg(test)]
pub fn os_args(v: &[&str]) -> Vec<OsString> {
    v.iter().map(OsString::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> &OsStr {
        OsStr::new(s)
    }

    #[test]
    fn uint_as_s6() {
        assert_eq!(uint("-c", os("0")), Ok(0));
        assert_eq!(uint("-c", os("007")), Ok(7));
        assert_eq!(uint("-c", os("4294967295")), Ok(u32::MAX));
        for bad in ["", "+5", "-5", " 5", "5 ", "0x5", "5x", "4294967296", "٣"] {
            assert!(uint("-c", os(bad)).is_err(), "{bad:?} accepted");
        }
        for (bad, why) in [
            ("+5", "-c: +5 is not a number (digits only, no sign)"),
            (
                "99999999999",
                "-c: 99999999999 is too large (at most 4294967295)",
            ),
            ("", "-c: \"\" is not a number"),
            ("--", "-c: -- is not a number"),
        ] {
            assert_eq!(uint("-c", os(bad)).unwrap_err().0, why);
        }
    }

    #[test]
    fn octal_as_s6() {
        assert_eq!(octal("-a", os("0660")), Ok(0o660));
        assert_eq!(octal("-a", os("777")), Ok(0o777));
        for bad in ["", "8", "0x1", "+7", "07 ", "9"] {
            assert!(octal("-a", os(bad)).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            octal("-a", os("8")).unwrap_err().0,
            "-a: 8 is not an octal number"
        );
    }

    #[test]
    fn names_are_looked_up_and_numbers_stay_numbers() {
        let dir = std::env::temp_dir().join(format!("ipct-cli-id-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (passwd, group) = (dir.join("passwd"), dir.join("group"));
        std::fs::write(
            &passwd,
            "alice:x:1000:50::/:/bin/sh
1234:x:7:7::/:/bin/sh
",
        )
        .unwrap();
        std::fs::write(
            &group,
            "staff:x:50:
",
        )
        .unwrap();
        let files = IdFiles {
            passwd: &passwd,
            group: &group,
        };
        let id = |opt, v, user| id_in(files, opt, os(v), user, "ipcserver");
        assert_eq!(id("-u", "alice", true), Ok(1000));
        assert_eq!(id("-g", "staff", false), Ok(50));
        // A number is a number, even where a user has it as a name.
        assert_eq!(id("-u", "1234", true), Ok(1234));
        assert_eq!(id("-u", "65534", true), Ok(65534));
        assert_eq!(
            id("-u", "bob", true).unwrap_err().0,
            format!(
                "-u: no user bob in {} (it is read directly, without NSS: for an LDAP or sssd \
                 user, use s6-envuidgid bob ipcserver -U …)",
                passwd.display()
            )
        );
        assert_eq!(
            id("-g", "wheel", false).unwrap_err().0,
            format!(
                "-g: no group wheel in {} (it is read directly, without NSS: for an LDAP or \
                 sssd group, give the number: getent group wheel)",
                group.display()
            )
        );
        assert_eq!(
            id("-g", "1x", false).unwrap_err().0,
            "-g: 1x is not a number"
        );
        assert_eq!(
            id("-u", "+5", true).unwrap_err().0,
            "-u: +5 is not a number (digits only, no sign)"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn untrusted_bytes_are_escaped() {
        use std::os::unix::ffi::OsStrExt;
        assert_eq!(
            show(OsStr::from_bytes(b"a\nb\x1b\xff\\\xc3\xa9")),
            "a\\nb\\x1b\\xff\\\\\\xc3\\xa9"
        );
    }

    #[test]
    fn lexopt_errors_say_why() {
        let mut p = parser(["-c"].map(OsString::from));
        let _ = p.next();
        let err = match p.value() {
            Err(e) => UsageError::from(e),
            Ok(_) => UsageError("no error".into()),
        };
        assert_eq!(err.0, "-c: missing argument");
        let mut p = parser(["-Z"].map(OsString::from));
        let err = match p.next() {
            Ok(Some(a)) => UsageError::from(a.unexpected()),
            _ => UsageError("no error".into()),
        };
        assert_eq!(err.0, "unknown option -Z");
    }
}
