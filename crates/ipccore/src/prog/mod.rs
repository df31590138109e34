//! The logic of the programs in `src/bin`, one module per program or family.
pub mod access;
pub mod activation;
pub mod binprefix;
pub mod client;
pub mod connlimit;
pub mod fdholder;
pub mod ioconnect;
pub mod npt;
pub mod nptlisten;
pub mod rulesfs;
pub mod server;
pub mod sudo;
