//! ipcserverd: serve an inherited listening Unix socket (drop-in s6-ipcserverd).
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::server::{Limits, ServeConfig, ipcserverd};
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;

const PROG: &str = "ipcserverd";
const USAGE: &str = "ipcserverd [ -1 ] [ -q | -Q | -v verbosity ] [ -P | -p ] [ -c maxconn ] [ -C localmaxconn ] prog...";

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    args: impl IntoIterator<Item = OsString>,
) -> Result<(ServeConfig, u32), lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let (mut verbosity, mut ready, mut peercred) = (1, false, true);
    let (mut maxconn, mut local) = (None, None);
    let mut argv: Vec<OsString> = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('1') => ready = true,
            Short('q') => verbosity = 0,
            Short('Q') => verbosity = 1,
            // s6-ipcserverd takes a number here, not a flag.
            Short('v') => verbosity = p.value()?.parse()?,
            Short('P') => peercred = false,
            Short('p') => peercred = true,
            Short('c') => maxconn = Some(p.value()?.parse()?),
            Short('C') => local = Some(p.value()?.parse()?),
            Value(v) => {
                argv.push(v);
                argv.extend(p.raw_args()?);
                break;
            }
            _ => return Err(arg.unexpected()),
        }
    }
    if argv.is_empty() {
        return Err("missing prog".into());
    }
    let cfg = ServeConfig {
        limits: Limits::new(maxconn, local, peercred),
        peercred,
        local_path: None,
        // s6-ipcserverd writes a bare newline: it does not know a path.
        readiness: ready.then(|| b"\n".to_vec()),
        argv,
        remove_env: Vec::new(),
    };
    Ok((cfg, verbosity))
}

fn main() -> ExitCode {
    let mut diag = Diag::new(PROG);
    let (cfg, verbosity) = match parse(std::env::args_os().skip(1)) {
        Ok(o) => o,
        Err(_) => return ExitCode::from(diag.usage(USAGE)),
    };
    diag.verbosity = verbosity;
    match ipcserverd(cfg, diag) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
