//! `ipcclient` options (s6-ipcclient's, plus `-t`).

use super::{Parsed, UsageError, parser, uint};
use ipccore::prog::ipcclient::IpcclientConfig;
use ipccore::sys::diag::Diag;
use ipccore::sys::sock::SockPath;
use lexopt::prelude::*;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcclient";
/// The usage line: `doc/ipcclient.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str =
    "ipcclient [ -q | -Q | -v ] [ -p bindpath ] [ -l localname ] [ -t millisecs ] path prog...";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcclient.1`).
pub const HELP: &str = concat!(
    "  -q            lower the verbosity by one (0: fatal errors only)\n",
    "  -Q            set the verbosity back to 1 (the default)\n",
    "  -v            raise the verbosity by one (2: report the connection)\n",
    "  -p bindpath   bind the client socket to bindpath before connecting\n",
    "  -l localname  set IPCLOCALPATH to localname (nothing is bound)\n",
    "  -t millisecs  retry a connection refused or not there yet for millisecs ms\n",
    "  --help        print this help and exit\n",
    "  --version     print the version and exit\n",
);

/// What `ipcclient` was asked to do.
pub struct Opts {
    /// The connection to make and the program to run on it, for the core.
    pub cfg: IpcclientConfig,
    /// Diagnostics level, counted as s6-ipcclient does: each `-q` one less, each `-v`
    /// one more, `-Q` back to 1 (the default).
    pub verbosity: u32,
}

/// A socket address; the empty path is kept as it is, so that connecting to it fails
/// as in s6-ipcclient (exit 111), rather than being a usage error.
fn address(v: &OsStr) -> Parsed<SockPath> {
    if v.is_empty() {
        return Ok(SockPath::Fs(PathBuf::new()));
    }
    SockPath::parse(v).map_err(|e| UsageError(e.to_string()))
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let mut verbosity: u32 = 1;
    let (mut bind, mut local_name, mut retry_for) = (None, None, None);
    let mut path = None;
    let mut argv = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            // As s6-ipcclient: -q and -v count down and up; -Q resets.
            Short('q') => verbosity = verbosity.saturating_sub(1),
            Short('Q') => verbosity = 1,
            Short('v') => verbosity = verbosity.saturating_add(1),
            Short('p') => bind = Some(address(&p.value()?)?),
            Short('l') => local_name = Some(p.value()?),
            Short('t') => retry_for = Some(Duration::from_millis(uint("-t", &p.value()?)?.into())),
            Value(v) => {
                path = Some(v);
                argv = p.raw_args()?.collect();
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    let path = path.ok_or("missing path")?;
    if argv.is_empty() {
        return Err("missing prog".into());
    }
    Ok(Opts {
        cfg: IpcclientConfig {
            path: address(&path)?,
            bind,
            local_name,
            retry_for,
            argv,
        },
        verbosity,
    })
}

/// ipcclient's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, mut diag: Diag| {
        diag.verbosity = o.verbosity;
        super::exit(&diag, ipccore::prog::ipcclient::ipcclient(&o.cfg, &diag))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(args: &[&str]) -> Parsed<Opts> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn verbosity_counts_as_s6() -> Result<(), UsageError> {
        assert_eq!(opts(&["-q", "-v", "/s", "p"])?.verbosity, 1);
        assert_eq!(opts(&["-vv", "/s", "p"])?.verbosity, 3);
        assert_eq!(opts(&["-qq", "/s", "p"])?.verbosity, 0);
        assert_eq!(opts(&["-vvQ", "/s", "p"])?.verbosity, 1);
        Ok(())
    }

    #[test]
    fn empty_path_is_not_a_usage_error() -> Result<(), UsageError> {
        assert_eq!(opts(&["", "p"])?.cfg.path, SockPath::Fs(PathBuf::new()));
        assert_eq!(
            opts(&["/s"]).err().map(|e| e.0),
            Some("missing prog".into())
        );
        assert_eq!(
            opts(&["-t", "+5", "/s", "p"]).err().map(|e| e.0),
            Some("-t: +5 is not a number (digits only, no sign)".into())
        );
        Ok(())
    }
}
