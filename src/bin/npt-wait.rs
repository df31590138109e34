//! npt-wait: wait for events on a fifodir (s6-ftrig-wait; with prog, s6-ftrig-listen1),
//! in this process or through the nptlistend service.
#![forbid(unsafe_code)]

use ipccore::ResultExt;
use ipccore::diag::Diag;
use ipccore::exec::NPT_IPCPATH;
use ipccore::npt::{self, Request};
use ipccore::sock::SockPath;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

const PROG: &str = "npt-wait";
const USAGE: &str = "npt-wait [ -t millisecs ] [ -s ] fifodir regex [ prog... ]";

pub(crate) struct Opts {
    req: Request,
    service: bool,
    prog: Vec<OsString>,
}

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Opts, lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let (mut timeout, mut service, mut dir) = (0u64, false, None);
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') => timeout = p.value()?.parse()?,
            Short('s') => service = true,
            Value(v) => {
                dir = Some(v);
                break;
            }
            _ => return Err(arg.unexpected()),
        }
    }
    let dir = dir.ok_or("missing fifodir")?;
    let mut rest = p.raw_args()?;
    let regex = rest.next().ok_or("missing regex")?.into_string()?;
    Ok(Opts {
        req: Request {
            fifodir: dir.into(),
            regex,
            timeout: (timeout != 0).then(|| Duration::from_millis(timeout)),
        },
        service,
        prog: rest.collect(),
    })
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    let Ok(o) = parse(std::env::args_os().skip(1)) else {
        return ExitCode::from(diag.usage(USAGE));
    };
    let got = if o.service {
        let path = std::env::var_os(NPT_IPCPATH).unwrap_or(npt::DEFAULT_IPCPATH.into());
        SockPath::parse(&path).and_then(|sp| npt::wait_service(&sp, &o.req, &o.prog))
    } else {
        npt::wait_here(&o.req, &o.prog)
    };
    match got {
        Ok(mut ev) => {
            ev.push(b'\n');
            match std::io::stdout().write_all(&ev).op("write to stdout") {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => ExitCode::from(diag.fatal(&e)),
            }
        }
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
