//! `ipcfdholder-setdump` options (s6-fdholder-setdump's): the same as
//! `ipcfdholder-list`'s, `[ -t timeout ] socket`, so the parser is list's.

pub use super::ipcfdholder_list::{Opts, parse};
