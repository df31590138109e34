//! ipcfdholder-daemon: create the socket, drop privileges, exec ipcfdholderd (drop-in
//! s6-fdholder-daemon).
#![forbid(unsafe_code)]

use ipccore::binprefix::sibling;
use ipccore::diag::Diag;
use ipccore::fdholder::daemon::{LaunchConfig, launch};
use ipccore::listen::ListenOpts;
use ipccore::privs::{Ids, parse_gidlist};
use ipccore::sock::SockPath;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;

const PROG: &str = "ipcfdholder-daemon";
const USAGE: &str = "ipcfdholder-daemon [ -v verbosity ] [ -d | -D ] [ -1 ] [ -c maxconn ] [ -n maxfds ] [ -b backlog ] [ -G gid,gid,... ] [ -g gid ] [ -u uid ] [ -U ] [ -t timeout ] [ -T lameducktimeout ] [ -i rulesdir | -x rulesfile ] path";

/// Options from `args` (argv without the program name), so a fuzz target can call it.
/// `None`: no rules given.
pub(crate) fn parse(
    args: impl IntoIterator<Item = OsString>,
) -> Result<Option<LaunchConfig>, lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let mut lo = ListenOpts::default();
    let mut ids = Ids::default();
    let mut from_env = false;
    let mut d: Vec<OsString> = vec![sibling("ipcfdholderd")];
    let mut rules: Option<(char, OsString)> = None;
    let mut path = None;
    while let Some(arg) = p.next()? {
        match arg {
            Short('d') => lo.replace_stale = true,
            Short('D') => lo.replace_stale = false,
            Short('1') => d.push("-1".into()),
            Short(c @ ('v' | 't' | 'T')) => {
                let n: u32 = p.value()?.parse()?;
                d.extend([format!("-{c}").into(), n.to_string().into()]);
            }
            // As s6-fdholder-daemon: 0 means 1.
            Short(c @ ('c' | 'n')) => {
                let n: u32 = p.value()?.parse()?;
                d.extend([format!("-{c}").into(), n.max(1).to_string().into()]);
            }
            Short('b') => {
                lo.backlog = Some(p.value()?.parse::<u32>()?.clamp(1, i32::MAX as u32) as i32)
            }
            Short('u') => ids.uid = ipccore::privs::nonzero_uid(p.value()?.parse()?),
            Short('g') => ids.gid = ipccore::privs::nonzero_gid(p.value()?.parse()?),
            Short('G') => {
                ids.groups = Some(
                    p.value()?
                        .parse_with(|s| parse_gidlist(s).ok_or("invalid gidlist"))?,
                )
            }
            Short('U') => {
                from_env = true;
                ids = Ids::default();
            }
            Short(c @ ('i' | 'x')) => rules = Some((c, p.value()?)),
            Value(v) => {
                path = Some(v);
                break;
            }
            _ => return Err(arg.unexpected()),
        }
    }
    let path = path.ok_or("missing path")?;
    let Some((c, r)) = rules else {
        return Ok(None);
    };
    d.extend([format!("-{c}").into(), r]);
    let sp = SockPath::parse(&path).map_err(|e| e.to_string())?;
    Ok(Some(LaunchConfig {
        path: sp,
        listen: lo,
        ids,
        ids_from_env: from_env,
        argv: d,
    }))
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    let cfg = match parse(std::env::args_os().skip(1)) {
        Ok(Some(c)) => c,
        Ok(None) => {
            diag.fatal_msg("no access rights specified!");
            return ExitCode::from(100);
        }
        Err(_) => return ExitCode::from(diag.usage(USAGE)),
    };
    let err = launch(&cfg);
    ExitCode::from(diag.fatal(&err))
}
