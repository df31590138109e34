//! `ipcconnlimit` arguments: as s6-connlimit, none are options. Everything after the
//! program name is prog, taken verbatim (a leading `-x` or `--` is the program to run),
//! and no prog at all is not an error: the check alone is made and the program exits 0.
//! So no command line is ever refused, and the usage line is never printed.

use super::Parsed;
use ipccore::prog::ipcconnlimit::IpcconnlimitConfig;
use ipccore::sys::diag::Diag;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcconnlimit";
/// The usage line: `doc/ipcconnlimit.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcconnlimit prog...";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcconnlimit.1`).
pub const HELP: &str = concat!(
    "  prog...    no options: the program to run once the connection count is checked\n",
    "  --help     print this help and exit\n",
    "  --version  print the version and exit\n",
);

/// What `ipcconnlimit` was asked to do.
pub struct Opts {
    /// The configuration `ipcconnlimit` runs with.
    pub cfg: IpcconnlimitConfig,
}

/// Arguments from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    Ok(Opts {
        cfg: IpcconnlimitConfig {
            prog: args.into_iter().collect(),
        },
    })
}

/// ipcconnlimit's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::ipcconnlimit::ipcconnlimit(&o.cfg, &diag),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_an_option() -> Parsed<()> {
        let o = parse(["-x", "--", "-t"].map(OsString::from))?;
        assert_eq!(o.cfg.prog, ["-x", "--", "-t"]);
        assert!(parse(Vec::<OsString>::new())?.cfg.prog.is_empty());
        Ok(())
    }
}
