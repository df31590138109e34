//! ipcfdholder-list: print the identifiers an fd-holding daemon holds (drop-in
//! s6-fdholder-list).
#![forbid(unsafe_code)]

use ipccore::prog::fdholder::client;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcfdholder_list::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcfdholder-list";
const USAGE: &str = "ipcfdholder-list [ -t timeout ] socket";

fn main() -> ExitCode {
    cli::run(
        PROG,
        USAGE,
        parse,
        |o: Opts, diag: Diag| match client::run_list(&o.socket, o.timeout) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => ExitCode::from(diag.fatal(&e)),
        },
    )
}
