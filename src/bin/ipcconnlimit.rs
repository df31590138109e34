//! ipcconnlimit: refuse a client over its connection limit, else chain-load (drop-in
//! s6-connlimit).
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use std::process::ExitCode;

const PROG: &str = "ipcconnlimit";

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    // As s6-connlimit: no options; everything after the program name is prog... (so a
    // leading `-x` is the program to run), and no prog at all exits 0.
    let argv: Vec<_> = std::env::args_os().skip(1).collect();
    if let Err(e) = ipccore::connlimit::check(|k| std::env::var_os(k)) {
        return ExitCode::from(diag.fatal(&e));
    }
    if argv.is_empty() {
        return ExitCode::SUCCESS;
    }
    ExitCode::from(diag.fatal(&ipccore::exec::exec(&argv, &[])))
}
