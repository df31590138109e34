//! Creating a listening Unix socket without the races every peer has, under its real name.
//!
//! s6, nosh, ucspi-unix and systemd all unlink whatever is at PATH, bind there, and only
//! then chmod/chown: for a moment the socket is reachable with the wrong mode, and a
//! symlink planted at PATH redirects the chmod. Two methods avoid that here.
//!
//! **Direct bind** (the usual case): when no user but us and root can change what the
//! directories on the way to PATH resolve to, nor rename entries in the last one (its
//! own entries are ours or root's, and every directory is either closed to others or
//! sticky and owned by us or root, like `/tmp`), the socket is bound to PATH itself, so
//! the kernel records PATH (getsockname, getpeername, `ss`). The mode comes from the
//! umask at `bind`; an owner change is made through an `O_PATH` fd on the checked
//! socket file, with the file created owner-only until then. `listen` comes last: until
//! then a connect is refused. Concurrent starts on PATH are serialized by a lock file
//! `.ipcs-lock.BASENAME` next to it, created 0600 by us, checked with `fstat`, locked
//! with `flock` and removed before the lock is released: nobody else can open it, so
//! nobody else can hold it. A lock file someone else made sends the start to the
//! second method instead of waiting. A stale socket is first renamed to a random name,
//! checked to be the one tested, and removed.
//!
//! **Private directory** (a directory on the way that others may change, such as a
//! plain 0777 one): bind inside a fresh 0700 directory next to PATH, opened and bound
//! through `/proc/self/fd/N/BASENAME`, give it its mode and owner and put it in the
//! listening state there, where nobody else can reach it, and only then rename it onto
//! PATH (`RENAME_NOREPLACE`, or `RENAME_EXCHANGE` plus an inode check for a stale
//! socket). No lock is needed. The kernel then records the `/proc/self/fd/N/…` name it
//! was bound to, which is the price of binding through an fd.
//!
//! A PATH longer than `sun_path` is bound as `/proc/self/fd/N/BASENAME` through the
//! open parent directory (direct method), or by the second method if even that is too
//! long. An existing PATH is replaced only when it is a socket nobody listens on.
//!
//! Left out: abstract sockets have no file, so mode and owner do not apply to them.

use crate::base::error::{Error, ResultExt};
use crate::sys::sock::{self, SUN_PATH_MAX, SockPath};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, FileType, FlockOperation, Gid, Mode, OFlags, RenameFlags, Stat, Uid};
use rustix::io::Errno;
pub use rustix::net::SocketType;
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a start waits for another start of ours on the same PATH to finish. Only
/// our own uid can hold the lock, so this wait never depends on another user.
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// Most symbolic links followed while checking a path (Linux's own limit).
const MAX_LINKS: u32 = 40;

/// What to create: the socket a listener (ipcserver, ipcserver-socketbinder,
/// ipcfdholder-daemon, the socket-activation listeners) binds at PATH, and the file's
/// permissions. The default is a stream socket, backlog `SOMAXCONN`, mode 0777, owner
/// unchanged, a stale socket replaced, blocking.
#[derive(Clone, Debug)]
pub struct ListenOpts {
    /// Stream, seqpacket or datagram (ipcserver-socketbinder's `-M`/`-m`, which of the
    /// three `local-*-socket-listen`).
    pub ty: SocketType,
    /// `listen(backlog)`; `None` binds only, never listens (datagram sockets,
    /// ipcserver-socketbinder's `-b 0`).
    pub backlog: Option<i32>,
    /// Permissions of the socket file (`-a`), applied before it is reachable.
    pub mode: Mode,
    /// New owner of the socket file (ipcserver's `-o UID:`, the listeners' `--uid`);
    /// `None` keeps ours. Until it is set, the file is open to its owner only.
    pub uid: Option<Uid>,
    /// New group of the socket file (ipcserver's `-o :GID`, the listeners' `--gid`);
    /// `None` keeps ours.
    pub gid: Option<Gid>,
    /// `-d`: replace a stale socket at PATH. `-D`: any existing PATH is an error.
    pub replace_stale: bool,
    /// Make the socket `O_NONBLOCK` (s6-ipcserver-socketbinder's default, undone by
    /// `-B`), for a server that accepts in a poll loop.
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

/// Create the listening socket of a server at `path`: bound, given its mode and
/// owner, and only then listening, replacing nothing but a stale socket (the two
/// methods are in the module documentation).
///
/// # Errors
/// `open directory`, `create the socket in directory` (the lock file), `lock`, `create
/// directory`, `create socket`, `bind to`, `chmod`, `chown`, `listen on`, `rename into place`, `remove stale socket`;
/// a PATH that is a live socket, not a socket, or (with `-D`) exists at all is refused
/// and left untouched.
pub fn create(path: &SockPath, o: &ListenOpts) -> Result<OwnedFd, Error> {
    create_with(path, o, &mut |_| Ok(()))
}

/// A socket option step run between `bind` and `listen` (see [`create_with`]).
type AfterBind<'a> = dyn FnMut(BorrowedFd<'_>) -> Result<(), Error> + 'a;

/// [`create`], calling `after_bind` on the socket once it is bound and has its mode and
/// owner, but before it listens (and, by the private-directory method, before PATH
/// names it).
///
/// Options such as `SO_PASSCRED` belong there: set before bind, `SO_PASSCRED` autobinds
/// the socket to an abstract name (unix(7)); set after the socket listens, a client
/// could connect and send in between and its first message would arrive without
/// credentials. (A datagram socket receives as soon as it is bound: its mode then
/// keeps everyone but its owner out until the end.)
///
/// # Errors
/// As [`create`], plus whatever `after_bind` returns (the socket is then not created).
pub(crate) fn create_with(
    path: &SockPath,
    o: &ListenOpts,
    after_bind: &mut AfterBind<'_>,
) -> Result<OwnedFd, Error> {
    create_deferred_with(path, o, after_bind).map(|(fd, _)| fd)
}

/// The private bind directory, already removed, whose last reference is still open
/// (private-directory method only).
///
/// Closing it makes the filesystem free the directory's inode, which on ext4 takes
/// 0.3–0.7 ms, more than the rest of the socket creation. A server drops this only after
/// its readiness notification, so that cost is off the start-to-ready path; nothing is
/// visible in the filesystem either way.
#[derive(Debug, Default)]
pub(crate) struct Leftover {
    // Held only to be closed on drop.
    _dir: Option<OwnedFd>,
}

/// [`create`], but the last close of the private directory is left to the caller
/// (drop the [`Leftover`] once ready, and before spawning anything).
///
/// # Errors
/// As [`create`].
pub(crate) fn create_deferred(
    path: &SockPath,
    o: &ListenOpts,
) -> Result<(OwnedFd, Leftover), Error> {
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
    let bad = || {
        Error::Usage(format!(
            "invalid socket path: {}",
            crate::base::text::path(p)
        ))
    };
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
    let dir = match stable_dir(&parent) {
        Some(dir) => {
            if let Some(addr) = direct_address(p, &dir, base)
                && let Some(lock) = Lock::take(&dir, &parent, base)?
            {
                let r = create_direct(&dir, base, p, &addr, o, after_bind);
                lock.release(&dir);
                return r.map(|fd| (fd, Leftover::default()));
            }
            dir
        }
        None => open_dir(&parent)?,
    };
    create_private(&dir, &parent, base, p, o, after_bind)
}

fn open_dir(parent: &Path) -> Result<OwnedFd, Error> {
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    rustix::fs::open(parent, flags, Mode::empty()).op_at("open directory", parent)
}

/// The directory `parent` names, opened, if nobody but us and root can change what its
/// path resolves to, nor rename or remove our entries in it; `None` otherwise (or when
/// it cannot be walked: the caller then opens it by name and reports any error).
///
/// The walk resolves `parent` one component at a time with `O_NOFOLLOW`, as the kernel
/// will when binding, following symbolic links by hand. Each step is safe when the
/// directory it is taken in belongs to us or root and is writable by nobody else, or is
/// sticky and belongs to us or root while the entry does too (nobody else may rename
/// it, unlink(2)). The last directory must belong to us or root and be writable by
/// nobody else or sticky. A relative path starts at the current directory, whose own
/// name does not matter (the kernel starts from the inode), so `..` above it is not
/// trusted.
fn stable_dir(parent: &Path) -> Option<OwnedFd> {
    let me = rustix::process::geteuid().as_raw();
    let trusted = move |st: &Stat| st.st_uid == me || st.st_uid == 0;
    let closed = |st: &Stat| st.st_mode & 0o022 == 0;
    let sticky = |st: &Stat| st.st_mode & 0o1000 != 0;
    let dflags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let open_root = || -> Option<(OwnedFd, Stat)> {
        let fd = rustix::fs::open("/", dflags, Mode::empty()).ok()?;
        let st = rustix::fs::fstat(&fd).ok()?;
        (trusted(&st) && closed(&st)).then_some((fd, st))
    };
    let bytes = parent.as_os_str().as_bytes();
    let mut at_root = bytes.starts_with(b"/");
    let mut stack: Vec<(OwnedFd, Stat)> = Vec::new();
    if at_root {
        stack.push(open_root()?);
    } else {
        let fd = rustix::fs::open(".", dflags, Mode::empty()).ok()?;
        let st = rustix::fs::fstat(&fd).ok()?;
        stack.push((fd, st));
    }
    let mut queue: VecDeque<Vec<u8>> = bytes.split(|&b| b == b'/').map(<[u8]>::to_vec).collect();
    let mut links = 0;
    while let Some(c) = queue.pop_front() {
        match c.as_slice() {
            b"" | b"." => continue,
            b".." => {
                if stack.len() > 1 {
                    stack.pop();
                } else if !at_root {
                    return None;
                }
                continue;
            }
            _ => {}
        }
        let (cur, cur_st) = stack.last()?;
        let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let next = rustix::fs::openat(cur, c.as_slice(), flags, Mode::empty()).ok()?;
        let st = rustix::fs::fstat(&next).ok()?;
        if !(trusted(cur_st) && (closed(cur_st) || (sticky(cur_st) && trusted(&st)))) {
            return None;
        }
        match FileType::from_raw_mode(st.st_mode) {
            FileType::Directory => stack.push((next, st)),
            FileType::Symlink => {
                links += 1;
                if links > MAX_LINKS {
                    return None;
                }
                let target = rustix::fs::readlinkat(cur, c.as_slice(), Vec::new()).ok()?;
                let target = target.as_bytes();
                if target.starts_with(b"/") {
                    stack.clear();
                    stack.push(open_root()?);
                    at_root = true;
                }
                for part in target.split(|&b| b == b'/').rev() {
                    queue.push_front(part.to_vec());
                }
            }
            _ => return None,
        }
    }
    let (dir, st) = stack.pop()?;
    (trusted(&st) && (closed(&st) || sticky(&st))).then_some(dir)
}

/// The address to bind to directly: PATH itself when it fits in `sun_path`, else the
/// basename under the open parent directory, `/proc/self/fd/N/BASENAME`.
fn direct_address(p: &Path, dir: &OwnedFd, base: &OsStr) -> Option<Vec<u8>> {
    let b = p.as_os_str().as_bytes();
    if b.len() <= SUN_PATH_MAX {
        return Some(b.to_vec());
    }
    let mut alias = format!("/proc/self/fd/{}/", dir.as_raw_fd()).into_bytes();
    alias.extend_from_slice(base.as_bytes());
    (alias.len() <= SUN_PATH_MAX).then_some(alias)
}

/// A random name with `prefix`, for a private directory or a stale socket on its way out.
fn random_name(prefix: &str) -> Result<String, Error> {
    let mut rnd = [0u8; 6];
    rustix::rand::getrandom(&mut rnd, rustix::rand::GetRandomFlags::empty())
        .op("get random bytes")?;
    let hex: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{prefix}{hex}"))
}

/// The lock serializing direct starts on one PATH (see the module documentation).
struct Lock {
    fd: OwnedFd,
    name: OsString,
}

impl Lock {
    /// `.ipcs-lock.BASENAME`, or a hash of a basename too long to take a prefix.
    fn name_for(base: &OsStr) -> OsString {
        let b = base.as_bytes();
        if b.len() <= 200 {
            let mut v = b".ipcs-lock.".to_vec();
            v.extend_from_slice(b);
            return OsString::from_vec(v);
        }
        // FNV-1a: stable across our programs and versions, which a lock name must be.
        let h = b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &c| {
            (h ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3)
        });
        OsString::from(format!(".ipcs-lock.#{h:016x}"))
    }

    /// Take the lock for `base` in `dir`, waiting for another start of ours to finish.
    /// `None` when the name holds something that is not our lock file: someone else
    /// made it, so it cannot be trusted, and the caller uses the private-directory
    /// method, which needs no lock.
    fn take(dir: &OwnedFd, parent: &Path, base: &OsStr) -> Result<Option<Lock>, Error> {
        let name = Self::name_for(base);
        let me = rustix::process::geteuid().as_raw();
        let start = Instant::now();
        loop {
            let flags = OFlags::RDWR
                | OFlags::CREATE
                | OFlags::NOFOLLOW
                | OFlags::NONBLOCK
                | OFlags::CLOEXEC;
            let fd = match rustix::fs::openat(dir, name.as_os_str(), flags, Mode::RUSR | Mode::WUSR)
            {
                Ok(fd) => fd,
                Err(e) => {
                    // Something is there that we may not open (a link, a directory,
                    // another user's file under protected_regular): not our lock.
                    if rustix::fs::statat(dir, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW).is_ok()
                    {
                        return Ok(None);
                    }
                    // The lock is ours to hide: what failed, for the user, is making
                    // a file in the directory (EACCES, EROFS, ENOSPC), as bind would.
                    return Err(Error::sys_at("create the socket in directory", parent, e));
                }
            };
            let st = rustix::fs::fstat(&fd).op_at("stat", parent.join(&name))?;
            let ours = FileType::from_raw_mode(st.st_mode) == FileType::RegularFile
                && st.st_uid == me
                && st.st_nlink == 1
                && st.st_mode & 0o077 == 0;
            if !ours {
                return Ok(None);
            }
            match rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {}
                Err(Errno::WOULDBLOCK) | Err(Errno::INTR) if start.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                }
                Err(e) => return Err(Error::sys_at("lock", parent.join(&name), e)),
            }
            // The previous holder removes the name before unlocking: a lock on a file
            // that is no longer there locks nothing, so start again.
            match rustix::fs::statat(dir, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(now) if now.st_dev == st.st_dev && now.st_ino == st.st_ino => {
                    return Ok(Some(Lock { fd, name }));
                }
                _ => continue,
            }
        }
    }

    /// Remove the lock file, then unlock (by closing).
    fn release(self, dir: &OwnedFd) {
        let _ = rustix::fs::unlinkat(dir, self.name.as_os_str(), AtFlags::empty());
        drop(self.fd);
    }
}

/// The direct method: bind PATH itself (see the module documentation). Runs under the
/// lock, in a directory only we and root can change.
fn create_direct(
    dir: &OwnedFd,
    base: &OsStr,
    p: &Path,
    addr: &[u8],
    o: &ListenOpts,
    after_bind: &mut AfterBind<'_>,
) -> Result<OwnedFd, Error> {
    if let Existing::Stale(dev, ino) = check_existing(dir, base, p, o.replace_stale)? {
        remove_stale(dir, base, p, dev, ino)?;
    }
    let fd = socket_for(o)?;
    let owner_changes = o.uid.is_some() || o.gid.is_some();
    let mode = o.mode.bits() & 0o7777;
    // Until its owner is final, only the owner (us) may use the file: a datagram socket
    // receives as soon as it is bound.
    let first = if owner_changes {
        mode & 0o700
    } else {
        mode & 0o777
    };
    // umask is process-wide: fine, we are single-threaded and put it straight back.
    let old = rustix::process::umask(Mode::from_raw_mode(!first & 0o777));
    let bound = sock::bind_short(&fd, Path::new(OsStr::from_bytes(addr)));
    rustix::process::umask(old);
    match bound {
        Ok(()) => {}
        Err(Errno::ADDRINUSE) => {
            return Err(Error::Refusing {
                path: p.into(),
                why: "appeared while starting".into(),
                act: "replace",
            });
        }
        Err(e) => return Err(Error::sys_at("bind to", p, e)),
    }
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let file = rustix::fs::openat(dir, base, flags, Mode::empty()).op_at("open", p)?;
    let st = rustix::fs::fstat(&file).op_at("stat", p)?;
    let r = finish_direct(&fd, &file, &st, dir, base, p, o, first, mode, after_bind);
    if r.is_err() {
        // Remove what we made, and only that.
        if let Ok(now) = rustix::fs::statat(dir, base, AtFlags::SYMLINK_NOFOLLOW)
            && (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino)
        {
            let _ = rustix::fs::unlinkat(dir, base, AtFlags::empty());
        }
    }
    r.map(|()| fd)
}

#[allow(clippy::too_many_arguments)]
fn finish_direct(
    fd: &OwnedFd,
    file: &OwnedFd,
    st: &Stat,
    dir: &OwnedFd,
    base: &OsStr,
    p: &Path,
    o: &ListenOpts,
    first: u32,
    mode: u32,
    after_bind: &mut AfterBind<'_>,
) -> Result<(), Error> {
    let me = rustix::process::geteuid().as_raw();
    if FileType::from_raw_mode(st.st_mode) != FileType::Socket
        || st.st_uid != me
        || st.st_nlink != 1
    {
        return Err(Error::Refusing {
            path: p.into(),
            why: "changed while starting".into(),
            act: "use",
        });
    }
    let owner_changes = o.uid.is_some() || o.gid.is_some();
    let proc_alias = format!("/proc/self/fd/{}", file.as_raw_fd());
    let have_proc =
        rustix::fs::statat(rustix::fs::CWD, proc_alias.as_str(), AtFlags::empty()).is_ok();
    if mode != first && !have_proc {
        // No /proc: chmod by name, while the file is still ours (nobody else can
        // rename it in this directory yet), before any chown.
        rustix::fs::chmodat(dir, base, Mode::from_raw_mode(mode), AtFlags::empty())
            .op_at("chmod", p)?;
    }
    if owner_changes {
        // Through the O_PATH fd: the file we checked, wherever its name goes.
        rustix::fs::chownat(file, "", o.uid, o.gid, AtFlags::EMPTY_PATH).op_at("chown", p)?;
    }
    if mode != first && have_proc {
        // chmod(2) of /proc/self/fd/N reaches the inode the O_PATH fd holds.
        rustix::fs::chmodat(
            rustix::fs::CWD,
            proc_alias.as_str(),
            Mode::from_raw_mode(mode),
            AtFlags::empty(),
        )
        .op_at("chmod", p)?;
    }
    after_bind(fd.as_fd())?;
    // Listen last: until now a connect is refused, whatever the file's mode was.
    if let Some(b) = o.backlog {
        rustix::net::listen(fd, b).op_at("listen on", p)?;
    }
    Ok(())
}

/// Take the stale socket (dev, ino) away from PATH: rename it to a random name, check
/// that it is the one tested, and remove it; anything else is put back and refused.
fn remove_stale(dir: &OwnedFd, base: &OsStr, p: &Path, dev: u64, ino: u64) -> Result<(), Error> {
    let changed = || Error::Refusing {
        path: p.into(),
        why: "changed while starting".into(),
        act: "replace",
    };
    let tmp = random_name(".ipcs-stale-")?;
    match rustix::fs::renameat_with(dir, base, dir, tmp.as_str(), RenameFlags::NOREPLACE) {
        Ok(()) => {}
        Err(Errno::NOENT) => return Err(changed()),
        Err(Errno::INVAL) | Err(Errno::NOSYS) => {
            // No renameat2 on this filesystem: check again, then unlink by name.
            return match rustix::fs::statat(dir, base, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) if st.st_dev == dev && st.st_ino == ino => {
                    rustix::fs::unlinkat(dir, base, AtFlags::empty())
                        .op_at("remove stale socket", p)
                }
                _ => Err(changed()),
            };
        }
        Err(e) => return Err(Error::sys_at("remove stale socket", p, e)),
    }
    match rustix::fs::statat(dir, tmp.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) if st.st_dev == dev && st.st_ino == ino => {
            rustix::fs::unlinkat(dir, tmp.as_str(), AtFlags::empty())
                .op_at("remove stale socket", p)
        }
        _ => {
            let _ = rustix::fs::renameat_with(dir, tmp.as_str(), dir, base, RenameFlags::NOREPLACE);
            Err(changed())
        }
    }
}

/// The private-directory method (see the module documentation).
fn create_private(
    dir: &OwnedFd,
    parent: &Path,
    base: &OsStr,
    p: &Path,
    o: &ListenOpts,
    after_bind: &mut AfterBind<'_>,
) -> Result<(OwnedFd, Leftover), Error> {
    let existing = check_existing(dir, base, p, o.replace_stale)?;
    let (privname, privdir) = make_private_dir(dir, parent)?;
    // The basename inside the private directory, so tools show at least that much;
    // "s" when `/proc/self/fd/N/BASENAME` would not fit in sun_path.
    let fits = format!("/proc/self/fd/{}/", privdir.as_raw_fd()).len() + base.len() <= SUN_PATH_MAX;
    let inner: &OsStr = if fits { base } else { OsStr::new("s") };
    let result = bind_in_private(
        dir, parent, &privname, &privdir, inner, base, p, o, &existing, after_bind,
    );
    if result.is_err() {
        let _ = rustix::fs::unlinkat(&privdir, inner, AtFlags::empty());
    }
    let _ = rustix::fs::unlinkat(dir, privname.as_str(), AtFlags::REMOVEDIR);
    result.map(|fd| {
        (
            fd,
            Leftover {
                _dir: Some(privdir),
            },
        )
    })
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
        return Err(Error::Refusing {
            path: p.into(),
            why: format!("exists and is {kind}"),
            act: "replace",
        });
    }
    if is_live(dir, base, p)? {
        return Err(Error::Refusing {
            path: p.into(),
            why: "is in use by a running server".into(),
            act: "replace",
        });
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
        let name = random_name(".ipcs-")?;
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
                        Ok(_) => Err(Error::Refusing {
                            path: parent.join(&name),
                            why: "changed while starting".into(),
                            act: "use",
                        }),
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
    inner: &OsStr,
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
    let mut alias = format!("/proc/self/fd/{}/", privdir.as_raw_fd()).into_bytes();
    alias.extend_from_slice(inner.as_bytes());
    let short = parent.join(privname).join(inner);
    match sock::bind_short(&fd, Path::new(OsStr::from_bytes(&alias))) {
        Err(Errno::NOENT) if short.as_os_str().len() <= SUN_PATH_MAX => {
            sock::bind_short(&fd, &short)
        }
        r => r,
    }
    .op_at("bind to", p)?;
    // chmod and chown by name inside the private directory: nobody else can put a
    // symlink there, so they land on our socket and nothing else.
    rustix::fs::chmodat(privdir, inner, o.mode, AtFlags::empty()).op_at("chmod", p)?;
    if o.uid.is_some() || o.gid.is_some() {
        rustix::fs::chownat(privdir, inner, o.uid, o.gid, AtFlags::SYMLINK_NOFOLLOW)
            .op_at("chown", p)?;
    }
    after_bind(fd.as_fd())?;
    // Listen before the rename: once PATH is visible it must answer connects, or a
    // concurrent start would take it for stale. The mode is already final.
    if let Some(b) = o.backlog {
        rustix::net::listen(&fd, b).op_at("listen on", p)?;
    }
    rename_into_place(dir, privdir, inner, base, p, existing)?;
    Ok(fd)
}

fn rename_into_place(
    dir: &OwnedFd,
    privdir: &OwnedFd,
    inner: &OsStr,
    base: &OsStr,
    p: &Path,
    existing: &Existing,
) -> Result<(), Error> {
    match *existing {
        Existing::Nothing => {
            match rustix::fs::renameat_with(privdir, inner, dir, base, RenameFlags::NOREPLACE) {
                Ok(()) => Ok(()),
                Err(Errno::EXIST) => Err(Error::Refusing {
                    path: p.into(),
                    why: "appeared while starting".into(),
                    act: "replace",
                }),
                Err(Errno::INVAL) | Err(Errno::NOSYS) => {
                    // No renameat2 on this filesystem: link(2) refuses to replace.
                    rustix::fs::linkat(privdir, inner, dir, base, AtFlags::empty())
                        .op_at("rename into place", p)?;
                    let _ = rustix::fs::unlinkat(privdir, inner, AtFlags::empty());
                    Ok(())
                }
                Err(e) => Err(Error::sys_at("rename into place", p, e)),
            }
        }
        Existing::Stale(dev, ino) => {
            // Swap, then check that what came back is the stale socket we tested: if
            // PATH was replaced meanwhile, swap back and refuse.
            match rustix::fs::renameat_with(privdir, inner, dir, base, RenameFlags::EXCHANGE) {
                Ok(()) => {
                    let same = rustix::fs::statat(privdir, inner, AtFlags::SYMLINK_NOFOLLOW)
                        .map(|st| st.st_dev == dev && st.st_ino == ino)
                        .unwrap_or(false);
                    if same {
                        let _ = rustix::fs::unlinkat(privdir, inner, AtFlags::empty());
                        Ok(())
                    } else {
                        let _ = rustix::fs::renameat_with(
                            privdir,
                            inner,
                            dir,
                            base,
                            RenameFlags::EXCHANGE,
                        );
                        Err(Error::Refusing {
                            path: p.into(),
                            why: "changed while starting".into(),
                            act: "replace",
                        })
                    }
                }
                Err(Errno::INVAL) | Err(Errno::NOSYS) => {
                    rustix::fs::renameat(privdir, inner, dir, base).op_at("rename into place", p)
                }
                Err(e) => Err(Error::sys_at("rename into place", p, e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn lock_names_fit_in_a_name() {
        assert_eq!(
            Lock::name_for(OsStr::new("app.sock")),
            ".ipcs-lock.app.sock"
        );
        let long = "x".repeat(255);
        let name = Lock::name_for(OsStr::new(&long));
        assert!(name.len() <= 255, "{name:?}");
        assert_eq!(name, Lock::name_for(OsStr::new(&long)), "stable");
        assert_ne!(name, Lock::name_for(OsStr::new(&"y".repeat(255))));
    }

    #[test]
    fn direct_address_is_path_or_a_short_alias() -> Result<(), Box<dyn std::error::Error>> {
        let dir = rustix::fs::open("/", OFlags::PATH | OFlags::CLOEXEC, Mode::empty())?;
        let p = Path::new("/run/x.sock");
        assert_eq!(
            direct_address(p, &dir, OsStr::new("x.sock")),
            Some(b"/run/x.sock".to_vec())
        );
        let long = PathBuf::from(format!("/{}/x.sock", "d".repeat(120)));
        let got = direct_address(&long, &dir, OsStr::new("x.sock")).unwrap_or_default();
        assert_eq!(
            got,
            format!("/proc/self/fd/{}/x.sock", dir.as_raw_fd()).into_bytes()
        );
        let base = "b".repeat(100);
        let long = PathBuf::from(format!("/{base}/{base}"));
        assert_eq!(direct_address(&long, &dir, OsStr::new(&base)), None);
        Ok(())
    }

    /// Run as root (the test suite is): /tmp is sticky and root's, a root 0755
    /// directory in it is stable; a 0777 one, or a path through a symlink in it that
    /// another user owns, is not.
    #[test]
    fn stable_directories() -> Result<(), Box<dyn std::error::Error>> {
        if !rustix::process::geteuid().is_root() {
            return Ok(());
        }
        let base = PathBuf::from(format!("/tmp/ipccore-stable-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir(&base)?;
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755))?;
        let open = base.join("open");
        std::fs::create_dir(&open)?;
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777))?;
        let sticky = base.join("sticky");
        std::fs::create_dir(&sticky)?;
        std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o1777))?;
        std::os::unix::fs::symlink(&base, sticky.join("mine"))?;
        let theirs = sticky.join("theirs");
        std::os::unix::fs::symlink(&base, &theirs)?;
        rustix::fs::chownat(
            rustix::fs::CWD,
            &theirs,
            Some(Uid::from_raw(65534)),
            None,
            AtFlags::SYMLINK_NOFOLLOW,
        )?;
        let r = [
            stable_dir(&base).is_some(),
            stable_dir(&base.join("sticky")).is_some(),
            stable_dir(&base.join("sticky/mine")).is_some(),
            stable_dir(&base.join("sticky/mine/open/../sticky")).is_some(),
            stable_dir(&open).is_some(),
            stable_dir(&open.join("..")).is_some(),
            stable_dir(&theirs).is_some(),
        ];
        let _ = std::fs::remove_dir_all(&base);
        assert_eq!(r, [true, true, true, true, false, true, false]);
        Ok(())
    }

    /// Paths in messages go through `diag::path`: control bytes and invalid UTF-8 are
    /// escaped, an ordinary path is printed as it is.
    #[test]
    fn message_paths_are_escaped() -> Result<(), Box<dyn std::error::Error>> {
        let bad = Path::new(OsStr::from_bytes(b"/tmp/a\nfake: line\xff/"));
        let msg = match split(bad) {
            Err(e) => e.to_string(),
            Ok(_) => "accepted".into(),
        };
        assert_eq!(msg, "invalid socket path: /tmp/a\\nfake: line\\xff/");
        let base = PathBuf::from(format!("/tmp/ipccore-msgpath-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir(&base)?;
        let mut r = Vec::new();
        for name in [&b"plain.sock"[..], b"odd\x1b[2J.sock"] {
            let p = base.join(OsStr::from_bytes(name));
            std::fs::write(&p, b"")?;
            let sp = SockPath::parse(p.as_os_str())?;
            r.push(match create(&sp, &ListenOpts::default()) {
                Err(e) => e.to_string().replace(&*base.to_string_lossy(), "D"),
                Ok(_) => "created".into(),
            });
        }
        let _ = std::fs::remove_dir_all(&base);
        assert_eq!(
            r,
            [
                "D/plain.sock exists and is a regular file: refusing to replace it",
                "D/odd\\x1b[2J.sock exists and is a regular file: refusing to replace it",
            ]
        );
        Ok(())
    }
}
