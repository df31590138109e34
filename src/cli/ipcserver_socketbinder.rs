//! `ipcserver-socketbinder` options (s6-ipcserver-socketbinder's).

use super::{Parsed, UsageError, parser, rest, uint};
use ipccore::fs::listen::{ListenOpts, SocketType};
use ipccore::prog::ipcserver_socketbinder::IpcserverSocketbinderConfig;
use ipccore::sys::diag::Diag;
use ipccore::sys::sock::SockPath;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcserver-socketbinder";
/// The usage line: `doc/ipcserver-socketbinder.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcserver-socketbinder [ -d | -D ] [ -b backlog ] [ -M | -m ] [ -a perms ] [ -B ] path prog...";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcserver-socketbinder.1`).
pub const HELP: &str = concat!(
    "  -d          replace a stale socket at path (the default)\n",
    "  -D          refuse an existing path\n",
    "  -b backlog  the listen(2) backlog (0: bind, do not listen)\n",
    "  -M          a SOCK_STREAM socket (the default)\n",
    "  -m          a SOCK_DGRAM socket\n",
    "  -a perms    octal permissions of the socket file (default 0777)\n",
    "  -B          leave the socket blocking (default: non-blocking)\n",
    "  --help      print this help and exit\n",
    "  --version   print the version and exit\n",
);

/// What `ipcserver-socketbinder` was asked to do.
pub struct Opts {
    /// The configuration `ipcserver_socketbinder` runs with.
    pub cfg: IpcserverSocketbinderConfig,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let mut lo = ListenOpts {
        // s6-ipcserver-socketbinder's default: non-blocking (-B makes it blocking).
        nonblocking: true,
        ..ListenOpts::default()
    };
    let mut argv: Vec<OsString> = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('d') => lo.replace_stale = true,
            Short('D') => lo.replace_stale = false,
            // Unlike s6-ipcserver, 0 is kept: bound but not listening (for -m).
            // A larger backlog than the kernel's is lowered by it.
            Short('b') => {
                lo.backlog = match uint("-b", &p.value()?)? {
                    0 => None,
                    b => Some(i32::try_from(b).unwrap_or(i32::MAX)),
                }
            }
            Short('M') => lo.ty = SocketType::STREAM,
            Short('m') => lo.ty = SocketType::DGRAM,
            // As s6-ipcserver (and s6-ipcserver-socketbinder): any octal number, of which
            // only the permission bits count.
            Short('a') => lo.mode = super::ipcserver::perms(&p.value()?)?,
            Short('B') => lo.nonblocking = false,
            Value(v) => {
                argv = rest(&mut p, v)?;
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    if argv.is_empty() {
        return Err("missing path".into());
    }
    let path = argv.remove(0);
    match argv.first() {
        None => return Err("missing prog".into()),
        // s6-ipcserver-socketbinder would try to execute "" (126); refused as ipcserver does.
        Some(p) if p.is_empty() => return Err("prog is empty".into()),
        _ => {}
    }
    let path = SockPath::parse(&path).map_err(|e| UsageError(e.to_string()))?;
    Ok(Opts {
        cfg: IpcserverSocketbinderConfig {
            path,
            listen: lo,
            argv,
        },
    })
}

/// ipcserver-socketbinder's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::ipcserver_socketbinder::ipcserver_socketbinder(&o.cfg, &diag),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn try_parse(args: &[&str]) -> Parsed<Opts> {
        parse(args.iter().map(OsString::from))
    }

    fn err(args: &[&str]) -> String {
        match try_parse(args) {
            Ok(_) => format!("{args:?} accepted"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn reasons() {
        assert_eq!(err(&[]), "missing path");
        assert_eq!(err(&["s"]), "missing prog");
        assert_eq!(err(&["--", "s"]), "missing prog");
        assert_eq!(err(&["s", ""]), "prog is empty");
        assert_eq!(err(&["", "true"]), "empty socket path");
        assert_eq!(err(&["-b"]), "-b: missing argument");
        assert_eq!(
            err(&["-b", "-1", "s", "true"]),
            "-b: -1 is not a number (digits only, no sign)"
        );
        assert_eq!(
            err(&["-b", "4294967296", "s", "true"]),
            "-b: 4294967296 is too large (at most 4294967295)"
        );
        assert_eq!(
            err(&["-a", "8", "s", "true"]),
            "-a: 8 is not an octal number"
        );
        assert_eq!(err(&["-1", "s", "true"]), "unknown option -1");
    }

    #[test]
    fn values() -> Result<(), UsageError> {
        let o = try_parse(&["s", "true"])?;
        assert!(o.cfg.listen.nonblocking && o.cfg.listen.replace_stale);
        assert_eq!(o.cfg.listen.backlog, ListenOpts::default().backlog);
        let o = try_parse(&[
            "-m",
            "-b0",
            "-B",
            "-D",
            "-a",
            "37777777777",
            "s",
            "p",
            "-b",
            "x",
        ])?;
        assert_eq!(o.cfg.listen.ty, SocketType::DGRAM);
        assert_eq!(o.cfg.listen.backlog, None);
        assert!(!o.cfg.listen.nonblocking && !o.cfg.listen.replace_stale);
        assert_eq!(o.cfg.listen.mode.as_raw_mode(), 0o777);
        assert_eq!(o.cfg.argv, ["p", "-b", "x"]);
        let o = try_parse(&["-b", "4294967295", "-a", "0640", "s", "p"])?;
        assert_eq!(o.cfg.listen.backlog, Some(i32::MAX));
        assert_eq!(o.cfg.listen.mode.as_raw_mode(), 0o640);
        Ok(())
    }
}
