//! fd holding, wire-compatible with s6-fdholder: a daemon that keeps open file
//! descriptors (listening sockets, pipes) for other programs under identifiers, so a
//! service can restart without its clients seeing a refused connection.
//!
//! The protocol (framing, requests, answers, TAI64N dates) is
//! [`crate::formats::fdholder`]; here `store` is the table of held fds, `daemon` the
//! poll loop of ipcfdholderd, `client` the operations and the client programs. Access rules come from `access`/`rulescdb`; fd passing
//! waits use `fdpass`. Left out: socket creation (the daemon launcher uses `listen`).

pub mod clients;
pub mod ipcfdholderd;
pub mod store;
