//! Options of `local-stream-socket-listen`, `local-seqpacket-socket-listen` and
//! `local-datagram-socket-listen`: one parser, three socket types (nosh builds them from
//! one source file too).
//!
//! Numbers are read as nosh reads them, like C's `strtol(…, 0)`: `0x1f` is hexadecimal,
//! `0660` octal, `660` decimal ([`parse_number`]). So `--mode 660` is 01224; a mode with
//! bits outside 0777 is refused, with the octal reading and the likely intent.

use super::{Parsed, UsageError, parser, show};
use ipccore::prog::local_socket_listen::{
    Kind, LocalSocketListenConfig, gid_from, local_socket_listen, parse_number, uid_from,
};
use ipccore::sys::diag::Diag;
use ipccore::sys::sock::SockPath;
use lexopt::prelude::*;
use rustix::fs::Mode;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

/// What a listener was asked to do: the core's configuration, as parsed.
pub type Opts = LocalSocketListenConfig;

/// `--help` of the options the three listeners share (all but `-b`).
macro_rules! common_help {
    () => {
        concat!(
            "  -u uid, --uid uid         owner of the socket file (a number)\n",
            "  -g gid, --gid gid         group of the socket file (a number)\n",
            "  -m mode, --mode mode      permissions of the socket file, in octal, at most 0777\n",
            "  --pass-credentials        set SO_PASSCRED on the socket\n",
            "  --pass-security           set SO_PASSSEC on the socket\n",
            "  --upstart-compatibility   set UPSTART_FDS and UPSTART_EVENTS for next-prog\n",
            "  --systemd-compatibility   honour and set LISTEN_FDS and LISTEN_PID for next-prog\n",
            "  --fdname name             append name to LISTEN_FDNAMES (with --systemd-compatibility)\n",
            "  --help                    print this help and exit\n",
            "  --version                 print the version and exit\n",
        )
    };
}

/// `--help` of the stream and seqpacket listeners.
pub const HELP_LISTENING: &str = concat!(
    "  -b backlog, --backlog backlog\n",
    "                            the listen(2) backlog (default 5)\n",
    common_help!(),
);

/// `--help` of the datagram listener (no backlog).
pub const HELP_DATAGRAM: &str = common_help!();

/// A listener's `main`: parse for `kind`, run, exit.
pub fn main(kind: Kind, prog: &'static str, usage: &str, help: &str) -> ExitCode {
    let parse = |args| parse(kind, args);
    super::run(prog, usage, help, parse, |cfg: Opts, diag: Diag| {
        super::exit(&diag, local_socket_listen(&cfg, &diag))
    })
}

/// A nosh number for `opt`, converted by `conv` (which says what a refused value is).
fn number<T>(opt: &str, v: &OsStr, conv: impl FnOnce(u64) -> Option<T>, what: &str) -> Parsed<T> {
    let n = v.to_str().and_then(parse_number).ok_or_else(|| {
        // Names are looked up before numbers are parsed ([`name`]); kept for a value
        // that only looks like one.
        let name = v.as_bytes().first().is_some_and(u8::is_ascii_alphabetic);
        let hint = match (name, what.starts_with("a uid"), what.starts_with("a gid")) {
            (true, true, _) => format!(" (id -u {} gives the number)", show(v)),
            (true, _, true) => format!(" (getent group {} gives the number)", show(v)),
            _ => String::new(),
        };
        UsageError(format!(
            "{opt}: {} is not a number (decimal, 0octal or 0xhex){hint}",
            show(v)
        ))
    })?;
    conv(n).ok_or_else(|| UsageError(format!("{opt}: {} is not {what}", show(v))))
}

/// A user (`user`) or group name's id, looked up in `/etc/passwd` or `/etc/group`;
/// `None` for a value that is not a name (a number, in nosh's forms).
fn name(opt: &str, v: &OsStr, user: bool) -> Parsed<Option<u32>> {
    if !ipccore::base::idnames::is_name(v.as_bytes()) {
        return Ok(None);
    }
    super::name_to_id(super::etc(), opt, v, user, None).map(Some)
}

/// A socket file mode: at most 0777. A mode written in decimal (`660`) is most likely
/// meant as octal: the message says how nosh reads it and what to write instead.
pub fn mode(opt: &str, v: &OsStr) -> Parsed<Mode> {
    let n = number(opt, v, Some, "a mode")?;
    if n <= 0o777 {
        return Ok(Mode::from_raw_mode(n as u32));
    }
    let s = v.to_str().unwrap_or_default();
    let decimal = !s.starts_with('0');
    let mut msg = format!("{opt}: {s} ");
    if decimal {
        msg.push_str(&format!("is decimal, that is octal 0{n:o}"));
    } else {
        msg.push_str(&format!("is octal 0{n:o}"));
    }
    msg.push_str(", which has bits outside 0777 (a socket mode is permission bits only)");
    if decimal && s.bytes().all(|c| (b'0'..=b'7').contains(&c)) && s.len() <= 3 {
        msg.push_str(&format!(": write 0{s} for octal {s}"));
    }
    Err(UsageError(msg))
}

/// Options from `args` (argv without the program name).
pub fn parse(kind: Kind, args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let mut cfg = LocalSocketListenConfig::new(kind, SockPath::Abstract(Vec::new()), Vec::new());
    let mut path = None;
    while let Some(arg) = p.next()? {
        let opt = match &arg {
            Short(c) => format!("-{c}"),
            Long(l) => format!("--{l}"),
            Value(_) => String::new(),
        };
        match arg {
            // The datagram program has no backlog option, as in nosh.
            Short('b') | Long("backlog") if kind != Kind::Datagram => {
                let v = p.value()?;
                cfg.backlog = number(
                    &opt,
                    &v,
                    |n| i32::try_from(n).ok(),
                    "a backlog (at most 2147483647)",
                )?
            }
            Short('u') | Long("uid") | Long("user") => {
                let v = p.value()?;
                cfg.uid = Some(match name(&opt, &v, true)? {
                    Some(n) => uid_from(u64::from(n)).ok_or("-u: uid -1 is not a uid")?,
                    None => number(&opt, &v, uid_from, "a uid (at most 4294967294)")?,
                })
            }
            Short('g') | Long("gid") | Long("group") => {
                let v = p.value()?;
                cfg.gid = Some(match name(&opt, &v, false)? {
                    Some(n) => gid_from(u64::from(n)).ok_or("-g: gid -1 is not a gid")?,
                    None => number(&opt, &v, gid_from, "a gid (at most 4294967294)")?,
                })
            }
            Short('m') | Long("mode") => cfg.mode = Some(mode(&opt, &p.value()?)?),
            Long("pass-credentials") => cfg.pass_credentials = true,
            Long("pass-security") => cfg.pass_security = true,
            Long("upstart-compatibility") => cfg.upstart = true,
            Long("systemd-compatibility") => cfg.systemd = true,
            Long("fdname") => cfg.fdname = Some(p.value()?),
            Value(v) => {
                path = Some(v);
                cfg.argv = p.raw_args()?.collect();
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    let path = path.ok_or("missing path")?;
    if cfg.argv.is_empty() {
        return Err("missing next-prog".into());
    }
    cfg.path = SockPath::parse(&path).map_err(|e| UsageError(e.to_string()))?;
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(args: &[&str]) -> String {
        match parse(Kind::Stream, args.iter().map(OsString::from)) {
            Ok(_) => format!("{args:?} accepted"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn decimal_mode_is_refused_with_its_octal_reading() {
        assert_eq!(
            err(&["--mode", "660", "/s", "p"]),
            "--mode: 660 is decimal, that is octal 01224, which has bits outside 0777 \
             (a socket mode is permission bits only): write 0660 for octal 660"
        );
        assert_eq!(
            err(&["-m", "01777", "/s", "p"]),
            "-m: 01777 is octal 01777, which has bits outside 0777 \
             (a socket mode is permission bits only)"
        );
        assert_eq!(
            err(&["--mode=+1", "/s", "p"]),
            "--mode: +1 is not a number (decimal, 0octal or 0xhex)"
        );
    }

    #[test]
    fn modes_nosh_reads_the_same() -> Result<(), UsageError> {
        for (v, m) in [("0660", 0o660), ("0x1ff", 0o777), ("438", 0o666), ("0", 0)] {
            let cfg = parse(Kind::Stream, ["-m", v, "/s", "p"].map(OsString::from))?;
            assert_eq!(cfg.mode.map(|m| m.as_raw_mode()), Some(m), "{v}");
        }
        Ok(())
    }

    #[test]
    fn datagram_has_no_backlog() {
        let e = parse(Kind::Datagram, ["-b", "5", "/s", "p"].map(OsString::from));
        assert_eq!(e.err().map(|e| e.0), Some("unknown option -b".into()));
        assert_eq!(
            err(&["--uid", "ipct-no-such-user", "/s", "p"]),
            "--uid: no user ipct-no-such-user in /etc/passwd (it is read directly, without NSS: \
             for an LDAP or sssd user, give the number: id -u ipct-no-such-user)"
        );
        let root = parse(
            Kind::Stream,
            ["--user", "root", "--group=root", "/s", "p"].map(OsString::from),
        );
        assert!(root.is_ok_and(
            |c| c.uid.map(|u| u.as_raw()) == Some(0) && c.gid.map(|g| g.as_raw()) == Some(0)
        ));
    }
}
