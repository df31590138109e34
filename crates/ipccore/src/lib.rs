//! ipccore: the syscall-level core of ipctools.
//!
//! Layers, lowest first: `error`, `diag` (messages), `fd`, `sock`, `cred`, `privs`,
//! (the accept loop), `rulescdb` and `access` (access rules) build on them. Lower layers never call higher ones. The library
//! `exec`, `spawn`, `sig` (thin wrappers); `listen` (safe socket creation), `server`
//! `exec`, `spawn`, `sig`, `sockopt` (thin wrappers); `listen` (safe socket creation),
//! `server` (the accept loop) and `activation` (socket-activation chain-loaders) build on
//! them. Lower layers never call higher ones. The library
//! never prints a fatal error and never exits: the programs in `src/bin` do.
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod access;
pub mod activation;
pub mod binprefix;
pub mod client;
pub mod connlimit;
pub mod cred;
pub mod diag;
pub mod error;
pub mod exec;
pub mod fd;
pub mod fdholder;
pub mod fdpass;
pub mod fifoclean;
pub mod fifodir;
pub mod ioconnect;
pub mod listen;
pub mod npt;
pub mod nptlisten;
pub mod privs;
pub mod rulescdb;
pub mod rulesfs;
pub mod server;
pub mod sig;
pub mod sock;
pub mod sockopt;
pub mod spawn;
pub mod sudo;

pub use error::{Error, ResultExt};
