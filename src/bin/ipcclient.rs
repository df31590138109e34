//! ipcclient: UCSPI client for Unix domain sockets (drop-in s6-ipcclient).
#![forbid(unsafe_code)]

use ipccore::client::{self, ClientConfig};
use ipccore::diag::Diag;
use ipccore::sock::SockPath;
use lexopt::prelude::*;
use std::process::ExitCode;
use std::time::Duration;

const PROG: &str = "ipcclient";
const USAGE: &str =
    "ipcclient [ -q | -Q | -v ] [ -p bindpath ] [ -l localname ] [ -t millisecs ] path prog...";

pub(crate) struct Opts {
    cfg: ClientConfig,
    verbosity: u32,
}

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Opts, lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let mut verbosity = 1;
    let (mut bind, mut local_name, mut retry_for) = (None, None, None);
    let mut path = None;
    let mut argv = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('q') => verbosity = 0,
            Short('Q') => verbosity = 1,
            Short('v') => verbosity = 2,
            Short('p') => {
                let v = p.value()?;
                bind = Some(SockPath::parse(&v).map_err(|e| e.to_string())?);
            }
            Short('l') => local_name = Some(p.value()?),
            Short('t') => retry_for = Some(Duration::from_millis(p.value()?.parse()?)),
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
    let path = SockPath::parse(&path).map_err(|e| e.to_string())?;
    Ok(Opts {
        cfg: ClientConfig {
            path,
            bind,
            local_name,
            retry_for,
            argv,
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
    match client::run(&opts.cfg, &diag) {
        Ok(never) => match never {},
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
