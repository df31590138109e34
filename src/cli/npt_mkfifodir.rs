//! `npt-mkfifodir` options (s6-mkfifodir's).

use super::{Parsed, id, parser};
use ipccore::fs::fifodir::Gid;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::path::PathBuf;

/// What `npt-mkfifodir` was asked to do.
pub struct Opts {
    /// `-f`: apply the group and mode again to an existing fifodir of ours.
    pub force: bool,
    /// `-g gid`: only this group's members may subscribe (mode 03730); `None` (no
    /// `-g`, or `-g -1`) makes a public fifodir (01733).
    pub gid: Option<Gid>,
    /// The fifodir to create.
    pub dir: PathBuf,
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
        force,
        gid,
        dir: dir.ok_or("missing fifodir")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operands_end_options() -> Parsed<()> {
        let o = parse(["-g", "4294967295", "d", "-g", "x"].map(OsString::from))?;
        assert_eq!(o.gid, None);
        assert_eq!(o.dir, PathBuf::from("d"));
        let o = parse(["-fg5", "--", "-x"].map(OsString::from))?;
        assert!(o.force);
        assert_eq!(o.gid.map(|g| g.as_raw()), Some(5));
        assert_eq!(o.dir, PathBuf::from("-x"));
        Ok(())
    }
}
