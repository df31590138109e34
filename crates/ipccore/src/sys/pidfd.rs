//! What a pidfd tells about its process: whether it has exited, its pid and cgroup id
//! (`PIDFD_GET_INFO`), and facts read from `/proc/PID` that stay true of that process
//! (read, then check that the pidfd's process has not exited: the pid could not have
//! been given to another process in between).
//!
//! rustix 1.x has no `PIDFD_GET_INFO`; it goes through `libc::ioctl`, the only reason
//! this module needs `unsafe`.
#![allow(unsafe_code)]

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fd::{AsFd, AsRawFd};
use rustix::io::Errno;

/// `poll({pidfd, POLLIN}, 0)`—whether the pidfd's process has exited (a zombie
/// counts as exited; so does a reaped process).
///
/// While this says no, the process exists, so its pid names it and no other: a pid is
/// given to a new process only once the old one is reaped.
///
/// # References
/// - [pidfd_open(2)](https://man7.org/linux/man-pages/man2/pidfd_open.2.html)
/// - [poll(2)](https://man7.org/linux/man-pages/man2/poll.2.html)
///
/// # Errors
/// Those of poll (`EBADF` is impossible with a borrowed fd; `ENOMEM`).
pub fn exited(pidfd: impl AsFd) -> Result<bool, Errno> {
    let fd = pidfd.as_fd();
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let zero = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    loop {
        match rustix::event::poll(&mut fds, Some(&zero)) {
            Ok(_) => return Ok(!fds[0].revents().is_empty()),
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// `struct pidfd_info` of `<linux/pidfd.h>`, version 0 (64 bytes).
#[repr(C)]
#[derive(Default)]
struct RawInfo {
    mask: u64,
    cgroupid: u64,
    pid: u32,
    tgid: u32,
    ppid: u32,
    ruid: u32,
    rgid: u32,
    euid: u32,
    egid: u32,
    suid: u32,
    sgid: u32,
    fsuid: u32,
    fsgid: u32,
    exit_code: i32,
}

const PIDFD_INFO_PID: u64 = 1;
const PIDFD_INFO_CGROUPID: u64 = 1 << 2;
/// `_IOWR(0xFF, 11, struct pidfd_info)`.
const PIDFD_GET_INFO: libc::c_ulong =
    (3 << 30) | ((size_of::<RawInfo>() as libc::c_ulong) << 16) | (0xFF << 8) | 11;

/// What `PIDFD_GET_INFO` says about a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    /// Its pid in our pid namespace (0 if it is not visible there).
    pub pid: u32,
    /// The id of its cgroup v2 (the inode number of the cgroup's directory), if the
    /// kernel knows one.
    pub cgroupid: Option<u64>,
}

/// `ioctl(pidfd, PIDFD_GET_INFO)`—the pid and cgroup v2 id of the pidfd's process
/// (Linux 6.13), read through the pidfd: no pid reuse can make it describe another
/// process.
///
/// # References
/// - [pidfd_open(2)](https://man7.org/linux/man-pages/man2/pidfd_open.2.html)
/// - [ioctl(2)](https://man7.org/linux/man-pages/man2/ioctl.2.html)
///
/// # Errors
/// `ENOTTY` (or `EINVAL`) before Linux 6.13; `ESRCH` once the process is reaped.
#[doc(alias = "PIDFD_GET_INFO")]
pub fn info(pidfd: impl AsFd) -> Result<Info, Errno> {
    let mut raw = RawInfo {
        mask: PIDFD_INFO_PID | PIDFD_INFO_CGROUPID,
        ..RawInfo::default()
    };
    // SAFETY: `pidfd` is a live borrowed fd; the argument points to a 64-byte
    // `struct pidfd_info` that outlives the call, the size the request number encodes.
    let r = unsafe { libc::ioctl(pidfd.as_fd().as_raw_fd(), PIDFD_GET_INFO, &raw mut raw) };
    if r != 0 {
        let e = std::io::Error::last_os_error();
        return Err(Errno::from_io_error(&e).unwrap_or(Errno::IO));
    }
    Ok(Info {
        pid: raw.pid,
        cgroupid: (raw.mask & PIDFD_INFO_CGROUPID != 0).then_some(raw.cgroupid),
    })
}

/// Read `/proc/PID/…` with `read`, then check that the pidfd's process (whose pid is
/// `pid`) has not exited: then what was read belongs to that process (the cockpit
/// pattern). `ESRCH` if it has exited.
///
/// # Errors
/// Those of `read`; `ESRCH` when the process exited before the check.
pub fn read_pinned<T>(
    pidfd: impl AsFd,
    pid: u32,
    read: impl FnOnce(&str) -> Result<T, Errno>,
) -> Result<T, Errno> {
    if pid == 0 {
        return Err(Errno::SRCH);
    }
    let got = read(&format!("/proc/{pid}"))?;
    if exited(pidfd)? {
        return Err(Errno::SRCH);
    }
    Ok(got)
}

/// The cgroup v2 path in a `/proc/PID/cgroup` text: the `0::PATH` line.
pub fn cgroup_v2_line(text: &[u8]) -> Option<&[u8]> {
    text.split(|&c| c == b'\n')
        .find_map(|l| l.strip_prefix(b"0::"))
}

/// `read(/proc/PID/cgroup)`—the cgroup v2 path of the process under `proc` (`/proc/PID`),
/// relative to our cgroup namespace's root.
///
/// # Errors
/// Those of open and read; `ENOENT` when the process has no cgroup v2 line.
pub fn cgroup_path(proc: &str) -> Result<Vec<u8>, Errno> {
    let text = std::fs::read(format!("{proc}/cgroup"))
        .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?;
    cgroup_v2_line(&text)
        .map(<[u8]>::to_vec)
        .ok_or(Errno::NOENT)
}

/// `readlink(/proc/PID/exe)`—the path of the program the process under `proc` runs,
/// as our mount namespace sees it (` (deleted)` appended once that file is removed).
///
/// # Errors
/// `EACCES` without the right to inspect the process (ptrace read access); `ENOENT`
/// for a kernel thread; those of readlink.
pub fn exe_path(proc: &str) -> Result<Vec<u8>, Errno> {
    rustix::fs::readlink(format!("{proc}/exe"), Vec::new()).map(std::ffi::CString::into_bytes)
}

/// `stat(/proc/PID/ns/mnt)` compared with `stat(/proc/self/ns/mnt)`—whether the
/// process under `proc` is in our mount namespace, where its exe path means what it
/// says.
///
/// # Errors
/// `EACCES` without the right to inspect the process; those of stat.
pub fn same_mount_ns(proc: &str) -> Result<bool, Errno> {
    let theirs = rustix::fs::stat(format!("{proc}/ns/mnt"))?;
    let ours = rustix::fs::stat("/proc/self/ns/mnt")?;
    Ok((theirs.st_dev, theirs.st_ino) == (ours.st_dev, ours.st_ino))
}

/// `statfs` magic of a cgroup v2 filesystem.
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// `statfs` and `stat`—the id of the cgroup v2 whose path (from `/proc/PID/cgroup`)
/// is `path`: the inode number of its directory in the cgroup v2 mount
/// (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on a hybrid system).
///
/// # Errors
/// `ENOENT` when neither is a cgroup v2 mount, or the cgroup is gone.
pub fn cgroup_id(path: &[u8]) -> Result<u64, Errno> {
    for mount in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
        let Ok(fs) = rustix::fs::statfs(mount) else {
            continue;
        };
        #[allow(clippy::unnecessary_cast, reason = "f_type's width differs per target")]
        if fs.f_type as i64 != CGROUP2_SUPER_MAGIC {
            continue;
        }
        let mut full = mount.as_bytes().to_vec();
        full.extend_from_slice(path);
        let st =
            rustix::fs::stat(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&full))?;
        return Ok(st.st_ino);
    }
    Err(Errno::NOENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_lines() {
        assert_eq!(
            cgroup_v2_line(b"12:pids:/x\n1:name=systemd:/y\n0::/a/b\n"),
            Some(&b"/a/b"[..])
        );
        assert_eq!(cgroup_v2_line(b"0::/\n"), Some(&b"/"[..]));
        assert_eq!(cgroup_v2_line(b"1:cpu:/x\n"), None);
    }

    #[test]
    fn our_own_pidfd() -> Result<(), Errno> {
        let me = rustix::process::getpid();
        let pidfd = rustix::process::pidfd_open(me, rustix::process::PidfdFlags::empty())?;
        assert!(!exited(&pidfd)?);
        let raw = me.as_raw_nonzero().get() as u32;
        match info(&pidfd) {
            Ok(i) => assert_eq!(i.pid, raw),
            Err(e) => assert!(matches!(e, Errno::NOTTY | Errno::INVAL), "{e:?}"),
        }
        let p = read_pinned(&pidfd, raw, cgroup_path)?;
        assert!(p.starts_with(b"/"));
        assert_eq!(
            read_pinned(&pidfd, raw, exe_path)?,
            std::env::current_exe()
                .unwrap()
                .into_os_string()
                .into_encoded_bytes()
        );
        assert!(read_pinned(&pidfd, raw, same_mount_ns)?);
        if let Ok(Info {
            cgroupid: Some(id), ..
        }) = info(&pidfd)
        {
            assert_eq!(cgroup_id(&p), Ok(id));
        }
        Ok(())
    }
}
