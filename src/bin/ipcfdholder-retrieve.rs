//! ipcfdholder-retrieve: exec a program with an fd held by an fd-holding daemon as
//! its stdin (drop-in s6-fdholder-retrieve).
#![forbid(unsafe_code)]

use ipccore::prog::ipcfdholder::ipcfdholder_retrieve::{self as client, IpcfdholderRetrieveConfig};
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcfdholder_retrieve::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcfdholder-retrieve";
const USAGE: &str = "ipcfdholder-retrieve [ -D ] [ -t timeout ] socket id prog...";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let cfg = IpcfdholderRetrieveConfig {
            socket: o.socket,
            id: o.id,
            delete: o.delete,
            timeout: o.timeout,
            argv: o.argv,
        };
        cli::exit(&diag, client::ipcfdholder_retrieve(&cfg, &diag))
    })
}
