//! ipcrules-fs: decompile a rules cdb into a rules directory, atomically (drop-in
//! s6-accessrules-fs-from-cdb).
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use std::path::PathBuf;
use std::process::ExitCode;

const PROG: &str = "ipcrules-fs";
const USAGE: &str = "ipcrules-fs dir cdbfile";

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    // As s6-accessrules-fs-from-cdb: no options; the first two arguments are dir and
    // cdbfile, whatever they look like, and further ones are ignored.
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), Some(cdb)) = (args.next(), args.next()) else {
        return ExitCode::from(diag.usage(USAGE));
    };
    match ipccore::rulesfs::decompile(&PathBuf::from(dir), &PathBuf::from(cdb)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
