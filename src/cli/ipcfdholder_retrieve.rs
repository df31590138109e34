//! `ipcfdholder-retrieve` options (s6-fdholder-retrieve's).

use super::fdholder::{millis, positional};
use super::{Parsed, parser, rest};
use ipccore::prog::ipcfdholder::ipcfdholder_retrieve::IpcfdholderRetrieveConfig;
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcfdholder-retrieve";
/// The usage line: `doc/ipcfdholder-retrieve.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcfdholder-retrieve [ -D ] [ -t timeout ] socket id prog...";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcfdholder-retrieve.1`).
pub const HELP: &str = concat!(
    "  -D          the daemon forgets the fd once handed over (needs store rights too)\n",
    "  -t timeout  fail if the whole exchange takes over timeout ms (0: no limit)\n",
    "  --help      print this help and exit\n",
    "  --version   print the version and exit\n",
);

/// What `ipcfdholder-retrieve` was asked to do.
#[derive(Debug)]
pub struct Opts {
    /// The configuration `ipcfdholder_retrieve` runs with.
    pub cfg: IpcfdholderRetrieveConfig,
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
        cfg: IpcfdholderRetrieveConfig {
            delete,
            timeout,
            socket,
            id,
            argv,
        },
    })
}

/// ipcfdholder-retrieve's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::ipcfdholder::ipcfdholder_retrieve::ipcfdholder_retrieve(&o.cfg, &diag),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn reasons_and_values() -> Parsed<()> {
        let e = |a: &[&str]| parse(a.iter().map(OsString::from)).map(|_| ());
        assert_eq!(e(&["s", "i"]).unwrap_err().0, "missing prog");
        assert_eq!(
            e(&["-t", "-1", "s", "i", "p"]).unwrap_err().0,
            "-t: -1 is not a number (digits only, no sign)"
        );
        let o = parse(["-Dt5", "s", "i", "p", "-D"].map(OsString::from))?;
        assert!(o.cfg.delete);
        assert_eq!(o.cfg.timeout, Some(Duration::from_millis(5)));
        assert_eq!(o.cfg.argv, ["p", "-D"]);
        Ok(())
    }
}
