//! ipcfdholder-delete: make an fd-holding daemon close a held fd (drop-in
//! s6-fdholder-delete).
#![forbid(unsafe_code)]

use ipccore::prog::ipcfdholder::ipcfdholder_delete::{self as client, IpcfdholderDeleteConfig};
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcfdholder_delete::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcfdholder-delete";
const USAGE: &str = "ipcfdholder-delete [ -t timeout ] socket id";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let cfg = IpcfdholderDeleteConfig {
            socket: o.socket,
            id: o.id,
            timeout: o.timeout,
        };
        cli::exit(&diag, client::ipcfdholder_delete(&cfg, &diag))
    })
}
