//! Chain-loading: the UCSPI environment names, environment edits, and exec.
//!
//! exec goes through std's `CommandExt::exec`, which clears the signal mask and puts
//! SIGPIPE back to its default (Rust ignores it at start-up): a raw execve would leak
//! that ignored SIGPIPE into every program we run, as ucspi-unix does.

use crate::error::Error;
use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use std::os::unix::process::CommandExt;
use std::process::Command;

pub const PROTO: &str = "PROTO";
pub const IPCREMOTEEUID: &str = "IPCREMOTEEUID";
pub const IPCREMOTEEGID: &str = "IPCREMOTEEGID";
pub const IPCREMOTEPATH: &str = "IPCREMOTEPATH";
pub const IPCLOCALPATH: &str = "IPCLOCALPATH";
pub const IPCCONNNUM: &str = "IPCCONNNUM";
pub const LISTEN_FDS: &str = "LISTEN_FDS";
pub const LISTEN_PID: &str = "LISTEN_PID";
pub const LISTEN_FDNAMES: &str = "LISTEN_FDNAMES";
pub const UPSTART_FDS: &str = "UPSTART_FDS";
pub const UPSTART_EVENTS: &str = "UPSTART_EVENTS";
/// Socket of the nptlistend service (pipe-tools' name).
pub const NPT_IPCPATH: &str = "NPT_IPCPATH";

/// One environment edit: set NAME to a value, or unset it (`None`).
pub type EnvMod = (OsString, Option<OsString>);

/// `set(NAME, value)`.
pub fn set(name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> EnvMod {
    (name.as_ref().to_owned(), Some(value.as_ref().to_owned()))
}

/// `unset(NAME)`.
pub fn unset(name: impl AsRef<OsStr>) -> EnvMod {
    (name.as_ref().to_owned(), None)
}

/// Exec `argv` with execvp semantics (a name without `/` is searched in `$PATH`), the
/// current environment edited by `env`. Returns only on failure.
pub fn exec(argv: &[OsString], env: &[EnvMod]) -> Error {
    let Some((prog, args)) = argv.split_first() else {
        return Error::Usage("no program to execute".into());
    };
    let mut cmd = Command::new(prog);
    cmd.args(args);
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let err = cmd.exec();
    Error::Exec {
        prog: prog.clone(),
        errno: Errno::from_io_error(&err).unwrap_or(Errno::NOEXEC),
    }
}
