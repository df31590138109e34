//! `ipcserverd` options (s6-ipcserverd's, plus `-q` and `-Q`).

use super::{Parsed, parser, uint};
use ipccore::prog::ipcserverd::{IpcserverdConfig, Limits};
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcserverd";
/// The usage line: `doc/ipcserverd.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcserverd [ -1 ] [ -q | -Q | -v verbosity ] [ -P | -p ] [ -c maxconn ] [ -C localmaxconn ] prog...";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcserverd.1`).
pub const HELP: &str = concat!(
    "  -1               once ready, write a newline to stdout and close it\n",
    "  -q               same as -v 0: fatal errors only\n",
    "  -Q               same as -v 1: warnings (the default)\n",
    "  -v verbosity     0 quiet, 1 warnings, 2 every connection\n",
    "  -P               do not look up client credentials\n",
    "  -p               look up client credentials (the default)\n",
    "  -c maxconn       at most maxconn handlers at once (default 40, at most 16384)\n",
    "  -C localmaxconn  at most localmaxconn handlers per client uid (default 40)\n",
    "  --help           print this help and exit\n",
    "  --version        print the version and exit\n",
);

/// What `ipcserverd` was asked to do.
pub struct Opts {
    /// The accept loop's limits and the program to spawn per connection, for the core.
    pub cfg: IpcserverdConfig,
    /// `-q` 0, `-Q` 1 (the default), `-v N` any level, as s6-ipcserverd; 2 adds info
    /// lines (start, each connection and its end, signals).
    pub verbosity: u32,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let (mut verbosity, mut ready, mut peercred) = (1, false, true);
    let (mut maxconn, mut local) = (None, None);
    let mut argv: Vec<OsString> = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('1') => ready = true,
            Short('q') => verbosity = 0,
            Short('Q') => verbosity = 1,
            // s6-ipcserverd takes a number here, not a flag.
            Short('v') => verbosity = uint("-v", &p.value()?)?,
            Short('P') => peercred = false,
            Short('p') => peercred = true,
            Short('c') => maxconn = Some(uint("-c", &p.value()?)?),
            Short('C') => local = Some(uint("-C", &p.value()?)?),
            Value(v) => {
                argv = super::rest(&mut p, v)?;
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    match argv.first() {
        None => return Err("missing prog".into()),
        Some(p) if p.is_empty() => return Err("prog is empty".into()),
        _ => {}
    }
    let cfg = IpcserverdConfig {
        limits: Limits::new(maxconn, local, peercred),
        peercred,
        local_path: None,
        // s6-ipcserverd writes a bare newline: it does not know a path.
        readiness: ready.then(|| b"\n".to_vec()),
        argv,
        remove_env: Vec::new(),
    };
    Ok(Opts { cfg, verbosity })
}

/// ipcserverd's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, mut diag: Diag| {
        diag.verbosity = o.verbosity;
        super::exit(&diag, ipccore::prog::ipcserverd::ipcserverd(&o.cfg, &diag))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(args: &[&str]) -> String {
        match parse(args.iter().map(OsString::from)) {
            Ok(_) => format!("{args:?} accepted"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn reasons() {
        assert_eq!(err(&["-v"]), "-v: missing argument");
        assert_eq!(
            err(&["-v", "+2", "x"]),
            "-v: +2 is not a number (digits only, no sign)"
        );
        assert_eq!(err(&[""]), "prog is empty");
        assert_eq!(err(&[]), "missing prog");
        assert_eq!(err(&["--x", "p"]), "unknown option --x");
    }

    #[test]
    fn limits() -> Result<(), super::super::UsageError> {
        let o = parse(["-c", "20000", "-C", "7", "-v", "2", "p", "-c"].map(OsString::from))?;
        assert_eq!(o.cfg.limits.maxconn, 16384);
        assert_eq!(o.cfg.limits.localmaxconn, 7);
        assert_eq!(o.verbosity, 2);
        assert_eq!(o.cfg.argv, ["p", "-c"]);
        Ok(())
    }
}
