//! ipcfdholder-transferdump: copy every fd of one fd-holding daemon into another
//! (drop-in s6-fdholder-transferdump).
#![forbid(unsafe_code)]

use ipccore::prog::ipcfdholder::ipcfdholder_transferdump::{
    self as client, IpcfdholderTransferdumpConfig,
};
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcfdholder_transferdump::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcfdholder-transferdump";
const USAGE: &str = "ipcfdholder-transferdump [ -t timeoutfrom:timeoutto ] socketfrom socketto";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let cfg = IpcfdholderTransferdumpConfig {
            from: o.from,
            to: o.to,
            timeout_from: o.timeout_from,
            timeout_to: o.timeout_to,
        };
        cli::exit(&diag, client::ipcfdholder_transferdump(&cfg, &diag))
    })
}
