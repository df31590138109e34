//! `ipcfdholder-store` options (s6-fdholder-store's).

use super::fdholder::{millis, positional};
use super::{Parsed, parser, rest, uint};
use lexopt::prelude::*;
use std::ffi::OsString;
use std::time::Duration;

/// What `ipcfdholder-store` was asked to do.
#[derive(Debug)]
pub struct Opts {
    /// `-d`: the fd to store (default 0).
    pub fd: u32,
    /// `-t ms`: the limit on the whole exchange with the daemon (connect, request,
    /// answer); `None` (`-t 0`, the default) waits for ever.
    pub timeout: Option<Duration>,
    /// `-T`: how long the daemon keeps the fd.
    pub fd_timeout: Option<Duration>,
    /// The daemon's socket (an ipcfdholderd or s6-fdholderd).
    pub socket: OsString,
    /// The identifier to store the fd under (`unix:/run/x`, by s6's convention: a
    /// scheme, a colon, a name).
    pub id: OsString,
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
        fd,
        timeout,
        fd_timeout,
        socket,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!((o.fd, o.timeout), (3, None));
        assert_eq!(o.fd_timeout, Some(Duration::from_millis(5)));
        assert_eq!((o.socket, o.id), ("s".into(), "i".into()));
        Ok(())
    }
}
