//! The npt family (s6-ftrig-* and s6-*fifodir): fifodir notifications. `proto` is the
//! request protocol npt-wait and nptlistend share; the work on fifodirs is
//! `fs::fifodir`'s and `fs::fifoclean`'s.
pub mod npt_cleanfifodir;
pub mod npt_listen;
pub mod npt_mkfifodir;
pub mod npt_notify;
pub mod npt_wait;
pub mod nptlistend;
pub mod proto;
