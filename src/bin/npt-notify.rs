//! npt-notify: send an event to every listener of a fifodir (drop-in s6-ftrig-notify).
#![forbid(unsafe_code)]

use ipccore::fs::fifodir;
use ipccore::sys::diag::Diag;
use ipctools::cli::{
    self,
    npt_notify::{Opts, parse},
};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

const PROG: &str = "npt-notify";
const USAGE: &str = "npt-notify fifodir message";

fn main() -> ExitCode {
    cli::run(PROG, USAGE, parse, |o: Opts, diag: Diag| {
        // Rust starts with SIGPIPE ignored, so a listener leaving mid-write is EPIPE, not death.
        match fifodir::notify(&o.dir, o.message.as_bytes()) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => ExitCode::from(diag.fatal(&e)),
        }
    })
}
