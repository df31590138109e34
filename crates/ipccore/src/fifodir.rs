//! Fifodirs, byte-compatible with s6's: making one, subscribing to it, notifying it.
//!
//! A fifodir is a directory (mode 01733, or 03730 when a group owns it) where every
//! listener keeps one named fifo, `ftrig1:@` + 24 hex digits of TAI64N + `:` + 6 random
//! characters. A notifier writes the event bytes to every such fifo. s6-ftrig-notify,
//! s6-ftrig-wait and s6-supervise's `event/` directory are therefore peers of this module.
//!
//! This module does the filesystem and fd work and the event accumulation; matching a
//! regular expression and waiting with a deadline are `npt`'s job. Nothing here prints.

use crate::error::{Error, ResultExt};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags};
use rustix::io::Errno;
pub use rustix::process::Gid;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Every listener fifo's name starts with this (s6's `FTRIG1_PREFIX`).
pub const PREFIX: &[u8] = b"ftrig1:@";
/// Length of a listener fifo's name: prefix, 24 hex digits, `:`, 6 random characters.
pub const NAME_LEN: usize = PREFIX.len() + 24 + 1 + 6;
/// Mode of a fifodir without a group (`drwx-wx-wt`): anyone may add a fifo, only the
/// owner may list (and so notify).
pub const MODE_PUBLIC: u32 = 0o1733;
/// Mode of a fifodir restricted to a group (`drwx-ws--T`).
pub const MODE_GROUP: u32 = 0o3730;
/// Mode of a listener fifo: s6 ≥ 2.13 makes it writable by everyone, so a notifier
/// running as another user (s6-supervise as root, a service as its own user) reaches it.
pub const FIFO_MODE: u32 = 0o622;
/// Random characters of a fifo name, as skalibs' `random_name` draws them.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// 2^62 + TAI−UTC (10 s in 1970, plus the 27 leap seconds since): skalibs' TAI64 label
/// of the system clock, so our names sort with s6's.
const TAI_OFFSET: u64 = (1 << 62) + 10 + 27;

/// `mkdir(dir, 0700)`, `chown(dir, -1, gid)`, `chmod(dir, 01733 | 03730)`—make a
/// fifodir as s6-mkfifodir does.
///
/// An existing directory owned by the caller is left as it is, unless `force`, which
/// applies the group and mode again. mkdir's mode is tightened by the umask, chmod's is
/// not, so the result never depends on the umask and the directory is never more open
/// than 0700 before it gets its final mode.
///
/// # Errors
/// `create fifodir at`, `stat`, `change group of`, `change mode of`, with the path. An
/// existing path owned by someone else fails with EACCES, a non-directory with ENOTDIR
/// (s6's `ftrigw_fifodir_make`).
///
/// # References
/// - [mkdir](https://man7.org/linux/man-pages/man2/mkdir.2.html)
/// - [chown](https://man7.org/linux/man-pages/man2/chown.2.html)
/// - [chmod](https://man7.org/linux/man-pages/man2/chmod.2.html)
pub fn make(dir: &Path, gid: Option<Gid>, force: bool) -> Result<(), Error> {
    match rustix::fs::mkdir(dir, Mode::from_raw_mode(0o700)) {
        Ok(()) => {}
        Err(Errno::EXIST) => {
            let st = rustix::fs::stat(dir).op_at("stat", dir)?;
            if st.st_uid != rustix::process::getuid().as_raw() {
                return Err(Error::sys_at("create fifodir at", dir, Errno::ACCESS));
            }
            if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
                return Err(Error::sys_at("create fifodir at", dir, Errno::NOTDIR));
            }
            if !force {
                return Ok(());
            }
        }
        Err(e) => return Err(Error::sys_at("create fifodir at", dir, e)),
    }
    if let Some(g) = gid {
        rustix::fs::chown(dir, None, Some(g)).op_at("change group of", dir)?;
    }
    let mode = if gid.is_some() {
        MODE_GROUP
    } else {
        MODE_PUBLIC
    };
    rustix::fs::chmod(dir, Mode::from_raw_mode(mode)).op_at("change mode of", dir)
}

/// Whether `name` is a listener fifo's name (what s6-ftrig-notify looks at).
pub fn is_listener_name(name: &[u8]) -> bool {
    name.len() == NAME_LEN && name.starts_with(PREFIX)
}

/// A fresh listener name: `ftrig1:@` + TAI64N of now + `:` + 6 random characters.
pub fn listener_name() -> Result<Vec<u8>, Error> {
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
    reader: OwnedFd,
    /// Never written to: while it is open, the fifo always has a writer, so a notifier
    /// closing its end gives no EOF, and a read with nothing pending says EAGAIN.
    _writer: OwnedFd,
}

impl Listener {
    /// Subscribe to `dir` as s6's listeners do: `mkfifo .ftrig1:@…`, open it for
    /// reading (non-blocking) and for writing, set mode 0622, and only then rename it to
    /// `ftrig1:@…`. A notifier never sees a fifo that has no reader yet, so it never
    /// deletes a listener that is still starting.
    ///
    /// The directory is opened `O_PATH`: a fifodir (01733) is not readable by listeners
    /// other than its owner, only searchable and writable.
    ///
    /// # Errors
    /// `subscribe to` (opening the directory), `create fifo in`, `open fifo in`, `change mode of fifo in`,
    /// `rename fifo in`, with the directory. A path that is not a directory fails with
    /// ENOTDIR.
    ///
    /// # References
    /// - [mkfifoat](https://man7.org/linux/man-pages/man3/mkfifoat.3.html)
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
        rustix::fs::mkfifoat(&dir, tmp.as_os_str(), Mode::from_raw_mode(0o600))
            .op_at("create fifo in", dir_path)?;
        let opened = open_both(&dir, &tmp, dir_path).and_then(|(r, w)| {
            // fchmod, not mkfifo's mode: the umask would cut 0622 down to 0600.
            rustix::fs::fchmod(&r, Mode::from_raw_mode(FIFO_MODE))
                .op_at("change mode of fifo in", dir_path)?;
            rustix::fs::renameat(
                &dir,
                tmp.as_os_str(),
                &dir,
                OsString::from_vec(name.clone()),
            )
            .op_at("rename fifo in", dir_path)?;
            Ok((r, w))
        });
        match opened {
            Ok((reader, writer)) => Ok(Listener {
                dir,
                dir_path: dir_path.to_path_buf(),
                name,
                reader,
                _writer: writer,
            }),
            Err(e) => {
                let _ = rustix::fs::unlinkat(&dir, tmp.as_os_str(), AtFlags::empty());
                Err(e)
            }
        }
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
    pub fn read_into(&self, buf: &mut Vec<u8>) -> Result<usize, Error> {
        let mut chunk = [0u8; 4096];
        let mut total = 0;
        loop {
            match rustix::io::read(&self.reader, &mut chunk) {
                Ok(0) => return Ok(total),
                Ok(n) => {
                    buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
                    total += n;
                    if n < chunk.len() {
                        return Ok(total);
                    }
                }
                Err(Errno::AGAIN) => return Ok(total),
                Err(Errno::INTR) => {}
                Err(e) => return Err(Error::sys_at("read fifo in", &self.dir_path, e)),
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let name = std::ffi::OsStr::from_bytes(self.name.as_slice());
        let _ = rustix::fs::unlinkat(&self.dir, name, AtFlags::empty());
    }
}

fn open_both(dir: &OwnedFd, name: &OsString, dir_path: &Path) -> Result<(OwnedFd, OwnedFd), Error> {
    // The reader first: opening a fifo for writing without a reader fails with ENXIO.
    let r = rustix::fs::openat(
        dir,
        name.as_os_str(),
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .op_at("open fifo in", dir_path)?;
    let w = rustix::fs::openat(
        dir,
        name.as_os_str(),
        OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .op_at("open fifo in", dir_path)?;
    Ok((r, w))
}

/// Write `event` to every listener of fifodir `dir`, as s6-ftrig-notify does: one
/// non-blocking write per listener fifo; a fifo with no reader left (ENXIO at open,
/// EPIPE at write) belongs to a dead listener and is removed. Returns how many
/// listeners got the event.
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
        let fd = match rustix::fs::openat(
            &dfd,
            name.as_os_str(),
            OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::NXIO) => {
                let _ = rustix::fs::unlinkat(&dfd, name.as_os_str(), AtFlags::empty());
                continue;
            }
            Err(_) => continue,
        };
        // One write, never retried: a bad reader must not block or slow the notifier
        // (s6's comment on EAGAIN in ftrigw_notifyb_nosig.c).
        match rustix::io::write(&fd, event) {
            Ok(_) => sent += 1,
            Err(Errno::PIPE) => {
                let _ = rustix::fs::unlinkat(&dfd, name.as_os_str(), AtFlags::empty());
            }
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
