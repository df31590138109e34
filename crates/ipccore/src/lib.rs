//! ipccore: the syscall-level core of ipctools.
//!
//! The crate is in five layers, one folder each, lowest first. A module imports only
//! from its own layer or the layers below it, never from one above:
//!
//! | layer | what it holds | modules |
//! |---|---|---|
//! | [`base`] | errors and their one exit-code map; the text of messages (strerror, escaping); the UCSPI fd numbers and variable names; no I/O | `error`, `text`, `ucspi` |
//! | [`sys`] | thin wrappers of system calls: fds, sockets, credentials, privileges, signals, spawn, fork, exec, fd-passing; diagnostics on stderr; deadlines | `fd`, `diag`, `sock`, `sockopt`, `cred`, `privs`, `sig`, `spawn`, `fork`, `exec`, `fdpass`, `time` |
//! | [`formats`] | wire and on-disk formats shared with s6: their bytes, and the fd-holder's framing I/O (`sendmsg`/`recvmsg` with `SCM_RIGHTS`, waits through `sys::fdpass`) | `rulescdb`, `sudo`, `fdholder`, `sdnotify`, `httprules` |
//! | [`fs`] | privileged multi-step operations on paths other users may touch | `listen`, `fifodir`, `fifoclean` |
//! | [`prog`] | the logic of the programs in `src/bin`, one entry point per program (the rule is in [`prog`]) | one module per program (`ipcserver`, `ipcserverd`, `ipcclient`, `ipcserver_access`, …) and per family (`ipcfdholder`, `ipcsudo`, `npt`, `ipchttpgate`), `ipcnotify`, `local_socket_listen`, `binprefix` |
//!
//! The library never exits, and never prints a fatal error: the programs in `src/bin`
//! do (one exception, `prog::npt::nptlistend::nptlistend`, which must log before it tells its
//! client). `unsafe` is denied here and allowed back, with a `SAFETY` comment on every block,
//! only in the files of `sys` that say `#![allow(unsafe_code)]` at their top (the workspace
//! lints deny it everywhere else).
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod base;
pub mod formats;
pub mod fs;
pub mod prog;
pub mod sys;

pub use base::error::{Error, ResultExt};
