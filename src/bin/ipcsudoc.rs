//! ipcsudoc: the client side of the s6-sudo protocol (drop-in s6-sudoc), run under
//! ipcclient.
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::sudo::{self, ClientConfig};
use lexopt::prelude::*;
use std::process::ExitCode;
use std::time::Duration;

const PROG: &str = "ipcsudoc";
const USAGE: &str = "ipcsudoc [ -e ] [ -t timeoutconn ] [ -T timeoutrun ] [ args... ]";

/// Milliseconds, 0 meaning no limit (as s6).
fn millis(v: u32) -> Option<Duration> {
    (v != 0).then(|| Duration::from_millis(v.into()))
}

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<ClientConfig, lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let mut cfg = ClientConfig {
        send_env: true,
        ..ClientConfig::default()
    };
    while let Some(arg) = p.next()? {
        match arg {
            Short('e') => cfg.send_env = false,
            Short('t') => cfg.conn_timeout = millis(p.value()?.parse()?),
            Short('T') => cfg.run_timeout = millis(p.value()?.parse()?),
            Value(v) => {
                cfg.args.push(v);
                cfg.args.extend(p.raw_args()?);
                break;
            }
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(cfg)
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    let cfg = match parse(std::env::args_os().skip(1)) {
        Ok(c) => c,
        Err(_) => return ExitCode::from(diag.usage(USAGE)),
    };
    match sudo::ipcsudoc(&cfg) {
        Ok(code) => ExitCode::from(code),
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
