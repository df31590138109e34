//! `nptlistend` takes no arguments: its request comes on stdin.

use super::{Parsed, parser};
use std::ffi::OsString;

/// Nothing to configure.
pub struct Opts;

/// Refuses any argument.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    match p.next()? {
        None => Ok(Opts),
        Some(arg) => Err(arg.unexpected().into()),
    }
}
