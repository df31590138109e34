//! ipcioconnect: full-duplex relay between stdin/stdout and fds 6/7 (drop-in s6-ioconnect).
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::ioconnect::{self, Config, Outcome};
use lexopt::prelude::*;
use std::process::ExitCode;
use std::time::Duration;

const PROG: &str = "ipcioconnect";
const USAGE: &str = "ipcioconnect [ -t timeout ] [ -r fdr ] [ -w fdw ]";

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Config, lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let mut cfg = Config::default();
    while let Some(arg) = p.next()? {
        match arg {
            // Deprecated in s6-ioconnect (sockets are detected now): accepted, no effect.
            Short('0' | '1' | '6' | '7') => {}
            Short('t') => {
                let ms: u32 = p.value()?.parse()?;
                cfg.timeout = (ms > 0).then(|| Duration::from_millis(ms.into()));
            }
            Short('r') => cfg.remote_read = p.value()?.parse()?,
            Short('w') => cfg.remote_write = p.value()?.parse()?,
            // s6-ioconnect stops at the first operand and ignores the rest.
            Value(_) => break,
            _ => return Err(arg.unexpected()),
        }
    }
    // 0, 1 and 2 are the local side and stderr: the remote fds must be others.
    if cfg.remote_read < 3 || cfg.remote_write < 3 {
        return Err("remote fds must be 3 or more".into());
    }
    Ok(cfg)
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    let Ok(cfg) = parse(std::env::args_os().skip(1)) else {
        return ExitCode::from(diag.usage(USAGE));
    };
    match ioconnect::run(&cfg, &diag) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Idle) => ExitCode::from(1),
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
