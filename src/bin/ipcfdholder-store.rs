//! ipcfdholder-store: give a copy of an fd to an fd-holding daemon (drop-in
//! s6-fdholder-store).
#![forbid(unsafe_code)]

use ipccore::prog::ipcfdholder::ipcfdholder_store::{self as client, IpcfdholderStoreConfig};
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcfdholder_store::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcfdholder-store";
const USAGE: &str = "ipcfdholder-store [ -d fd ] [ -t timeout ] [ -T fdtimeout ] socket id";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let cfg = IpcfdholderStoreConfig {
            socket: o.socket,
            id: o.id,
            fd: o.fd,
            timeout: o.timeout,
            fd_timeout: o.fd_timeout,
        };
        cli::exit(&diag, client::ipcfdholder_store(&cfg, &diag))
    })
}
