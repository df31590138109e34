//! Wire and on-disk formats shared with s6, and ipchttpgate's rules file: the bytes,
//! and for the fd-holder the framing I/O that carries them with their fds.
pub mod fdholder;
pub mod httprules;
pub mod rulescdb;
pub mod sdnotify;
pub mod sudo;
