//! ipcserver-socketbinder: bind a Unix socket safely under its real name, put it on
//! fd 0 and chain-load (drop-in s6-ipcserver-socketbinder).
#![forbid(unsafe_code)]

use ipccore::prog::ipcserver_socketbinder::{self as socketbinder, IpcserverSocketbinderConfig};
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
        let cfg = IpcserverSocketbinderConfig {
            path: o.path,
            listen: o.listen,
            argv: o.argv,
        };
        cli::exit(&diag, socketbinder::ipcserver_socketbinder(&cfg, &diag))
    })
}
