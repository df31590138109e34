//! ipcfdholder-list: print the identifiers an fd-holding daemon holds (drop-in
//! s6-fdholder-list).
#![forbid(unsafe_code)]

use ipccore::prog::ipcfdholder::ipcfdholder_list::{self as client, IpcfdholderListConfig};
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcfdholder_list::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcfdholder-list";
const USAGE: &str = "ipcfdholder-list [ -t timeout ] socket";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let cfg = IpcfdholderListConfig {
            socket: o.socket,
            timeout: o.timeout,
        };
        cli::exit(&diag, client::ipcfdholder_list(&cfg, &diag))
    })
}
