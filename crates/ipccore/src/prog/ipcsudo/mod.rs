//! The ipcsudo family: the s6-sudo v1.0 protocol, privilege gain by fd-passing.
//!
//! The wire format (banner, request, answers) is [`crate::formats::sudo`]; `ipcsudoc`
//! (the client) and `ipcsudod` (the server) do the I/O, the fd plumbing and the policy
//! (environment merge, exit code); `ipcsudo` only builds the `ipcclient … ipcsudoc`
//! command line. Left out: the fd plumbing of the command (see `fdpass`) and option
//! parsing.

// One name per program: ipcsudo's file is named after it, in the folder of its family.
#[allow(clippy::module_inception)]
pub mod ipcsudo;
pub mod ipcsudoc;
pub mod ipcsudod;
