//! ipcfdholder-retrieve: exec a program with an fd held by an fd-holding daemon as
//! its stdin (drop-in s6-fdholder-retrieve).
#![forbid(unsafe_code)]

use ipccore::prog::fdholder::client;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcfdholder_retrieve::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcfdholder-retrieve";
const USAGE: &str = "ipcfdholder-retrieve [ -D ] [ -t timeout ] socket id prog...";

fn main() -> ExitCode {
    cli::run(
        PROG,
        USAGE,
        parse,
        |o: Opts, diag: Diag| match client::run_retrieve(
            &o.socket, &o.id, o.delete, o.timeout, &o.argv,
        ) {
            Ok(never) => match never {},
            Err(e) => ExitCode::from(diag.fatal(&e)),
        },
    )
}
