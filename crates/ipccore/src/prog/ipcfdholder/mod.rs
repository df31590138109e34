//! fd holding, wire-compatible with s6-fdholder: a daemon that keeps open file
//! descriptors (listening sockets, pipes) for other programs under identifiers, so a
//! service can restart without its clients seeing a refused connection.
//!
//! The protocol (framing, requests, answers, TAI64N dates) is
//! [`crate::formats::fdholder`]; here `store` is the table of held fds, `ipcfdholderd` the
//! poll loop of ipcfdholderd, `client` the operations the client programs
//! (`ipcfdholder_store` and its siblings) share. Access rules come from
//! `ipcserver_access`; fd passing
//! waits use `fdpass`. Left out: socket creation (the daemon launcher uses `listen`).

mod client;
pub mod ipcfdholder_daemon;
pub mod ipcfdholder_delete;
pub mod ipcfdholder_getdump;
pub mod ipcfdholder_list;
pub mod ipcfdholder_retrieve;
pub mod ipcfdholder_setdump;
pub mod ipcfdholder_store;
pub mod ipcfdholder_transferdump;
pub mod ipcfdholderd;
pub mod store;
