//! The fifodir tools: npt-mkfifodir (s6-mkfifodir), npt-notify (s6-ftrig-notify) and
//! npt-cleanfifodir (s6-cleanfifodir). The work on the directory is `fs::fifodir`'s
//! and `fs::fifoclean`'s; this module gives each program its entry point.

use crate::base::error::Error;
use crate::fs::{fifoclean, fifodir};
use crate::sys::diag::Diag;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// What npt-mkfifodir was asked to do.
#[derive(Clone, Debug)]
pub struct NptMkfifodirConfig {
    /// `-f`: accept an existing fifodir (fix its mode).
    pub force: bool,
    /// `-g`: the group allowed to subscribe (`None`: public).
    pub gid: Option<fifodir::Gid>,
    /// The fifodir to create.
    pub dir: PathBuf,
}

/// npt-mkfifodir: create the fifodir `cfg.dir`.
///
/// # Errors
/// Those of [`fifodir::make`].
pub fn npt_mkfifodir(cfg: &NptMkfifodirConfig, _diag: &Diag) -> Result<(), Error> {
    fifodir::make(&cfg.dir, cfg.gid, cfg.force)
}

/// What npt-notify was asked to do.
#[derive(Clone, Debug)]
pub struct NptNotifyConfig {
    /// The fifodir whose listeners get the event.
    pub dir: PathBuf,
    /// The event bytes.
    pub message: OsString,
}

/// npt-notify: send `cfg.message` to every listener of `cfg.dir`.
///
/// # Errors
/// Those of [`fifodir::notify`].
pub fn npt_notify(cfg: &NptNotifyConfig, _diag: &Diag) -> Result<(), Error> {
    // Rust starts with SIGPIPE ignored, so a listener leaving mid-write is EPIPE, not death.
    fifodir::notify(&cfg.dir, cfg.message.as_bytes()).map(drop)
}

/// What npt-cleanfifodir was asked to do.
#[derive(Clone, Debug)]
pub struct NptCleanfifodirConfig {
    /// The fifodir to clean.
    pub dir: PathBuf,
}

/// npt-cleanfifodir: remove the fifos of dead listeners from `cfg.dir`.
///
/// # Errors
/// Those of [`fifoclean::clean`].
pub fn npt_cleanfifodir(cfg: &NptCleanfifodirConfig, _diag: &Diag) -> Result<(), Error> {
    fifoclean::clean(&cfg.dir).map(drop)
}
