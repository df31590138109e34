//! The npt family (s6-ftrig-*): fifodir notifications.
pub mod npt_listen;
pub mod npt_mkfifodir;
pub mod npt_wait;
