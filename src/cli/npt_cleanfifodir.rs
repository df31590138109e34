//! `npt-cleanfifodir` arguments: as s6-cleanfifodir, none are options, so a fifodir may
//! be called `-x` (and `--` is a fifodir too); arguments past the first are ignored.

use super::Parsed;
use ipccore::prog::npt::npt_cleanfifodir::NptCleanfifodirConfig;
use ipccore::sys::diag::Diag;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "npt-cleanfifodir";
/// The usage line: `doc/npt-cleanfifodir.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "npt-cleanfifodir fifodir";
/// `--help`: one line per option (from the OPTIONS of `doc/npt-cleanfifodir.1`).
pub const HELP: &str = concat!(
    "  fifodir    no options: remove the fifos of dead listeners from fifodir\n",
    "  --help     print this help and exit\n",
    "  --version  print the version and exit\n",
);

/// What `npt-cleanfifodir` was asked to do.
pub struct Opts {
    /// The configuration `npt_cleanfifodir` runs with.
    pub cfg: NptCleanfifodirConfig,
}

/// Arguments from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let dir = args.into_iter().next().ok_or("missing fifodir")?;
    Ok(Opts {
        cfg: NptCleanfifodirConfig { dir: dir.into() },
    })
}

/// npt-cleanfifodir's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::npt::npt_cleanfifodir::npt_cleanfifodir(&o.cfg, &diag),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn nothing_is_an_option() -> Parsed<()> {
        assert_eq!(
            parse(["-x"].map(OsString::from))?.cfg.dir,
            PathBuf::from("-x")
        );
        assert_eq!(
            parse(["--", "extra"].map(OsString::from))?.cfg.dir,
            PathBuf::from("--")
        );
        let e = parse(Vec::<OsString>::new()).err().map(|e| e.0);
        assert_eq!(e.as_deref(), Some("missing fifodir"));
        Ok(())
    }
}
