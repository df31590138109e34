//! `npt-cleanfifodir` arguments: as s6-cleanfifodir, none are options, so a fifodir may
//! be called `-x` (and `--` is a fifodir too); arguments past the first are ignored.

use super::Parsed;
use std::ffi::OsString;
use std::path::PathBuf;

/// What `npt-cleanfifodir` was asked to do.
pub struct Opts {
    /// The fifodir whose dead listeners' fifos are removed.
    pub dir: PathBuf,
}

/// Arguments from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let dir = args.into_iter().next().ok_or("missing fifodir")?;
    Ok(Opts { dir: dir.into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_an_option() -> Parsed<()> {
        assert_eq!(parse(["-x"].map(OsString::from))?.dir, PathBuf::from("-x"));
        assert_eq!(
            parse(["--", "extra"].map(OsString::from))?.dir,
            PathBuf::from("--")
        );
        let e = parse(Vec::<OsString>::new()).err().map(|e| e.0);
        assert_eq!(e.as_deref(), Some("missing fifodir"));
        Ok(())
    }
}
