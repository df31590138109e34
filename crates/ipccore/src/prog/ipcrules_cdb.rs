//! ipcrules-cdb (s6-accessrules-cdb-from-fs's job): compile a rules directory with
//! [`access::compile`] and write it as a cdb with [`rulescdb::write_cdb`]. Both steps
//! live where their format does; this module only joins them for the program.

use crate::base::error::Error;
use crate::formats::rulescdb;
use crate::prog::ipcserver_access as access;
use crate::sys::diag::Diag;
use std::path::PathBuf;

/// What ipcrules-cdb was asked to do.
#[derive(Clone, Debug)]
pub struct IpcrulesCdbConfig {
    /// `-m`: the mode of the cdb file (default 0644).
    pub mode: u32,
    /// The cdb file to write (replaced atomically).
    pub cdbfile: PathBuf,
    /// The rules directory to read.
    pub rulesdir: PathBuf,
}

/// ipcrules-cdb: compile `cfg.rulesdir` into `cfg.cdbfile`.
///
/// # Errors
/// Those of [`access::compile`] and [`rulescdb::write_cdb`].
pub fn ipcrules_cdb(cfg: &IpcrulesCdbConfig, _diag: &Diag) -> Result<(), Error> {
    let recs = access::compile(&cfg.rulesdir)?;
    rulescdb::write_cdb(&cfg.cdbfile, &recs, cfg.mode)
}
