//! ipcserver-socketbinder: bind a Unix socket safely under its real name, put it on
//! fd 0 and chain-load (drop-in s6-ipcserver-socketbinder).
#![forbid(unsafe_code)]

use ipccore::fs::listen;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    ipcserver_socketbinder::{Opts, parse},
};
use std::process::ExitCode;

const PROG: &str = "ipcserver-socketbinder";
const USAGE: &str = "ipcserver-socketbinder [ -d | -D ] [ -b backlog ] [ -M | -m ] [ -a perms ] [ -B ] path prog...";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        let sock = match listen::create(&o.path, &o.listen) {
            Ok(s) => s,
            Err(e) => return ExitCode::from(diag.fatal(&e)),
        };
        if let Err(e) = ipccore::sys::fd::move_to(sock, 0) {
            return ExitCode::from(diag.fatal(&e));
        }
        ExitCode::from(diag.fatal(&ipccore::sys::exec::exec(&o.argv, &[])))
    })
}
