//! `ipcnotify-socket-from-fd` options: s6-notify-socket-from-fd's, long forms included.

use super::{Parsed, UsageError};
use ipccore::prog::ipcnotify::ipcnotify_socket_from_fd::{
    IpcnotifySocketFromFdConfig, ipcnotify_socket_from_fd,
};
use ipccore::sys::diag::Diag;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name in its messages.
pub const PROG: &str = "ipcnotify-socket-from-fd";

/// The usage line (the man page's SYNOPSIS).
pub const USAGE: &str = "ipcnotify-socket-from-fd [ -d fd ] [ -f ] [ -t timeout ] [ -k ] prog...";

/// One line per option, for `--help`.
pub const HELP: &str = concat!(
    "  -d fd, --notification-fd=fd  prog writes its readiness newline on fd (default 1)\n",
    "  -t ms, --timeout=ms          give up after ms milliseconds (default 0: never)\n",
    "  -f, --no-doublefork          fork the watcher once, as a child of prog\n",
    "  --doublefork                 fork the watcher twice (the default)\n",
    "  -k, --keep-environment       leave NOTIFY_SOCKET in prog's environment\n",
    "  --help                       print this help and exit\n",
    "  --version                    print the version and exit\n",
);

/// What ipcnotify-socket-from-fd was asked to do.
pub struct Opts {
    /// The core's configuration.
    pub cfg: IpcnotifySocketFromFdConfig,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let a = super::notify_args(args, 'd', true)?;
    if a.prog.is_empty() {
        return Err(UsageError("missing prog".into()));
    }
    // Checked after the rest, in s6's order, with s6's words.
    let fd = super::gol_uint(a.fd, "notification-fd")?.unwrap_or(1);
    let timeout = super::gol_timeout(a.timeout)?;
    Ok(Opts {
        cfg: IpcnotifySocketFromFdConfig {
            fd,
            timeout,
            doublefork: a.doublefork,
            keep_env: a.keep_env,
            prog: a.prog,
        },
    })
}

/// The program: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(&diag, ipcnotify_socket_from_fd(&o.cfg, &diag))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use crate::cli::os_args as args;

    #[test]
    fn options_as_s6() -> Parsed<()> {
        let o = parse(args(&["-d3", "-fk", "-t", "50", "p", "-d", "x"]))?.cfg;
        assert_eq!((o.fd, o.doublefork, o.keep_env), (3, false, true));
        assert_eq!(o.timeout, Some(Duration::from_millis(50)));
        assert_eq!(o.prog, args(&["p", "-d", "x"]));
        let o = parse(args(&[
            "--notification-fd=4",
            "--timeout=0",
            "--no-doublefork",
            "--doublefork",
            "--keep-environment",
            "--",
            "-p",
        ]))?
        .cfg;
        assert_eq!(
            (o.fd, o.timeout, o.doublefork, o.keep_env),
            (4, None, true, true)
        );
        assert_eq!(o.prog, args(&["-p"]));
        assert_eq!(parse(args(&["p"]))?.cfg.fd, 1);
        Ok(())
    }

    #[test]
    fn refusals_in_s6_words() {
        let why = |v: &[&str]| parse(args(v)).err().map(|e| e.0);
        assert_eq!(
            why(&["-t", "x", "-d", "y", "p"]).as_deref(),
            Some("notification-fd must be an unsigned integer")
        );
        assert_eq!(
            why(&["-t", "-1", "p"]).as_deref(),
            Some("timeout must be an unsigned integer")
        );
        assert_eq!(
            why(&["-x", "p"]).as_deref(),
            Some("unrecognized short option: x")
        );
        assert_eq!(
            why(&["--foo", "p"]).as_deref(),
            Some("unrecognized boolean option: --foo")
        );
        assert_eq!(
            why(&["--foo=1", "p"]).as_deref(),
            Some("unrecognized option with argument: --foo=1")
        );
        assert_eq!(
            why(&["--doublefork=1", "p"]).as_deref(),
            Some("unrecognized option with argument: --doublefork=1")
        );
        assert_eq!(why(&["-t", "5"]).as_deref(), Some("missing prog"));
    }
}
