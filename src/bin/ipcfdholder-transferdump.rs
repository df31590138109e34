//! ipcfdholder-transferdump: copy every fd of one fd-holding daemon into another
//! (drop-in s6-fdholder-transferdump).
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::fdholder::client;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

const PROG: &str = "ipcfdholder-transferdump";
const USAGE: &str = "ipcfdholder-transferdump [ -t timeoutfrom:timeoutto ] socketfrom socketto";

type Opts = (Option<Duration>, Option<Duration>, OsString, OsString);

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Opts, lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let (mut from, mut to) = (0, 0);
    let mut pos = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') => {
                (from, to) = p.value()?.parse_with(|s| {
                    client::parse_transfer_timeouts(s).ok_or("invalid timeoutfrom:timeoutto")
                })?;
            }
            Value(v) => {
                pos.push(v);
                pos.extend(p.raw_args()?);
                break;
            }
            _ => return Err(arg.unexpected()),
        }
    }
    let ms = |v: u32| (v != 0).then(|| Duration::from_millis(v.into()));
    let mut pos = pos.into_iter();
    let (Some(a), Some(b)) = (pos.next(), pos.next()) else {
        return Err("missing pathfrom or pathto".into());
    };
    Ok((ms(from), ms(to), a, b))
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    let (tfrom, tto, from, to) = match parse(std::env::args_os().skip(1)) {
        Ok(o) => o,
        Err(_) => return ExitCode::from(diag.usage(USAGE)),
    };
    match client::run_transferdump(&from, &to, tfrom, tto) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
