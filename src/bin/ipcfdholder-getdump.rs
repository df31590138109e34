//! ipcfdholder-getdump: exec a program with every fd an fd-holding daemon holds
//! (drop-in s6-fdholder-getdump).
#![forbid(unsafe_code)]

use ipccore::prog::ipcfdholder::ipcfdholder_getdump::{self as client, IpcfdholderGetdumpConfig};
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcfdholder_getdump::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcfdholder-getdump";
const USAGE: &str = "ipcfdholder-getdump [ -t timeout ] socket prog...";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let cfg = IpcfdholderGetdumpConfig {
            socket: o.socket,
            timeout: o.timeout,
            argv: o.argv,
        };
        cli::exit(&diag, client::ipcfdholder_getdump(&cfg, &diag))
    })
}
