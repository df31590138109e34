//! `ipcfdholder-retrieve` options (s6-fdholder-retrieve's).

use super::fdholder::{millis, positional};
use super::{Parsed, parser, rest};
use lexopt::prelude::*;
use std::ffi::OsString;
use std::time::Duration;

/// What `ipcfdholder-retrieve` was asked to do.
#[derive(Debug)]
pub struct Opts {
    /// `-D`: delete the fd from the daemon as it is retrieved.
    pub delete: bool,
    /// `-t ms`: the limit on the whole exchange with the daemon (connect, request,
    /// answer); `None` (`-t 0`, the default) waits for ever.
    pub timeout: Option<Duration>,
    /// The daemon's socket (an ipcfdholderd or s6-fdholderd).
    pub socket: OsString,
    /// The identifier of the fd to get, which becomes the program's stdin.
    pub id: OsString,
    /// The program to exec, untouched.
    pub argv: Vec<OsString>,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let (mut delete, mut timeout) = (false, None);
    let mut pos = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('D') => delete = true,
            Short('t') => timeout = millis("-t", &p.value()?)?,
            Value(v) => {
                pos = rest(&mut p, v)?;
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    let ([socket, id, prog], mut argv) = positional(pos, ["socket", "id", "prog"])?;
    argv.insert(0, prog);
    Ok(Opts {
        delete,
        timeout,
        socket,
        id,
        argv,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_values() -> Parsed<()> {
        let e = |a: &[&str]| parse(a.iter().map(OsString::from)).map(|_| ());
        assert_eq!(e(&["s", "i"]).unwrap_err().0, "missing prog");
        assert_eq!(
            e(&["-t", "-1", "s", "i", "p"]).unwrap_err().0,
            "-t: -1 is not a number (digits only, no sign)"
        );
        let o = parse(["-Dt5", "s", "i", "p", "-D"].map(OsString::from))?;
        assert!(o.delete);
        assert_eq!(o.timeout, Some(Duration::from_millis(5)));
        assert_eq!(o.argv, ["p", "-D"]);
        Ok(())
    }
}
