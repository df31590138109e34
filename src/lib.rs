//! ipctools: the programs' option parsing, shared by `src/bin` and the fuzz crate.
//!
//! Everything else lives in the `ipccore` crate; this library only turns a command
//! line into the validated configuration a program hands to `ipccore`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
