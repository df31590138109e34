//! The logic of the programs in `src/bin`, one module per program or family.
//!
//! # One shape for every entry point
//!
//! Each program NAME has, in the module of its family:
//! - a config struct named after it in CamelCase with `Config` appended
//!   (`ipcclient` → `IpcclientConfig`, `ipcfdholder-store` → `IpcfdholderStoreConfig`),
//!   which the program builds from its options (`src/cli`), and
//! - one entry function named after it in snake case (`ipcclient`,
//!   `ipcfdholder_store`) of the form
//!   `pub fn NAME(cfg: &NameConfig, diag: &Diag) -> Result<T, Error>`, where `T` is what
//!   the program needs to exit: `u8` (an exit code), `()` (exit 0), or
//!   [`Infallible`](std::convert::Infallible) for a chain-loader, which returns only
//!   by failing. The program prints the error (`diag.fatal`) and exits with its code.
//!
//! The three `local-*-socket-listen` differ only in the socket type, so they share one
//! config and one entry, named after the family: [`activation::LocalSocketListenConfig`]
//! (its `kind` field) and [`activation::local_socket_listen`]. Only
//! [`npt::nptlistend`] prints a fatal error itself: it must log a failure before it
//! tells the client (see there).
//!
//! Other public functions are helpers for tests and fuzz targets (checks, parsers,
//! codecs), not entry points.
//!
//! | program | entry point |
//! |---|---|
//! | ipcclient | [`client::ipcclient`] |
//! | ipcconnlimit | [`connlimit::ipcconnlimit`] |
//! | ipcfdholder-daemon, ipcfdholderd | [`fdholder::daemon::ipcfdholder_daemon`], [`fdholder::daemon::ipcfdholderd`] |
//! | ipcfdholder-{delete,getdump,list,retrieve,setdump,store,transferdump} | `fdholder::client::ipcfdholder_*` |
//! | ipcioconnect | [`ioconnect::ipcioconnect`] |
//! | ipcrules-cdb, ipcrules-fs | [`rulescdb::ipcrules_cdb`], [`rulesfs::ipcrules_fs`] |
//! | ipcserver, ipcserverd | [`server::ipcserver`], [`server::ipcserverd`] |
//! | ipcserver-access | [`access::ipcserver_access`] |
//! | ipcserver-socketbinder | [`socketbinder::ipcserver_socketbinder`] |
//! | ipcsudo, ipcsudoc, ipcsudod | [`sudo::ipcsudo`], [`sudo::ipcsudoc`], [`sudo::ipcsudod`] |
//! | local-{stream,seqpacket,datagram}-socket-listen | [`activation::local_socket_listen`] |
//! | npt-listen | [`nptlisten::npt_listen`] |
//! | npt-wait, nptlistend | [`npt::npt_wait`], [`npt::nptlistend`] |
//! | npt-mkfifodir, npt-notify, npt-cleanfifodir | [`nptfifo::npt_mkfifodir`], [`nptfifo::npt_notify`], [`nptfifo::npt_cleanfifodir`] |
pub mod access;
pub mod activation;
pub mod binprefix;
pub mod client;
pub mod connlimit;
pub mod fdholder;
pub mod ioconnect;
pub mod npt;
pub mod nptfifo;
pub mod nptlisten;
pub mod peer;
pub mod rulescdb;
pub mod rulesfs;
pub mod server;
pub mod socketbinder;
pub mod sudo;
