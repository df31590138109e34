//! npt-notify (s6-ftrig-notify): send an event to a fifodir's listeners; the work is
//! `fs::fifodir`'s.

use crate::base::error::Error;
use crate::fs::fifodir;
use crate::sys::diag::Diag;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

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
