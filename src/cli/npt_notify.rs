//! `npt-notify` arguments: as s6-ftrig-notify, none are options, so a fifodir may be
//! called `-x` (and `--` is a fifodir too); arguments past the message are ignored.

use super::Parsed;
use ipccore::prog::npt::npt_notify::NptNotifyConfig;
use ipccore::sys::diag::Diag;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "npt-notify";
/// The usage line: `doc/npt-notify.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "npt-notify fifodir message";
/// `--help`: one line per option (from the OPTIONS of `doc/npt-notify.1`).
pub const HELP: &str = concat!(
    "  fifodir message  no options: send message to every listener of fifodir\n",
    "  --help           print this help and exit\n",
    "  --version        print the version and exit\n",
);

/// What `npt-notify` was asked to do.
pub struct Opts {
    /// The configuration `npt_notify` runs with.
    pub cfg: NptNotifyConfig,
}

/// Arguments from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut args = args.into_iter();
    let dir = args.next().ok_or("missing fifodir")?;
    let message = args.next().ok_or("missing message")?;
    Ok(Opts {
        cfg: NptNotifyConfig {
            dir: dir.into(),
            message,
        },
    })
}

/// npt-notify's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::npt::npt_notify::npt_notify(&o.cfg, &diag),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn nothing_is_an_option() -> Parsed<()> {
        let o = parse(["-x", "--", "extra"].map(OsString::from))?;
        assert_eq!(o.cfg.dir, PathBuf::from("-x"));
        assert_eq!(o.cfg.message, "--");
        let e = parse(["--"].map(OsString::from)).err().map(|e| e.0);
        assert_eq!(e.as_deref(), Some("missing message"));
        Ok(())
    }
}
