//! `ipcfdholder-store` options (s6-fdholder-store's).

use super::fdholder::{millis, positional};
use super::{Parsed, parser, rest, uint};
use ipccore::prog::ipcfdholder::ipcfdholder_store::IpcfdholderStoreConfig;
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcfdholder-store";
/// The usage line: `doc/ipcfdholder-store.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcfdholder-store [ -d fd ] [ -t timeout ] [ -T fdtimeout ] socket id";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcfdholder-store.1`).
pub const HELP: &str = concat!(
    "  -d fd         store fd number fd instead of 0\n",
    "  -t timeout    fail if the whole exchange takes over timeout ms (0: no limit)\n",
    "  -T fdtimeout  the daemon forgets the fd after fdtimeout ms (0: never)\n",
    "  --help        print this help and exit\n",
    "  --version     print the version and exit\n",
);

/// What `ipcfdholder-store` was asked to do.
#[derive(Debug)]
pub struct Opts {
    /// The configuration `ipcfdholder_store` runs with.
    pub cfg: IpcfdholderStoreConfig,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let (mut fd, mut timeout, mut fd_timeout) = (0, None, None);
    let mut pos = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('d') => fd = uint("-d", &p.value()?)?,
            Short('t') => timeout = millis("-t", &p.value()?)?,
            Short('T') => fd_timeout = millis("-T", &p.value()?)?,
            // As s6: options end at the first argument; extra arguments are ignored.
            Value(v) => {
                pos = rest(&mut p, v)?;
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    let ([socket, id], _) = positional(pos, ["socket", "id"])?;
    Ok(Opts {
        cfg: IpcfdholderStoreConfig {
            fd,
            timeout,
            fd_timeout,
            socket,
            id,
        },
    })
}

/// ipcfdholder-store's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::ipcfdholder::ipcfdholder_store::ipcfdholder_store(&o.cfg, &diag),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn err(args: &[&str]) -> String {
        match parse(args.iter().map(OsString::from)) {
            Ok(o) => format!("{args:?} accepted: {o:?}"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn reasons() {
        assert_eq!(err(&[]), "missing socket");
        assert_eq!(err(&["s"]), "missing id");
        assert_eq!(
            err(&["-d", "+3", "s", "i"]),
            "-d: +3 is not a number (digits only, no sign)"
        );
        assert_eq!(err(&["-T", "x", "s", "i"]), "-T: x is not a number");
        assert_eq!(err(&["-t"]), "-t: missing argument");
    }

    #[test]
    fn values() -> Parsed<()> {
        let o = parse(["-d3", "-t", "0", "-T", "5", "s", "i", "x"].map(OsString::from))?;
        assert_eq!((o.cfg.fd, o.cfg.timeout), (3, None));
        assert_eq!(o.cfg.fd_timeout, Some(Duration::from_millis(5)));
        assert_eq!((o.cfg.socket, o.cfg.id), ("s".into(), "i".into()));
        Ok(())
    }
}
