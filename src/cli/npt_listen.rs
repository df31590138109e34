//! `npt-listen` options and block (s6-ftrig-listen's): `-a` (all must match, the
//! default) or `-o` (one is enough), `-t` timeout in milliseconds, then the block
//! `fifodir1 regexp1 ... ""` and prog. The block's words start with a space
//! (execlineb's quoting), so the first of them ends the options.

use super::{Parsed, UsageError, parser, uint};
use ipccore::base::error::Error;
use ipccore::prog::npt::npt_listen::{BlockError, NptListenConfig, split_block};
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

/// The program's name, in every diagnostic.
pub const PROG: &str = "npt-listen";
/// The usage line: `doc/npt-listen.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "npt-listen [ -a | -o ] [ -t timeout ] fifodir1 regexp1 ... \"\" prog...";
/// `--help`: one line per option (from the OPTIONS of `doc/npt-listen.1`).
pub const HELP: &str = concat!(
    "  -a, --and   wait until every fifodir's events match (the default)\n",
    "  -o, --or    wait until one fifodir's events match\n",
    "  -t timeout  give up after timeout ms and exit 1\n",
    "  --timeout=timeout  the same as -t\n",
    "  --help      print this help and exit\n",
    "  --version   print the version and exit\n",
);

/// What `npt-listen` was asked to do.
pub enum Opts {
    /// Subscribe to every fifodir, spawn prog, and wait until the events match.
    Run(NptListenConfig),
    /// No empty word ends the block: s6-ftrig-listen reports it as a fatal error
    /// (`unterminated fifodir+regex block`, exit 100) without its usage line.
    Unterminated,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let (mut any, mut timeout) = (false, None);
    let mut rest = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            // s6 2.15's long forms too (skalibs gol: `--timeout` only with `=`).
            Short('a') | Long("and") => any = false,
            Short('o') | Long("or") => any = true,
            Short('t') => {
                let ms = uint("-t", &p.value()?)?;
                timeout = (ms > 0).then(|| Duration::from_millis(ms.into()));
            }
            Long("timeout") => {
                let ms = uint("--timeout", &super::eq_value(&mut p, "--timeout")?)?;
                timeout = (ms > 0).then(|| Duration::from_millis(ms.into()));
            }
            Value(v) => {
                rest = super::rest(&mut p, v)?;
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    Ok(match split_block(&rest) {
        Ok((block, prog)) => Opts::Run(NptListenConfig {
            any,
            timeout,
            subs: block
                .chunks_exact(2)
                .filter_map(|c| Some((c.first()?.into(), c.get(1)?.clone())))
                .collect(),
            prog,
        }),
        Err(BlockError::Usage(why)) => return Err(UsageError(why.into())),
        Err(BlockError::Unterminated) => Opts::Unterminated,
    })
}

/// npt-listen's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        let cfg = match o {
            Opts::Run(cfg) => cfg,
            // As s6-ftrig-listen: a fatal error, without the usage line.
            Opts::Unterminated => {
                diag.fatal_msg("unterminated fifodir+regex block");
                return ExitCode::from(100);
            }
        };
        match ipccore::prog::npt::npt_listen::npt_listen(&cfg, &diag) {
            // s6-ftrig-listen exits 1 on its timeout (not 99 as npt-wait).
            Err(e @ Error::Timeout(_)) => {
                diag.fatal_msg(e.to_string());
                ExitCode::from(1)
            }
            r => super::exit(&diag, r),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::cli::os_args as args;

    #[test]
    fn block_and_prog() -> Parsed<()> {
        let Opts::Run(c) = parse(args(&["-o", "-t5", " f1", " a", "", "-t", "x"]))? else {
            return Err("unterminated".into());
        };
        assert!(c.any);
        assert_eq!(c.timeout, Some(Duration::from_millis(5)));
        assert_eq!(
            c.subs,
            [(std::path::PathBuf::from("f1"), OsString::from("a"))]
        );
        assert_eq!(c.prog, ["-t", "x"]);
        assert!(matches!(
            parse(args(&["f1", "a", "f2", "b", "p"]))?,
            Opts::Unterminated
        ));
        let e = parse(args(&["f1", "a", ""])).err().map(|e| e.0);
        assert_eq!(e.as_deref(), Some("too few arguments"));
        let e = parse(args(&["-t", "+1", "f1", "a", "", "p"]))
            .err()
            .map(|e| e.0);
        assert_eq!(
            e.as_deref(),
            Some("-t: +1 is not a number (digits only, no sign)")
        );
        Ok(())
    }
}
