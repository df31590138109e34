//! ipcnotify-socket-from-fd and ipcnotify-fd-from-socket: a datagram socket this test
//! binds stands in for systemd's `NOTIFY_SOCKET`, and a real s6-supervise for s6.
//!
//! Every run goes through `reaper.py`, a child subreaper, so that the watcher's exit
//! code is seen even when it was forked twice (it is orphaned to the reaper), and
//! through `prog.py`, the daemon, which reports its pid, environment and fds on stderr.
//! The cases against s6 2.15's own programs are in `differential/ipcnotify.rs`.

use crate::util::*;
use rustix::event::{PollFd, PollFlags};
use rustix::fd::OwnedFd;
use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SocketAddrUnix, SocketType,
};
use std::ffi::OsString;
use std::io::IoSliceMut;
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const SFD: &str = "ipcnotify-socket-from-fd";
pub const FFS: &str = "ipcnotify-fd-from-socket";

/// s6 2.15's build of `name` (`target/s6-upstream/bin/NAME`, made by `.ci/run` with
/// `../shared/peers/build-s6.sh`). Outside CI a missing build skips the test; with
/// `CI=true` it fails it.
pub fn upstream(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/s6-upstream/bin")
        .join(name);
    if p.is_file() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{} is missing (CI=true: build s6 2.15 into target/s6-upstream)",
            p.display()
        );
    }
    eprintln!("skipping: {} is not built", p.display());
    None
}

/// A program under test: ours by name, or a path (s6 2.15's).
pub fn program(name_or_path: &str) -> PathBuf {
    if name_or_path.starts_with('/') {
        PathBuf::from(name_or_path)
    } else {
        bin(name_or_path)
    }
}

/// A stand-in for systemd: a datagram socket bound to a path or an abstract name.
pub struct Listener {
    pub sock: OwnedFd,
    /// The value of `NOTIFY_SOCKET` that names it.
    pub value: String,
}

static ABSTRACT: AtomicUsize = AtomicUsize::new(0);

impl Listener {
    pub fn at_path(p: &Path) -> Listener {
        let sock = rustix::net::socket(AddressFamily::UNIX, SocketType::DGRAM, None).unwrap();
        rustix::net::bind(&sock, &SocketAddrUnix::new(p).unwrap()).unwrap();
        Listener {
            sock,
            value: p.to_str().unwrap().to_owned(),
        }
    }

    pub fn at_abstract() -> Listener {
        let n = ABSTRACT.fetch_add(1, Ordering::SeqCst);
        let name = format!("ipct-notify-{}-{n}", std::process::id());
        let sock = rustix::net::socket(AddressFamily::UNIX, SocketType::DGRAM, None).unwrap();
        let addr = SocketAddrUnix::new_abstract_name(name.as_bytes()).unwrap();
        rustix::net::bind(&sock, &addr).unwrap();
        Listener {
            sock,
            value: format!("@{name}"),
        }
    }

    /// One datagram and the fds that came with it, or `None` after `secs` seconds.
    pub fn recv(&self, secs: u64) -> Option<(Vec<u8>, Vec<OwnedFd>)> {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = end.checked_duration_since(Instant::now())?;
            let ts = rustix::time::Timespec {
                tv_sec: left.as_secs() as i64,
                tv_nsec: i64::from(left.subsec_nanos()),
            };
            let mut pfd = [PollFd::new(&self.sock, PollFlags::IN)];
            match rustix::event::poll(&mut pfd, Some(&ts)) {
                Ok(0) => return None,
                Ok(_) => break,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => panic!("poll: {e}"),
            }
        }
        let mut buf = [0u8; 8192];
        let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(4))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let msg = rustix::net::recvmsg(
            &self.sock,
            &mut [IoSliceMut::new(&mut buf)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        )
        .unwrap();
        let mut fds = Vec::new();
        for m in control.drain() {
            if let RecvAncillaryMessage::ScmRights(it) = m {
                fds.extend(it);
            }
        }
        Some((buf[..msg.bytes].to_vec(), fds))
    }

    /// Nothing arrives within `secs` seconds.
    pub fn assert_silent(&self, secs: u64) {
        if let Some((m, _)) = self.recv(secs) {
            panic!("unexpected datagram {:?}", String::from_utf8_lossy(&m));
        }
    }
}

/// `reaper.py` and `prog.py` written into `d`.
pub fn scripts(d: &Dir) -> (PathBuf, PathBuf) {
    let reaper = d.join("reaper.py");
    let prog = d.join("prog.py");
    std::fs::write(&reaper, include_str!("ipcnotify/reaper.py")).unwrap();
    std::fs::write(&prog, include_str!("ipcnotify/prog.py")).unwrap();
    (reaper, prog)
}

/// What to run: `program args… python3 prog.py actions…`, under the reaper, with
/// `NOTIFY_SOCKET` set to `notify` (or removed), fd 3 opened for appending on `fd3`.
pub struct Case<'a> {
    pub program: &'a str,
    pub args: &'a [&'a str],
    pub actions: &'a [&'a str],
    pub notify: Option<&'a str>,
    pub fd3: Option<&'a Path>,
    pub cwd: Option<&'a Path>,
    /// Run the program with SIGCHLD ignored (`trap "" CHLD`), as some callers do.
    pub sigchld_ignored: bool,
    /// Another daemon than `python3 prog.py actions…`.
    pub daemon: Option<&'a [&'a str]>,
}

impl<'a> Case<'a> {
    pub fn new(program: &'a str, args: &'a [&'a str], actions: &'a [&'a str]) -> Self {
        Case {
            program,
            args,
            actions,
            notify: None,
            fd3: None,
            cwd: None,
            sigchld_ignored: false,
            daemon: None,
        }
    }

    pub fn command(&self, d: &Dir) -> Command {
        let (reaper, prog) = scripts(d);
        let mut c = Command::new("python3");
        c.arg(&reaper);
        if self.sigchld_ignored {
            c.args(["sh", "-c", "trap '' CHLD; exec \"$@\"", "sh"]);
        }
        if let Some(f) = self.fd3 {
            c.args(["sh", "-c", "exec \"$@\" 3>>\"$F\"", "sh"]);
            c.env("F", f);
        }
        c.arg(program(self.program)).args(self.args);
        match self.daemon {
            Some(argv) => c.args(argv),
            None => c.arg("python3").arg(&prog).args(self.actions),
        };
        c.env_remove("NOTIFY_SOCKET");
        if let Some(v) = self.notify {
            c.env("NOTIFY_SOCKET", v);
        }
        c.current_dir(self.cwd.unwrap_or(&d.path));
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    pub fn spawn(&self, d: &Dir) -> Child {
        self.command(d).spawn().expect("spawn the reaper")
    }

    pub fn run(&self, d: &Dir) -> Output {
        let mut child = self.spawn(d);
        wait_output(&mut child, 60, self.program)
    }
}

/// What a run showed: prog's pid, its `NOTIFY_SOCKET`, its fds, the watcher's exit
/// code (reaped by the reaper, or by prog with `-f`), prog's exit code.
#[derive(Debug)]
pub struct Seen {
    pub pid: i32,
    pub env: String,
    pub fds: String,
    pub watcher: Option<i32>,
    pub main: Option<i32>,
    pub stderr: String,
}

pub fn seen(out: &Output) -> Seen {
    let (o, e) = (out.out(), out.err());
    let field = |text: &str, key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key).map(str::to_owned))
    };
    Seen {
        pid: field(&e, "pid ").and_then(|p| p.parse().ok()).unwrap_or(-1),
        env: field(&e, "env ").unwrap_or_default(),
        fds: field(&e, "fds ").unwrap_or_default(),
        watcher: field(&o, "other ")
            .or_else(|| field(&e, "child "))
            .and_then(|c| c.parse().ok()),
        main: field(&o, "main ").and_then(|c| c.parse().ok()),
        stderr: e
            .lines()
            .filter(|l| {
                !["pid ", "env ", "fds ", "child "]
                    .iter()
                    .any(|k| l.starts_with(k))
            })
            .map(|l| format!("{l}\n"))
            .collect(),
    }
}

/// The first datagram of a notification for `pid`.
fn ready_message(pid: i32) -> Vec<u8> {
    format!("READY=1\nMAINPID={pid}\n").into_bytes()
}

/// The systemd side of a notification: `READY=1` with prog's pid and no fd, then
/// `BARRIER=1` with one fd. Returns the pid announced and the barrier fd, which the
/// caller closes (or holds) to end the watcher's wait.
pub fn expect_notification(l: &Listener) -> (i32, OwnedFd) {
    let (m, fds) = l.recv(30).expect("no READY datagram");
    assert!(fds.is_empty(), "fds with READY: {}", fds.len());
    let text = String::from_utf8(m).unwrap();
    let pid = text
        .strip_prefix("READY=1\nMAINPID=")
        .and_then(|r| r.strip_suffix('\n'))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("not a READY datagram: {text:?}"));
    assert_eq!(text.as_bytes(), ready_message(pid));
    let (m, mut fds) = l.recv(30).expect("no BARRIER datagram");
    assert_eq!(m, b"BARRIER=1\n");
    assert_eq!(fds.len(), 1, "BARRIER must carry exactly one fd");
    (pid, fds.pop().unwrap())
}

// ---------------------------------------------------------------- socket-from-fd

/// The whole protocol with a filesystem NOTIFY_SOCKET: READY=1 and prog's real pid,
/// BARRIER=1 with one fd; closing it lets the (double-forked) watcher exit 0.
/// `NOTIFY_SOCKET` is removed from prog's environment.
#[test]
fn sfd_ready_barrier_then_exit_0() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("sfd");
    let l = Listener::at_path(&d.join("notify"));
    let mut case = Case::new(SFD, &["-d", "3", "-t", "30000"], &["write:3"]);
    case.notify = Some(&l.value);
    let mut child = case.spawn(&d);
    let (pid, barrier) = expect_notification(&l);
    drop(barrier);
    let s = seen(&wait_output(&mut child, 60, SFD));
    assert_eq!(pid, s.pid, "MAINPID is prog's pid");
    assert_eq!((s.watcher, s.env.as_str()), (Some(0), "-"), "{s:?}");
    assert_eq!(s.stderr, "");
}

/// An abstract `@name` is reached with the name's exact length, as systemd binds it
/// (s6 2.15.1.0 pads it and gets ECONNREFUSED: see differential/ipcnotify.rs). With
/// `-f` the watcher is prog's child, and prog reaps it.
#[test]
fn sfd_abstract_socket_single_fork() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("sfda");
    let l = Listener::at_abstract();
    let mut case = Case::new(SFD, &["-f", "-d", "4"], &["write:4"]);
    case.notify = Some(&l.value);
    let mut child = case.spawn(&d);
    let (pid, barrier) = expect_notification(&l);
    drop(barrier);
    let s = seen(&wait_output(&mut child, 60, SFD));
    assert_eq!(pid, s.pid);
    assert_eq!((s.watcher, s.main), (Some(0), Some(0)), "{s:?}");
}

/// Without `-d`, prog's stdout is the notification pipe.
#[test]
fn sfd_default_fd_is_stdout() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("sfd1");
    let l = Listener::at_path(&d.join("notify"));
    let mut case = Case::new(SFD, &["--timeout=30000"], &["write:1"]);
    case.notify = Some(&l.value);
    let mut child = case.spawn(&d);
    let (pid, barrier) = expect_notification(&l);
    drop(barrier);
    let s = seen(&wait_output(&mut child, 60, SFD));
    assert_eq!((pid, s.watcher), (s.pid, Some(0)));
}

/// `-k` keeps NOTIFY_SOCKET for prog.
#[test]
fn sfd_keep_environment() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("sfdk");
    let l = Listener::at_path(&d.join("notify"));
    let mut case = Case::new(SFD, &["-k", "-d", "3"], &["write:3"]);
    case.notify = Some(&l.value);
    let mut child = case.spawn(&d);
    drop(expect_notification(&l).1);
    let s = seen(&wait_output(&mut child, 60, SFD));
    assert_eq!((s.env.as_str(), s.watcher), (l.value.as_str(), Some(0)));
}

/// No newline before the deadline: nothing is sent, the watcher exits 99 silently.
#[test]
fn sfd_timeout_before_ready_is_99() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("sfdt");
    let l = Listener::at_path(&d.join("notify"));
    let mut case = Case::new(SFD, &["-d", "3", "-t", "200"], &[]);
    case.notify = Some(&l.value);
    let s = seen(&case.run(&d));
    assert_eq!((s.watcher, s.stderr.as_str()), (Some(99), ""), "{s:?}");
    l.assert_silent(0);
}

/// A supervisor that keeps the barrier fd open past the deadline: 99.
#[test]
fn sfd_barrier_held_past_deadline_is_99() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("sfdb");
    let l = Listener::at_path(&d.join("notify"));
    let mut case = Case::new(SFD, &["-d", "3", "-t", "1000"], &["write:3"]);
    case.notify = Some(&l.value);
    let mut child = case.spawn(&d);
    let (_, barrier) = expect_notification(&l);
    let s = seen(&wait_output(&mut child, 60, SFD));
    drop(barrier);
    assert_eq!(s.watcher, Some(99), "{s:?}");
}

/// prog closes its end without a newline: end of file, the watcher exits 1 and sends
/// nothing. Bytes without a newline are not readiness either.
#[test]
fn sfd_eof_before_ready_is_1() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("sfde");
    let l = Listener::at_path(&d.join("notify"));
    let mut case = Case::new(SFD, &["-f", "-d", "3"], &["close:3"]);
    case.notify = Some(&l.value);
    let s = seen(&case.run(&d));
    assert_eq!((s.watcher, s.stderr.as_str()), (Some(1), ""), "{s:?}");
    l.assert_silent(0);
}

/// Without NOTIFY_SOCKET it is a plain exec: fd 3 stays what the caller gave, the
/// environment is untouched, no watcher is forked.
#[test]
fn sfd_without_notify_socket_is_plain_exec() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("sfdn");
    let f = d.join("fd3");
    let mut case = Case::new(SFD, &["-d", "3", "-t", "100"], &["write:3", "exit"]);
    case.fd3 = Some(&f);
    let s = seen(&case.run(&d));
    assert_eq!((s.main, s.watcher), (Some(0), None), "{s:?}");
    assert_eq!(s.env, "-");
    assert_eq!(
        std::fs::read(&f).unwrap(),
        b"\n",
        "fd 3 was the caller's file"
    );
}

/// A supervisor socket that is not there: the watcher says so (s6's words) and exits
/// 111.
#[test]
fn sfd_send_failure_is_111() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("sfdf");
    let none = d.join("none");
    let mut case = Case::new(SFD, &["-d", "3"], &["write:3"]);
    let v = none.to_str().unwrap().to_owned();
    case.notify = Some(&v);
    let s = seen(&case.run(&d));
    assert_eq!(s.watcher, Some(111));
    assert_eq!(
        s.stderr,
        format!(
            "{SFD} (child): fatal: unable to send notification message to {v}: No such file or directory\n"
        )
    );
}

// ---------------------------------------------------------------- fd-from-socket

/// prog gets `NOTIFY_SOCKET=@` and five hex digits, and not the notification fd; a
/// READY=1 line among others makes the watcher write one newline and exit 0.
#[test]
fn ffs_ready_writes_one_newline() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("ffs");
    let f = d.join("fd3");
    let actions = ["send:STATUS=starting\\n", "send:MAINPID=1\\nREADY=1\\n"];
    let mut case = Case::new(FFS, &["-3", "3"], &actions);
    case.fd3 = Some(&f);
    let s = seen(&case.run(&d));
    assert_eq!((s.watcher, s.stderr.as_str()), (Some(0), ""), "{s:?}");
    assert_eq!(std::fs::read(&f).unwrap(), b"\n");
    let name = s.env.strip_prefix('@').unwrap_or_else(|| panic!("{s:?}"));
    assert!(
        name.len() == 5 && name.bytes().all(|c| c.is_ascii_hexdigit()),
        "{s:?}"
    );
    assert!(
        !s.fds.split(' ').any(|f| f == "3"),
        "prog must not hold the notification fd: {s:?}"
    );
}

/// `sd_notify(0, "READY=1")` sends no newline: it is readiness all the same.
#[test]
fn ffs_bare_ready_counts() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("ffsb");
    let f = d.join("fd3");
    let mut case = Case::new(FFS, &["-f", "-3", "3"], &["send:READY=1"]);
    case.fd3 = Some(&f);
    let s = seen(&case.run(&d));
    assert_eq!(s.watcher, Some(0), "{s:?}");
    assert_eq!(std::fs::read(&f).unwrap(), b"\n");
}

/// A daemon using libsystemd's own `sd_notify` (python3-systemd, Debian's python):
/// READY=1 as systemd's client library sends it.
#[test]
fn ffs_libsystemd_sd_notify() {
    if !have("python3") {
        return;
    }
    let py = "/usr/bin/python3";
    let probe = Command::new(py)
        .args(["-c", "import systemd.daemon"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and python3-systemd is missing"
        );
        eprintln!("skipping: python3-systemd is not installed");
        return;
    }
    let d = Dir::new("ffsl");
    let f = d.join("fd3");
    let script = "import systemd.daemon, sys, time\n\
                  ok = systemd.daemon.notify('STATUS=up\\nREADY=1')\n\
                  print('sent', ok, file=sys.stderr, flush=True)\n\
                  time.sleep(600)\n";
    let daemon = [py, "-c", script];
    let mut case = Case::new(FFS, &["-3", "3", "-t", "60000"], &[]);
    case.fd3 = Some(&f);
    case.daemon = Some(&daemon);
    let out = case.run(&d);
    let s = seen(&out);
    assert!(out.err().contains("sent True\n"), "{}", out.err());
    assert_eq!(s.watcher, Some(0), "{s:?}");
    assert_eq!(std::fs::read(&f).unwrap(), b"\n");
}

/// The notification fd from `./notification-fd`, as in a service directory.
#[test]
fn ffs_reads_notification_fd_file() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("ffsn");
    std::fs::write(d.join("notification-fd"), "3\n").unwrap();
    let f = d.join("fd3");
    let mut case = Case::new(FFS, &[], &["send:READY=1\\n"]);
    case.fd3 = Some(&f);
    let s = seen(&case.run(&d));
    assert_eq!(s.watcher, Some(0), "{s:?}");
    assert_eq!(std::fs::read(&f).unwrap(), b"\n");
}

/// A regular file as the notification fd, and no READY=1: the watcher honours `-t`
/// (s6 2.15.1.0 spins past it: see differential/ipcnotify.rs).
#[test]
fn ffs_regular_file_timeout_is_99() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("ffst");
    let f = d.join("fd3");
    let mut case = Case::new(FFS, &["-3", "3", "-t", "300"], &["send:STATUS=x\\n"]);
    case.fd3 = Some(&f);
    let s = seen(&case.run(&d));
    assert_eq!(s.watcher, Some(99), "{s:?}");
    assert_eq!(
        s.stderr,
        format!("{FFS}: fatal: timed out waiting for notification\n")
    );
    assert_eq!(std::fs::read(&f).unwrap(), b"");
}

/// prog exits without READY=1: the watcher sees it (prog's pidfd) and exits 1, with no
/// timeout given, instead of waiting forever.
#[test]
fn ffs_prog_gone_unready_is_1() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("ffsg");
    let f = d.join("fd3");
    let mut case = Case::new(FFS, &["-3", "3"], &["exit"]);
    case.fd3 = Some(&f);
    let s = seen(&case.run(&d));
    assert_eq!((s.main, s.watcher), (Some(0), Some(1)), "{s:?}");
    assert_eq!(std::fs::read(&f).unwrap(), b"");
}

/// A caller that ignores SIGCHLD has its children reaped by the kernel: the double fork
/// must not take the middle child's vanished status for a failure.
#[test]
fn ffs_doublefork_with_sigchld_ignored() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("ffsc");
    let f = d.join("fd3");
    let mut case = Case::new(FFS, &["-3", "3"], &["send:READY=1\\n"]);
    case.fd3 = Some(&f);
    case.sigchld_ignored = true;
    let s = seen(&case.run(&d));
    assert_eq!((s.watcher, s.stderr.as_str()), (Some(0), ""), "{s:?}");
    assert_eq!(std::fs::read(&f).unwrap(), b"\n");
}

/// An fd sent with a datagram (`FDSTORE=1`, or an attacker filling our fd table) is not
/// kept: the watcher receives no control data, so the kernel closes it.
#[test]
fn ffs_fds_sent_to_the_socket_are_dropped() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("ffsd");
    let f = d.join("fd3");
    let mut case = Case::new(
        FFS,
        &["-3", "3", "-t", "60000"],
        &["sendfd", "send:READY=1"],
    );
    case.fd3 = Some(&f);
    let out = case.run(&d);
    let s = seen(&out);
    assert_eq!(s.watcher, Some(0), "{s:?}");
    assert!(out.err().contains("passed-fd closed\n"), "{}", out.err());
}

/// A service directory under a real s6-supervise (notification-fd 3, a pipe): the
/// daemon's READY=1 makes `s6-svwait -U` return.
#[test]
fn ffs_under_s6_supervise() {
    if !have("python3") || !have("s6-supervise") {
        return;
    }
    let d = Dir::new("ffss");
    let ready = supervised(&d, &bin(FFS), &["-t", "60000"], "READY=1\\n");
    assert!(ready.status.success(), "s6-svwait -U: {ready:?}");
}

/// A service `svc` in `d` whose run script execs `program args… prog.py send:MSG`, run by
/// s6-supervise; returns how `s6-svwait -U -t 20000` ended. The service is stopped
/// (s6-svc -dx) before returning.
pub fn supervised(d: &Dir, program: &Path, args: &[&str], msg: &str) -> Output {
    supervised_wait(d, program, args, msg, 20000)
}

pub fn supervised_wait(d: &Dir, program: &Path, args: &[&str], msg: &str, ms: u32) -> Output {
    let (_, prog) = scripts(d);
    let svc = d.join("svc");
    std::fs::create_dir(&svc).unwrap();
    std::fs::write(svc.join("notification-fd"), "3\n").unwrap();
    let q = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut line: Vec<String> = vec!["exec".into(), q(program.to_str().unwrap())];
    line.extend(args.iter().map(|a| q(a)));
    line.extend([
        "python3".into(),
        q(prog.to_str().unwrap()),
        q(&format!("send:{msg}")),
    ]);
    let run = svc.join("run");
    std::fs::write(&run, format!("#!/bin/sh\n{} 2>/dev/null\n", line.join(" "))).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755)).unwrap();
    let sup = Supervise::start(&svc);
    let wait = run_timeout(
        cmd(&[
            "s6-svwait",
            "-U",
            "-t",
            &ms.to_string(),
            svc.to_str().unwrap(),
        ]),
        60,
    );
    drop(sup);
    wait
}

/// s6-supervise on a service directory; stopped with `s6-svc -dx` (then killed) on drop.
pub struct Supervise {
    child: Child,
    dir: PathBuf,
}

impl Supervise {
    pub fn start(dir: &Path) -> Supervise {
        let child = Command::new("s6-supervise")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn s6-supervise");
        // s6-svwait needs supervise/ and its control fifo: wait for them.
        assert!(
            eventually(20, || dir.join("supervise/control").exists()),
            "s6-supervise did not start"
        );
        Supervise {
            child,
            dir: dir.to_owned(),
        }
    }
}

impl Drop for Supervise {
    fn drop(&mut self) {
        let _ = run_timeout(
            cmd(&[
                OsString::from("s6-svc"),
                "-dx".into(),
                self.dir.clone().into(),
            ]),
            20,
        );
        if wait_deadline(&mut self.child, 20).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
