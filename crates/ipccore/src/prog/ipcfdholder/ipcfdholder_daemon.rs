//! ipcfdholder-daemon (s6-fdholder-daemon): bind the socket, become the configured
//! user, exec ipcfdholderd on it.

use crate::base::error::Error;
use crate::sys::diag::Diag;
use std::ffi::OsString;

/// What ipcfdholder-daemon was asked to do: create the socket, drop privileges, and
/// exec ipcfdholderd with `argv` (its options) on the socket as stdin.
#[derive(Clone, Debug)]
pub struct IpcfdholderDaemonConfig {
    /// Where to bind.
    pub path: crate::sys::sock::SockPath,
    /// How to create the socket (`-d`/`-D`, `-b`).
    pub listen: crate::fs::listen::ListenOpts,
    /// `-u`, `-g`, `-G`: who to become once the socket exists.
    pub ids: crate::sys::privs::Ids,
    /// `-U`: take UID, GID and GIDLIST from the environment (then unset them).
    pub ids_from_env: bool,
    /// The ipcfdholderd command line.
    pub argv: Vec<OsString>,
}

/// ipcfdholder-daemon: bind with `listen`'s safe creation, put the socket on fd 0,
/// drop privileges, exec ipcfdholderd. Returns only on failure.
///
/// # Errors
/// Those of `listen::create`, `move fd`, `privs::from_env`/`drop_to`, and the exec.
pub fn ipcfdholder_daemon(
    cfg: &IpcfdholderDaemonConfig,
    _diag: &Diag,
) -> Result<std::convert::Infallible, Error> {
    let run = || -> Result<Vec<crate::sys::exec::EnvMod>, Error> {
        crate::sys::fd::ensure_std_fds()?;
        let sock = crate::fs::listen::create(&cfg.path, &cfg.listen)?;
        crate::sys::fd::move_to(sock, 0)?;
        let mut env = Vec::new();
        if cfg.ids_from_env {
            let get = std::env::var_os;
            let ids = crate::sys::privs::from_env(
                get("UID").as_deref(),
                get("GID").as_deref(),
                get("GIDLIST").as_deref(),
            )?;
            crate::sys::privs::drop_to(&ids)?;
            // s6-applyuidgid -z: the variables served their purpose.
            for v in ["UID", "GID", "GIDLIST"] {
                env.push(crate::sys::exec::unset(v));
            }
        } else {
            crate::sys::privs::drop_to(&cfg.ids)?;
        }
        Ok(env)
    };
    Err(match run() {
        Ok(env) => crate::sys::exec::exec(&cfg.argv, &env),
        Err(e) => e,
    })
}
