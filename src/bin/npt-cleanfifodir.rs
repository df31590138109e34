//! npt-cleanfifodir: remove the fifos of dead listeners from a fifodir (drop-in
//! s6-cleanfifodir).
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use std::path::PathBuf;
use std::process::ExitCode;

const PROG: &str = "npt-cleanfifodir";
const USAGE: &str = "npt-cleanfifodir fifodir";

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    // As s6-cleanfifodir: no options; the first argument is the fifodir, whatever it
    // looks like, and any further ones are ignored.
    let Some(dir) = std::env::args_os().nth(1) else {
        return ExitCode::from(diag.usage(USAGE));
    };
    match ipccore::fifoclean::clean(&PathBuf::from(dir)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
