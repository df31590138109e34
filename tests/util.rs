//! Test helpers: fresh short directories, the built binaries, commands with deadlines,
//! servers started with `-1` and killed on drop, and the real peers.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory for one test, short enough that `DIR/sock` fits in sun_path, and
/// traversable by uid 65534. Removed on drop.
pub struct Dir {
    pub path: PathBuf,
}

impl Dir {
    pub fn new(tag: &str) -> Dir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = PathBuf::from(format!("/tmp/ipct{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Dir { path }
    }

    pub fn join(&self, p: impl AsRef<Path>) -> PathBuf {
        self.path.join(p)
    }

    /// Names of the entries in the directory, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Path of one of our binaries (all are built into the same directory).
pub fn bin(name: &str) -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_ipcserver"))
        .parent()
        .unwrap()
        .join(name)
}

/// An s6 version the differential suite compares with: Debian's 2.11 (in /usr/bin) or
/// upstream's 2.15 (built by `.ci/run` into `target/s6-upstream/bin`, static, with
/// absolute paths).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum S6 {
    V2_11,
    V2_15,
}

impl S6 {
    /// The directory holding this version's programs.
    pub fn bin_dir(self) -> PathBuf {
        match self {
            S6::V2_11 => PathBuf::from("/usr/bin"),
            S6::V2_15 => match std::env::var_os("IPCTOOLS_S6_2_15") {
                Some(d) => PathBuf::from(d),
                None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/s6-upstream/bin"),
            },
        }
    }

    /// `2.11` or `2.15`, for messages.
    pub fn name(self) -> &'static str {
        match self {
            S6::V2_11 => "2.11",
            S6::V2_15 => "2.15",
        }
    }
}

thread_local! {
    /// The version the running row compares with (each row runs in its own thread).
    static PEER: std::cell::Cell<Option<S6>> = const { std::cell::Cell::new(None) };
}

/// Run `f` as a row comparing with s6 `v`: inside it, `s6`, `have`, `peer_path` and the
/// differential runners resolve `s6-*` names in `v`'s directory.
pub fn with_peer<R>(v: S6, f: impl FnOnce() -> R) -> R {
    PEER.with(|p| p.set(Some(v)));
    let r = f();
    PEER.with(|p| p.set(None));
    r
}

/// The s6 version of the running row, if the test is a row (see `with_peer`).
pub fn peer() -> Option<S6> {
    PEER.with(|p| p.get())
}

/// Whether the running row compares with s6 `v`.
pub fn peer_is(v: S6) -> bool {
    peer() == Some(v)
}

/// The program to run for s6 program `name`: its absolute path in the running row's
/// version, or the bare name (found in PATH, i.e. Debian's 2.11) outside a row.
pub fn s6(name: &str) -> std::ffi::OsString {
    match peer() {
        Some(v) if name.starts_with("s6-") => v.bin_dir().join(name).into_os_string(),
        _ => name.into(),
    }
}

/// PATH with the running row's s6 directory first (2.15's front-ends must find 2.15's
/// daemons and helpers, never Debian's), for every command a row starts.
pub fn peer_path() -> std::ffi::OsString {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = peer().map(S6::bin_dir).into_iter().collect();
    dirs.extend(std::env::split_paths(&rest));
    std::env::join_paths(dirs).unwrap_or(rest)
}

/// Whether a peer program is installed (for `s6-*` in a row: in that row's version's
/// directory). Outside CI a missing peer skips the test; with `CI=true` it fails it.
pub fn have(prog: &str) -> bool {
    let found = match peer() {
        Some(v) if prog.starts_with("s6-") => v.bin_dir().join(prog).is_file(),
        _ => std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(prog).is_file()))
            .unwrap_or(false),
    };
    if !found {
        let prog = match peer() {
            Some(v) if prog.starts_with("s6-") => format!("{prog} {}", v.name()),
            _ => prog.to_string(),
        };
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("peer {prog} is not installed (CI=true: a missing peer is a failure)");
        }
        eprintln!("skipping: peer {prog} is not installed");
    }
    found
}

/// A command run as uid/gid 65534 with no supplementary groups.
pub fn as_nobody<S: AsRef<OsStr>>(argv: &[S]) -> Command {
    as_user(65534, argv)
}

/// A command run as uid `id` and gid `id` with no supplementary groups.
pub fn as_user<S: AsRef<OsStr>>(id: u32, argv: &[S]) -> Command {
    let id = id.to_string();
    let mut c = Command::new("setpriv");
    c.args(["--reuid", &id, "--regid", &id, "--clear-groups", "--"]);
    c.args(argv);
    c
}

pub fn cmd<S: AsRef<OsStr>>(argv: &[S]) -> Command {
    let mut c = Command::new(argv[0].as_ref());
    c.args(&argv[1..]);
    c
}

/// Run with stdin closed, collecting output, killed after `secs` seconds.
pub fn run_timeout(mut c: Command, secs: u64) -> Output {
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let desc = format!("{c:?}");
    let mut child = c.spawn().unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
    wait_output(&mut child, secs, &desc)
}

/// Collect a child's output, killing it after `secs` seconds (and failing the test).
pub fn wait_output(child: &mut Child, secs: u64, desc: &str) -> Output {
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let to = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_end(&mut v);
        }
        v
    });
    let te = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_end(&mut v);
        }
        v
    });
    let status = wait_deadline(child, secs).unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!("timed out after {secs}s: {desc}")
    });
    Output {
        status,
        stdout: to.join().unwrap(),
        stderr: te.join().unwrap(),
    }
}

pub fn wait_deadline(child: &mut Child, secs: u64) -> Option<ExitStatus> {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        if Instant::now() > end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Assertions on a finished command, printing everything on failure (ripgrep style).
pub trait OutputExt {
    fn code(&self) -> Option<i32>;
    fn out(&self) -> String;
    fn err(&self) -> String;
    fn assert_code(&self, code: i32) -> &Self;
}

impl OutputExt for Output {
    fn code(&self) -> Option<i32> {
        self.status.code()
    }
    fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.status.code(),
            Some(code),
            "\nstatus: {:?}\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.out(),
            self.err()
        );
        self
    }
}

/// A running server, started with a readiness option and killed (SIGKILL) on drop.
pub struct Server {
    pub child: Child,
    pub ready_line: String,
    /// The server's stderr goes to this file, not a pipe: handlers inherit stderr, and a
    /// pipe would stay open as long as any of them lives.
    pub log_path: PathBuf,
}

impl Server {
    /// Spawn `c` (which must write a readiness line to stdout, e.g. with `-1`), and
    /// return once that line has arrived. stderr is captured for `stop_log`.
    pub fn start(mut c: Command) -> Server {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let log_path = PathBuf::from(format!("/tmp/ipct{}-{n}.log", std::process::id()));
        let log = std::fs::File::create(&log_path).unwrap();
        c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(log);
        let desc = format!("{c:?}");
        let mut child = c.spawn().unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) if !line.is_empty() => Server {
                child,
                ready_line: line,
                log_path,
            },
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                let _ = std::fs::remove_file(&log_path);
                panic!("server never became ready: {desc}\nstderr:\n{log}");
            }
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, sig: i32) {
        unsafe_kill(self.pid(), sig);
    }

    /// Send `sig`, wait for the exit, and return its status and everything it logged
    /// (as stderr; stdout is empty).
    pub fn stop_with(mut self, sig: i32) -> Output {
        self.signal(sig);
        let status = wait_deadline(&mut self.child, 10).expect("server did not exit");
        Output {
            status,
            stdout: Vec::new(),
            stderr: self.log().into_bytes(),
        }
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Number of open fds of the server process.
    pub fn fd_count(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .unwrap()
            .count()
    }

    /// Children of the server process, from /proc.
    pub fn children(&self) -> Vec<i32> {
        children_of(self.pid())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log_path);
    }
}

pub fn children_of(pid: i32) -> Vec<i32> {
    let p = format!("/proc/{pid}/task/{pid}/children");
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// State letter of a process (`Z` for a zombie), if it exists.
pub fn proc_state(pid: i32) -> Option<char> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = s.rsplit_once(") ")?.1;
    after.chars().next()
}

pub fn unsafe_kill(pid: i32, sig: i32) {
    let pid = rustix::process::Pid::from_raw(pid).unwrap();
    let sig = rustix::process::Signal::from_named_raw(sig).unwrap();
    let _ = rustix::process::kill_process(pid, sig);
}

/// Poll `f` every 10 ms until it is true or `secs` pass.
pub fn eventually(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    f()
}

/// Parse `NAME=value` lines (as printed by `env`) into pairs for the names starting
/// with one of `prefixes`, sorted.
pub fn env_lines(out: &str, prefixes: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = out
        .lines()
        .filter(|l| prefixes.iter().any(|p| l.starts_with(p)))
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// `ipcserver ARGS -1 PATH PROG…`, started and waited for (see `Server::start`).
pub fn server(args: &[&str], path: &Path, prog: &[&str]) -> Server {
    let mut c = Command::new(bin("ipcserver"));
    c.args(args).arg("-1").arg(path).args(prog);
    Server::start(c)
}

/// `ipcserver -1 PATH sh -c SCRIPT`, started and waited for.
pub fn sh_server(path: &Path, script: &str) -> Server {
    server(&[], path, &["sh", "-c", script])
}

/// A client connection to `path`, whose reads give up after 10 seconds.
pub fn connect(path: &Path) -> UnixStream {
    let s = UnixStream::connect(path).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// `f()` again while it fails with EINTR. Some tests run ipccore in this process, which
/// installs signal handlers, and a socket call with a timeout then fails with EINTR
/// instead of restarting (signal(7)).
pub fn no_intr<T>(mut f: impl FnMut() -> rustix::io::Result<T>) -> rustix::io::Result<T> {
    loop {
        match f() {
            Err(rustix::io::Errno::INTR) => continue,
            r => return r,
        }
    }
}

/// A Unix socket as /proc/net/unix lists it.
pub struct UnixSocketEntry {
    /// `SOCK_STREAM` 1, `SOCK_DGRAM` 2, `SOCK_SEQPACKET` 5.
    pub ty: u32,
    /// Whether it listens (flag `__SO_ACCEPTCON`).
    pub listening: bool,
    /// Its inode number, as in a `socket:[N]` link.
    pub inode: String,
    /// The name it is bound to, empty if none.
    pub path: String,
}

/// Every Unix socket of the system, from /proc/net/unix (empty if unreadable).
pub fn unix_sockets() -> Vec<UnixSocketEntry> {
    let table = std::fs::read_to_string("/proc/net/unix").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let flags = u32::from_str_radix(f.get(3)?, 16).ok()?;
            Some(UnixSocketEntry {
                ty: u32::from_str_radix(f.get(4)?, 16).ok()?,
                listening: flags & 0x1_0000 != 0,
                inode: f.get(6)?.to_string(),
                path: f.get(7..).map(|p| p.join(" ")).unwrap_or_default(),
            })
        })
        .collect()
}

/// Whether a socket bound at `path` is listening: a server binds, then listens, so the
/// file alone says nothing. Makes no connection, so the server logs nothing for it.
pub fn listening(path: &Path) -> bool {
    let want = path.as_os_str().to_string_lossy();
    unix_sockets().iter().any(|e| e.listening && e.path == want)
}

/// One `read`, again while it fails with EINTR (see [`no_intr`]): what a test asserts
/// about a read must not be a signal that hit this process meanwhile.
pub fn read_once(s: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match s.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// A fresh unbound, unconnected unix socket of type `ty`, CLOEXEC (so that it reaches
/// no program another test spawns in parallel).
pub fn unix_socket(ty: rustix::net::SocketType) -> rustix::fd::OwnedFd {
    use rustix::net::{AddressFamily, SocketFlags};
    rustix::net::socket_with(AddressFamily::UNIX, ty, SocketFlags::CLOEXEC, None).unwrap()
}

/// Everything the peer sends until it closes.
/// A client bound to its own socket path `from` (so the handler's `IPCREMOTEPATH` names
/// this very connection: any bytes), connected to `to`, with a 30 s read timeout.
pub fn connect_from(from: &Path, to: &Path) -> UnixStream {
    use rustix::net::{SocketAddrUnix, SocketType};
    let s = unix_socket(SocketType::STREAM);
    rustix::net::bind(&s, &SocketAddrUnix::new(from).unwrap()).unwrap();
    rustix::net::connect(&s, &SocketAddrUnix::new(to).unwrap()).unwrap();
    let s = UnixStream::from(s);
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    s
}

pub fn read_all(s: &mut UnixStream) -> Vec<u8> {
    let mut v = Vec::new();
    s.read_to_end(&mut v).unwrap();
    v
}

/// Everything the peer sends until it closes, as text.
pub fn read_string(s: &mut UnixStream) -> String {
    let mut v = String::new();
    s.read_to_string(&mut v).unwrap();
    v
}

/// A xorshift64 generator (shifts 13, 7, 17): repeatable pseudo-random numbers for
/// generated cases, with no crate. `seed` must not be 0.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// PATH with the directory of our built programs first, for scripts that name them.
pub fn path_with_our_bins() -> String {
    let ours = bin("ipcserver").parent().unwrap().display().to_string();
    format!("{ours}:{}", std::env::var("PATH").unwrap_or_default())
}

/// `npt-mkfifodir DIR/NAME`, which must succeed; returns the fifodir's path.
pub fn mkfifodir(d: &Dir, name: &str) -> PathBuf {
    let p = d.join(name);
    run_timeout(cmd(&[bin("npt-mkfifodir").as_os_str(), p.as_os_str()]), 10).assert_code(0);
    p
}

/// Creates `dir` and, below it, each `(path, content)` of `tree`: a path ending in `/`
/// is a directory, any other a file (its parents made as needed).
pub fn write_tree<C: AsRef<[u8]>>(dir: &Path, tree: &[(&str, C)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (p, content) in tree {
        let path = dir.join(p);
        if p.ends_with('/') {
            std::fs::create_dir_all(&path).unwrap();
        } else {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, content).unwrap();
        }
    }
}

/// Send `data` with `fds` attached (SCM_RIGHTS, at most 32), as a client would, whole.
pub fn send_fds(s: &UnixStream, data: &[u8], fds: &[rustix::fd::BorrowedFd<'_>]) {
    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
    let mut space = [std::mem::MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(32))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() {
        assert!(control.push(SendAncillaryMessage::ScmRights(fds)));
    }
    let n = rustix::net::sendmsg(
        s,
        &[std::io::IoSlice::new(data)],
        &mut control,
        SendFlags::NOSIGNAL,
    )
    .unwrap();
    assert_eq!(n, data.len());
}

/// A pipe, CLOEXEC: this process runs tests in parallel threads, and an inheritable fd
/// would leak into every program another test spawns meanwhile.
pub fn pipe() -> (rustix::fd::OwnedFd, rustix::fd::OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap()
}

/// The CPU time (user + system, in clock ticks) process `pid` has used; 0 once it is
/// gone.
pub fn cpu_ticks(pid: i32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = s.rsplit_once(") ").map(|x| x.1).unwrap_or("");
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)
}
