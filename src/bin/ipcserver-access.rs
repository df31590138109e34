//! ipcserver-access: uid/gid access control for a local service (drop-in
//! s6-ipcserver-access).
#![forbid(unsafe_code)]

use ipccore::access::{AccessConfig, Ruleset, run};
use ipccore::diag::Diag;
use ipccore::error::Error;
use lexopt::prelude::*;
use std::process::ExitCode;

const PROG: &str = "ipcserver-access";
const USAGE: &str = "ipcserver-access [ -v verbosity ] [ -E | -e ] [ -l localname ] [ -i rulesdir | -x rulesfile ] prog...";

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<(AccessConfig, u32), lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let mut verbosity = 1;
    let mut cfg = AccessConfig {
        rules: Ruleset::None,
        doenv: true,
        localname: None,
        argv: Vec::new(),
    };
    while let Some(arg) = p.next()? {
        match arg {
            Short('v') => verbosity = p.value()?.parse()?,
            Short('E') => cfg.doenv = false,
            Short('e') => cfg.doenv = true,
            Short('l') => cfg.localname = Some(p.value()?),
            // As s6: the last of -i and -x wins.
            Short('i') => cfg.rules = Ruleset::Dir(p.value()?.into()),
            Short('x') => cfg.rules = Ruleset::Cdb(p.value()?.into()),
            Value(v) => {
                cfg.argv.push(v);
                cfg.argv.extend(p.raw_args()?);
                break;
            }
            _ => return Err(arg.unexpected()),
        }
    }
    match cfg.argv.first() {
        Some(prog) if !prog.is_empty() => Ok((cfg, verbosity)),
        _ => Err("missing prog".into()),
    }
}

fn main() -> ExitCode {
    let mut diag = Diag::new(PROG);
    let (cfg, verbosity) = match parse(std::env::args_os().skip(1)) {
        Ok(o) => o,
        Err(_) => return ExitCode::from(diag.usage(USAGE)),
    };
    diag.verbosity = verbosity;
    match run(&cfg, &diag) {
        Ok(never) => match never {},
        // Already logged as s6 does (at -v2): a denial is not a fatal error.
        Err(e @ Error::Denied(_)) => ExitCode::from(e.exit_code()),
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
