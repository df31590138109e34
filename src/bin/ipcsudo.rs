//! ipcsudo: run a command through an ipcsudod service (drop-in s6-sudo): chain-loads
//! `ipcclient … path ipcsudoc … args`.
#![forbid(unsafe_code)]

use ipccore::prog::ipcsudo::ipcsudo::{self as sudo, IpcsudoConfig};
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcsudo::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcsudo";
const USAGE: &str = "ipcsudo [ -q | -Q | -v ] [ -p bindpath ] [ -l localname ] [ -e ] [ -t timeoutconn ] [ -T timeoutrun ] path [ args... ]";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let cfg = IpcsudoConfig { argv: o.argv };
        cli::exit(&diag, sudo::ipcsudo(&cfg, &diag))
    })
}
