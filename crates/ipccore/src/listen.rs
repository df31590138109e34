//! Creating a listening Unix socket without the races every peer has.
//!
//! s6, nosh, ucspi-unix and systemd all unlink whatever is at PATH, bind there, and only
//! then chmod/chown: for a moment the socket is reachable with the wrong mode, and a
//! symlink planted at PATH redirects the chmod. Here the socket is bound inside a fresh
//! 0700 directory next to PATH, given its mode and owner and put in the listening state
//! there, where nobody else can reach it, and only then renamed onto PATH. An existing
//! PATH is replaced only when it is a socket nobody listens on. Concurrent starts on one
//! PATH are serialized by an `flock` on the parent directory, so exactly one wins.
//!
//! Left out: abstract sockets have no file, so mode and owner do not apply to them.

use crate::error::{Error, ResultExt};
use crate::sock::{self, SUN_PATH_MAX, SockPath};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, FileType, FlockOperation, Gid, Mode, OFlags, RenameFlags, Uid};
use rustix::io::Errno;
use rustix::net::SocketType;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a start waits for another start on the same directory to finish.
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// What to create.
#[derive(Clone, Debug)]
pub struct ListenOpts {
    pub ty: SocketType,
    /// `listen(backlog)`; `None` for datagram sockets, which do not listen.
    pub backlog: Option<i32>,
    /// Permissions of the socket file (`-a`), applied before it is reachable.
    pub mode: Mode,
    pub uid: Option<Uid>,
    pub gid: Option<Gid>,
    /// `-d`: replace a stale socket at PATH. `-D`: any existing PATH is an error.
    pub replace_stale: bool,
    pub nonblocking: bool,
}

impl Default for ListenOpts {
    fn default() -> Self {
        ListenOpts {
            ty: SocketType::STREAM,
            backlog: Some(libc::SOMAXCONN),
            mode: Mode::from_raw_mode(0o777),
            uid: None,
            gid: None,
            replace_stale: true,
            nonblocking: false,
        }
    }
}

/// A file mode from its numeric value (`-a 0660`).
pub fn mode(m: u32) -> Mode {
    Mode::from_raw_mode(m)
}

/// Bind and listen on `path` as described in the module documentation.
///
/// # Errors
/// `open directory`, `lock directory`, `create directory`, `create socket`, `bind to`,
/// `chmod`, `chown`, `listen on`, `rename into place`; a PATH that is a live socket,
/// not a socket, or (with `-D`) exists at all is refused and left untouched.
pub fn create(path: &SockPath, o: &ListenOpts) -> Result<OwnedFd, Error> {
    create_with(path, o, &mut |_| Ok(()))
}

/// A socket option step run between `bind` and `listen` (see [`create_with`]).
pub type AfterBind<'a> = dyn FnMut(BorrowedFd<'_>) -> Result<(), Error> + 'a;

/// [`create`], calling `after_bind` on the socket once it is bound and has its mode and
/// owner, but before it listens and before PATH names it.
///
/// Options such as `SO_PASSCRED` belong there: set before bind, `SO_PASSCRED` autobinds
/// the socket to an abstract name (unix(7)); set after PATH is reachable, a client could
/// connect and send in between and its first message would arrive without credentials.
///
/// # Errors
/// As [`create`], plus whatever `after_bind` returns (the socket is then not created).
pub fn create_with(
    path: &SockPath,
    o: &ListenOpts,
    after_bind: &mut AfterBind<'_>,
) -> Result<OwnedFd, Error> {
    create_deferred_with(path, o, after_bind).map(|(fd, _)| fd)
}

/// The private bind directory, already removed, whose last reference is still open.
///
/// Closing it makes the filesystem free the directory's inode, which on ext4 takes
/// 0.3–0.7 ms, more than the rest of the socket creation. A server drops this only after
/// its readiness notification, so that cost is off the start-to-ready path; nothing is
/// visible in the filesystem either way.
#[derive(Debug, Default)]
pub struct Leftover {
    // Held only to be closed on drop.
    _dir: Option<OwnedFd>,
}

/// [`create`], but the last close of the private directory is left to the caller
/// (drop the [`Leftover`] once ready, and before spawning anything).
///
/// # Errors
/// As [`create`].
pub fn create_deferred(path: &SockPath, o: &ListenOpts) -> Result<(OwnedFd, Leftover), Error> {
    create_deferred_with(path, o, &mut |_| Ok(()))
}

fn create_deferred_with(
    path: &SockPath,
    o: &ListenOpts,
    after_bind: &mut AfterBind<'_>,
) -> Result<(OwnedFd, Leftover), Error> {
    match path {
        SockPath::Abstract(name) => Ok((
            create_abstract(path, name, o, after_bind)?,
            Leftover { _dir: None },
        )),
        SockPath::Fs(p) => create_fs(p, o, after_bind),
    }
}

fn socket_for(o: &ListenOpts) -> Result<OwnedFd, Error> {
    let fd = sock::socket(o.ty)?;
    if o.nonblocking {
        rustix::io::ioctl_fionbio(&fd, true).op("set socket non-blocking")?;
    }
    Ok(fd)
}

fn create_abstract(
    path: &SockPath,
    name: &[u8],
    o: &ListenOpts,
    after_bind: &mut AfterBind<'_>,
) -> Result<OwnedFd, Error> {
    let fd = socket_for(o)?;
    sock::bind_abstract(&fd, name).op_at("bind to", path.display_path())?;
    after_bind(fd.as_fd())?;
    if let Some(b) = o.backlog {
        rustix::net::listen(&fd, b).op_at("listen on", path.display_path())?;
    }
    Ok(fd)
}

/// What is at PATH before we start.
enum Existing {
    Nothing,
    /// A socket nobody listens on: (dev, ino), to make sure we replace that one.
    Stale(u64, u64),
}

fn split(p: &Path) -> Result<(PathBuf, &OsStr), Error> {
    let bad = || Error::Usage(format!("invalid socket path: {}", p.display()));
    if p.as_os_str().as_bytes().ends_with(b"/") {
        return Err(bad());
    }
    let base = p.file_name().ok_or_else(bad)?;
    let parent = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, base))
}

fn create_fs(
    p: &Path,
    o: &ListenOpts,
    after_bind: &mut AfterBind<'_>,
) -> Result<(OwnedFd, Leftover), Error> {
    let (parent, base) = split(p)?;
    let dir = open_dir(&parent)?;
    lock_dir(&dir, &parent)?;
    let existing = check_existing(&dir, base, p, o.replace_stale)?;

    let (privname, privdir) = make_private_dir(&dir, &parent)?;
    let result = bind_in_private(
        &dir, &parent, &privname, &privdir, base, p, o, &existing, after_bind,
    );
    if result.is_err() {
        let _ = rustix::fs::unlinkat(&privdir, "s", AtFlags::empty());
    }
    let _ = rustix::fs::unlinkat(&dir, privname.as_str(), AtFlags::REMOVEDIR);
    result.map(|fd| {
        (
            fd,
            Leftover {
                _dir: Some(privdir),
            },
        )
    })
    // `dir` is closed here, which releases the lock: the socket is live by then.
}

fn open_dir(parent: &Path) -> Result<OwnedFd, Error> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    match rustix::fs::open(parent, flags, Mode::empty()) {
        Ok(d) => Ok(d),
        // A directory we may write and search but not list: no flock possible on an
        // O_PATH fd, so that start is not serialized (documented).
        Err(Errno::ACCESS) => rustix::fs::open(parent, OFlags::PATH | flags, Mode::empty())
            .op_at("open directory", parent),
        Err(e) => Err(Error::sys_at("open directory", parent, e)),
    }
}

fn lock_dir(dir: &OwnedFd, parent: &Path) -> Result<(), Error> {
    let start = Instant::now();
    loop {
        match rustix::fs::flock(dir, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(()),
            Err(Errno::BADF) => return Ok(()), // O_PATH fallback, see open_dir
            Err(Errno::WOULDBLOCK) if start.elapsed() < LOCK_WAIT => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(Errno::INTR) => {}
            Err(e) => return Err(Error::sys_at("lock directory", parent, e)),
        }
    }
}

fn check_existing(
    dir: &OwnedFd,
    base: &OsStr,
    p: &Path,
    replace_stale: bool,
) -> Result<Existing, Error> {
    let st = match rustix::fs::statat(dir, base, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::NOENT) => return Ok(Existing::Nothing),
        Err(e) => return Err(Error::sys_at("stat", p, e)),
    };
    if !replace_stale {
        return Err(Error::sys_at("bind to", p, Errno::ADDRINUSE));
    }
    let kind = match FileType::from_raw_mode(st.st_mode) {
        FileType::Socket => None,
        FileType::Symlink => Some("a symbolic link"),
        FileType::Directory => Some("a directory"),
        FileType::RegularFile => Some("a regular file"),
        _ => Some("not a socket"),
    };
    if let Some(kind) = kind {
        return Err(Error::Fatal(format!(
            "{} exists and is {kind}: refusing to replace it",
            p.display()
        )));
    }
    if is_live(dir, base, p)? {
        return Err(Error::Fatal(format!(
            "{} is in use by a running server: refusing to replace it",
            p.display()
        )));
    }
    Ok(Existing::Stale(st.st_dev, st.st_ino))
}

/// A socket is live if a connect to it succeeds (or its backlog is full); only
/// ECONNREFUSED means nobody listens (dovecot's `net_listen_unix_unlink_stale`).
fn is_live(dir: &OwnedFd, base: &OsStr, p: &Path) -> Result<bool, Error> {
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let file = rustix::fs::openat(dir, base, flags, Mode::empty()).op_at("open", p)?;
    for ty in [SocketType::STREAM, SocketType::SEQPACKET, SocketType::DGRAM] {
        let s = sock::socket(ty)?;
        rustix::io::ioctl_fionbio(&s, true).op("set socket non-blocking")?;
        match sock::connect_via_proc(&s, &file) {
            Ok(()) | Err(Errno::AGAIN) | Err(Errno::INPROGRESS) => return Ok(true),
            Err(Errno::CONNREFUSED) => return Ok(false),
            // A listener of another type answers EPROTOTYPE: try the next type.
            Err(Errno::PROTOTYPE) => continue,
            Err(e) => return Err(Error::sys_at("check whether a server listens on", p, e)),
        }
    }
    Ok(false)
}

fn make_private_dir(dir: &OwnedFd, parent: &Path) -> Result<(String, OwnedFd), Error> {
    let mut tries = 0;
    loop {
        let mut rnd = [0u8; 6];
        rustix::rand::getrandom(&mut rnd, rustix::rand::GetRandomFlags::empty())
            .op("get random bytes")?;
        let name: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
        let name = format!(".ipcs-{name}");
        match rustix::fs::mkdirat(dir, name.as_str(), Mode::from_raw_mode(0o700)) {
            Ok(()) => {
                let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                let fd = rustix::fs::openat(dir, name.as_str(), flags, Mode::empty());
                return match fd {
                    // Where others may write to the parent, they can rename our directory
                    // away and put theirs under its name before we open it: use only a
                    // directory that is ours and closed to everyone else.
                    Ok(fd) => match rustix::fs::fstat(&fd) {
                        Ok(st) if is_private(&st) => Ok((name, fd)),
                        Ok(_) => Err(Error::Fatal(format!(
                            "{} changed while starting: refusing to use it",
                            parent.join(&name).display()
                        ))),
                        Err(e) => Err(Error::sys_at("stat", parent.join(&name), e)),
                    },
                    Err(e) => {
                        let _ = rustix::fs::unlinkat(dir, name.as_str(), AtFlags::REMOVEDIR);
                        Err(Error::sys_at("open directory", parent.join(&name), e))
                    }
                };
            }
            Err(Errno::EXIST) if tries < 10 => tries += 1,
            Err(e) => return Err(Error::sys_at("create directory", parent.join(&name), e)),
        }
    }
}

/// A directory of ours that nobody else may enter or write to.
fn is_private(st: &rustix::fs::Stat) -> bool {
    FileType::from_raw_mode(st.st_mode) == FileType::Directory
        && st.st_uid == rustix::process::geteuid().as_raw()
        && st.st_mode & 0o077 == 0
}

#[allow(clippy::too_many_arguments)]
fn bind_in_private(
    dir: &OwnedFd,
    parent: &Path,
    privname: &str,
    privdir: &OwnedFd,
    base: &OsStr,
    p: &Path,
    o: &ListenOpts,
    existing: &Existing,
    after_bind: &mut AfterBind<'_>,
) -> Result<OwnedFd, Error> {
    let fd = socket_for(o)?;
    // Bind under a short name in the private directory; the rename below gives it its
    // real name, so neither a long PATH nor a long basename ever meets sun_path.
    // Bind through the directory's fd, not its name: where others may write to the
    // parent, the name can be swapped for a symlink to anywhere between mkdir and bind.
    // The name is only the fallback for a system without /proc.
    let alias = format!("/proc/self/fd/{}/s", privdir.as_raw_fd());
    let short = parent.join(privname).join("s");
    match sock::bind_short(&fd, Path::new(&alias)) {
        Err(Errno::NOENT) if short.as_os_str().len() <= SUN_PATH_MAX => {
            sock::bind_short(&fd, &short)
        }
        r => r,
    }
    .op_at("bind to", p)?;
    // chmod and chown by name inside the private directory: nobody else can put a
    // symlink there, so they land on our socket and nothing else.
    rustix::fs::chmodat(privdir, "s", o.mode, AtFlags::empty()).op_at("chmod", p)?;
    if o.uid.is_some() || o.gid.is_some() {
        rustix::fs::chownat(privdir, "s", o.uid, o.gid, AtFlags::SYMLINK_NOFOLLOW)
            .op_at("chown", p)?;
    }
    after_bind(fd.as_fd())?;
    // Listen before the rename: once PATH is visible it must answer connects, or a
    // concurrent start would take it for stale. The mode is already final.
    if let Some(b) = o.backlog {
        rustix::net::listen(&fd, b).op_at("listen on", p)?;
    }
    rename_into_place(dir, privdir, base, p, existing)?;
    Ok(fd)
}

fn rename_into_place(
    dir: &OwnedFd,
    privdir: &OwnedFd,
    base: &OsStr,
    p: &Path,
    existing: &Existing,
) -> Result<(), Error> {
    match *existing {
        Existing::Nothing => {
            match rustix::fs::renameat_with(privdir, "s", dir, base, RenameFlags::NOREPLACE) {
                Ok(()) => Ok(()),
                Err(Errno::EXIST) => Err(Error::Fatal(format!(
                    "{} appeared while starting: refusing to replace it",
                    p.display()
                ))),
                Err(Errno::INVAL) | Err(Errno::NOSYS) => {
                    // No renameat2 on this filesystem: link(2) refuses to replace.
                    rustix::fs::linkat(privdir, "s", dir, base, AtFlags::empty())
                        .op_at("rename into place", p)?;
                    let _ = rustix::fs::unlinkat(privdir, "s", AtFlags::empty());
                    Ok(())
                }
                Err(e) => Err(Error::sys_at("rename into place", p, e)),
            }
        }
        Existing::Stale(dev, ino) => {
            // Swap, then check that what came back is the stale socket we tested: if
            // PATH was replaced meanwhile, swap back and refuse.
            match rustix::fs::renameat_with(privdir, "s", dir, base, RenameFlags::EXCHANGE) {
                Ok(()) => {
                    let same = rustix::fs::statat(privdir, "s", AtFlags::SYMLINK_NOFOLLOW)
                        .map(|st| st.st_dev == dev && st.st_ino == ino)
                        .unwrap_or(false);
                    if same {
                        let _ = rustix::fs::unlinkat(privdir, "s", AtFlags::empty());
                        Ok(())
                    } else {
                        let _ = rustix::fs::renameat_with(
                            privdir,
                            "s",
                            dir,
                            base,
                            RenameFlags::EXCHANGE,
                        );
                        Err(Error::Fatal(format!(
                            "{} changed while starting: refusing to replace it",
                            p.display()
                        )))
                    }
                }
                Err(Errno::INVAL) | Err(Errno::NOSYS) => {
                    rustix::fs::renameat(privdir, "s", dir, base).op_at("rename into place", p)
                }
                Err(e) => Err(Error::sys_at("rename into place", p, e)),
            }
        }
    }
}
