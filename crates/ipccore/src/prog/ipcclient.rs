//! The UCSPI client for Unix domain sockets (ipcclient, drop-in s6-ipcclient): connect,
//! put the connection on fds 6 (read) and 7 (write), set `PROTO` and `IPCLOCALPATH`,
//! and chain-load the next program.
//!
//! Beyond s6: a connect can be retried until a deadline while the server is not there
//! yet (`-t`), the server path may be longer than `sun_path` or an `@name` abstract
//! socket, and so may the bind path. Left out: datagram and seqpacket clients, and any
//! reading or writing on the connection (that is prog's job).

use crate::base::error::{Error, ResultExt};
use crate::base::text;
use crate::base::ucspi;
use crate::sys::diag::Diag;
use crate::sys::exec::{self, EnvMod};
use crate::sys::fd;
use crate::sys::sock::{self, SUN_PATH_MAX, SockPath};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::net::{SocketAddrUnix, SocketType};
use std::convert::Infallible;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Longest pause between two connect attempts under `-t`.
const RETRY_MAX: Duration = Duration::from_millis(50);

/// What ipcclient was asked to do.
#[derive(Clone, Debug)]
pub struct IpcclientConfig {
    /// The server's socket.
    pub path: SockPath,
    /// `-p bindpath`: bind the client socket there before connecting.
    pub bind: Option<SockPath>,
    /// `-l localname`: the `IPCLOCALPATH` value, whatever was bound.
    pub local_name: Option<OsString>,
    /// `-t millisecs`: keep retrying while the server is absent, until this has passed.
    pub retry_for: Option<Duration>,
    /// prog and its arguments, exec'd with the connection on fds 6 and 7.
    pub argv: Vec<OsString>,
}

/// Connect as `cfg` says, place the connection on fds 6 and 7 and exec prog.
/// Returns only on failure.
///
/// # Errors
/// `create socket`, `bind socket to`, `connect to`, `set up fd 6`/`set up fd 7`, or the
/// exec failure.
pub fn ipcclient(cfg: &IpcclientConfig, diag: &Diag) -> Result<Infallible, Error> {
    let conn = connect(cfg)?;
    diag.info([b"connected to ", text::bytes(&cfg.path.as_os_string())].concat());
    place_fds(conn)?;
    // IPCLOCALPATH is the bind path as given, not getsockname: for a long bind path the
    // kernel only knows the /proc alias we bound through.
    let local = match (&cfg.local_name, &cfg.bind) {
        (Some(l), _) => l.clone(),
        (None, Some(b)) => b.as_os_string(),
        (None, None) => OsString::new(),
    };
    let env: [EnvMod; 2] = [
        exec::set(ucspi::PROTO, "IPC"),
        exec::set(ucspi::IPCLOCALPATH, local),
    ];
    Err(exec::exec(&cfg.argv, &env))
}

/// Create the socket, bind it if asked, and connect it (retrying under `-t`).
///
/// Beyond s6: a server that answers a stream connect with EPROTOTYPE listens on a
/// `SOCK_SEQPACKET` socket (nosh's local-seqpacket-socket-listen, ipcserverd behind it);
/// the connect is then made again with a seqpacket socket, bound to the same bindpath
/// (the first socket's file is removed first, if it is still the one it made).
fn connect(cfg: &IpcclientConfig) -> Result<OwnedFd, Error> {
    let fd = socket_bound(cfg, SocketType::STREAM)?;
    match connect_retrying(fd.0, cfg) {
        Err(Error::Sys {
            errno: Errno::PROTOTYPE,
            ..
        }) => {
            if let (Some(SockPath::Fs(p)), Some((dev, ino))) = (&cfg.bind, fd.1) {
                let same = rustix::fs::lstat(p.as_path())
                    .map(|st| (st.st_dev, st.st_ino) == (dev, ino))
                    .unwrap_or(false);
                if same {
                    let _ = rustix::fs::unlink(p.as_path());
                }
            }
            let fd = socket_bound(cfg, SocketType::SEQPACKET)?;
            connect_retrying(fd.0, cfg)
        }
        r => r,
    }
}

/// A new socket of type `ty`, bound to the bindpath if there is one, with the (dev,
/// ino) of the file the bind made.
fn socket_bound(
    cfg: &IpcclientConfig,
    ty: SocketType,
) -> Result<(OwnedFd, Option<(u64, u64)>), Error> {
    let fd = sock::socket(ty)?;
    let mut made = None;
    if let Some(b) = &cfg.bind {
        bind(&fd, b).op_at("bind socket to", b.display_path())?;
        if let SockPath::Fs(p) = b {
            made = rustix::fs::lstat(p.as_path())
                .ok()
                .map(|st| (st.st_dev, st.st_ino));
        }
    }
    Ok((fd, made))
}

fn connect_retrying(fd: OwnedFd, cfg: &IpcclientConfig) -> Result<OwnedFd, Error> {
    let deadline = cfg.retry_for.map(|d| Instant::now() + d);
    let mut pause = Duration::from_millis(1);
    loop {
        match sock::connect(&fd, &cfg.path) {
            Ok(()) => return Ok(fd),
            Err(Errno::INTR) => continue,
            Err(e @ (Errno::NOENT | Errno::CONNREFUSED)) => {
                let left = deadline
                    .and_then(|d| d.checked_duration_since(Instant::now()))
                    .filter(|d| !d.is_zero());
                match left {
                    Some(left) => {
                        std::thread::sleep(pause.min(left));
                        pause = (pause * 2).min(RETRY_MAX);
                    }
                    None => return Err(Error::sys_at("connect to", cfg.path.display_path(), e)),
                }
            }
            Err(e) => return Err(Error::sys_at("connect to", cfg.path.display_path(), e)),
        }
    }
}

/// `bind(fd, path)`—never unlinks: an existing bindpath fails with EADDRINUSE. A path
/// longer than `sun_path` is bound through its parent directory, opened `O_PATH`, as
/// `/proc/self/fd/N/NAME`; the server then sees that alias as `IPCREMOTEPATH`.
fn bind(fd: &OwnedFd, path: &SockPath) -> Result<(), Errno> {
    match path {
        SockPath::Abstract(name) => sock::bind_abstract(fd, name),
        SockPath::Fs(p) if p.as_os_str().len() <= SUN_PATH_MAX => sock::bind_short(fd, p),
        SockPath::Fs(p) => {
            let base = p.file_name().ok_or(Errno::INVAL)?;
            let parent = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            let dir = rustix::fs::open(
                parent,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            let mut alias = format!("/proc/self/fd/{}/", fd::number(&dir)).into_bytes();
            alias.extend_from_slice(base.as_bytes());
            let addr = SocketAddrUnix::new(alias.as_slice())?;
            rustix::net::bind(fd, &addr)
        }
    }
}

/// Put the connection on fd 6 and a dup of it on fd 7, both without CLOEXEC; nothing
/// else of ours stays open. A socket that was born on 6 or 7 (the caller had them
/// closed) is first moved out of the way, so that placing one fd never closes the other.
fn place_fds(conn: OwnedFd) -> Result<(), Error> {
    let n = fd::number(&conn);
    let conn = if n == ucspi::FD_READ || n == ucspi::FD_WRITE {
        let high = rustix::io::fcntl_dupfd_cloexec(&conn, ucspi::FD_WRITE + 1).op("set up fd 6")?;
        // Closed now, not at the end of this function, where it would close the fd
        // just placed on its number.
        drop(conn);
        high
    } else {
        conn
    };
    // fd 6 first, then 7, as s6-ipcclient: under a low open-file limit the step that
    // fails, and so the message, is the same.
    fd::copy_to(conn.as_fd(), ucspi::FD_READ).op_fd("set up fd 6")?;
    fd::copy_to(conn.as_fd(), ucspi::FD_WRITE).op_fd("set up fd 7")
    // `conn` (close-on-exec, on neither 6 nor 7) is closed here.
}

/// Give a placement error the step it failed at (s6-ipcclient's wording).
trait OpFd<T> {
    fn op_fd(self, op: &'static str) -> Result<T, Error>;
}

impl<T> OpFd<T> for Result<T, Error> {
    fn op_fd(self, op: &'static str) -> Result<T, Error> {
        self.map_err(|e| match e.errno() {
            Some(errno) => Error::sys(op, errno),
            None => e,
        })
    }
}
