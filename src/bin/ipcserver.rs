//! ipcserver: UCSPI super-server on a Unix domain socket (drop-in s6-ipcserver).
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use ipccore::listen::ListenOpts;
use ipccore::privs::{Ids, parse_gidlist};
use ipccore::server::{IdSource, IpcserverConfig, Limits, ServeConfig, ipcserver};
use ipccore::sock::SockPath;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

const PROG: &str = "ipcserver";
const USAGE: &str = "ipcserver [ -1 ] [ -q | -Q | -v ] [ -d | -D ] [ -P | -p ] [ -c maxconn ] [ -C localmaxconn ] [ -b backlog ] [ -a perms ] [ -o uid:gid ] [ -G gidlist ] [ -g gid ] [ -u uid ] [ -U ] path prog...";

pub(crate) struct Opts {
    cfg: IpcserverConfig,
    verbosity: u32,
}

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Opts, lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let (mut verbosity, mut ready, mut peercred) = (1, false, true);
    let (mut maxconn, mut local) = (None, None);
    let mut lo = ListenOpts::default();
    let mut ids = Ids::default();
    let mut from_env = false;
    let mut path = None;
    let mut argv: Vec<OsString> = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('1') => ready = true,
            Short('q') => verbosity = 0,
            Short('Q') => verbosity = 1,
            Short('v') => verbosity = 2,
            Short('d') => lo.replace_stale = true,
            Short('D') => lo.replace_stale = false,
            Short('P') => peercred = false,
            Short('p') => peercred = true,
            Short('c') => maxconn = Some(p.value()?.parse()?),
            Short('C') => local = Some(p.value()?.parse()?),
            // s6-ipcserver bumps -b0 to 1: a socket that never listens serves nobody.
            Short('b') => {
                lo.backlog = Some(p.value()?.parse::<u32>()?.clamp(1, i32::MAX as u32) as i32)
            }
            Short('a') => {
                let m = p.value()?.parse_with(|s| u32::from_str_radix(s, 8))?;
                if m > 0o7777 {
                    return Err("perms must be an octal mode".into());
                }
                lo.mode = ipccore::listen::mode(m);
            }
            Short('o') => {
                let (u, g) = p.value()?.parse_with(ipccore::privs::parse_owner)?;
                lo.uid = u;
                lo.gid = g;
            }
            // As s6-ipcserver: an id of 0 means "not set".
            Short('u') => ids.uid = ipccore::privs::nonzero_uid(p.value()?.parse()?),
            Short('g') => ids.gid = ipccore::privs::nonzero_gid(p.value()?.parse()?),
            Short('G') => {
                ids.groups = Some(
                    p.value()?
                        .parse_with(|s| parse_gidlist(s).ok_or("invalid gidlist"))?,
                )
            }
            Short('U') => from_env = true,
            Value(v) => {
                path = Some(v);
                argv = p.raw_args()?.collect();
                break;
            }
            _ => return Err(arg.unexpected()),
        }
    }
    let path = path.ok_or("missing path")?;
    if argv.is_empty() {
        return Err("missing prog".into());
    }
    let sp = SockPath::parse(&path).map_err(|e| e.to_string())?;
    let limits = Limits::new(maxconn, local, peercred);
    let mut line = path.as_bytes().to_vec();
    line.push(b'\n');
    let ids = if from_env {
        IdSource::Env(ids)
    } else if ids.is_empty() {
        IdSource::Keep
    } else {
        IdSource::Given(ids)
    };
    let serve = ServeConfig {
        limits,
        peercred,
        local_path: Some(path),
        readiness: ready.then_some(line),
        argv,
        remove_env: Vec::new(),
    };
    Ok(Opts {
        cfg: IpcserverConfig {
            path: sp,
            listen: lo,
            ids,
            serve,
        },
        verbosity,
    })
}

fn main() -> ExitCode {
    let mut diag = Diag::new(PROG);
    let opts = match parse(std::env::args_os().skip(1)) {
        Ok(o) => o,
        Err(_) => return ExitCode::from(diag.usage(USAGE)),
    };
    diag.verbosity = opts.verbosity;
    match ipcserver(opts.cfg, diag) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
