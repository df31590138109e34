//! npt-listen: subscribe to several fifodirs, run a program, wait for their events
//! (drop-in s6-ftrig-listen).
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::error::Error;
use ipccore::nptlisten::{self, BlockError, Config};
use lexopt::prelude::*;
use std::process::ExitCode;
use std::time::Duration;

const PROG: &str = "npt-listen";
const USAGE: &str = "npt-listen [ -a | -o ] [ -t timeout ] fifodir1 regexp1 ... \"\" prog...";

enum Parsed {
    Ok(Config),
    Usage,
    Unterminated,
}

/// Options from `args` (argv without the program name), so a fuzz target can call it.
fn parse(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Parsed, lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let (mut any, mut timeout) = (false, None);
    let mut rest = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('a') => any = false,
            Short('o') => any = true,
            Short('t') => {
                let ms: u32 = p.value()?.parse()?;
                timeout = (ms > 0).then(|| Duration::from_millis(ms.into()));
            }
            // The block's words start with a space (execlineb's quoting), so the first
            // of them ends the options.
            Value(v) => {
                rest.push(v);
                rest.extend(p.raw_args()?);
                break;
            }
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(match nptlisten::split_block(&rest) {
        Ok((block, prog)) => Parsed::Ok(Config {
            any,
            timeout,
            subs: block
                .chunks_exact(2)
                .filter_map(|c| Some((c.first()?.into(), c.get(1)?.clone())))
                .collect(),
            prog,
        }),
        Err(BlockError::Usage) => Parsed::Usage,
        Err(BlockError::Unterminated) => Parsed::Unterminated,
    })
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    let cfg = match parse(std::env::args_os().skip(1)) {
        Ok(Parsed::Ok(c)) => c,
        Ok(Parsed::Unterminated) => {
            diag.fatal_msg("unterminated fifodir+regex block");
            return ExitCode::from(100);
        }
        Ok(Parsed::Usage) | Err(_) => return ExitCode::from(diag.usage(USAGE)),
    };
    match nptlisten::run(&cfg) {
        Ok(()) => ExitCode::SUCCESS,
        // s6-ftrig-listen exits 1 on its timeout (not 99 as npt-wait).
        Err(e @ Error::Timeout(_)) => {
            diag.fatal_msg(e.to_string());
            ExitCode::from(1)
        }
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
