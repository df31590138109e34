//! Integration tests: the real binaries against real sockets and real peers.
//! One test binary, a module per program (ripgrep's layout).

mod util;

mod bridges;
mod differential;
mod docs;
mod examples;
mod fifodir;
mod ipcclient;
mod ipcconnlimit;
mod ipcfdholder;
mod ipcioconnect;
mod ipcrules_fs;
mod ipcserver;
mod ipcserver_access;
mod ipcserver_spawn;
mod ipcserverd;
mod ipcsudo;
mod local_socket_listen;
mod npt_cleanfifodir;
mod npt_listen;
mod reliability;
mod security;
mod service;
mod socknames;
