//! ipccore: the syscall-level core of ipctools.
//!
//! Layers, lowest first: `error`, `diag` (messages), `fd`, `sock`, `cred`, `privs`,
//! `exec`, `spawn`, `sig` (thin wrappers); `listen` (safe socket creation) and `server`
//! (the accept loop) build on them. Lower layers never call higher ones. The library
//! never prints a fatal error and never exits: the programs in `src/bin` do.
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod binprefix;
pub mod client;
pub mod cred;
pub mod diag;
pub mod error;
pub mod exec;
pub mod fd;
pub mod fdpass;
pub mod listen;
pub mod privs;
pub mod server;
pub mod sig;
pub mod sock;
pub mod spawn;
pub mod sudo;

pub use error::{Error, ResultExt};
