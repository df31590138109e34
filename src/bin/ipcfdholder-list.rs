//! ipcfdholder-list: print the identifiers an fd-holding daemon holds (drop-in
//! s6-fdholder-list).
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::fdholder::client;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

const PROG: &str = "ipcfdholder-list";
const USAGE: &str = "ipcfdholder-list [ -t timeout ] socket";

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    args: impl IntoIterator<Item = OsString>,
) -> Result<(Option<Duration>, OsString), lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let mut timeout = None;
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') => {
                let ms: u32 = p.value()?.parse()?;
                timeout = (ms != 0).then(|| Duration::from_millis(ms.into()));
            }
            // As s6: extra arguments are ignored.
            Value(v) => return Ok((timeout, v)),
            _ => return Err(arg.unexpected()),
        }
    }
    Err("missing path".into())
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    let (timeout, path) = match parse(std::env::args_os().skip(1)) {
        Ok(o) => o,
        Err(_) => return ExitCode::from(diag.usage(USAGE)),
    };
    match client::run_list(&path, timeout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
