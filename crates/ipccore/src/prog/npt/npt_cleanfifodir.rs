//! npt-cleanfifodir (s6-cleanfifodir): remove the fifos of dead listeners; the work is
//! `fs::fifoclean`'s.

use crate::base::error::Error;
use crate::fs::fifoclean;
use crate::sys::diag::Diag;
use std::path::PathBuf;

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
