//! ipcserver: bind PATH safely, become the configured user, then run ipcserverd's loop
//! (s6-ipcserver, which chains s6-ipcserver-socketbinder, s6-applyuidgid and
//! s6-ipcserverd; here one process does all three).

use super::ipcserverd::{IpcserverdConfig, check_readiness_fd, serve_after};
use crate::base::error::Error;
use crate::fs::listen::{self, ListenOpts};
use crate::sys::diag::Diag;
use crate::sys::fd;
use crate::sys::privs::{self, Ids};
use crate::sys::sock::{SUN_PATH_MAX, SockPath};
use rustix::io::Errno;
use std::os::unix::ffi::OsStrExt;

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
    warn_long_path(&cfg.path, &diag);
    let (listener, leftover) = listen::create_deferred(&cfg.path, &cfg.listen)?;
    privs::drop_to(&ids)?;
    // After the drop: access(2) checks with the real ids, the handlers' own.
    warn_unrunnable(&cfg.serve.argv, &diag);
    serve_after(listener, &cfg.serve, diag, leftover)
}

/// A path longer than `sun_path` works between our programs (they go through the
/// directory), and nowhere else: say so before a client finds out.
fn warn_long_path(path: &SockPath, diag: &Diag) {
    if let SockPath::Fs(p) = path
        && p.as_os_str().len() > SUN_PATH_MAX
    {
        diag.warn(format!(
            "{} is {} bytes, more than the {SUN_PATH_MAX} a socket address holds: only \
             clients that connect through its directory (ipcclient, ipcsudo) can reach it; \
             curl, socat, nginx and s6-ipcclient cannot (use a shorter path)",
            crate::base::text::path(p),
            p.as_os_str().len()
        ));
    }
}

/// A handler program that cannot be run is not fatal (it may be installed later), but
/// every client would get end of file: say so once at start, not only per connection.
fn warn_unrunnable(argv: &[std::ffi::OsString], diag: &Diag) {
    let Some(prog) = argv.first() else { return };
    if let Err(e) = runnable(prog) {
        let fix = if e == Errno::ACCESS {
            "make it executable for the server's uid"
        } else if prog.as_bytes().contains(&b'/') {
            "fix the path"
        } else {
            "install it, or fix the name or PATH"
        };
        diag.warn(format!(
            "{} cannot be run: {}: every client will get end of file until it can ({fix})",
            crate::base::text::Escaped(prog.as_bytes()),
            crate::base::text::strerror(e)
        ));
    }
}

/// Whether exec would find `prog` and may run it, as execvp searches: `prog` itself if
/// it has a slash, else each `PATH` directory. EACCES if one is found but none may run.
pub fn runnable(prog: &std::ffi::OsStr) -> Result<(), Errno> {
    let b = prog.as_bytes();
    let candidates: Vec<std::path::PathBuf> = if b.contains(&b'/') {
        vec![prog.into()]
    } else {
        let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
        std::env::split_paths(&path).map(|d| d.join(prog)).collect()
    };
    let mut err = Errno::NOENT;
    for c in candidates {
        let regular = rustix::fs::stat(c.as_path())
            .is_ok_and(|st| rustix::fs::FileType::from_raw_mode(st.st_mode).is_file());
        match rustix::fs::access(c.as_path(), rustix::fs::Access::EXEC_OK) {
            Ok(()) if regular => return Ok(()),
            Ok(()) => err = Errno::ACCESS,
            Err(Errno::ACCESS) => err = Errno::ACCESS,
            Err(_) => {}
        }
    }
    Err(err)
}
