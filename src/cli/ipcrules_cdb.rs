//! `ipcrules-cdb` options (s6-accessrules-cdb-from-fs's, with `-m`/`--mode` as in s6
//! 2.14 and later).

use super::{Parsed, UsageError, octal, parser, show};
use ipccore::prog::ipcrules_cdb::IpcrulesCdbConfig;
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcrules-cdb";
/// The usage line: `doc/ipcrules-cdb.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcrules-cdb [ -m mode ] cdbfile rulesdir";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcrules-cdb.1`).
pub const HELP: &str = concat!(
    "  -m mode, --mode mode  octal permissions of cdbfile (default 0600)\n",
    "  --help                print this help and exit\n",
    "  --version             print the version and exit\n",
);

/// What `ipcrules-cdb` was asked to do.
pub struct Opts {
    /// The configuration `ipcrules_cdb` runs with.
    pub cfg: IpcrulesCdbConfig,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    // Without -m the file is 0600, as both s6 versions leave it (mkstemp's mode).
    let mut mode = 0o600;
    let mut paths = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('m') | Long("mode") => {
                let v = p.value()?;
                // s6 2.15's reason for a bad mode, word for word.
                mode = octal("-m", &v).map_err(|_| {
                    UsageError("mode needs to be an unsigned integer (in octal)".into())
                })?;
                if mode > 0o7777 {
                    return Err(UsageError(format!(
                        "-m: {} is not a file mode (at most 07777)",
                        show(&v)
                    )));
                }
            }
            Value(v) => {
                // As s6: options end at the first operand; operands past the second
                // are ignored.
                paths = super::rest(&mut p, v)?;
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    let mut paths = paths.into_iter().map(PathBuf::from);
    let cdbfile = paths.next().ok_or("missing cdbfile")?;
    let rulesdir = paths.next().ok_or("missing rulesdir")?;
    Ok(Opts {
        cfg: IpcrulesCdbConfig {
            mode,
            cdbfile,
            rulesdir,
        },
    })
}

/// ipcrules-cdb's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::ipcrules_cdb::ipcrules_cdb(&o.cfg, &diag),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operands() {
        let o = parse(["--mode=600", "c", "d", "-m", "x"].map(OsString::from));
        assert!(
            o.as_ref()
                .is_ok_and(|o| o.cfg.mode == 0o600 && o.cfg.rulesdir == std::path::Path::new("d"))
        );
        let e = parse(["-m", "10000", "c", "d"].map(OsString::from));
        assert_eq!(
            e.err().map(|e| e.0),
            Some("-m: 10000 is not a file mode (at most 07777)".into())
        );
        let e = parse(["c"].map(OsString::from));
        assert_eq!(e.err().map(|e| e.0), Some("missing rulesdir".into()));
    }
}
