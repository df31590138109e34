//! On-disk formats shared with s6: the access-rules cdb of s6-ipcserver-access and
//! s6-fdholderd. Fifodir names live with the fifodir code
//! ([`fs::fifodir`](crate::fs::fifodir)), the s6-fdholder wire protocol in
//! [`prog::fdholder::wire`](crate::prog::fdholder::wire).
pub mod rulescdb;
