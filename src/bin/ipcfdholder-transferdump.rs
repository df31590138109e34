//! ipcfdholder-transferdump: copy every fd of one fd-holding daemon into another
//! (drop-in s6-fdholder-transferdump).
#![forbid(unsafe_code)]

use ipccore::prog::fdholder::client;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcfdholder_transferdump::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcfdholder-transferdump";
const USAGE: &str = "ipcfdholder-transferdump [ -t timeoutfrom:timeoutto ] socketfrom socketto";

fn main() -> ExitCode {
    cli::run(
        PROG,
        USAGE,
        parse,
        |o: Opts, diag: Diag| match client::run_transferdump(
            &o.from,
            &o.to,
            o.timeout_from,
            o.timeout_to,
        ) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => ExitCode::from(diag.fatal(&e)),
        },
    )
}
