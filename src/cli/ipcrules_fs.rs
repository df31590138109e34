//! `ipcrules-fs` arguments: as s6-accessrules-fs-from-cdb, none are options; the first
//! two arguments are dir and cdbfile whatever they look like (`-x` is a directory,
//! `--` one too), and further ones are ignored.

use super::Parsed;
use ipccore::prog::ipcrules_fs::IpcrulesFsConfig;
use ipccore::sys::diag::Diag;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcrules-fs";
/// The usage line: `doc/ipcrules-fs.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcrules-fs dir cdbfile";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcrules-fs.1`).
pub const HELP: &str = concat!(
    "  dir cdbfile  no options: decompile cdbfile into the new rules directory dir\n",
    "  --help       print this help and exit\n",
    "  --version    print the version and exit\n",
);

/// What `ipcrules-fs` was asked to do.
pub struct Opts {
    /// The configuration `ipcrules_fs` runs with.
    pub cfg: IpcrulesFsConfig,
}

/// Arguments from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut args = args.into_iter().map(PathBuf::from);
    let dir = args.next().ok_or("missing dir")?;
    let cdbfile = args.next().ok_or("missing cdbfile")?;
    Ok(Opts {
        cfg: IpcrulesFsConfig { dir, cdbfile },
    })
}

/// ipcrules-fs's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::ipcrules_fs::ipcrules_fs(&o.cfg, &diag),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_an_option() -> Parsed<()> {
        let o = parse(["-x", "y", "extra"].map(OsString::from))?;
        assert_eq!((o.cfg.dir, o.cfg.cdbfile), ("-x".into(), "y".into()));
        let e = parse(["--"].map(OsString::from)).err().map(|e| e.0);
        assert_eq!(e.as_deref(), Some("missing cdbfile"));
        let e = parse(Vec::<OsString>::new()).err().map(|e| e.0);
        assert_eq!(e.as_deref(), Some("missing dir"));
        Ok(())
    }
}
