//! Integration tests: the real binaries against real sockets and real peers.
//! One test binary, a module per program (ripgrep's layout).
// The harness makes raw calls the programs never make for themselves (kill, strerror,
// an attacker's pre_exec), each in a block with its SAFETY comment; the programs and
// libraries deny `unsafe` outside the core's sys/ (the workspace lints).
#![allow(unsafe_code)]

mod util;

mod bridges;
mod differential;
mod docs;
mod examples;
mod fifodir;
mod identity;
mod ipcclient;
mod ipcconnlimit;
mod ipcfdholder;
mod ipchttpgate;
mod ipcioconnect;
mod ipcnotify;
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
