//! ipcsudo: exec `ipcclient PATH ipcsudoc …` (s6-sudo).

use crate::base::error::Error;
use crate::sys::diag::Diag;
use std::ffi::OsString;

/// What ipcsudo was asked to do: the `ipcclient … path ipcsudoc … args` command
/// line its options became.
#[derive(Clone, Debug, Default)]
pub struct IpcsudoConfig {
    /// The whole command line to exec, ipcclient first.
    pub argv: Vec<OsString>,
}

/// ipcsudo: exec `cfg.argv` (ipcclient, which runs ipcsudoc). Returns only on failure.
///
/// # Errors
/// The exec error.
pub fn ipcsudo(cfg: &IpcsudoConfig, _diag: &Diag) -> Result<std::convert::Infallible, Error> {
    Err(crate::sys::exec::exec(&cfg.argv, &[]))
}
