//! ipcsudod: the server side of the s6-sudo protocol (drop-in s6-sudod), run under
//! ipcserver.
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::sudo::{self, ServerConfig};
use lexopt::prelude::*;
use std::process::ExitCode;
use std::time::Duration;

const PROG: &str = "ipcsudod";
const USAGE: &str = "ipcsudod [ -0 ] [ -1 ] [ -2 ] [ -d ] [ -t timeout ] [ -q | -Q | -v ] sargv...";

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<(ServerConfig, u32), lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let mut cfg = ServerConfig::default();
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
                let ms: u32 = p.value()?.parse()?;
                cfg.timeout = (ms != 0).then(|| Duration::from_millis(ms.into()));
            }
            Value(v) => {
                cfg.argv.push(v);
                cfg.argv.extend(p.raw_args()?);
                break;
            }
            _ => return Err(arg.unexpected()),
        }
    }
    Ok((cfg, verbosity))
}

fn main() -> ExitCode {
    let mut diag = Diag::new(PROG);
    let (cfg, verbosity) = match parse(std::env::args_os().skip(1)) {
        Ok(c) => c,
        Err(_) => return ExitCode::from(diag.usage(USAGE)),
    };
    diag.verbosity = verbosity;
    match sudo::ipcsudod(&cfg, &diag) {
        Ok(code) => ExitCode::from(code),
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
