//! ipcrules-cdb: compile an s6 rules directory into a cdb file (drop-in
//! s6-accessrules-cdb-from-fs).
#![forbid(unsafe_code)]

use ipccore::diag::Diag;
use lexopt::prelude::*;
use std::path::PathBuf;
use std::process::ExitCode;

const PROG: &str = "ipcrules-cdb";
const USAGE: &str = "ipcrules-cdb [ -m mode ] cdbfile rulesdir";

pub(crate) struct Opts {
    mode: u32,
    cdbfile: PathBuf,
    rulesdir: PathBuf,
}

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Opts, lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let mut mode = 0o644;
    let mut paths = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('m') => {
                mode = p.value()?.parse_with(|s| u32::from_str_radix(s, 8))?;
                if mode > 0o7777 {
                    return Err("mode must be an octal mode".into());
                }
            }
            Value(v) => paths.push(PathBuf::from(v)),
            _ => return Err(arg.unexpected()),
        }
    }
    let [cdbfile, rulesdir]: [PathBuf; 2] = paths
        .try_into()
        .map_err(|_| "expected cdbfile and rulesdir")?;
    Ok(Opts {
        mode,
        cdbfile,
        rulesdir,
    })
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    let o = match parse(std::env::args_os().skip(1)) {
        Ok(o) => o,
        Err(_) => return ExitCode::from(diag.usage(USAGE)),
    };
    let r = ipccore::access::compile(&o.rulesdir)
        .and_then(|recs| ipccore::rulescdb::write_cdb(&o.cdbfile, &recs, o.mode));
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(diag.fatal(&e)),
    }
}
