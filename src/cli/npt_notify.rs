//! `npt-notify` arguments: as s6-ftrig-notify, none are options, so a fifodir may be
//! called `-x` (and `--` is a fifodir too); arguments past the message are ignored.

use super::Parsed;
use std::ffi::OsString;
use std::path::PathBuf;

/// What `npt-notify` was asked to do.
pub struct Opts {
    /// The fifodir whose listeners get the event.
    pub dir: PathBuf,
    /// The event bytes, written to every listener's fifo.
    pub message: OsString,
}

/// Arguments from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut args = args.into_iter();
    let dir = args.next().ok_or("missing fifodir")?;
    let message = args.next().ok_or("missing message")?;
    Ok(Opts {
        dir: dir.into(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_an_option() -> Parsed<()> {
        let o = parse(["-x", "--", "extra"].map(OsString::from))?;
        assert_eq!(o.dir, PathBuf::from("-x"));
        assert_eq!(o.message, "--");
        let e = parse(["--"].map(OsString::from)).err().map(|e| e.0);
        assert_eq!(e.as_deref(), Some("missing message"));
        Ok(())
    }
}
