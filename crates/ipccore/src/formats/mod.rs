//! On-disk formats shared with s6.
pub mod rulescdb;
