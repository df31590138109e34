//! ipcfdholderd: hold fds for clients of the listening socket on stdin (drop-in
//! s6-fdholderd).
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::fdholder::daemon::{self, Config, Rules};
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

const PROG: &str = "ipcfdholderd";
const USAGE: &str = "ipcfdholderd [ -v verbosity ] [ -1 ] [ -c maxconn ] [ -n maxfds ] [ -t timeout ] [ -T lameducktimeout ] [ -i rulesdir | -x rulesfile ]";

/// Milliseconds, 0 meaning no limit (as s6).
fn millis(v: u32) -> Option<Duration> {
    (v != 0).then(|| Duration::from_millis(v.into()))
}

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    args: impl IntoIterator<Item = OsString>,
) -> Result<(Option<Config>, u32), lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let mut verbosity = 1;
    let (mut ready, mut maxconn, mut maxfds) =
        (false, daemon::MAXCONN_DEFAULT, daemon::MAXFDS_DEFAULT);
    let (mut timeout, mut lameduck, mut rules) = (None, None, None);
    while let Some(arg) = p.next()? {
        match arg {
            Short('1') => ready = true,
            Short('v') => verbosity = p.value()?.parse()?,
            Short('c') => maxconn = p.value()?.parse()?,
            Short('n') => maxfds = p.value()?.parse()?,
            Short('t') => timeout = millis(p.value()?.parse()?),
            Short('T') => lameduck = millis(p.value()?.parse()?),
            Short('i') => rules = Some(Rules::Dir(p.value()?.into())),
            Short('x') => rules = Some(Rules::Cdb(p.value()?.into())),
            // s6-fdholderd ignores arguments after its options.
            Value(_) => break,
            _ => return Err(arg.unexpected()),
        }
    }
    let cfg = rules.map(|rules| Config {
        ready,
        // As s6-fdholderd: 1 to S6_FDHOLDER_MAX (256).
        maxconn: maxconn.clamp(1, daemon::MAXCONN_MAX),
        maxfds,
        timeout,
        lameduck,
        rules,
    });
    Ok((cfg, verbosity))
}

fn main() -> ExitCode {
    let mut diag = Diag::new(PROG);
    let (cfg, verbosity) = match parse(std::env::args_os().skip(1)) {
        Ok(c) => c,
        Err(_) => return ExitCode::from(diag.usage(USAGE)),
    };
    diag.verbosity = verbosity;
    let Some(mut cfg) = cfg else {
        diag.fatal_msg("no access rights specified!");
        return ExitCode::from(100);
    };
    let mut run = || -> Result<u8, ipccore::Error> {
        cfg.maxfds = daemon::clamp_maxfds(cfg.maxfds)?;
        let listener = daemon::take_listener(cfg.ready)?;
        ipccore::fd::ensure_std_fds()?;
        daemon::run(listener, &cfg, &diag)
    };
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
