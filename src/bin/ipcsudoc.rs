//! ipcsudoc: the client side of the s6-sudo protocol (drop-in s6-sudoc), run under
//! ipcclient.
#![forbid(unsafe_code)]

use ipccore::prog::ipcsudo::ipcsudoc as sudo;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcsudoc::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcsudoc";
const USAGE: &str = "ipcsudoc [ -e ] [ -t timeoutconn ] [ -T timeoutrun ] [ args... ]";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        cli::exit(&diag, sudo::ipcsudoc(&o.cfg, &diag))
    })
}
