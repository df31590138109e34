//! The logic of the programs in `src/bin`, one module per program, named after it.
//!
//! # One name per program
//!
//! Program NAME lives in `prog/NAME_SNAKE.rs` (`ipcserver-access` →
//! `ipcserver_access.rs`), or in the folder of its family, `prog/FAMILY/NAME_SNAKE.rs`,
//! where the family's shared code sits beside it (`ipcfdholder/client.rs`,
//! `npt/proto.rs`). The same name is `src/bin/NAME.rs`, `src/cli/NAME_SNAKE.rs`,
//! `doc/NAME.1` and `tests/NAME_SNAKE.rs`. The three `local-*-socket-listen` differ
//! only in the socket type and share `local_socket_listen.rs`.
//!
//! # One shape for every entry point
//!
//! Each program NAME has:
//! - a config struct named after it in CamelCase with `Config` appended
//!   (`ipcclient` → `IpcclientConfig`, `ipcfdholder-store` → `IpcfdholderStoreConfig`),
//!   which its parser (`src/cli`) returns, and
//! - one entry function named after it in snake case (`ipcclient`,
//!   `ipcfdholder_store`) of the form
//!   `pub fn NAME(cfg: &NameConfig, diag: &Diag) -> Result<T, Error>`, where `T` is what
//!   the program needs to exit: `u8` (an exit code), `()` (exit 0), or
//!   [`Infallible`](std::convert::Infallible) for a chain-loader, which returns only
//!   by failing. The program prints the error (`diag.fatal`) and exits with its code.
//!
//! The three listeners share one config and one entry, named after the family:
//! [`local_socket_listen::LocalSocketListenConfig`] (its `kind` field) and
//! [`local_socket_listen::local_socket_listen`]. Only [`npt::nptlistend::nptlistend`]
//! prints a fatal error itself: it must log a failure before it tells the client (see
//! there).
//!
//! Other public functions are helpers for tests and fuzz targets (checks, parsers,
//! codecs), not entry points.
//!
//! | program | entry point |
//! |---|---|
//! | ipcclient | [`ipcclient::ipcclient`] |
//! | ipcconnlimit | [`ipcconnlimit::ipcconnlimit`] |
//! | ipcfdholder-daemon | [`ipcfdholder::ipcfdholder_daemon::ipcfdholder_daemon`] |
//! | ipcfdholderd | [`ipcfdholder::ipcfdholderd::ipcfdholderd`] |
//! | ipcfdholder-{delete,getdump,list,retrieve,setdump,store,transferdump} | `ipcfdholder::ipcfdholder_*::ipcfdholder_*` |
//! | ipcioconnect | [`ipcioconnect::ipcioconnect`] |
//! | ipchttpgate | [`ipchttpgate::ipchttpgate`] |
//! | ipcnotify-socket-from-fd, ipcnotify-fd-from-socket | [`ipcnotify::ipcnotify_socket_from_fd::ipcnotify_socket_from_fd`], [`ipcnotify::ipcnotify_fd_from_socket::ipcnotify_fd_from_socket`] |
//! | ipcrules-cdb | [`ipcrules_cdb::ipcrules_cdb`] |
//! | ipcrules-fs | [`ipcrules_fs::ipcrules_fs`] |
//! | ipcserver | [`ipcserver::ipcserver`] |
//! | ipcserverd | [`ipcserverd::ipcserverd`] |
//! | ipcserver-access | [`ipcserver_access::ipcserver_access`] |
//! | ipcserver-socketbinder | [`ipcserver_socketbinder::ipcserver_socketbinder`] |
//! | ipcsudo, ipcsudoc, ipcsudod | [`ipcsudo::ipcsudo::ipcsudo`], [`ipcsudo::ipcsudoc::ipcsudoc`], [`ipcsudo::ipcsudod::ipcsudod`] |
//! | local-{stream,seqpacket,datagram}-socket-listen | [`local_socket_listen::local_socket_listen`] |
//! | npt-listen | [`npt::npt_listen::npt_listen`] |
//! | npt-wait, nptlistend | [`npt::npt_wait::npt_wait`], [`npt::nptlistend::nptlistend`] |
//! | npt-mkfifodir, npt-notify, npt-cleanfifodir | [`npt::npt_mkfifodir::npt_mkfifodir`], [`npt::npt_notify::npt_notify`], [`npt::npt_cleanfifodir::npt_cleanfifodir`] |
//!
//! `binprefix` finds sibling programs (ipcsudo runs ipcclient and ipcsudoc).
pub mod binprefix;
pub mod ipcclient;
pub mod ipcconnlimit;
pub mod ipcfdholder;
pub mod ipchttpgate;
pub mod ipcioconnect;
pub mod ipcnotify;
pub mod ipcrules_cdb;
pub mod ipcrules_fs;
pub mod ipcserver;
pub mod ipcserver_access;
pub mod ipcserver_socketbinder;
pub mod ipcserverd;
pub mod ipcsudo;
pub mod local_socket_listen;
pub mod npt;
pub mod peer;
