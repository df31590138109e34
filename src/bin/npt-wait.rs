//! npt-wait: wait for events on a fifodir (s6-ftrig-wait; with prog, s6-ftrig-listen1),
//! in this process or through the nptlistend service.
#![forbid(unsafe_code)]

use ipccore::ResultExt;
use ipccore::base::ucspi::NPT_IPCPATH;
use ipccore::prog::npt;
use ipccore::sys::diag::Diag;
use ipccore::sys::sock::SockPath;
use ipctools::cli::{
    self,
    npt_wait::{Opts, parse},
};
use std::io::Write;
use std::process::ExitCode;

const PROG: &str = "npt-wait";
const USAGE: &str = "npt-wait [ -t millisecs ] [ -s ] fifodir regex [ prog... ]";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let got = if o.service {
            let path = std::env::var_os(NPT_IPCPATH).unwrap_or(npt::DEFAULT_IPCPATH.into());
            SockPath::parse(&path).and_then(|sp| npt::wait_service(&sp, &o.req, &o.prog))
        } else {
            npt::wait_here(&o.req, &o.prog)
        };
        let written = got.and_then(|mut ev| {
            ev.push(b'\n');
            std::io::stdout().write_all(&ev).op("write to stdout")
        });
        match written {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => ExitCode::from(diag.fatal(&e)),
        }
    })
}
