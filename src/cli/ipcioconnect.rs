//! `ipcioconnect` options (s6-ioconnect's): `-t` idle timeout in milliseconds, `-r`/`-w`
//! the remote fds, and the deprecated `-0 -1 -6 -7`, accepted with no effect. As
//! s6-ioconnect, options end at the first operand, and operands are ignored.

use super::{Parsed, UsageError, parser, show, uint};
use ipccore::prog::ipcioconnect::IpcioconnectConfig;
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::{OsStr, OsString};
use std::process::ExitCode;
use std::time::Duration;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcioconnect";
/// The usage line: `doc/ipcioconnect.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcioconnect [ -t timeout ] [ -r fdr ] [ -w fdw ]";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcioconnect.1`).
pub const HELP: &str = concat!(
    "  -t timeout      close everything and exit 1 after timeout ms without traffic\n",
    "  -r fdr          read the remote side from fd fdr instead of 6\n",
    "  -w fdw          write the remote side to fd fdw instead of 7\n",
    "  -0, -1, -6, -7  accepted and ignored, as by s6-ioconnect\n",
    "  --help          print this help and exit\n",
    "  --version       print the version and exit\n",
);

/// What `ipcioconnect` was asked to do.
pub struct Opts {
    /// The remote fds to relay with stdin/stdout, and the idle timeout, for the core.
    pub cfg: IpcioconnectConfig,
}

/// An fd number as s6-ioconnect reads one: digits, fitting an `int`.
fn fd(opt: &str, v: &OsStr) -> Parsed<i32> {
    let n = uint(opt, v)?;
    i32::try_from(n).map_err(|_| {
        UsageError(format!(
            "{opt}: {} is too large (at most {})",
            show(v),
            i32::MAX
        ))
    })
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let mut cfg = IpcioconnectConfig::default();
    while let Some(arg) = p.next()? {
        match arg {
            // Deprecated in s6-ioconnect (sockets are detected now): accepted, no effect.
            Short('0' | '1' | '6' | '7') => {}
            Short('t') => {
                let ms = uint("-t", &p.value()?)?;
                cfg.timeout = (ms > 0).then(|| Duration::from_millis(ms.into()));
            }
            Short('r') => cfg.remote_read = fd("-r", &p.value()?)?,
            Short('w') => cfg.remote_write = fd("-w", &p.value()?)?,
            // s6-ioconnect stops at the first operand and ignores the rest.
            Value(_) => break,
            _ => return Err(arg.unexpected().into()),
        }
    }
    // 0, 1 and 2 are the local side and stderr: the remote fds must be others.
    if cfg.remote_read < 3 || cfg.remote_write < 3 {
        return Err("remote fds must be 3 or more".into());
    }
    Ok(Opts { cfg })
}

/// ipcioconnect's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::ipcioconnect::ipcioconnect(&o.cfg, &diag),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(a: &[&str]) -> Option<String> {
        parse(a.iter().map(OsString::from)).err().map(|e| e.0)
    }

    #[test]
    fn as_s6_ioconnect() -> Parsed<()> {
        let o = parse(["-0167", "-t1000", "-r", "8", "x", "-Z"].map(OsString::from))?;
        assert_eq!(o.cfg.timeout, Some(Duration::from_millis(1000)));
        assert_eq!((o.cfg.remote_read, o.cfg.remote_write), (8, 7));
        assert_eq!(parse(["-t", "0"].map(OsString::from))?.cfg.timeout, None);
        assert_eq!(
            err(&["-r", "2"]).as_deref(),
            Some("remote fds must be 3 or more")
        );
        assert_eq!(
            err(&["-t", "+5"]).as_deref(),
            Some("-t: +5 is not a number (digits only, no sign)")
        );
        assert_eq!(
            err(&["-w", "2147483648"]).as_deref(),
            Some("-w: 2147483648 is too large (at most 2147483647)")
        );
        assert_eq!(err(&["-x"]).as_deref(), Some("unknown option -x"));
        Ok(())
    }
}
