//! Tests: every socket we create carries its real name, and nobody else can stop a start.
//! Real consumers read the name: Python's getsockname/getpeername, the handler itself,
//! `ss -xl`, python3-systemd's `is_socket_unix`, s6-ipcserver-access, gunicorn.

use crate::util::*;
use std::ffi::OsStr;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The interpreter that has python3-systemd (the `python3` in PATH may not).
const PY: &str = "/usr/bin/python3";

/// Hold an inode open (`O_PATH`), so that a file created after it is removed cannot
/// get its number back and pass for it.
pub fn hold_inode(p: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_NOFOLLOW)
        .open(p)
        .unwrap()
}

/// A second uid calling connect() on PATH in a loop until a stop file appears, counting
/// what the kernel said.
pub struct Hammer {
    child: Child,
    stop: PathBuf,
}

/// What a [`Hammer`] saw: connects refused by the permission check, attempts when PATH
/// was absent, and attempts that got past the permission check (connected, or refused
/// later for another reason: not listening, wrong socket type).
#[derive(Debug)]
#[allow(dead_code)] // `absent` is shown by Debug in failure messages
pub struct Hammered {
    pub denied: u64,
    pub absent: u64,
    pub got_in: u64,
}

impl Hammered {
    /// Nobody got in, and the hammer did reach the socket while it existed.
    pub fn assert_never_in(&self) {
        assert_eq!(self.got_in, 0, "a second uid got past the mode: {self:?}");
        assert!(self.denied > 0, "the hammer never met the socket: {self:?}");
    }
}

const HAMMER: &str = r#"
use strict; use Socket; use Errno;
my ($p, $stop) = @ARGV; my ($d, $a, $in) = (0, 0, 0);
print "go\n"; STDOUT->flush;
until (-e $stop) {
    socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
    if (connect($s, pack_sockaddr_un($p))) { $in++ }
    elsif ($!{EACCES}) { $d++ } elsif ($!{ENOENT}) { $a++ } else { $in++ }
    close $s;
}
print "$d $a $in\n";
"#;

impl Hammer {
    pub fn start(uid: u32, path: &Path, stop: &Path) -> Hammer {
        let _ = std::fs::remove_file(stop);
        let mut c = as_user(uid, &["perl", "-e", HAMMER]);
        c.arg(path)
            .arg(stop)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut out = child.stdout.take().unwrap();
        let mut go = [0u8; 3];
        std::io::Read::read_exact(&mut out, &mut go).unwrap();
        child.stdout = Some(out);
        Hammer {
            child,
            stop: stop.to_path_buf(),
        }
    }

    pub fn finish(mut self) -> Hammered {
        std::fs::write(&self.stop, b"").unwrap();
        let out = wait_output(&mut self.child, 20, "hammer");
        let _ = std::fs::remove_file(&self.stop);
        let n: Vec<u64> = out
            .out()
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect();
        assert_eq!(n.len(), 3, "hammer: {} {}", out.out(), out.err());
        Hammered {
            denied: n[0],
            absent: n[1],
            got_in: n[2],
        }
    }
}

fn py_available(modules: &str) -> bool {
    let ok = Command::new(PY)
        .args(["-c", &format!("import {modules}")])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{PY} cannot import {modules} (CI=true: a missing peer is a failure)");
        }
        eprintln!("skipping: {PY} cannot import {modules}");
    }
    ok
}

/// Connect from Python, print getpeername() and what the handler wrote.
fn python_peer(path: &Path) -> String {
    let script = "import socket,sys\n\
        s=socket.socket(socket.AF_UNIX)\n\
        s.settimeout(10)\n\
        s.connect(sys.argv[1])\n\
        print('peer', s.getpeername())\n\
        d=b''\n\
        while True:\n    c=s.recv(4096)\n    if not c: break\n    d+=c\n\
        sys.stdout.write(d.decode())\n";
    let mut c = Command::new(PY);
    c.args(["-c", script]).arg(path);
    let out = run_timeout(c, 20);
    out.assert_code(0);
    out.out()
}

/// The handler prints getsockname() of its connection (fd 0) and of nothing else.
const HANDLER_SOCKNAME: &str =
    "import socket; print('handler', socket.socket(fileno=0).getsockname())";

#[test]
fn getsockname_and_getpeername_are_path_for_python_and_the_handler() {
    if !py_available("socket") {
        return;
    }
    // A root-owned 0755 directory, a sticky 01777 one, and a relative path.
    let d = Dir::new("names");
    let sticky = d.join("tmp");
    std::fs::create_dir(&sticky).unwrap();
    std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o1777)).unwrap();
    for p in [d.join("plain.sock"), sticky.join("sticky.sock")] {
        let _srv = server(&[], &p, &[PY, "-c", HANDLER_SOCKNAME]);
        let sp = p.display().to_string();
        assert_eq!(
            python_peer(&p),
            format!("peer {sp}\nhandler {sp}\n"),
            "{sp}"
        );
    }
    let mut c = Command::new(bin("ipcserver"));
    c.current_dir(&d.path)
        .args(["-1", "rel.sock", PY, "-c", HANDLER_SOCKNAME]);
    let _srv = Server::start(c);
    assert_eq!(
        python_peer(&d.join("rel.sock")),
        "peer rel.sock\nhandler rel.sock\n"
    );
}

/// A directory others may change (plain 0777): the private-directory method, which
/// records `/proc/self/fd/N/BASENAME` (documented in ipcserver(1) SECURITY).
#[test]
fn a_directory_others_may_change_records_the_documented_alias() {
    if !py_available("socket") {
        return;
    }
    let d = Dir::new("names777");
    std::fs::set_permissions(&d.path, std::fs::Permissions::from_mode(0o777)).unwrap();
    let p = d.join("open.sock");
    let _srv = server(&[], &p, &[PY, "-c", HANDLER_SOCKNAME]);
    let out = python_peer(&p);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for (l, who) in lines.iter().zip(["peer", "handler"]) {
        let name = l
            .strip_prefix(&format!("{who} /proc/self/fd/"))
            .unwrap_or("");
        let (n, base) = name.split_once('/').unwrap_or(("", ""));
        assert!(
            n.parse::<u32>().is_ok() && base == "open.sock",
            "{who}: {l}"
        );
    }
}

fn ss_listening() -> String {
    let out = run_timeout(cmd(&["ss", "-xlH"]), 10);
    out.assert_code(0);
    out.out()
}

#[test]
fn ss_lists_path_for_ipcserver_and_each_listener() {
    if !have("ss") {
        return;
    }
    let d = Dir::new("ss");
    let mut servers = Vec::new();
    let p = d.join("ipcserver.sock");
    servers.push(server(&[], &p, &["true"]));
    for tool in [
        "local-stream-socket-listen",
        "local-seqpacket-socket-listen",
        "local-datagram-socket-listen",
    ] {
        let mut c = Command::new(bin(tool));
        c.arg(d.join(format!("{tool}.sock")))
            .args(["sh", "-c", "echo ready; exec sleep 60"]);
        servers.push(Server::start(c));
    }
    let ss = ss_listening();
    for name in [
        "ipcserver",
        "local-stream-socket-listen",
        "local-seqpacket-socket-listen",
        "local-datagram-socket-listen",
    ] {
        let want = format!(" {}/{name}.sock ", d.path.display());
        // ss -l shows datagram sockets (UNCONN) too.
        assert!(ss.contains(&want), "{want:?} not in ss -xl:\n{ss}");
    }
}

/// `sd_is_socket_unix(3, type, listening, PATH, 0)` (python3-systemd) accepts the socket
/// each listener hands over.
#[test]
fn python_systemd_is_socket_unix_behind_each_listener() {
    if !py_available("systemd.daemon") {
        return;
    }
    let d = Dir::new("sdpath");
    for (tool, ty, listening) in [
        ("local-stream-socket-listen", "socket.SOCK_STREAM", "1"),
        (
            "local-seqpacket-socket-listen",
            "socket.SOCK_SEQPACKET",
            "1",
        ),
        ("local-datagram-socket-listen", "socket.SOCK_DGRAM", "0"),
    ] {
        let p = d.join(format!("{tool}.sock"));
        let script = format!(
            "import socket,sys\n\
             from systemd import daemon\n\
             fds = daemon.listen_fds()\n\
             print(fds, daemon.is_socket_unix(3, {ty}, {listening}, path=sys.argv[1]), \
             daemon.is_socket_unix(3, path=sys.argv[1]))"
        );
        let mut c = Command::new(bin(tool));
        c.arg("--systemd-compatibility")
            .arg(&p)
            .args([PY, "-c", &script])
            .arg(&p);
        let out = run_timeout(c, 20);
        out.assert_code(0);
        assert_eq!(out.out(), "[3] True True\n", "{tool}: {}", out.err());
    }
}

/// s6-ipcserver-access sets IPCLOCALPATH from getsockname; ipcserver-access does too
/// when it inherits none (behind a listener and ipcserverd).
#[test]
fn access_programs_see_the_real_ipclocalpath() {
    let d = Dir::new("acc");
    let rules = d.join("rules");
    std::fs::create_dir_all(rules.join("uid/0")).unwrap();
    std::fs::write(rules.join("uid/0/allow"), b"").unwrap();
    let r = rules.to_str().unwrap();
    let show = ["sh", "-c", "echo \"local=$IPCLOCALPATH\""];
    let read = |p: &Path| {
        let mut s = std::os::unix::net::UnixStream::connect(p).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut v = String::new();
        std::io::Read::read_to_string(&mut s, &mut v).unwrap();
        v
    };
    if have("s6-ipcserver-access") {
        let p = d.join("s6.sock");
        let mut prog = vec!["s6-ipcserver-access", "-i", r];
        prog.extend(show);
        let _srv = server(&[], &p, &prog);
        assert_eq!(read(&p), format!("local={}\n", p.display()));
    }
    let p = d.join("ours.sock");
    let mut c = Command::new(bin("local-stream-socket-listen"));
    c.arg("--systemd-compatibility")
        .arg(&p)
        .arg(bin("ipcserverd"))
        .args(["-1", bin("ipcserver-access").to_str().unwrap(), "-i", r])
        .args(show);
    let _srv = Server::start(c);
    assert_eq!(read(&p), format!("local={}\n", p.display()));
}

/// gunicorn behind local-stream-socket-listen (socket activation through LISTEN_FDS, as
/// under systemd) logs the real path, and serves on it.
#[test]
fn gunicorn_logs_the_real_path() {
    if !have("gunicorn") || !have("curl") {
        return;
    }
    let d = Dir::new("gunicorn");
    std::fs::write(
        d.join("app.py"),
        "def app(environ, start_response):\n    \
         start_response('200 OK', [('Content-Type', 'text/plain')])\n    \
         return [b'hello from gunicorn\\n']\n",
    )
    .unwrap();
    let p = d.join("gu.sock");
    let log = d.join("gu.log");
    let mut c = Command::new(bin("local-stream-socket-listen"));
    c.args(["--systemd-compatibility", "--mode", "0600"])
        .arg(&p)
        .args(["/usr/bin/gunicorn", "--chdir"])
        .arg(&d.path)
        .args(["-w", "1", "--error-logfile"])
        .arg(&log)
        .arg("app:app")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    let want = format!("Listening at: unix:{}", p.display());
    let seen = eventually(20, || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(&want)
    });
    let curl = if seen {
        let mut k = Command::new("curl");
        k.args(["-sS", "--max-time", "10", "--unix-socket"])
            .arg(&p)
            .arg("http://x/");
        Some(run_timeout(k, 20))
    } else {
        None
    };
    unsafe_kill(child.id() as i32, libc::SIGTERM);
    let _ = wait_deadline(&mut child, 20);
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(seen, "{want:?} not in the log:\n{logged}");
    let curl = curl.unwrap();
    curl.assert_code(0);
    assert_eq!(curl.out(), "hello from gunicorn\n");
}

/// `ipcclient -p PATH`: the server sees the client's address as PATH.
#[test]
fn ipcclient_bind_path_is_the_real_name() {
    let d = Dir::new("clbind");
    let p = d.join("srv.sock");
    let _srv = server(&[], &p, &["sh", "-c", "echo \"remote=$IPCREMOTEPATH\""]);
    let cl = d.join("client.sock");
    let mut c = Command::new(bin("ipcclient"));
    c.arg("-p")
        .arg(&cl)
        .arg(&p)
        .args(["sh", "-c", "echo \"local=$IPCLOCALPATH\"; cat <&6"]);
    let out = run_timeout(c, 10);
    out.assert_code(0);
    let cs = cl.display();
    assert_eq!(out.out(), format!("local={cs}\nremote={cs}\n"));
}

/// V3 of the attack review: uid 65534 holding flock on the socket's directory (and on
/// a lock file of its own under our lock name, in a sticky directory) stops no start.
#[test]
fn another_uid_holding_flock_on_the_directory_does_not_stop_a_start() {
    if !have("flock") {
        return;
    }
    let d = Dir::new("flock");
    let sticky = d.join("tmp");
    std::fs::create_dir(&sticky).unwrap();
    std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o1777)).unwrap();
    // The lock name of sticky/t.sock, made and held by the other uid.
    let squat = sticky.join(".ipcs-lock.t.sock");
    // Each holder (setpriv → flock → its sleep child) in a process group of its own,
    // with no stdio of ours: the whole group is killed on drop, even if an assertion
    // fails, so no sleep outlives the test holding the test runner's output pipe.
    let hold = |p: &Path| {
        let mut c = as_nobody(&[OsStr::new("flock"), OsStr::new("-x"), p.as_os_str()]);
        c.args(["sleep", "600"])
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c.spawn().unwrap()
    };
    let holders = Holders(vec![hold(&d.path), hold(&sticky), hold(&squat)]);
    assert!(
        eventually(10, || {
            let locks = std::fs::read_to_string("/proc/locks").unwrap_or_default();
            [&d.path, &sticky, &squat].iter().all(|p| {
                let ino = std::fs::metadata(p).map(|m| m.ino()).unwrap_or(0);
                locks.contains(&format!(":{ino} "))
            })
        }),
        "the other uid never held its locks"
    );
    let cases: Vec<(PathBuf, &str)> = vec![
        (d.join("a.sock"), "ipcserver"),
        (d.join("b.sock"), "local-stream-socket-listen"),
        (sticky.join("t.sock"), "ipcserver"),
        (sticky.join("u.sock"), "local-seqpacket-socket-listen"),
    ];
    for (p, tool) in &cases {
        let mut c = Command::new(bin(tool));
        if *tool == "ipcserver" {
            c.arg("-1");
        }
        c.arg(p).args(["sh", "-c", "echo ready"]);
        let _srv = Server::start(c);
        assert!(
            std::fs::symlink_metadata(p)
                .unwrap()
                .file_type()
                .is_socket()
        );
    }
    // The squatted lock was left alone, and nothing else of ours is left behind.
    assert_eq!(std::fs::metadata(&squat).unwrap().uid(), 65534);
    drop(holders);
    let stray: Vec<String> = d
        .entries()
        .into_iter()
        .chain(
            std::fs::read_dir(&sticky)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned()),
        )
        .filter(|e| e.starts_with(".ipcs") && e != ".ipcs-lock.t.sock")
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

/// ipcclient reaches a seqpacket server (a seqpacket fallback beyond s6): ipcserverd behind
/// local-seqpacket-socket-listen, and socat's `UNIX-LISTEN:…,type=5`, with and without a
/// bindpath; the handler sees a seqpacket connection and the client's real name.
#[test]
fn ipcclient_reaches_seqpacket_servers() {
    let d = Dir::new("seqcl");
    let show = "import socket,os\n\
        s=socket.socket(fileno=0)\n\
        print('type', s.type == socket.SOCK_SEQPACKET, 'peer', repr(s.getpeername()))\n\
        s.detach()\n";
    let p = d.join("seq.sock");
    let mut c = Command::new(bin("local-seqpacket-socket-listen"));
    c.arg("--systemd-compatibility")
        .arg(&p)
        .arg(bin("ipcserverd"))
        .args(["-1", PY, "-c", show]);
    let _srv = Server::start(c);
    let client = |server: &Path, bind: Option<&Path>| {
        let mut c = Command::new(bin("ipcclient"));
        if let Some(b) = bind {
            c.arg("-p").arg(b);
        }
        c.arg(server).args(["sh", "-c", "cat <&6"]);
        let out = run_timeout(c, 20);
        out.assert_code(0);
        out.out()
    };
    assert_eq!(client(&p, None), "type True peer ''\n");
    let b = d.join("cl.sock");
    assert_eq!(
        client(&p, Some(&b)),
        format!("type True peer '{}'\n", b.display())
    );
    // The stream socket bound first was removed; only the seqpacket one's file is left.
    let names: Vec<String> = d.entries();
    assert_eq!(names.iter().filter(|n| n.starts_with("cl")).count(), 1);
    std::fs::remove_file(&b).unwrap();

    if !have("socat") {
        return;
    }
    let sp = d.join("socat.sock");
    let mut c = Command::new("socat");
    c.arg(format!("UNIX-LISTEN:{},type=5,fork", sp.display()))
        .arg("SYSTEM:echo seqpacket-from-socat")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut socat = c.spawn().unwrap();
    // socat binds, then listens: wait for the listen, not for the file.
    assert!(eventually(10, || listening(&sp)), "socat never listened");
    let got = client(&sp, None);
    let _ = socat.kill();
    let _ = socat.wait();
    assert_eq!(got, "seqpacket-from-socat\n");
}

/// ipcserver-socketbinder in front of the servers it is made for: s6-ipcserverd,
/// ipcserverd, and s6-fdholderd (which then stores and lists an fd).
#[test]
fn socketbinder_in_front_of_s6_ipcserverd_ipcserverd_and_s6_fdholderd() {
    let d = Dir::new("sbind");
    let hello = ["sh", "-c", "echo \"hello $IPCREMOTEEUID\""];
    let read = |p: &Path| {
        let mut s = std::os::unix::net::UnixStream::connect(p).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut v = String::new();
        std::io::Read::read_to_string(&mut s, &mut v).unwrap();
        v
    };
    let mut servers: Vec<(String, PathBuf)> = vec![("ipcserverd".into(), bin("ipcserverd"))];
    if have("s6-ipcserverd") {
        servers.push(("s6-ipcserverd".into(), "s6-ipcserverd".into()));
    }
    for (name, server) in servers {
        let p = d.join(format!("{name}.sock"));
        let mut c = Command::new(bin("ipcserver-socketbinder"));
        c.args(["-a", "0600"])
            .arg(&p)
            .arg(server)
            .arg("-1")
            .args(hello);
        let _srv = Server::start(c);
        assert_eq!(read(&p), "hello 0\n", "{name}");
        let m = std::fs::symlink_metadata(&p).unwrap();
        assert_eq!(m.mode() & 0o777, 0o600);
        if !have("socat") {
            continue;
        }
        let o = run_timeout(
            as_nobody(&["socat", "-u", &format!("UNIX-CONNECT:{}", p.display()), "-"]),
            10,
        );
        assert!(o.err().contains("Permission denied"), "{name}: {}", o.err());
    }
    if !have("s6-fdholderd") {
        return;
    }
    let rules = d.join("rules");
    std::fs::create_dir_all(rules.join("uid/0/env")).unwrap();
    std::fs::write(rules.join("uid/0/allow"), b"").unwrap();
    for v in [
        "S6_FDHOLDER_STORE_REGEX",
        "S6_FDHOLDER_RETRIEVE_REGEX",
        "S6_FDHOLDER_LIST",
    ] {
        std::fs::write(rules.join("uid/0/env").join(v), b".*\n").unwrap();
    }
    let p = d.join("fdh.sock");
    let mut c = Command::new(bin("ipcserver-socketbinder"));
    c.args(["-a", "0700"])
        .arg(&p)
        .args(["s6-fdholderd", "-1", "-i"])
        .arg(&rules);
    let _srv = Server::start(c);
    let mut store = Command::new("s6-fdholder-store");
    store.arg(&p).arg("unix:/stored/by/test");
    run_timeout(store, 10).assert_code(0);
    let mut list = Command::new("s6-fdholder-list");
    list.arg(&p);
    let out = run_timeout(list, 10);
    out.assert_code(0);
    assert_eq!(out.out(), "unix:/stored/by/test\n");
}

/// A PATH longer than sun_path (in a directory nobody else can change): the socket file
/// is at PATH, and the kernel records `/proc/self/fd/N/BASENAME`, as ipcserver(1)
/// SECURITY says.
#[test]
fn a_path_longer_than_sun_path_records_the_documented_alias() {
    if !py_available("socket") {
        return;
    }
    let d = Dir::new("namelong");
    let mut dir = d.path.clone();
    for i in 0..3 {
        dir = dir.join(format!("{i}{}", "d".repeat(40)));
    }
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("long.sock");
    assert!(p.as_os_str().len() > 107);
    let mut c = Command::new(bin("ipcserver"));
    c.arg("-1").arg(&p).args([PY, "-c", HANDLER_SOCKNAME]);
    let _srv = Server::start(c);
    assert!(
        std::fs::symlink_metadata(&p)
            .unwrap()
            .file_type()
            .is_socket()
    );
    let mut s = std::os::unix::net::UnixStream::connect(&p).unwrap_or_else(|_| {
        // std refuses paths over sun_path: connect through an O_PATH alias.
        let f = hold_inode(&p);
        let alias = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&f));
        std::os::unix::net::UnixStream::connect(alias).unwrap()
    });
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut v = String::new();
    std::io::Read::read_to_string(&mut s, &mut v).unwrap();
    let name = v
        .trim_end()
        .strip_prefix("handler /proc/self/fd/")
        .unwrap_or("");
    let (n, base) = name.split_once('/').unwrap_or(("", ""));
    assert!(n.parse::<u32>().is_ok() && base == "long.sock", "{v}");
}

/// uvicorn behind local-stream-socket-listen (`--fd 3`) names the real path.
#[test]
fn uvicorn_logs_the_real_path() {
    if !py_available("uvicorn") || !have("curl") {
        return;
    }
    let d = Dir::new("uvicorn");
    std::fs::write(
        d.join("asgi.py"),
        "async def app(scope, receive, send):\n    \
         await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n    \
         await send({'type': 'http.response.body', 'body': b'hello from uvicorn\\n'})\n",
    )
    .unwrap();
    let p = d.join("uv.sock");
    let log = d.join("uv.log");
    let logf = std::fs::File::create(&log).unwrap();
    let mut c = Command::new(bin("local-stream-socket-listen"));
    c.args(["--mode", "0600"])
        .arg(&p)
        .args([PY, "-m", "uvicorn", "--app-dir"])
        .arg(&d.path)
        .args(["--fd", "3", "asgi:app"])
        .stdin(Stdio::null())
        .stdout(logf.try_clone().unwrap())
        .stderr(logf);
    let mut child = c.spawn().unwrap();
    let want = format!("Uvicorn running on socket {}", p.display());
    let seen = eventually(20, || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(&want)
    });
    let curl = seen.then(|| {
        let mut k = Command::new("curl");
        k.args(["-sS", "--max-time", "10", "--unix-socket"])
            .arg(&p)
            .arg("http://x/");
        run_timeout(k, 20)
    });
    unsafe_kill(child.id() as i32, libc::SIGTERM);
    let _ = wait_deadline(&mut child, 20);
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(seen, "{want:?} not in the log:\n{logged}");
    let curl = curl.unwrap();
    curl.assert_code(0);
    assert_eq!(curl.out(), "hello from uvicorn\n");
}

/// Lock holders, each the leader of its own process group, killed group and all on drop.
struct Holders(Vec<Child>);

impl Drop for Holders {
    fn drop(&mut self) {
        for h in &mut self.0 {
            if let Some(pid) = rustix::process::Pid::from_raw(h.id() as i32) {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
            let _ = h.wait();
        }
    }
}
