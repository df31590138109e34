//! `ipcconnlimit` arguments: as s6-connlimit, none are options. Everything after the
//! program name is prog, taken verbatim (a leading `-x` or `--` is the program to run),
//! and no prog at all is not an error: the check alone is made and the program exits 0.
//! So no command line is ever refused, and the usage line is never printed.

use super::Parsed;
use std::ffi::OsString;

/// What `ipcconnlimit` was asked to do.
pub struct Opts {
    /// The program to exec once the count is checked; empty: exit 0.
    pub prog: Vec<OsString>,
}

/// Arguments from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    Ok(Opts {
        prog: args.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_an_option() -> Parsed<()> {
        let o = parse(["-x", "--", "-t"].map(OsString::from))?;
        assert_eq!(o.prog, ["-x", "--", "-t"]);
        assert!(parse(Vec::<OsString>::new())?.prog.is_empty());
        Ok(())
    }
}
