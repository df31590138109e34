//! `ipcsudod` options (s6-sudod's, plus `-q`, `-Q` and `-v`).

use super::{Parsed, parser, uint};
use ipccore::prog::ipcsudo::ipcsudod::IpcsudodConfig;
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcsudod";
/// The usage line: `doc/ipcsudod.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str =
    "ipcsudod [ -0 ] [ -1 ] [ -2 ] [ -d ] [ -t timeout ] [ -q | -Q | -v ] sargv...";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcsudod.1`).
pub const HELP: &str = concat!(
    "  -0          the command's stdin is /dev/null, not the client's\n",
    "  -1          the command's stdout is /dev/null\n",
    "  -2          the command's stderr is ours (the service's log), not the client's\n",
    "  -d          detach: -012, and a client that hangs up does not kill the command\n",
    "  -t timeout  limit in ms on the banner, the request and the confirmation\n",
    "  -q          print no warnings\n",
    "  -Q          normal verbosity (the default)\n",
    "  -v          log the command's pid and the client's hang-up\n",
    "  --help      print this help and exit\n",
    "  --version   print the version and exit\n",
);

/// What `ipcsudod` was asked to do.
pub struct Opts {
    /// The program to run for each client and the request limits, for the core.
    pub cfg: IpcsudodConfig,
    /// `-q` 0 (fatal errors only), `-Q` 1 (warnings, the default), `-v` 2 (info too).
    pub verbosity: u32,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let mut cfg = IpcsudodConfig::default();
    let mut verbosity = 1;
    while let Some(arg) = p.next()? {
        match arg {
            Short('0') => cfg.null_stdin = true,
            Short('1') => cfg.null_stdout = true,
            Short('2') => cfg.server_stderr = true,
            Short('d') => cfg.detach = true,
            Short('q') => verbosity = 0,
            Short('Q') => verbosity = 1,
            Short('v') => verbosity = 2,
            // 0 means no limit, as in s6-sudod.
            Short('t') => {
                let ms = uint("-t", &p.value()?)?;
                cfg.timeout = (ms != 0).then(|| Duration::from_millis(ms.into()));
            }
            Value(v) => {
                cfg.argv = super::rest(&mut p, v)?;
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    Ok(Opts { cfg, verbosity })
}

/// ipcsudod's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, mut diag: Diag| {
        diag.verbosity = o.verbosity;
        super::exit(
            &diag,
            ipccore::prog::ipcsudo::ipcsudod::ipcsudod(&o.cfg, &diag),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_timeout() -> Parsed<()> {
        let o = parse(["-012d", "-t", "0", "cmd", "-t", "x"].map(OsString::from))?;
        assert!(o.cfg.null_stdin && o.cfg.null_stdout && o.cfg.server_stderr && o.cfg.detach);
        assert_eq!(o.cfg.timeout, None);
        assert_eq!(o.cfg.argv, ["cmd", "-t", "x"]);
        Ok(())
    }
}
