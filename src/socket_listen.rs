//! The option parser and `main` shared by `local-stream-socket-listen`,
//! `local-seqpacket-socket-listen` and `local-datagram-socket-listen`: one program,
//! three socket types (nosh builds them from one source file too). Each bin includes
//! this file with `#[path]` and supplies its name, usage line and kind.

use ipccore::activation::{Config, Kind, gid_from, mode_from, parse_number, uid_from};
use ipccore::diag::Diag;
use ipccore::sock::SockPath;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;

/// nosh reads numbers with `strtol(…, 0)`: a leading 0 means octal, 0x hexadecimal.
fn number<T>(
    v: OsString,
    what: &'static str,
    conv: impl FnOnce(u64) -> Option<T>,
) -> Result<T, lexopt::Error> {
    v.parse_with(|s| parse_number(s).and_then(conv).ok_or(what))
}

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    kind: Kind,
    args: impl IntoIterator<Item = OsString>,
) -> Result<Config, lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let mut cfg = Config::new(kind, SockPath::Abstract(Vec::new()), Vec::new());
    let mut path = None;
    while let Some(arg) = p.next()? {
        match arg {
            // The datagram program has no backlog option, as in nosh.
            Short('b') | Long("backlog") if kind != Kind::Datagram => {
                cfg.backlog = number(p.value()?, "invalid backlog", |n| i32::try_from(n).ok())?
            }
            Short('u') | Long("uid") => {
                cfg.uid = Some(number(p.value()?, "invalid uid", uid_from)?)
            }
            Short('g') | Long("gid") => {
                cfg.gid = Some(number(p.value()?, "invalid gid", gid_from)?)
            }
            Short('m') | Long("mode") => {
                cfg.mode = Some(number(p.value()?, "invalid mode", mode_from)?)
            }
            Long("pass-credentials") => cfg.pass_credentials = true,
            Long("pass-security") => cfg.pass_security = true,
            Long("upstart-compatibility") => cfg.upstart = true,
            Long("systemd-compatibility") => cfg.systemd = true,
            Long("fdname") => cfg.fdname = Some(p.value()?),
            Value(v) => {
                path = Some(v);
                cfg.argv = p.raw_args()?.collect();
                break;
            }
            _ => return Err(arg.unexpected()),
        }
    }
    let path = path.ok_or("missing path")?;
    if cfg.argv.is_empty() {
        return Err("missing next-prog".into());
    }
    cfg.path = SockPath::parse(&path).map_err(|e| e.to_string())?;
    Ok(cfg)
}

/// Parse, then chain-load; returns only on failure.
pub fn main(prog: &'static str, usage: &str, kind: Kind) -> ExitCode {
    let diag = Diag::new(prog);
    let cfg = match parse(kind, std::env::args_os().skip(1)) {
        Ok(c) => c,
        Err(_) => return ExitCode::from(diag.usage(usage)),
    };
    match ipccore::activation::run(&cfg) {
        Ok(never) => match never {},
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
