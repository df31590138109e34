//! `ipcnotify-fd-from-socket` options: s6-notify-fd-from-socket's, long forms included.

use super::{Parsed, UsageError};
use ipccore::prog::ipcnotify::ipcnotify_fd_from_socket::{
    IpcnotifyFdFromSocketConfig, ipcnotify_fd_from_socket,
};
use ipccore::sys::diag::Diag;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name in its messages.
pub const PROG: &str = "ipcnotify-fd-from-socket";

/// The usage line (the man page's SYNOPSIS).
pub const USAGE: &str = "ipcnotify-fd-from-socket [ -f ] [ -3 fd ] [ -t timeout ] prog...";

/// One line per option, for `--help`.
pub const HELP: &str = concat!(
    "  -3 fd, --notification-fd=fd  write the readiness newline on fd (default: ./notification-fd)\n",
    "  -t ms, --timeout=ms          give up after ms milliseconds (default 0: never)\n",
    "  -f, --no-doublefork          fork the watcher once, as a child of prog\n",
    "  --doublefork                 fork the watcher twice (the default)\n",
    "  --help                       print this help and exit\n",
    "  --version                    print the version and exit\n",
);

/// What ipcnotify-fd-from-socket was asked to do.
pub struct Opts {
    /// The core's configuration.
    pub cfg: IpcnotifyFdFromSocketConfig,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let a = super::notify_args(args, '3', false)?;
    if a.prog.is_empty() {
        return Err(UsageError("missing prog".into()));
    }
    // Checked after the rest, in s6's order (the timeout first here), with s6's words.
    let timeout = super::gol_timeout(a.timeout)?;
    let fd = super::gol_uint(a.fd, "notification-fd")?;
    Ok(Opts {
        cfg: IpcnotifyFdFromSocketConfig {
            fd,
            timeout,
            doublefork: a.doublefork,
            prog: a.prog,
        },
    })
}

/// The program: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(&diag, ipcnotify_fd_from_socket(&o.cfg, &diag))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use crate::cli::os_args as args;

    #[test]
    fn options_as_s6() -> Parsed<()> {
        let o = parse(args(&["-f3", "5", "-t100", "p", "-3", "x"]))?.cfg;
        assert_eq!((o.fd, o.doublefork), (Some(5), false));
        assert_eq!(o.timeout, Some(Duration::from_millis(100)));
        assert_eq!(o.prog, args(&["p", "-3", "x"]));
        let o = parse(args(&[
            "--notification-fd=7",
            "--no-doublefork",
            "--doublefork",
            "p",
        ]))?
        .cfg;
        assert_eq!((o.fd, o.doublefork, o.timeout), (Some(7), true, None));
        assert_eq!(parse(args(&["p"]))?.cfg.fd, None);
        Ok(())
    }

    #[test]
    fn refusals_in_s6_words() {
        let why = |v: &[&str]| parse(args(v)).err().map(|e| e.0);
        assert_eq!(
            why(&["-3", "y", "-t", "x", "p"]).as_deref(),
            Some("timeout must be an unsigned integer")
        );
        assert_eq!(
            why(&["-3", "y", "p"]).as_deref(),
            Some("notification-fd must be an unsigned integer")
        );
        assert_eq!(
            why(&["-k", "p"]).as_deref(),
            Some("unrecognized short option: k")
        );
        assert_eq!(why(&[]).as_deref(), Some("missing prog"));
    }
}
