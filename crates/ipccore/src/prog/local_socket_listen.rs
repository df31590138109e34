//! Socket-activation chain-loaders (nosh's `local-{stream,seqpacket,datagram}-socket-listen`):
//! create one listening socket, put it on fd 3+n, describe it in the environment the way
//! systemd (`LISTEN_FDS`, `LISTEN_PID`, `LISTEN_FDNAMES`) or upstart (`UPSTART_FDS`,
//! `UPSTART_EVENTS`) would, and exec the next program.
//!
//! The socket itself comes from `listen::create_with`, so nobody can connect to it
//! before its mode and owner are final and only a stale socket is ever replaced, unlike nosh, whose
//! manual documents its unlink and chmod/chown races. Accepting connections is left to
//! the next program (`ipcserverd`, or any `sd_listen_fds` consumer).

use crate::base::error::Error;
use crate::base::ucspi;
use crate::fs::listen::{self, ListenOpts};
use crate::sys::diag::Diag;
use crate::sys::exec::{self, EnvMod};
use crate::sys::fd;
use crate::sys::sock::SockPath;
use crate::sys::sockopt;
use rustix::fd::{BorrowedFd, RawFd};
use rustix::fs::{Gid, Mode, Uid};
use rustix::net::SocketType;
use std::convert::Infallible;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// The first fd of the socket-activation protocol (`SD_LISTEN_FDS_START`).
const LISTEN_FDS_START: RawFd = 3;

/// Which of the three programs this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `local-stream-socket-listen`: a `SOCK_STREAM` socket.
    Stream,
    /// `local-seqpacket-socket-listen`: a `SOCK_SEQPACKET` socket.
    Seqpacket,
    /// `local-datagram-socket-listen`: a `SOCK_DGRAM` socket, bound and never put in
    /// the listening state, hence no backlog.
    Datagram,
}

impl Kind {
    fn socket_type(self) -> SocketType {
        match self {
            Kind::Stream => SocketType::STREAM,
            Kind::Seqpacket => SocketType::SEQPACKET,
            Kind::Datagram => SocketType::DGRAM,
        }
    }
}

/// What one program in the chain does.
#[derive(Clone, Debug)]
pub struct LocalSocketListenConfig {
    /// Which program, so which socket type.
    pub kind: Kind,
    /// Where to bind the socket: a path, or `@name` for an abstract socket.
    pub path: SockPath,
    /// `--backlog`: the `listen` backlog; ignored for datagram sockets. nosh's default
    /// is 5.
    pub backlog: i32,
    /// `--mode`: socket file mode; `None` means `0777 & ~umask`, as nosh (which only
    /// chmods when asked) leaves it.
    pub mode: Option<Mode>,
    /// `--uid`: owner of the socket file, set before anyone can connect; `None` keeps
    /// ours.
    pub uid: Option<Uid>,
    /// `--gid`: group of the socket file, set before anyone can connect; `None` keeps
    /// ours.
    pub gid: Option<Gid>,
    /// `--pass-credentials`: `SO_PASSCRED`, so messages received on the socket, and on
    /// the connections it accepts, carry the sender's pid, uid and gid.
    pub pass_credentials: bool,
    /// `--pass-security`: `SO_PASSSEC`, so received messages carry the sender's
    /// security context (SELinux, Smack).
    pub pass_security: bool,
    /// `--upstart-compatibility`: set `UPSTART_FDS` and `UPSTART_EVENTS=socket` for
    /// the next program.
    pub upstart: bool,
    /// `--systemd-compatibility`: set `LISTEN_FDS` (one more than passed to us) and
    /// `LISTEN_PID` for the next program, as `sd_listen_fds` expects them.
    pub systemd: bool,
    /// `--fdname`, beyond nosh: this socket's entry in `LISTEN_FDNAMES`.
    pub fdname: Option<OsString>,
    /// The next program and its arguments, exec'd with the socket on fd 3+n.
    pub argv: Vec<OsString>,
}

impl LocalSocketListenConfig {
    /// A configuration with nosh's defaults.
    pub fn new(kind: Kind, path: SockPath, argv: Vec<OsString>) -> LocalSocketListenConfig {
        LocalSocketListenConfig {
            kind,
            path,
            backlog: 5,
            mode: None,
            uid: None,
            gid: None,
            pass_credentials: false,
            pass_security: false,
            upstart: false,
            systemd: false,
            fdname: None,
            argv,
        }
    }
}

/// A number as C's `strtol(s, 0)` reads it, which is how nosh reads every numeric
/// option: `0x1f` is hexadecimal, `0660` octal, `660` decimal. Signs, spaces and
/// trailing junk are refused.
pub fn parse_number(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or(s.strip_prefix("0X")) {
        (h, 16)
    } else if let Some(o) = s.strip_prefix('0').filter(|o| !o.is_empty()) {
        (o, 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// A user id from a command line number; `-1` (4294967295) is chown's "unchanged", so
/// it is refused rather than silently meaning nothing.
pub fn uid_from(n: u64) -> Option<Uid> {
    u32::try_from(n)
        .ok()
        .filter(|&n| n != u32::MAX)
        .map(Uid::from_raw)
}

/// A group id, as [`uid_from`].
pub fn gid_from(n: u64) -> Option<Gid> {
    u32::try_from(n)
        .ok()
        .filter(|&n| n != u32::MAX)
        .map(Gid::from_raw)
}

/// A socket file mode: at most 07777.
pub fn mode_from(n: u64) -> Option<Mode> {
    u32::try_from(n)
        .ok()
        .filter(|&n| n <= 0o7777)
        .map(Mode::from_raw_mode)
}

/// Whether `name` may go in `LISTEN_FDNAMES` (systemd.socket(5) `FileDescriptorName=`):
/// 1 to 255 printable ASCII characters, no `:`.
pub fn fdname_is_valid(name: &OsStr) -> bool {
    let b = name.as_bytes();
    !b.is_empty() && b.len() <= 255 && b.iter().all(|&c| (b' '..=b'~').contains(&c) && c != b':')
}

/// How many listeners earlier programs passed: `LISTEN_FDS`, if `LISTEN_PID` is this
/// process and `LISTEN_FDS` is a number; otherwise none (nosh's
/// `query_listen_fds_passthrough`).
pub fn passed_listeners(fds: Option<&OsStr>, pid: Option<&OsStr>, me: i32) -> u32 {
    let num = |v: Option<&OsStr>| {
        v.and_then(OsStr::to_str)
            .and_then(|s| s.parse::<u64>().ok())
    };
    match (num(fds), num(pid)) {
        (Some(n), Some(p)) if i64::try_from(p).ok() == Some(i64::from(me)) => {
            u32::try_from(n).unwrap_or(u32::MAX)
        }
        _ => 0,
    }
}

/// `LISTEN_FDNAMES` with `name` for fd 3+n: the first `n` names of `existing`, padded
/// with `unknown` for fds that had none, then `name`.
pub fn fdnames(existing: Option<&OsStr>, n: u32, name: &OsStr) -> OsString {
    let mut names: Vec<&[u8]> = match existing {
        Some(e) if !e.is_empty() => e.as_bytes().split(|&c| c == b':').collect(),
        _ => Vec::new(),
    };
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    names.truncate(n);
    while names.len() < n {
        names.push(b"unknown");
    }
    names.push(name.as_bytes());
    OsString::from_vec(names.join(&b':'))
}

/// The environment edits for the next program, given `n` listeners passed before ours.
fn env_for(cfg: &LocalSocketListenConfig, n: u32, me: i32, names: Option<&OsStr>) -> Vec<EnvMod> {
    let mut env = Vec::new();
    if cfg.systemd {
        env.push(exec::set(ucspi::LISTEN_FDS, (u64::from(n) + 1).to_string()));
        env.push(exec::set(ucspi::LISTEN_PID, me.to_string()));
        // Without --fdname, LISTEN_FDNAMES passes through untouched, as in nosh, whose
        // unit converter sets the whole list before the first listener.
        if let Some(name) = &cfg.fdname {
            env.push(exec::set(ucspi::LISTEN_FDNAMES, fdnames(names, n, name)));
        }
    }
    if cfg.upstart {
        let fd = i64::from(LISTEN_FDS_START) + i64::from(n);
        env.push(exec::set(ucspi::UPSTART_FDS, fd.to_string()));
        env.push(exec::set(ucspi::UPSTART_EVENTS, "socket"));
    }
    env
}

fn current_umask() -> Mode {
    // umask can only be read by setting it; we are single-threaded and put it back.
    let old = rustix::process::umask(Mode::from_raw_mode(0o077));
    rustix::process::umask(old);
    old
}

/// Create the socket, put it on fd 3+n, set the environment and exec `cfg.argv`.
/// Returns only on failure.
///
/// # Errors
/// `--fdname` without `--systemd-compatibility` or an invalid name (usage); those of
/// `listen::create_with`; `set SO_PASSCRED on socket`, `set SO_PASSSEC on socket`;
/// `move fd`; the exec error.
pub fn local_socket_listen(
    cfg: &LocalSocketListenConfig,
    _diag: &Diag,
) -> Result<Infallible, Error> {
    if cfg.argv.is_empty() {
        return Err(Error::Usage("no program to execute".into()));
    }
    if let Some(name) = &cfg.fdname {
        if !cfg.systemd {
            return Err(Error::Usage(
                "--fdname needs --systemd-compatibility".into(),
            ));
        }
        if !fdname_is_valid(name) {
            return Err(Error::Usage(format!(
                "invalid file descriptor name: {}",
                crate::base::text::escape(name.as_bytes())
            )));
        }
    }
    let me = rustix::process::getpid().as_raw_nonzero().get();
    let n = if cfg.systemd {
        passed_listeners(
            std::env::var_os(ucspi::LISTEN_FDS).as_deref(),
            std::env::var_os(ucspi::LISTEN_PID).as_deref(),
            me,
        )
    } else {
        0
    };
    let target = i32::try_from(n)
        .ok()
        .and_then(|n| n.checked_add(LISTEN_FDS_START))
        .ok_or_else(|| Error::Usage("invalid $LISTEN_FDS".into()))?;

    let opts = ListenOpts {
        ty: cfg.kind.socket_type(),
        backlog: (cfg.kind != Kind::Datagram).then_some(cfg.backlog),
        mode: cfg
            .mode
            .unwrap_or_else(|| Mode::from_raw_mode(0o777) & !current_umask()),
        uid: cfg.uid,
        gid: cfg.gid,
        // nosh unlinks whatever is there; we replace only a socket nobody listens on.
        replace_stale: true,
        nonblocking: false,
    };
    let mut options = |fd: BorrowedFd<'_>| {
        if cfg.pass_credentials {
            sockopt::set_passcred(fd)?;
        }
        if cfg.pass_security {
            sockopt::set_passsec(fd)?;
        }
        Ok(())
    };
    let sock = listen::create_with(&cfg.path, &opts, &mut options)?;
    fd::move_to(sock, target)?;
    let env = env_for(
        cfg,
        n,
        me,
        std::env::var_os(ucspi::LISTEN_FDNAMES).as_deref(),
    );
    Err(exec::exec(&cfg.argv, &env))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_strtol_base_0() {
        assert_eq!(parse_number("660"), Some(660));
        assert_eq!(parse_number("0660"), Some(0o660));
        assert_eq!(parse_number("0"), Some(0));
        assert_eq!(parse_number("0x1F"), Some(31));
        assert_eq!(parse_number("0X10"), Some(16));
        for bad in ["", "0x", "08", "12a", "-1", "+1", " 1", "1 ", "0660x"] {
            assert_eq!(parse_number(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ids_and_modes_are_range_checked() {
        assert_eq!(uid_from(0), Some(Uid::ROOT));
        assert_eq!(uid_from(u64::from(u32::MAX)), None);
        assert_eq!(gid_from(1 << 32), None);
        assert_eq!(mode_from(0o7777).map(|m| m.bits()), Some(0o7777));
        assert_eq!(mode_from(0o10000), None);
    }

    #[test]
    fn listeners_are_counted_only_for_this_pid() {
        let s = |v: &'static str| Some(OsStr::new(v));
        assert_eq!(passed_listeners(s("2"), s("42"), 42), 2);
        assert_eq!(passed_listeners(s("2"), s("43"), 42), 0);
        assert_eq!(passed_listeners(s("x"), s("42"), 42), 0);
        assert_eq!(passed_listeners(None, s("42"), 42), 0);
        assert_eq!(passed_listeners(s("2"), None, 42), 0);
    }

    #[test]
    fn fdnames_pad_and_append() {
        let o = |v: &'static str| Some(OsStr::new(v));
        let x = OsStr::new("x");
        assert_eq!(fdnames(None, 0, x), "x");
        assert_eq!(fdnames(None, 2, x), "unknown:unknown:x");
        assert_eq!(fdnames(o("a"), 2, x), "a:unknown:x");
        assert_eq!(fdnames(o("a:b:c"), 1, x), "a:x");
        assert_eq!(fdnames(o(""), 1, x), "unknown:x");
    }

    #[test]
    fn fdname_rules() {
        assert!(fdname_is_valid(OsStr::new("web-1")));
        assert!(!fdname_is_valid(OsStr::new("")));
        assert!(!fdname_is_valid(OsStr::new("a:b")));
        assert!(!fdname_is_valid(OsStr::new("a\nb")));
        assert!(!fdname_is_valid(OsStr::new(&"a".repeat(256))));
    }

    #[test]
    fn env_accumulates() {
        let mut cfg =
            LocalSocketListenConfig::new(Kind::Stream, SockPath::Fs("/x".into()), vec!["p".into()]);
        assert!(env_for(&cfg, 0, 7, None).is_empty());
        cfg.systemd = true;
        cfg.upstart = true;
        cfg.fdname = Some("web".into());
        let env = env_for(&cfg, 1, 7, Some(OsStr::new("a")));
        assert_eq!(
            env,
            vec![
                exec::set("LISTEN_FDS", "2"),
                exec::set("LISTEN_PID", "7"),
                exec::set("LISTEN_FDNAMES", "a:web"),
                exec::set("UPSTART_FDS", "4"),
                exec::set("UPSTART_EVENTS", "socket"),
            ]
        );
    }
}
