//! Decompiling a rules cdb into a rules directory (s6-accessrules-fs-from-cdb's job),
//! the tree s6 makes, atomically.
//!
//! For each record `KEY`: directories `DIR/KEY` (mode 02755, umask ignored, as s6), a
//! file `allow` or `deny` by the value's first byte, `env/NAME` files (`value` + newline
//! to set, empty to unset) and an `exec` file, files created with mode 0666 less the
//! umask, as s6's `open_trunc`. The value checks are s6's (the record is refused, and
//! the whole run, when its lengths do not add up or its env part is not NUL-terminated).
//!
//! Unlike s6, which builds `DIR` in place and removes it on failure (not when killed),
//! the tree is built in a fresh directory and renamed to `DIR` with `RENAME_NOREPLACE`
//! only once complete: `DIR` never exists half-made, and an existing `DIR` (even one
//! made in between) is never replaced.
//!
//! `DIR`'s parent may be writable by others (the review's F5: a user renamed the
//! temporary directory away and put their own under its name, which then became
//! `DIR`). So the temporary directory `.NAME.ipcrules-fs.XXXXXX` is made mode 0700,
//! opened `O_NOFOLLOW` and checked by `fstat` (a directory, ours, 0700, no entry yet);
//! the tree is built in `tree` inside it, which nobody else can reach, through
//! directory fds (`mkdirat`, `openat` with `O_NOFOLLOW`, files `O_EXCL`), checked again
//! once filled, given its final mode by `fchmod`, and renamed from there to `DIR`;
//! then `DIR` must be the inode we filled. A swap anywhere fails the run (111), and
//! the tree is removed through its fd. Keys are relative paths
//! made of plain components: a key with an empty, `.` or `..` component (which s6 would
//! follow out of `DIR`) makes the cdb invalid. Reading the cdb is `rulescdb`'s job.

use crate::base::error::{Error, ResultExt};
use crate::sys::diag::Diag;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, CWD, Mode, OFlags, RenameFlags};
use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Mode of every directory of the tree (s6's `S_IRWXU|S_IRGRP|S_IXGRP|S_IROTH|S_IXOTH|
/// S_ISGID`, made with umask 0).
const DIR_MODE: u32 = 0o2755;
/// Mode of every file before the umask (`open_trunc`).
const FILE_MODE: u32 = 0o666;
/// Longest value s6's decompiler accepts.
const MAX_DATA: usize = 8201;

/// Why the run failed, for the program's message.
fn invalid(cdb: &Path) -> Error {
    Error::InvalidCdb {
        op: "handle cdb record",
        why: format!(
            "{} does not contain valid accessrules data",
            crate::base::text::path(cdb)
        ),
    }
}

/// `mkdirat(dir, name, 02755)` with umask 0 (an existing directory is fine), then
/// open it `O_NOFOLLOW` and check it is a directory of ours. The set-group-ID bit and
/// the group come from the parent, as with s6's `mkdir`.
fn mkdir_in(dir: BorrowedFd<'_>, name: &[u8]) -> Result<OwnedFd, Errno> {
    let old = rustix::process::umask(Mode::empty());
    let r = rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(DIR_MODE));
    rustix::process::umask(old);
    match r {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e),
    }
    let fd = open_dir(dir, name)?;
    let st = rustix::fs::fstat(&fd)?;
    if !is_dir(&st) || st.st_uid != rustix::process::geteuid().as_raw() {
        return Err(Errno::PERM);
    }
    Ok(fd)
}

fn open_dir(dir: BorrowedFd<'_>, name: impl rustix::path::Arg) -> Result<OwnedFd, Errno> {
    rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

fn is_dir(st: &rustix::fs::Stat) -> bool {
    rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory
}

/// Create `name` in `dir` (it must not exist) and write `parts` to it.
fn write_in(dir: BorrowedFd<'_>, name: &[u8], parts: &[&[u8]]) -> Result<(), Errno> {
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(FILE_MODE),
    )?;
    for p in parts {
        crate::sys::fd::write_all(fd.as_fd(), p)?;
    }
    Ok(())
}

/// Whether `key` is a relative path of plain components.
fn key_ok(key: &[u8]) -> bool {
    !key.is_empty()
        && key
            .split(|&c| c == b'/')
            .all(|c| !c.is_empty() && c != b"." && c != b".." && !c.contains(&0))
}

/// What went wrong with one record: bad data, or a system call on a path (relative to
/// the tree).
enum RecordError {
    Invalid,
    Sys(&'static str, Vec<u8>, Errno),
}

/// Write one record's part of the tree under `root`.
fn record(root: BorrowedFd<'_>, key: &[u8], data: &[u8]) -> Result<(), RecordError> {
    use RecordError::{Invalid, Sys};
    if data.is_empty() || data.len() > MAX_DATA || !key_ok(key) {
        return Err(Invalid);
    }
    let mut dir: Option<OwnedFd> = None;
    let mut sofar = Vec::new();
    for comp in key.split(|&c| c == b'/') {
        if !sofar.is_empty() {
            sofar.push(b'/');
        }
        sofar.extend_from_slice(comp);
        let parent = dir.as_ref().map_or(root, AsFd::as_fd);
        dir = Some(mkdir_in(parent, comp).map_err(|e| Sys("mkdir", sofar.clone(), e))?);
    }
    let Some(dir) = dir else { return Err(Invalid) };
    let at = |name: &str| {
        let mut p = key.to_vec();
        p.push(b'/');
        p.extend_from_slice(name.as_bytes());
        p
    };
    match data.first() {
        Some(b'A') => {
            write_in(dir.as_fd(), b"allow", &[]).map_err(|e| Sys("open_trunc", at("allow"), e))?
        }
        Some(b'D') => {
            write_in(dir.as_fd(), b"deny", &[]).map_err(|e| Sys("open_trunc", at("deny"), e))?
        }
        _ => {}
    }
    if data.len() < 3 {
        return Ok(());
    }
    let u16_at = |i: usize| -> Option<usize> {
        let b = data.get(i..i + 2)?;
        Some(usize::from(u16::from_be_bytes([*b.first()?, *b.get(1)?])))
    };
    let envlen = u16_at(1).ok_or(Invalid)?;
    if envlen > 4096 || 5 + envlen > data.len() {
        return Err(Invalid);
    }
    let execlen = u16_at(3 + envlen).ok_or(Invalid)?;
    if execlen > 4096 || 5 + envlen + execlen != data.len() {
        return Err(Invalid);
    }
    let env = data.get(3..3 + envlen).ok_or(Invalid)?;
    let exec = data.get(5 + envlen..).ok_or(Invalid)?;
    if !env.is_empty() {
        // s6 writes the env entries it reads before it sees a missing final NUL; we
        // check first (the run fails either way, and nothing is kept).
        let body = env.strip_suffix(b"\0").ok_or(Invalid)?;
        let envdir = mkdir_in(dir.as_fd(), b"env").map_err(|e| Sys("mkdir", at("env"), e))?;
        for item in body.split(|&c| c == 0) {
            let (name, value) = match item.iter().position(|&c| c == b'=') {
                Some(i) => (item.get(..i).unwrap_or_default(), item.get(i + 1..)),
                None => (item, None),
            };
            // A name must be one plain file name (s6 would write through a `/`).
            if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
                return Err(Invalid);
            }
            let mut shown = at("env/");
            shown.extend_from_slice(name);
            match value {
                Some(v) => write_in(envdir.as_fd(), name, &[v, b"\n"]),
                None => write_in(envdir.as_fd(), name, &[]),
            }
            .map_err(|e| Sys("openwritenclose_unsafe", shown, e))?;
        }
    }
    if !exec.is_empty() {
        write_in(dir.as_fd(), b"exec", &[exec])
            .map_err(|e| Sys("openwritenclose_unsafe", at("exec"), e))?;
    }
    Ok(())
}

/// A temporary name next to `dir`: `.NAME.ipcrules-fs.XXXXXX`.
fn temp_name(dir: &Path) -> Result<(PathBuf, PathBuf), Error> {
    let name = dir
        .file_name()
        .ok_or_else(|| Error::sys_at("mkdir", dir, Errno::INVAL))?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut raw = [0u8; 6];
    let mut got = 0;
    while got < raw.len() {
        match rustix::rand::getrandom(
            raw.get_mut(got..).unwrap_or_default(),
            rustix::rand::GetRandomFlags::empty(),
        ) {
            Ok(n) => got += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(Error::sys("get random bytes", e)),
        }
    }
    let mut t = OsString::from(".");
    t.push(name);
    t.push(".ipcrules-fs.");
    t.push(OsStr::from_bytes(
        &raw.iter()
            .map(|b| b"abcdefghijklmnopqrstuvwxyz0123456789"[usize::from(*b) % 36])
            .collect::<Vec<u8>>(),
    ));
    Ok((parent, PathBuf::from(t)))
}

/// What ipcrules-fs was asked to do.
#[derive(Clone, Debug)]
pub struct IpcrulesFsConfig {
    /// The rules directory to create; it must not exist.
    pub dir: PathBuf,
    /// The rules cdb to decompile.
    pub cdbfile: PathBuf,
}

/// ipcrules-fs: decompile the rules cdb `cfg.cdbfile` into the new directory `cfg.dir`.
///
/// # Errors
/// Those of the decompilation, below.
pub fn ipcrules_fs(cfg: &IpcrulesFsConfig, _diag: &Diag) -> Result<(), Error> {
    decompile(&cfg.dir, &cfg.cdbfile)
}

/// Decompile the rules cdb `cdb` into the new directory `dir`.
///
/// # Errors
/// `open cdb ruleset CDB` and an invalid cdb as in [`crate::formats::rulescdb::open`]; `mkdir DIR:
/// File exists` when `dir` exists (checked first, and again by the final rename);
/// `unable to handle cdb record: CDB does not contain valid accessrules data`; a failed
/// step inside, with the path it concerned; `Refusing` when the temporary directory or
/// `dir` turned out not to be what we made. On any error, none of the tree is left
/// (at worst an empty directory, when it was moved away before we could open it).
fn decompile(dir: &Path, cdb: &Path) -> Result<(), Error> {
    let db = crate::formats::rulescdb::open(cdb)?;
    match rustix::fs::statat(CWD, dir, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(_) => return Err(Error::sys_at("mkdir", dir, Errno::EXIST)),
        Err(Errno::NOENT) => {}
        Err(e) => return Err(Error::sys_at("mkdir", dir, e)),
    }
    let (parent, tmp) = temp_name(dir)?;
    let name = dir
        .file_name()
        .ok_or_else(|| Error::sys_at("mkdir", dir, Errno::INVAL))?;
    let pfd = rustix::fs::openat(
        CWD,
        &parent,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .op_at("open directory", &parent)?;
    let tmp_path = parent.join(&tmp);
    let old = rustix::process::umask(Mode::empty());
    let made = rustix::fs::mkdirat(&pfd, &tmp, Mode::from_raw_mode(0o700));
    rustix::process::umask(old);
    made.op_at("mkdir", &tmp_path)?;
    let outer = Private::open(pfd.as_fd(), &tmp, &tmp_path)?;
    let r = build_and_install(&pfd, &outer, &tmp, name, dir, &db, cdb);
    outer.remove(pfd.as_fd(), &tmp);
    r
}

/// A directory we made and hold open, and its identity.
struct Private {
    fd: OwnedFd,
    id: (u64, u64),
    /// For messages.
    path: PathBuf,
}

impl Private {
    /// Open the directory just made as `name` in `dir`, and check that it is the one we
    /// made: a directory, ours, mode 0700 (and set-group-ID if inherited), no entry.
    fn open(dir: BorrowedFd<'_>, name: &Path, path: &Path) -> Result<Private, Error> {
        let replaced = || replaced(path);
        let fd = match open_dir(dir, name) {
            Ok(fd) => fd,
            // A symlink put in its place.
            Err(Errno::LOOP | Errno::NOTDIR) => return Err(replaced()),
            Err(e) => return Err(Error::sys_at("open directory", path, e)),
        };
        let st = rustix::fs::fstat(&fd).op_at("stat", path)?;
        if !is_dir(&st)
            || st.st_uid != rustix::process::geteuid().as_raw()
            || st.st_mode & 0o5777 != 0o700
            || st.st_nlink != 2
        {
            return Err(replaced());
        }
        Ok(Private {
            fd,
            id: (st.st_dev, st.st_ino),
            path: path.to_path_buf(),
        })
    }

    /// Check again, once filled: the same directory, still ours and private.
    fn recheck(&self) -> Result<(), Error> {
        let st = rustix::fs::fstat(&self.fd).op_at("stat", &self.path)?;
        if (st.st_dev, st.st_ino) != self.id
            || st.st_uid != rustix::process::geteuid().as_raw()
            || st.st_mode & 0o5777 != 0o700
        {
            return Err(replaced(&self.path));
        }
        Ok(())
    }

    /// rmdir this directory (empty by now) from `dir`, under `name` or wherever it was
    /// moved to in `dir` (the kernel's name for our fd). Only a name just checked to
    /// lead to it; at worst, swapped in between, the rmdir removes someone's empty
    /// directory.
    fn remove(&self, dir: BorrowedFd<'_>, name: &Path) {
        let moved = || -> Option<PathBuf> {
            let at = |fd: BorrowedFd<'_>| {
                let link = format!("/proc/self/fd/{}", crate::sys::fd::number(fd));
                rustix::fs::readlinkat(CWD, link, Vec::new())
                    .ok()
                    .map(|p| PathBuf::from(OsString::from_vec(p.into_bytes())))
            };
            let now = at(self.fd.as_fd())?;
            let base = PathBuf::from(now.file_name()?);
            (now.parent()? == at(dir)?).then_some(base)
        };
        let name = if self.is_at(dir, name) {
            Some(name.to_path_buf())
        } else {
            moved()
        };
        if let Some(n) = name
            && self.is_at(dir, &n)
        {
            let _ = rustix::fs::unlinkat(dir, &n, AtFlags::REMOVEDIR);
        }
    }

    /// Whether `name` in `dir` is this directory (not following a link).
    fn is_at(&self, dir: BorrowedFd<'_>, name: impl rustix::path::Arg) -> bool {
        rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
            .is_ok_and(|st| (st.st_dev, st.st_ino) == self.id)
    }
}

fn replaced(path: &Path) -> Error {
    Error::Refusing {
        path: path.to_path_buf(),
        why: "was replaced by someone else (its parent is writable by others)".into(),
        act: "install",
    }
}

/// Build the tree in `tree` inside the private `outer`, check, set its final mode,
/// rename it to `name` in `pfd`, and check that `name` is then our tree. On failure the
/// tree is emptied through its fd (and removed, while still inside `outer`).
fn build_and_install(
    pfd: &OwnedFd,
    outer: &Private,
    tmp: &Path,
    name: &OsStr,
    dir: &Path,
    db: &cdb2::CDB,
    cdb: &Path,
) -> Result<(), Error> {
    let old = rustix::process::umask(Mode::empty());
    let made = rustix::fs::mkdirat(&outer.fd, "tree", Mode::from_raw_mode(0o700));
    rustix::process::umask(old);
    let tree_path = outer.path.join("tree");
    made.op_at("mkdir", &tree_path)?;
    let tree = Private::open(outer.fd.as_fd(), Path::new("tree"), &tree_path)?;
    let r = fill(&tree.fd, dir, db, cdb)
        .and_then(|()| tree.recheck())
        .and_then(|()| outer.recheck())
        .and_then(|()| {
            if outer.is_at(pfd.as_fd(), tmp) {
                Ok(())
            } else {
                Err(replaced(&outer.path))
            }
        })
        .and_then(|()| {
            // The final mode only now, through the fd; keep an inherited set-group-ID.
            let st = rustix::fs::fstat(&tree.fd).op_at("stat", &tree_path)?;
            let mode = (st.st_mode & 0o2000) | 0o755;
            rustix::fs::fchmod(&tree.fd, Mode::from_raw_mode(mode)).op_at("chmod", &tree_path)
        })
        .and_then(|()| {
            rustix::fs::renameat_with(&outer.fd, "tree", pfd, name, RenameFlags::NOREPLACE)
                .op_at("mkdir", dir)
        });
    if let Err(e) = r {
        let _ = empty_dir(tree.fd.as_fd());
        let _ = rustix::fs::unlinkat(&outer.fd, "tree", AtFlags::REMOVEDIR);
        return Err(e);
    }
    if !tree.is_at(pfd.as_fd(), name) {
        // Renamed, then swapped at once: what is at DIR now is not ours to remove.
        let _ = empty_dir(tree.fd.as_fd());
        return Err(replaced(dir));
    }
    Ok(())
}

fn fill(root: &OwnedFd, dir: &Path, db: &cdb2::CDB, cdb: &Path) -> Result<(), Error> {
    for item in db.iter() {
        let (key, data) = item.map_err(|_| Error::InvalidCdb {
            op: "cdb_traverse_next",
            why: "invalid cdb".into(),
        })?;
        match record(root.as_fd(), &key, &data) {
            Ok(()) => {}
            Err(RecordError::Invalid) => return Err(invalid(cdb)),
            Err(RecordError::Sys(op, rel, e)) => {
                let mut p = dir.as_os_str().to_os_string();
                p.push("/");
                p.push(OsString::from_vec(rel));
                return Err(Error::sys_at(op, p, e));
            }
        }
    }
    Ok(())
}

/// Remove everything in the directory `fd` (ours, and private while we fill it),
/// through fds only: a subdirectory is opened `O_NOFOLLOW` and emptied before its
/// `rmdir`.
fn empty_dir(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    let mut names = Vec::new();
    for e in rustix::fs::Dir::read_from(fd)? {
        let e = e?;
        let n = e.file_name();
        if n != c"." && n != c".." {
            names.push(n.to_owned());
        }
    }
    for n in names {
        match rustix::fs::unlinkat(fd, n.as_c_str(), AtFlags::empty()) {
            Err(Errno::ISDIR) => {
                let sub = open_dir(fd, n.as_c_str())?;
                empty_dir(sub.as_fd())?;
                rustix::fs::unlinkat(fd, n.as_c_str(), AtFlags::REMOVEDIR)?;
            }
            r => r?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::key_ok;

    #[test]
    fn keys_must_stay_inside() {
        for k in [
            &b"uid/0"[..],
            b"gid/default",
            b"ip4/1.2.3.4_24",
            b"uid/self",
        ] {
            assert!(key_ok(k), "{k:?}");
        }
        for k in [
            &b""[..],
            b"/etc",
            b"uid/../../x",
            b"..",
            b"uid//0",
            b"uid/0/",
            b"./x",
        ] {
            assert!(!key_ok(k), "{k:?}");
        }
    }
}
