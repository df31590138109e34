//! ipcserver: bind PATH safely, become the configured user, then run ipcserverd's loop
//! (s6-ipcserver, which chains s6-ipcserver-socketbinder, s6-applyuidgid and
//! s6-ipcserverd; here one process does all three).

use super::ipcserverd::{IpcserverdConfig, check_readiness_fd, serve_after};
use crate::base::error::Error;
use crate::fs::listen::{self, ListenOpts};
use crate::sys::diag::Diag;
use crate::sys::fd;
use crate::sys::privs::{self, Ids};
use crate::sys::sock::SockPath;
use rustix::io::Errno;

/// Where ipcserver's identity comes from after binding.
#[derive(Clone, Debug, Default)]
pub enum IdSource {
    /// Stay as we are.
    #[default]
    Keep,
    /// `-u`, `-g`, `-G`.
    Given(Ids),
    /// `-U`: `UID`, `GID`, `GIDLIST` from the environment (then unset for handlers),
    /// each overridden by `-u`, `-g`, `-G` when given (s6-ipcserver puts them after
    /// `-U` on s6-applyuidgid's command line).
    Env(Ids),
}

/// Everything ipcserver does, in order.
#[derive(Clone, Debug)]
pub struct IpcserverConfig {
    /// Where to bind.
    pub path: SockPath,
    /// How to create the socket (`-d`/`-D`, `-b`, `-a`).
    pub listen: ListenOpts,
    /// Who to become once the socket exists.
    pub ids: IdSource,
    /// The loop that serves it, as ipcserverd would.
    pub serve: IpcserverdConfig,
}

/// ipcserver: bind PATH safely, drop privileges, then serve until a signal says stop.
///
/// # Errors
/// Start-up failures (readiness fd, `drop privileges`, those of `listen::create`),
/// then those of the loop.
pub fn ipcserver(cfg: &IpcserverConfig, diag: &Diag) -> Result<(), Error> {
    let (mut cfg, diag) = (cfg.clone(), *diag);
    check_readiness_fd(&cfg.serve)?;
    fd::ensure_std_fds()?;
    let ids = match &cfg.ids {
        IdSource::Keep => Ids::default(),
        IdSource::Given(ids) => ids.clone(),
        IdSource::Env(given) => {
            cfg.serve.remove_env.extend(["UID", "GID", "GIDLIST"]);
            let env = privs::from_env(
                std::env::var_os("UID").as_deref(),
                std::env::var_os("GID").as_deref(),
                std::env::var_os("GIDLIST").as_deref(),
            )?;
            Ids {
                uid: given.uid.or(env.uid),
                gid: given.gid.or(env.gid),
                groups: given.groups.clone().or(env.groups),
            }
        }
    };
    if !ids.is_empty() && !rustix::process::geteuid().is_root() {
        return Err(Error::sys("drop privileges", Errno::PERM));
    }
    if ids.uid.is_some() && ids.gid.is_none() {
        // s6-applyuidgid leaves the gid alone too: the handlers then run as root's group.
        let gid = rustix::process::getegid().as_raw();
        diag.warn(format!(
            "-u without -g: the server and its handlers keep gid {gid}"
        ));
    }
    // As s6-ipcserver-socketbinder (a umask of ~perms & 0777): only the permission bits
    // of -a count; setuid, setgid and sticky bits mean nothing on a socket.
    cfg.listen.mode = rustix::fs::Mode::from_bits_truncate(cfg.listen.mode.bits() & 0o777);
    let (listener, leftover) = listen::create_deferred(&cfg.path, &cfg.listen)?;
    privs::drop_to(&ids)?;
    serve_after(listener, &cfg.serve, diag, leftover)
}
