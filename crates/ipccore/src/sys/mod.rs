//! Thin wrappers of system calls, each documented with the call it makes, and the
//! small services every program needs on top of them: diagnostics on stderr ([`diag`]),
//! deadlines ([`time`]), the start-up state the Rust runtime hides ([`exec`]).
pub mod cred;
pub mod diag;
pub mod exec;
pub mod fd;
pub mod fdpass;
pub mod fork;
pub mod pidfd;
pub mod privs;
pub mod regex;
pub mod sig;
pub mod sock;
pub mod sockopt;
pub mod spawn;
pub mod time;
