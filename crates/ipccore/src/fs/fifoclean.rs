//! Cleaning a fifodir (s6-cleanfifodir's job): remove the listener fifos nobody reads
//! any more, left by listeners that were killed.
//!
//! The directory may be hostile: anyone can add entries to a public fifodir (mode
//! 01733). So every entry is judged through the directory fd and never through a link:
//! `fstatat(AT_SYMLINK_NOFOLLOW)` must say fifo; `openat(O_WRONLY|O_NONBLOCK|O_NOFOLLOW)`
//! must fail with `ENXIO` (no reader: a live listener always has one, so its fifo
//! opens); and a second `fstatat` must find the same fifo (device and inode) before
//! `unlinkat` removes that name. ENXIO alone is not proof (a socket gives it too), and a
//! symlink named like a fifo is never opened or removed. Only names of the listener form
//! (`fifodir::is_listener_name`) are looked at: a listener's `.ftrig1…` fifo that is not
//! yet renamed (so not yet opened) is left alone.

use crate::base::error::{Error, ResultExt};
use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags};
use rustix::io::Errno;
use std::ffi::CStr;
use std::path::Path;

/// `(dev, ino)` of `name` in `dir` if it is a fifo (never following a link).
fn fifo_id(dir: BorrowedFd<'_>, name: &CStr) -> Option<(u64, u64)> {
    let st = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).ok()?;
    (FileType::from_raw_mode(st.st_mode) == FileType::Fifo).then_some((st.st_dev, st.st_ino))
}

/// Whether the fifo `name` has no reader: opening it for writing without blocking fails
/// with ENXIO. An fd that does open is closed at once.
fn has_no_reader(dir: BorrowedFd<'_>, name: &CStr) -> bool {
    match rustix::fs::openat(
        dir,
        name,
        OFlags::WRONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => {
            drop(fd);
            false
        }
        Err(e) => e == Errno::NXIO,
    }
}

/// Remove the stale listener fifos of `dir`; returns how many were removed.
///
/// Entries that cannot be checked or removed (permission, a race with their owner) are
/// skipped, as s6-cleanfifodir does.
///
/// # Errors
/// `clean up fifodir at DIR` when the directory cannot be opened or listed (s6's
/// wording).
///
/// # References
/// - [openat](https://man7.org/linux/man-pages/man2/openat.2.html) (`ENXIO`, `O_NOFOLLOW`)
/// - [fstatat](https://man7.org/linux/man-pages/man2/fstatat.2.html)
/// - [unlinkat](https://man7.org/linux/man-pages/man2/unlinkat.2.html)
#[doc(alias = "s6-cleanfifodir")]
pub fn clean(dir: &Path) -> Result<usize, Error> {
    // The path given is followed (as s6's opendir does): it is the caller's choice.
    // Entries inside it never are.
    let fd = rustix::fs::openat(
        CWD,
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .op_at("clean up fifodir at", dir)?;
    let list = rustix::fs::Dir::read_from(&fd).op_at("clean up fifodir at", dir)?;
    let mut removed = 0;
    for entry in list {
        let entry = entry.op_at("clean up fifodir at", dir)?;
        let name = entry.file_name();
        if !crate::fs::fifodir::is_listener_name(name.to_bytes()) {
            continue;
        }
        let Some(id) = fifo_id(fd.as_fd(), name) else {
            continue;
        };
        if !has_no_reader(fd.as_fd(), name) {
            continue;
        }
        // Still the very fifo we checked? (A swap in between would be another inode.)
        if fifo_id(fd.as_fd(), name) != Some(id) {
            continue;
        }
        if rustix::fs::unlinkat(fd.as_fd(), name, AtFlags::empty()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}
