//! Fifodirs, byte-compatible with s6's: making one, subscribing to it, notifying it.
//!
//! A fifodir is a directory (mode 01733, or 03730 when a group owns it) where every
//! listener keeps one named fifo, `ftrig1:@` + 24 hex digits of TAI64N + `:` + 6 random
//! characters. A notifier writes the event bytes to every such fifo. s6-ftrig-notify,
//! s6-ftrig-wait and s6-supervise's `event/` directory are therefore peers of this module.
//!
//! This module does the filesystem and fd work and the event accumulation; matching a
//! regular expression and waiting with a deadline are `npt`'s job. Nothing here prints.

use crate::base::error::{Error, ResultExt};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags};
use rustix::io::Errno;
pub use rustix::process::Gid;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Every listener fifo's name starts with this (s6's `FTRIG1_PREFIX`).
const PREFIX: &[u8] = b"ftrig1:@";
/// Length of a listener fifo's name: prefix, 24 hex digits, `:`, 6 random characters.
const NAME_LEN: usize = PREFIX.len() + 24 + 1 + 6;
/// Mode of a fifodir without a group (`drwx-wx-wt`): anyone may add a fifo, only the
/// owner may list (and so notify).
const MODE_PUBLIC: u32 = 0o1733;
/// Mode of a fifodir restricted to a group (`drwx-ws--T`).
const MODE_GROUP: u32 = 0o3730;
/// Mode of a listener fifo: s6 ≥ 2.13 makes it writable by everyone, so a notifier
/// running as another user (s6-supervise as root, a service as its own user) reaches it.
const FIFO_MODE: u32 = 0o622;
/// Random characters of a fifo name, as skalibs' `random_name` draws them.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// 2^62 + TAI−UTC (10 s in 1970, plus the 27 leap seconds since): skalibs' TAI64 label
/// of the system clock, so our names sort with s6's.
const TAI_OFFSET: u64 = (1 << 62) + 10 + 27;

/// `mkdir(dir, 0700)`, then `fchown(fd, -1, gid)`, `fchmod(fd, 01733 | 03730)` on the
/// directory opened `O_NOFOLLOW`—make a fifodir as s6-mkfifodir does, without its
/// link-following.
///
/// An existing directory owned by the caller is left as it is, unless `force`, which
/// applies the group and mode again. mkdir's mode is tightened by the umask, fchmod's is
/// not, so the result never depends on the umask and the directory is never more open
/// than 0700 before it gets its final mode.
///
/// The parent may be writable by others (`/tmp`, a shared directory): the new (or
/// forced) directory is opened `O_DIRECTORY|O_NOFOLLOW` and checked with `fstat` (a
/// directory, owned by us, and, when just made, empty) before the group and mode change
/// through that fd, so a symlink or another directory renamed over the name in the
/// meantime is refused, never chmodded. With `force`, a symlink at `dir` is refused
/// (ELOOP). Without `force`, an existing path is only looked at (`stat` follows links,
/// as s6 does) and nothing is changed.
///
/// # Errors
/// `create fifodir at`, `stat`, `open`, `change group of`, `change mode of`, with the
/// path. An existing path owned by someone else fails with EACCES, a non-directory with
/// ENOTDIR (s6's `ftrigw_fifodir_make`), a symlink with `force` with ELOOP.
///
/// # References
/// - [mkdir](https://man7.org/linux/man-pages/man2/mkdir.2.html)
/// - [open](https://man7.org/linux/man-pages/man2/open.2.html)
/// - [fchown](https://man7.org/linux/man-pages/man2/fchown.2.html)
/// - [fchmod](https://man7.org/linux/man-pages/man2/fchmod.2.html)
pub fn make(dir: &Path, gid: Option<Gid>, force: bool) -> Result<(), Error> {
    let fresh = match rustix::fs::mkdirat(CWD, dir, Mode::from_raw_mode(0o700)) {
        Ok(()) => true,
        Err(Errno::EXIST) => {
            if !force {
                let st = rustix::fs::stat(dir).op_at("stat", dir)?;
                check_dir(&st, dir, false)?;
                return Ok(());
            }
            false
        }
        Err(e) => return Err(Error::sys_at("create fifodir at", dir, e)),
    };
    let fd = rustix::fs::openat(
        CWD,
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        // O_DIRECTORY|O_NOFOLLOW on a symlink says ENOTDIR; call it what it is.
        Errno::NOTDIR if is_symlink(dir) => Error::sys_at("create fifodir at", dir, Errno::LOOP),
        // Something else already there (with -f): s6-mkfifodir's wording.
        Errno::NOTDIR => Error::sys_at("create fifodir at", dir, Errno::NOTDIR),
        e => Error::sys_at("open", dir, e),
    })?;
    let st = rustix::fs::fstat(&fd).op_at("stat", dir)?;
    check_dir(&st, dir, fresh)?;
    if let Some(g) = gid {
        rustix::fs::fchown(&fd, None, Some(g)).op_at("change group of", dir)?;
    }
    let mode = if gid.is_some() {
        MODE_GROUP
    } else {
        MODE_PUBLIC
    };
    rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode)).op_at("change mode of", dir)
}

fn is_symlink(p: &Path) -> bool {
    rustix::fs::lstat(p).is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink)
}

/// What `make` requires of the directory it is about to change: a directory of ours,
/// and, when we just made it, one that looks just made: no subdirectory (some
/// filesystems count 1 link for any directory, so only more than 2 is refused) and no
/// permission beyond mkdir's 0700.
fn check_dir(st: &rustix::fs::Stat, dir: &Path, fresh: bool) -> Result<(), Error> {
    if st.st_uid != rustix::process::geteuid().as_raw() {
        return Err(Error::sys_at("create fifodir at", dir, Errno::ACCESS));
    }
    if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
        return Err(Error::sys_at("create fifodir at", dir, Errno::NOTDIR));
    }
    if fresh && (st.st_nlink > 2 || st.st_mode & 0o7077 != 0) {
        return Err(Error::sys_at("create fifodir at", dir, Errno::EXIST));
    }
    Ok(())
}

/// Whether `name` is a listener fifo's name (what s6-ftrig-notify looks at).
pub(crate) fn is_listener_name(name: &[u8]) -> bool {
    name.len() == NAME_LEN && name.starts_with(PREFIX)
}

/// A fresh listener name: `ftrig1:@` + TAI64N of now + `:` + 6 random characters.
fn listener_name() -> Result<Vec<u8>, Error> {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Realtime);
    let secs = u64::try_from(now.tv_sec)
        .unwrap_or(0)
        .wrapping_add(TAI_OFFSET);
    let nanos = u32::try_from(now.tv_nsec).unwrap_or(0);
    let mut raw = [0u8; 6];
    let mut got = 0;
    while got < raw.len() {
        let rest = raw.get_mut(got..).unwrap_or_default();
        match rustix::rand::getrandom(rest, rustix::rand::GetRandomFlags::empty()) {
            Ok(n) => got += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(Error::sys("get random bytes", e)),
        }
    }
    let mut name = PREFIX.to_vec();
    name.extend_from_slice(format!("{secs:016x}{nanos:08x}:").as_bytes());
    name.extend(
        raw.iter()
            .map(|b| ALPHABET.get(usize::from(b & 63)).copied().unwrap_or(b'_')),
    );
    Ok(name)
}

/// One subscription to a fifodir: our fifo in it, open for reading and for writing.
///
/// Dropping it closes both ends and removes the fifo, whatever path led there.
#[derive(Debug)]
pub struct Listener {
    dir: OwnedFd,
    dir_path: PathBuf,
    name: Vec<u8>,
    /// Device and inode of our fifo: a name is removed only while it still is ours.
    id: (u64, u64),
    reader: OwnedFd,
    /// Never written to: while it is open, the fifo always has a writer, so a notifier
    /// closing its end gives no EOF, and a read with nothing pending says EAGAIN.
    _writer: OwnedFd,
}

impl Listener {
    /// Subscribe to `dir` as s6's listeners do: `mkfifo .ftrig1:@…` with mode 0622
    /// (umask 0 around the call, as s6's `ftrig1_make`), open it for reading
    /// (non-blocking) and for writing, and only then rename it to `ftrig1:@…`. A notifier
    /// never sees a fifo that has no reader yet, so it never deletes a listener that is
    /// still starting.
    ///
    /// The directory belongs to someone else as often as not (a user's fifodir, watched
    /// by root), and its owner can rename anything over our temporary name between
    /// mkfifo and open. So both opens are `O_NOFOLLOW`, and what they opened must be
    /// the fifo we made: `fstat` says a fifo, owned by our euid, with one link, and the
    /// reader and writer are the same inode. Anything else fails (`EPERM`) before a byte
    /// is read; nothing is ever chmodded. After the rename, the new name must still be
    /// our inode, or the subscription fails too.
    ///
    /// The directory is opened `O_PATH`: a fifodir (01733) is not readable by listeners
    /// other than its owner, only searchable and writable.
    ///
    /// # Errors
    /// `subscribe to` (opening the directory), `create fifo in`, `open fifo in`, `check
    /// fifo in` (what was opened is not our fifo), `rename fifo in`, with the directory.
    /// A path that is not a directory fails with ENOTDIR.
    ///
    /// # References
    /// - [mkfifoat](https://man7.org/linux/man-pages/man3/mkfifoat.3.html)
    /// - [umask](https://man7.org/linux/man-pages/man2/umask.2.html)
    /// - [fstat](https://man7.org/linux/man-pages/man2/fstat.2.html)
    /// - [renameat](https://man7.org/linux/man-pages/man2/renameat.2.html)
    #[doc(alias = "ftrig1_make")]
    pub fn subscribe(dir_path: &Path) -> Result<Listener, Error> {
        let dir = rustix::fs::open(
            dir_path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .op_at("subscribe to", dir_path)?;
        let name = listener_name()?;
        let mut tmp = b".".to_vec();
        tmp.extend_from_slice(&name);
        let tmp = OsString::from_vec(tmp);
        // The final mode at creation, never a chmod afterwards: a chmod would land on
        // whatever the name points to by then. umask is process-wide, and every caller
        // is single-threaded here.
        let old = rustix::process::umask(Mode::empty());
        let made = rustix::fs::mkfifoat(&dir, tmp.as_os_str(), Mode::from_raw_mode(FIFO_MODE));
        rustix::process::umask(old);
        made.op_at("create fifo in", dir_path)?;
        let (reader, writer, id) = match open_both(&dir, &tmp, dir_path) {
            Ok(v) => v,
            Err((e, id)) => {
                if let Some(id) = id {
                    unlink_if(&dir, &tmp, id);
                }
                return Err(e);
            }
        };
        let renamed = rustix::fs::renameat(
            &dir,
            tmp.as_os_str(),
            &dir,
            OsString::from_vec(name.clone()),
        )
        .op_at("rename fifo in", dir_path)
        .and_then(|()| match file_id_at(&dir, OsStr::from_bytes(&name)) {
            Some(got) if got == id => Ok(()),
            _ => Err(Error::sys_at("check fifo in", dir_path, Errno::PERM)),
        });
        if let Err(e) = renamed {
            unlink_if(&dir, &tmp, id);
            return Err(e);
        }
        Ok(Listener {
            dir,
            dir_path: dir_path.to_path_buf(),
            name,
            id,
            reader,
            _writer: writer,
        })
    }

    /// The read end, for poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.reader.as_fd()
    }

    /// Full path of our fifo.
    pub fn path(&self) -> PathBuf {
        self.dir_path
            .join(std::ffi::OsStr::from_bytes(self.name.as_slice()))
    }

    /// Read whatever events are pending and append them to `buf`. Returns the number
    /// of bytes added; 0 means nothing was pending (the read end is non-blocking).
    ///
    /// # Errors
    /// `read fifo in`, with the directory.
    pub(crate) fn read_into(&self, buf: &mut Vec<u8>) -> Result<usize, Error> {
        let mut chunk = [0u8; 4096];
        let mut total = 0;
        loop {
            match crate::sys::fd::read(&self.reader, &mut chunk) {
                Ok(0) => return Ok(total),
                Ok(n) => {
                    buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
                    total += n;
                    if n < chunk.len() {
                        return Ok(total);
                    }
                }
                Err(Errno::AGAIN) => return Ok(total),
                Err(e) => return Err(Error::sys_at("read fifo in", &self.dir_path, e)),
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let name = OsStr::from_bytes(self.name.as_slice());
        unlink_if(&self.dir, name, self.id);
    }
}

/// Device and inode of a stat result.
fn file_id(st: &rustix::fs::Stat) -> (u64, u64) {
    (st.st_dev, st.st_ino)
}

/// Device and inode of `name` in `dir`, the name itself (a symlink is not followed).
fn file_id_at(dir: &OwnedFd, name: &OsStr) -> Option<(u64, u64)> {
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .ok()
        .map(|st| file_id(&st))
}

/// Remove `name` from `dir` if it is still the file `id`. Between the check and the
/// unlink the directory's owner could swap the name again; unlink never follows a link,
/// so the worst case is removing an entry of that owner's own directory.
fn unlink_if(dir: &OwnedFd, name: &OsStr, id: (u64, u64)) {
    if file_id_at(dir, name) == Some(id) {
        let _ = rustix::fs::unlinkat(dir, name, AtFlags::empty());
    }
}

/// Whether an opened file is the fifo we just made: a fifo, ours, with one name.
fn is_our_fifo(st: &rustix::fs::Stat) -> bool {
    FileType::from_raw_mode(st.st_mode) == FileType::Fifo
        && st.st_uid == rustix::process::geteuid().as_raw()
        && st.st_nlink == 1
}

/// Open our temporary fifo for reading, then for writing, both `O_NOFOLLOW`, and check
/// that both are the fifo we made. On failure, the error and, when the reader was
/// verified, its identity (so the caller may remove the name if it still points there).
#[allow(clippy::type_complexity)]
fn open_both(
    dir: &OwnedFd,
    name: &OsStr,
    dir_path: &Path,
) -> Result<(OwnedFd, OwnedFd, (u64, u64)), (Error, Option<(u64, u64)>)> {
    let flags = OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::NOCTTY | OFlags::CLOEXEC;
    let foreign = || Error::sys_at("check fifo in", dir_path, Errno::PERM);
    // The reader first: opening a fifo for writing without a reader fails with ENXIO.
    let r = rustix::fs::openat(dir, name, OFlags::RDONLY | flags, Mode::empty())
        .op_at("open fifo in", dir_path)
        .map_err(|e| (e, None))?;
    let st = rustix::fs::fstat(&r)
        .op_at("check fifo in", dir_path)
        .map_err(|e| (e, None))?;
    if !is_our_fifo(&st) {
        return Err((foreign(), None));
    }
    let id = file_id(&st);
    let w = rustix::fs::openat(dir, name, OFlags::WRONLY | flags, Mode::empty())
        .op_at("open fifo in", dir_path)
        .map_err(|e| (e, Some(id)))?;
    match rustix::fs::fstat(&w) {
        Ok(st) if is_our_fifo(&st) && file_id(&st) == id => Ok((r, w, id)),
        Ok(_) => Err((foreign(), Some(id))),
        Err(e) => Err((Error::sys_at("check fifo in", dir_path, e), Some(id))),
    }
}

/// Write `event` to every listener of fifodir `dir`, as s6-ftrig-notify does: one
/// non-blocking write per listener fifo; a fifo with no reader left (ENXIO at open,
/// EPIPE at write) belongs to a dead listener and is removed. Returns how many
/// listeners got the event.
///
/// Anyone who may add a fifo to the directory may add anything else under a listener's
/// name, a symlink to a file of ours above all. So only fifos are written: each entry is
/// looked at without following links and skipped unless it is a fifo, opened
/// `O_NOFOLLOW|O_NOCTTY`, and written only if `fstat` says it is that same fifo. Other
/// entries are left alone (s6 writes through them). A dead fifo is removed only while
/// the name is still that fifo.
///
/// The caller must ignore SIGPIPE (every Rust program does by default), or a fifo whose
/// reader just left kills it instead of returning EPIPE.
///
/// # Errors
/// `notify`, with the path, when the directory cannot be opened or listed (s6-ftrig-notify's wording). Failures on single fifos are not
/// errors: a listener that cannot take the event (EAGAIN, a full fifo) loses it rather
/// than block the notifier.
///
/// # References
/// - [fifo](https://man7.org/linux/man-pages/man7/fifo.7.html)
/// - [open](https://man7.org/linux/man-pages/man2/open.2.html)
/// - [fstatat](https://man7.org/linux/man-pages/man2/fstatat.2.html)
#[doc(alias = "ftrigw_notifyb_nosig")]
pub fn notify(dir: &Path, event: &[u8]) -> Result<usize, Error> {
    let dfd = rustix::fs::openat(
        CWD,
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .op_at("notify", dir)?;
    let mut entries = rustix::fs::Dir::read_from(&dfd).op_at("notify", dir)?;
    let mut names = Vec::new();
    while let Some(e) = entries.read() {
        let e = e.op_at("notify", dir)?;
        let n = e.file_name().to_bytes();
        if is_listener_name(n) {
            names.push(OsString::from_vec(n.to_vec()));
        }
    }
    let mut sent = 0;
    for name in &names {
        let Ok(st) = rustix::fs::statat(&dfd, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        if FileType::from_raw_mode(st.st_mode) != FileType::Fifo {
            continue;
        }
        let id = file_id(&st);
        let fd = match rustix::fs::openat(
            &dfd,
            name.as_os_str(),
            OFlags::WRONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::NXIO) => {
                unlink_if(&dfd, name.as_os_str(), id);
                continue;
            }
            Err(_) => continue,
        };
        // Swapped between the look and the open: not what we looked at, not written.
        match rustix::fs::fstat(&fd) {
            Ok(st)
                if FileType::from_raw_mode(st.st_mode) == FileType::Fifo && file_id(&st) == id => {}
            _ => continue,
        }
        // One write, never retried: a bad reader must not block or slow the notifier
        // (s6's comment on EAGAIN in ftrigw_notifyb_nosig.c).
        match rustix::io::write(&fd, event) {
            Ok(_) => sent += 1,
            Err(Errno::PIPE) => unlink_if(&dfd, name.as_os_str(), id),
            Err(_) => {}
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_look_like_s6() -> Result<(), Box<dyn std::error::Error>> {
        let n = listener_name()?;
        assert_eq!(n.len(), 39);
        assert!(is_listener_name(&n));
        assert_eq!(n.get(8), Some(&b'4'));
        assert_eq!(n.get(32), Some(&b':'));
        assert!(n[9..32].iter().all(u8::is_ascii_hexdigit));
        assert!(n[33..].iter().all(|c| ALPHABET.contains(c)));
        assert!(!is_listener_name(
            b".ftrig1:@400000006b02655f38659883:2CEXU-"
        ));
        assert!(is_listener_name(b"ftrig1:@400000006b02655f38659883:2CEXU-"));
        Ok(())
    }
}
