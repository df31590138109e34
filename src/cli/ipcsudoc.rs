//! `ipcsudoc` options (s6-sudoc's).

use super::{Parsed, parser, uint};
use ipccore::prog::ipcsudo::ipcsudoc::IpcsudocConfig;
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcsudoc";
/// The usage line: `doc/ipcsudoc.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcsudoc [ -e ] [ -t timeoutconn ] [ -T timeoutrun ] [ args... ]";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcsudoc.1`).
pub const HELP: &str = concat!(
    "  -e              send no environment variables\n",
    "  -t timeoutconn  limit in ms on the banner, the request and the confirmation\n",
    "  -T timeoutrun   limit in ms on the command's run, after the confirmation\n",
    "  --help          print this help and exit\n",
    "  --version       print the version and exit\n",
);

/// What `ipcsudoc` was asked to do.
pub struct Opts {
    /// The request to send on fds 6/7 (args, environment, timeouts), for the core.
    pub cfg: IpcsudocConfig,
}

/// Milliseconds, 0 meaning no limit (as s6).
fn millis(v: u32) -> Option<Duration> {
    (v != 0).then(|| Duration::from_millis(v.into()))
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let mut cfg = IpcsudocConfig {
        send_env: true,
        ..IpcsudocConfig::default()
    };
    while let Some(arg) = p.next()? {
        match arg {
            Short('e') => cfg.send_env = false,
            Short('t') => cfg.conn_timeout = millis(uint("-t", &p.value()?)?),
            Short('T') => cfg.run_timeout = millis(uint("-T", &p.value()?)?),
            Value(v) => {
                cfg.args = super::rest(&mut p, v)?;
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    Ok(Opts { cfg })
}

/// ipcsudoc's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::ipcsudo::ipcsudoc::ipcsudoc(&o.cfg, &diag),
        )
    })
}
