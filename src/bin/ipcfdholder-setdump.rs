//! ipcfdholder-setdump: add the fds described by `S6_FD#`… to an fd-holding daemon
//! (drop-in s6-fdholder-setdump).
#![forbid(unsafe_code)]

use ipccore::prog::ipcfdholder::ipcfdholder_setdump::{self as client, IpcfdholderSetdumpConfig};
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcfdholder_setdump::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcfdholder-setdump";
const USAGE: &str = "ipcfdholder-setdump [ -t timeout ] socket";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let cfg = IpcfdholderSetdumpConfig {
            socket: o.socket,
            timeout: o.timeout,
        };
        cli::exit(&diag, client::ipcfdholder_setdump(&cfg, &diag))
    })
}
