//! `npt-wait` options (s6-ftrig-wait's, or s6-ftrig-listen1's with prog, plus `-s`).

use super::{Parsed, UsageError, parser, show, uint};
use ipccore::base::error::Error;
use ipccore::prog::npt::npt_wait::NptWaitConfig;
use ipccore::prog::npt::proto::Request;
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

/// The program's name, in every diagnostic.
pub const PROG: &str = "npt-wait";
/// The usage line: `doc/npt-wait.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "npt-wait [ -t millisecs ] [ -s ] fifodir regex [ prog... ]";
/// `--help`: one line per option (from the OPTIONS of `doc/npt-wait.1`).
pub const HELP: &str = concat!(
    "  -t millisecs  give up after millisecs ms: exit 99 (1 with prog)\n",
    "  --timeout=millisecs  the same as -t\n",
    "  -s            wait through the nptlistend service at $NPT_IPCPATH\n",
    "  --help        print this help and exit\n",
    "  --version     print the version and exit\n",
);

/// What `npt-wait` was asked to do.
pub struct Opts {
    /// The configuration `npt_wait` runs with.
    pub cfg: NptWaitConfig,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let (mut timeout, mut service, mut dir) = (0, false, None);
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') => timeout = uint("-t", &p.value()?)?,
            // s6 2.15's long form; as its skalibs gol, only with `=`.
            Long("timeout") => timeout = uint("--timeout", &super::eq_value(&mut p, "--timeout")?)?,
            Short('s') => service = true,
            Value(v) => {
                dir = Some(v);
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    let dir = dir.ok_or("missing fifodir")?;
    let mut rest = p.raw_args()?;
    let regex = rest.next().ok_or("missing regex")?;
    let regex = regex
        .into_string()
        .map_err(|r| UsageError(format!("regex {} is not valid UTF-8", show(&r))))?;
    Ok(Opts {
        cfg: NptWaitConfig {
            req: Request {
                fifodir: dir.into(),
                regex,
                timeout: (timeout != 0).then(|| Duration::from_millis(timeout.into())),
            },
            service,
            prog: rest.collect(),
        },
    })
}

/// npt-wait's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        match ipccore::prog::npt::npt_wait::npt_wait(&o.cfg, &diag) {
            // With prog it is s6-ftrig-listen1, which (2.11 and 2.15 alike) exits 1
            // on its timeout, with this message; s6-ftrig-wait 2.15 exits 99.
            Err(Error::Timeout(_)) if !o.cfg.prog.is_empty() => {
                diag.fatal_msg("unable to get expected event: Connection timed out");
                ExitCode::from(1)
            }
            r => super::exit(&diag, r),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prog_is_not_parsed() -> Parsed<()> {
        let o = parse(["-t", "5", "d", "-t", "x", "-t"].map(OsString::from))?;
        assert_eq!(o.cfg.req.regex, "-t");
        assert_eq!(o.cfg.req.timeout, Some(Duration::from_millis(5)));
        assert_eq!(o.cfg.prog, ["x", "-t"]);
        let o = parse(["-t0", "d", "re"].map(OsString::from))?;
        assert_eq!(o.cfg.req.timeout, None);
        Ok(())
    }
}
