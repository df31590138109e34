//! `ipcrules-fs` arguments: as s6-accessrules-fs-from-cdb, none are options; the first
//! two arguments are dir and cdbfile whatever they look like (`-x` is a directory,
//! `--` one too), and further ones are ignored.

use super::Parsed;
use std::ffi::OsString;
use std::path::PathBuf;

/// What `ipcrules-fs` was asked to do.
pub struct Opts {
    /// The rules directory to create; it must not exist yet.
    pub dir: PathBuf,
    /// The rules cdb to decompile.
    pub cdbfile: PathBuf,
}

/// Arguments from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut args = args.into_iter().map(PathBuf::from);
    let dir = args.next().ok_or("missing dir")?;
    let cdbfile = args.next().ok_or("missing cdbfile")?;
    Ok(Opts { dir, cdbfile })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_an_option() -> Parsed<()> {
        let o = parse(["-x", "y", "extra"].map(OsString::from))?;
        assert_eq!((o.dir, o.cdbfile), ("-x".into(), "y".into()));
        let e = parse(["--"].map(OsString::from)).err().map(|e| e.0);
        assert_eq!(e.as_deref(), Some("missing cdbfile"));
        let e = parse(Vec::<OsString>::new()).err().map(|e| e.0);
        assert_eq!(e.as_deref(), Some("missing dir"));
        Ok(())
    }
}
