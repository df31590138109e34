//! npt-mkfifodir (s6-mkfifodir): create a fifodir; the work on the directory is
//! `fs::fifodir`'s.

use crate::base::error::Error;
use crate::fs::fifodir;
use crate::sys::diag::Diag;
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
