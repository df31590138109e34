//! `ipcsudoc` options (s6-sudoc's).

use super::{Parsed, parser, uint};
use ipccore::prog::ipcsudo::ipcsudoc::IpcsudocConfig;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::time::Duration;

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
