//! `npt-mkfifodir` options (s6-mkfifodir's).

use super::{Parsed, id, parser};
use ipccore::fs::fifodir::Gid;
use ipccore::prog::npt::npt_mkfifodir::NptMkfifodirConfig;
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "npt-mkfifodir";
/// The usage line: `doc/npt-mkfifodir.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "npt-mkfifodir [ -f ] [ -g gid ] fifodir";
/// `--help`: one line per option (from the OPTIONS of `doc/npt-mkfifodir.1`).
pub const HELP: &str = concat!(
    "  -f         apply the group and mode to an existing fifodir\n",
    "  -g gid     only members of group gid may listen\n",
    "  --help     print this help and exit\n",
    "  --version  print the version and exit\n",
);

/// What `npt-mkfifodir` was asked to do.
pub struct Opts {
    /// The configuration `npt_mkfifodir` runs with.
    pub cfg: NptMkfifodirConfig,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let (mut force, mut gid, mut dir) = (false, None, None);
    while let Some(arg) = p.next()? {
        match arg {
            Short('f') => force = true,
            // As s6-mkfifodir: -1 (4294967295) is its "no group".
            Short('g') => {
                gid = Some(id("-g", &p.value()?, false, "npt-mkfifodir")?)
                    .filter(|&g| g != u32::MAX)
                    .map(Gid::from_raw)
            }
            Value(v) => {
                // As s6-mkfifodir: options end here, and further operands are ignored.
                dir = Some(PathBuf::from(v));
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    Ok(Opts {
        cfg: NptMkfifodirConfig {
            force,
            gid,
            dir: dir.ok_or("missing fifodir")?,
        },
    })
}

/// npt-mkfifodir's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::npt::npt_mkfifodir::npt_mkfifodir(&o.cfg, &diag),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operands_end_options() -> Parsed<()> {
        let o = parse(["-g", "4294967295", "d", "-g", "x"].map(OsString::from))?;
        assert_eq!(o.cfg.gid, None);
        assert_eq!(o.cfg.dir, PathBuf::from("d"));
        let o = parse(["-fg5", "--", "-x"].map(OsString::from))?;
        assert!(o.cfg.force);
        assert_eq!(o.cfg.gid.map(|g| g.as_raw()), Some(5));
        assert_eq!(o.cfg.dir, PathBuf::from("-x"));
        Ok(())
    }
}
