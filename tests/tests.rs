//! Integration tests: the real binaries against real sockets and real peers.
//! One test binary, a module per program (ripgrep's layout).

mod util;

mod access;
mod differential;
mod docs;
mod fifodir;
mod ipcclient;
mod ipcserver;
mod ipcserverd;
mod listen_tools;
mod reliability;
mod service;
mod socknames;
mod sudo;
