//! Integration tests: the real binaries against real sockets and real peers.
//! One test binary, a module per program (ripgrep's layout).

mod util;

mod access;
mod bridges;
mod cleanfifodir;
mod connlimit;
mod differential;
mod docs;
mod fdholder;
mod fifodir;
mod identity;
mod ioconnect;
mod ipcclient;
mod ipcserver;
mod ipcserver_spawn;
mod ipcserverd;
mod listen_tools;
mod nptlisten;
mod reliability;
mod rulesfs;
mod security;
mod service;
mod socknames;
mod sudo;
