//! ipcserver-socketbinder (s6-ipcserver-socketbinder's job): bind a Unix socket with
//! [`listen::create`]'s safe creation, put it on fd 0 and chain-load. The socket work
//! is `fs::listen`'s; this module only places the fd and execs.

use crate::base::error::Error;
use crate::fs::listen::{self, ListenOpts};
use crate::sys::diag::Diag;
use crate::sys::sock::SockPath;
use crate::sys::{exec, fd};
use std::convert::Infallible;
use std::ffi::OsString;

/// What ipcserver-socketbinder was asked to do.
#[derive(Clone, Debug)]
pub struct IpcserverSocketbinderConfig {
    /// Where to bind.
    pub path: SockPath,
    /// How to create the socket (type, backlog, mode, blocking).
    pub listen: ListenOpts,
    /// prog and its arguments, as given.
    pub argv: Vec<OsString>,
}

/// ipcserver-socketbinder: create the socket, move it to fd 0, exec `cfg.argv`.
/// Returns only on failure.
///
/// # Errors
/// Those of [`listen::create`]; `move fd`; the exec error.
pub fn ipcserver_socketbinder(
    cfg: &IpcserverSocketbinderConfig,
    _diag: &Diag,
) -> Result<Infallible, Error> {
    let sock = listen::create(&cfg.path, &cfg.listen)?;
    fd::move_to(sock, 0)?;
    Err(exec::exec(&cfg.argv, &[]))
}
