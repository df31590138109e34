//! `ipcserver-socketbinder` options (s6-ipcserver-socketbinder's).

use super::{Parsed, UsageError, parser, rest, uint};
use ipccore::fs::listen::{ListenOpts, SocketType};
use ipccore::sys::sock::SockPath;
use lexopt::prelude::*;
use std::ffi::OsString;

/// What `ipcserver-socketbinder` was asked to do.
pub struct Opts {
    /// Where to bind the socket handed to prog on fd 0.
    pub path: SockPath,
    /// Socket type (`-M`/`-m`), backlog (`-b`), mode (`-a`), stale-socket policy
    /// (`-d`/`-D`) and blocking mode (`-B`).
    pub listen: ListenOpts,
    /// prog and its arguments, as given.
    pub argv: Vec<OsString>,
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
        path,
        listen: lo,
        argv,
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
        assert!(o.listen.nonblocking && o.listen.replace_stale);
        assert_eq!(o.listen.backlog, ListenOpts::default().backlog);
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
        assert_eq!(o.listen.ty, SocketType::DGRAM);
        assert_eq!(o.listen.backlog, None);
        assert!(!o.listen.nonblocking && !o.listen.replace_stale);
        assert_eq!(o.listen.mode.as_raw_mode(), 0o777);
        assert_eq!(o.argv, ["p", "-b", "x"]);
        let o = try_parse(&["-b", "4294967295", "-a", "0640", "s", "p"])?;
        assert_eq!(o.listen.backlog, Some(i32::MAX));
        assert_eq!(o.listen.mode.as_raw_mode(), 0o640);
        Ok(())
    }
}
