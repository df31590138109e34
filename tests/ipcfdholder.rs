//! The fd holder: every mix of our daemon or s6-fdholderd with our clients or s6's,
//! the very same open file coming back, limits, bad input, and the worked example
//! under a real s6-svscan.

use crate::util::*;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Side {
    Ours,
    S6,
}

pub const SIDES: [Side; 2] = [Side::Ours, Side::S6];

/// The client program `name` (store, retrieve…) of one side.
pub fn prog(side: Side, name: &str) -> PathBuf {
    match side {
        Side::Ours => bin(&format!("ipcfdholder-{name}")),
        Side::S6 => PathBuf::from(s6(&format!("s6-fdholder-{name}"))),
    }
}

/// Whether s6's fdholder programs are there (a missing peer fails under CI=true).
pub fn have_s6() -> bool {
    have("s6-fdholderd") && have("s6-fdholder-store")
}

/// What a rule grants.
#[derive(Clone, Copy, Default)]
pub struct Grant<'a> {
    pub store: Option<&'a str>,
    pub retrieve: Option<&'a str>,
    pub list: bool,
    pub getdump: bool,
    pub setdump: bool,
}

pub const ALL: Grant<'static> = Grant {
    store: Some(""),
    retrieve: Some(""),
    list: true,
    getdump: true,
    setdump: true,
};

/// A rules directory granting `g` to `key` (`uid/0`, `uid/65534`…).
pub fn rules(dir: &Path, key: &str, g: Grant<'_>) {
    let base = dir.join(key);
    std::fs::create_dir_all(base.join("env")).unwrap();
    std::fs::write(base.join("allow"), "").unwrap();
    let env = base.join("env");
    let set = |name: &str, v: Option<&str>| {
        if let Some(v) = v {
            std::fs::write(env.join(name), format!("{v}\n")).unwrap();
        }
    };
    set("S6_FDHOLDER_STORE_REGEX", g.store);
    set("S6_FDHOLDER_RETRIEVE_REGEX", g.retrieve);
    set("S6_FDHOLDER_LIST", g.list.then_some(""));
    set("S6_FDHOLDER_GETDUMP", g.getdump.then_some(""));
    set("S6_FDHOLDER_SETDUMP", g.setdump.then_some(""));
}

/// Start a daemon of `side` on `sock` with `args` (before the path), waiting for `-1`.
pub fn daemon(side: Side, sock: &Path, args: &[&str]) -> Server {
    let p = match side {
        Side::Ours => bin("ipcfdholder-daemon"),
        Side::S6 => PathBuf::from(s6("s6-fdholder-daemon")),
    };
    let mut c = Command::new(p);
    c.arg("-1").args(args).arg(sock).env("PATH", peer_path());
    Server::start(c)
}

/// Run a client with `stdin` as its fd 0 (None: /dev/null).
pub fn client(
    side: Side,
    name: &str,
    args: &[&dyn AsRef<std::ffi::OsStr>],
    stdin: Option<OwnedFd>,
) -> Output {
    let mut c = Command::new(prog(side, name));
    for a in args {
        c.arg(a);
    }
    run_with(c, stdin)
}

pub fn run_with(mut c: Command, stdin: Option<OwnedFd>) -> Output {
    c.stdin(match stdin {
        Some(f) => Stdio::from(f),
        None => Stdio::null(),
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let desc = format!("{c:?}");
    let mut child = c.spawn().unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
    drop(c);
    wait_output(&mut child, 20, &desc)
}

/// A pipe, CLOEXEC: this process runs tests in parallel threads, and an inheritable fd
/// would leak into every program another test spawns meanwhile.
fn pipe() -> (OwnedFd, OwnedFd) {
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    (r, w)
}

fn read_with_timeout(fd: &OwnedFd, n: usize) -> Vec<u8> {
    let f = std::fs::File::from(fd.try_clone().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; n];
        let mut f = f;
        let r = f.read_exact(&mut buf).map(|()| buf);
        let _ = tx.send(r);
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("read timed out")
        .expect("read failed")
}

/// Message lines with the program name replaced, for comparing s6's and ours.
fn norm(o: &Output, side: Side, name: &str) -> String {
    let p = match side {
        Side::Ours => format!("ipcfdholder-{name}: "),
        Side::S6 => format!("s6-fdholder-{name}: "),
    };
    o.err().replace(&p, "PROG: ")
}

fn list(side: Side, sock: &Path) -> Vec<String> {
    let o = client(side, "list", &[&sock], None);
    o.assert_code(0);
    let mut v: Vec<String> = o.out().lines().map(str::to_string).collect();
    v.sort();
    v
}

/// Store, retrieve (the same pipe), retrieve -D, delete, list and every error code, for
/// one daemon and one client side.
fn one_mix(d: Side, cl: Side) {
    let dir = Dir::new("fdh-mix");
    rules(&dir.join("rules"), "uid/0", ALL);
    rules(
        &dir.join("rules"),
        "uid/65534",
        Grant {
            store: Some("^pub:"),
            retrieve: Some("^pub:"),
            ..Grant::default()
        },
    );
    let sock = dir.join("s");
    let rules_arg = dir.join("rules");
    let srv = daemon(d, &sock, &["-n", "3", "-i", rules_arg.to_str().unwrap()]);
    let what = format!("daemon {d:?}, client {cl:?}");

    // Store the write end of a pipe; we keep the read end.
    let (r, w) = pipe();
    client(cl, "store", &[&sock, &"pipe:a"], Some(w)).assert_code(0);
    assert_eq!(list(cl, &sock), vec!["pipe:a"], "{what}");
    // The very same pipe comes back: what the retriever writes, we read.
    let o = client(
        cl,
        "retrieve",
        &[&sock, &"pipe:a", &"sh", &"-c", &"printf hello >&0"],
        None,
    );
    o.assert_code(0);
    assert_eq!(read_with_timeout(&r, 5), b"hello", "{what}");

    // Busy identifier, missing identifier: s6's codes, s6's messages.
    let (_r2, w2) = pipe();
    let o = client(cl, "store", &[&sock, &"pipe:a"], Some(w2));
    o.assert_code(1);
    assert_eq!(
        norm(&o, cl, "store"),
        "PROG: fatal: unable to store fd: Device or resource busy\n",
        "{what}"
    );
    let o = client(cl, "retrieve", &[&sock, &"none", &"true"], None);
    o.assert_code(1);
    assert_eq!(
        norm(&o, cl, "retrieve"),
        "PROG: fatal: unable to retrieve fd for id none: No such file or directory\n",
        "{what}"
    );
    // An id with bytes that are not printable: we quote it escaped, s6 writes it raw
    // (ipcfdholder-retrieve(1) COMPATIBILITY).
    let odd = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"n\xff\x1b");
    let o = client(cl, "retrieve", &[&sock, &odd, &"true"], None);
    o.assert_code(1);
    let want: &[u8] = match cl {
        Side::Ours => b"PROG: fatal: unable to retrieve fd for id n\\xff\\x1b: No such",
        Side::S6 => b"PROG: fatal: unable to retrieve fd for id n\xff\x1b: No such",
    };
    let got = o.stderr.clone();
    let prefix = match cl {
        Side::Ours => &b"ipcfdholder-retrieve: "[..],
        Side::S6 => &b"s6-fdholder-retrieve: "[..],
    };
    let got = [b"PROG: ", got.strip_prefix(prefix).unwrap_or(&got)].concat();
    assert!(got.starts_with(want), "{what}: {:?}", o.err());
    let o = client(cl, "delete", &[&sock, &"none"], None);
    o.assert_code(1);
    assert!(
        norm(&o, cl, "delete").ends_with(": No such file or directory\n"),
        "{what}: {}",
        o.err()
    );

    // Permission denied by the rules (uid 65534 may only use pub:…).
    let nobody = |name: &str, args: &[&str]| {
        let mut argv: Vec<String> = vec![prog(cl, name).to_string_lossy().into_owned()];
        argv.extend(args.iter().map(|s| s.to_string()));
        run_with(as_nobody(&argv), None)
    };
    let s = sock.to_str().unwrap();
    let o = nobody("store", &[s, "priv:x"]);
    o.assert_code(1);
    assert_eq!(
        norm(&o, cl, "store"),
        "PROG: fatal: unable to store fd: Operation not permitted\n",
        "{what}"
    );
    nobody("store", &[s, "pub:x"]).assert_code(0);
    let o = nobody("retrieve", &[s, "pipe:a", "true"]);
    o.assert_code(1);
    assert!(
        o.err().ends_with("Operation not permitted\n"),
        "{what}: {}",
        o.err()
    );
    let o = nobody("list", &[s]);
    o.assert_code(1);
    assert_eq!(
        norm(&o, cl, "list"),
        "PROG: fatal: unable to get fd list: Operation not permitted\n",
        "{what}"
    );

    // Full: -n 3 holds pipe:a, pub:x and one more.
    client(cl, "store", &[&sock, &"third"], None).assert_code(0);
    let o = client(cl, "store", &[&sock, &"fourth"], None);
    o.assert_code(1);
    assert_eq!(
        norm(&o, cl, "store"),
        "PROG: fatal: unable to store fd: Too many open files in system\n",
        "{what}"
    );

    // Retrieve with -D: handed over, then forgotten; the pipe is still the same.
    let o = client(
        cl,
        "retrieve",
        &[&"-D", &sock, &"pipe:a", &"sh", &"-c", &"printf again >&0"],
        None,
    );
    o.assert_code(0);
    assert_eq!(read_with_timeout(&r, 5), b"again", "{what}");
    assert_eq!(list(cl, &sock), vec!["pub:x", "third"], "{what}");
    client(cl, "delete", &[&sock, &"third"], None).assert_code(0);
    client(cl, "delete", &[&sock, &"pub:x"], None).assert_code(0);
    assert!(list(cl, &sock).is_empty(), "{what}");
    // Nobody holds the write end any more: the pipe is at end of file.
    let mut f = std::fs::File::from(r);
    let mut rest = Vec::new();
    f.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    drop(srv);
}

#[test]
fn every_mix_store_retrieve_delete_list_and_error_codes() {
    if !have_s6() {
        return;
    }
    for d in SIDES {
        for cl in SIDES {
            one_mix(d, cl);
        }
    }
}

#[test]
fn ours_with_ours_without_s6() {
    one_mix(Side::Ours, Side::Ours);
}

/// getdump | setdump and transferdump between any two daemons, with either tools.
#[test]
fn dumps_and_transfers_every_mix() {
    let sides: Vec<Side> = if have_s6() {
        SIDES.to_vec()
    } else {
        vec![Side::Ours]
    };
    for &from in &sides {
        for &to in &sides {
            for &tool in &sides {
                let what = format!("from {from:?} to {to:?} with {tool:?}");
                let dir = Dir::new("fdh-dump");
                let rules_dir = dir.join("rules");
                rules(&rules_dir, "uid/0", ALL);
                let r = rules_dir.to_str().unwrap();
                let (a, b, c) = (dir.join("a"), dir.join("b"), dir.join("c"));
                let _sa = daemon(from, &a, &["-i", r]);
                let _sb = daemon(to, &b, &["-i", r]);
                let _sc = daemon(to, &c, &["-i", r]);
                let (rd, w) = pipe();
                client(tool, "store", &[&a, &"pipe"], Some(w)).assert_code(0);
                client(tool, "store", &[&"-T", &"100000", &a, &"timed"], None).assert_code(0);

                // getdump describes every fd; S6_FDLIMIT_i only for the one that expires.
                let o = client(tool, "getdump", &[&a, &"env"], None);
                o.assert_code(0);
                let env = env_lines(&o.out(), &["S6_FD"]);
                assert!(env.contains(&"S6_FD#=2".to_string()), "{what}: {env:?}");
                assert_eq!(
                    env.iter().filter(|l| l.starts_with("S6_FDLIMIT_")).count(),
                    1,
                    "{what}: {env:?}"
                );
                assert!(
                    env.iter()
                        .any(|l| l.starts_with("S6_FDLIMIT_") && l.contains("=@4000"))
                );

                client(tool, "transferdump", &[&a, &b], None).assert_code(0);
                assert_eq!(list(tool, &b), vec!["pipe", "timed"], "{what}");
                // getdump | setdump: the fds go through a program's environment.
                let mut cmd = Command::new(prog(tool, "getdump"));
                cmd.arg(&a).arg(prog(tool, "setdump")).arg(&c);
                run_with(cmd, None).assert_code(0);
                assert_eq!(list(tool, &c), vec!["pipe", "timed"], "{what}");
                // It is the same pipe in the third daemon.
                let o = client(
                    tool,
                    "retrieve",
                    &[&c, &"pipe", &"sh", &"-c", &"printf viac >&0"],
                    None,
                );
                o.assert_code(0);
                assert_eq!(read_with_timeout(&rd, 4), b"viac", "{what}");
            }
        }
    }
}

/// A stored listening socket comes back listening, with the clients that queued on it
/// while nobody was accepting.
#[test]
fn retrieved_listening_socket_accepts_queued_clients() {
    let dir = Dir::new("fdh-lis");
    rules(&dir.join("rules"), "uid/0", ALL);
    let sock = dir.join("s");
    let r = dir.join("rules");
    let _srv = daemon(Side::Ours, &sock, &["-i", r.to_str().unwrap()]);
    let svc = dir.join("svc");
    let l = UnixListener::bind(&svc).unwrap();
    let fd: OwnedFd = l.into();
    client(Side::Ours, "store", &[&sock, &"unix:svc"], Some(fd)).assert_code(0);
    // Nobody accepts now; the clients wait in the backlog of the held socket.
    let mut queued: Vec<UnixStream> = (0..3).map(|_| UnixStream::connect(&svc).unwrap()).collect();
    for (i, q) in queued.iter_mut().enumerate() {
        q.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        q.write_all(format!("{i}\n").as_bytes()).unwrap();
    }
    let mut c = Command::new(prog(Side::Ours, "retrieve"));
    c.arg(&sock)
        .arg("unix:svc")
        .arg(bin("ipcserverd"))
        .arg("-1")
        .args(["sh", "-c", "read x; echo got$x"]);
    let server = Server::start(c);
    for (i, q) in queued.iter_mut().enumerate() {
        let mut s = String::new();
        q.read_to_string(&mut s).unwrap();
        assert_eq!(s, format!("got{i}\n"));
    }
    drop(server);
}

/// A raw connection to a daemon, for malformed input.
fn raw(sock: &Path) -> UnixStream {
    let s = UnixStream::connect(sock).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Whether the daemon closed the connection (read gives end of file or reset).
fn closed_by_peer(s: &mut UnixStream) -> bool {
    let mut b = [0u8; 64];
    matches!(read_once(s, &mut b), Ok(0) | Err(_))
}

fn frame(data: &[u8], nfds: u16) -> Vec<u8> {
    let mut v = (data.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(&nfds.to_be_bytes());
    v.extend_from_slice(data);
    v
}

/// Send bytes with fds attached (SCM_RIGHTS), as a client would.
fn send_fds(s: &UnixStream, bytes: &[u8], fds: &[&OwnedFd]) {
    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
    let b: Vec<rustix::fd::BorrowedFd<'_>> =
        fds.iter().map(|f| rustix::fd::AsFd::as_fd(*f)).collect();
    let mut space = [std::mem::MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(4))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    assert!(control.push(SendAncillaryMessage::ScmRights(&b)));
    rustix::net::sendmsg(
        s,
        &[std::io::IoSlice::new(bytes)],
        &mut control,
        SendFlags::empty(),
    )
    .unwrap();
}

#[test]
fn malformed_and_truncated_messages_are_refused_without_leaks() {
    let sides: Vec<Side> = if have_s6() {
        SIDES.to_vec()
    } else {
        vec![Side::Ours]
    };
    for side in sides {
        let dir = Dir::new("fdh-bad");
        rules(&dir.join("rules"), "uid/0", ALL);
        let sock = dir.join("s");
        let r = dir.join("rules");
        let srv = daemon(side, &sock, &["-i", r.to_str().unwrap()]);
        // Warm up (lazy allocations), then count the daemon's fds once it has closed the
        // warm-up connection (on a loaded machine that can take a moment): the least
        // count seen over a second.
        assert!(list(Side::Ours, &sock).is_empty());
        let before = (0..20).fold(srv.fd_count(), |least, _| {
            std::thread::sleep(Duration::from_millis(50));
            least.min(srv.fd_count())
        });
        let cases: Vec<Vec<u8>> = vec![
            frame(b"", 0),                      // empty message
            frame(b"Z", 0),                     // unknown operation
            frame(b"L extra", 0),               // trailing bytes
            frame(b"D\x00\x00", 0),             // empty identifier
            frame(b"D\x05ab\x00", 0),           // length past the end
            frame(b"R\x00\x01a", 0),            // identifier not terminated
            vec![0xff, 0xff, 0xff, 0xff, 0, 0], // 4 GiB announced
            frame(b"S", 1),                     // an fd announced, none sent
        ];
        for (i, bytes) in cases.iter().enumerate() {
            let mut s = raw(&sock);
            s.write_all(bytes).unwrap();
            assert!(closed_by_peer(&mut s), "{side:?}: case {i} was not refused");
        }
        // A bad store carrying the write end of a pipe: the daemon must close it.
        let (rd, w) = pipe();
        let mut s = raw(&sock);
        send_fds(&s, &frame(b"S\x00\x01", 1), &[&w]);
        drop(w);
        assert!(closed_by_peer(&mut s), "{side:?}: bad store not refused");
        let mut f = std::fs::File::from(rd);
        let mut rest = Vec::new();
        f.read_to_end(&mut rest).unwrap(); // end of file: no copy of the write end left
        // Truncated: half a header, then hang up.
        let mut s = raw(&sock);
        s.write_all(&[0, 0, 0]).unwrap();
        drop(s);
        // The daemon still serves, and holds no more fds than before.
        assert!(list(Side::Ours, &sock).is_empty());
        // Never more than before (a leak); fewer only if the warm-up connection was
        // still open when counted.
        assert!(
            eventually(10, || srv.fd_count() <= before),
            "{side:?}: {} fds, {} before",
            srv.fd_count(),
            before
        );
    }
}

#[test]
fn a_stalled_client_is_dropped_after_t() {
    let dir = Dir::new("fdh-stall");
    rules(&dir.join("rules"), "uid/0", ALL);
    let sock = dir.join("s");
    let r = dir.join("rules");
    let _srv = daemon(
        Side::Ours,
        &sock,
        &["-c", "1", "-t", "300", "-i", r.to_str().unwrap()],
    );
    // Silent from the start.
    let mut s = raw(&sock);
    assert!(closed_by_peer(&mut s));
    // Silent in the middle of a message.
    let mut s = raw(&sock);
    s.write_all(&frame(b"L", 0)[..4]).unwrap();
    assert!(closed_by_peer(&mut s));
    // Silent after an answer (s6-fdholderd would keep this one for ever): with -c 1,
    // the next client is served only once it is gone.
    let mut s = raw(&sock);
    s.write_all(&frame(b"L", 0)).unwrap();
    let mut ans = [0u8; 11];
    s.read_exact(&mut ans).unwrap();
    assert_eq!(&ans, b"\0\0\0\x05\0\0\0\0\0\0\0");
    assert!(list(Side::Ours, &sock).is_empty());
    assert!(closed_by_peer(&mut s));
}

#[test]
fn store_timeout_expires_the_fd() {
    let sides: Vec<Side> = if have_s6() {
        SIDES.to_vec()
    } else {
        vec![Side::Ours]
    };
    for d in sides.iter().copied() {
        for cl in sides.iter().copied() {
            let dir = Dir::new("fdh-exp");
            rules(&dir.join("rules"), "uid/0", ALL);
            let sock = dir.join("s");
            let r = dir.join("rules");
            let _srv = daemon(d, &sock, &["-i", r.to_str().unwrap()]);
            let (rd, w) = pipe();
            client(cl, "store", &[&"-T", &"300", &sock, &"short"], Some(w)).assert_code(0);
            // The daemon closes its copy when the date passes: the pipe reaches EOF.
            let mut f = std::fs::File::from(rd);
            let mut rest = Vec::new();
            f.read_to_end(&mut rest).unwrap();
            assert!(list(cl, &sock).is_empty(), "daemon {d:?} client {cl:?}");
        }
    }
}

#[test]
fn identifiers_are_validated_as_s6_does() {
    let sides: Vec<Side> = if have_s6() {
        SIDES.to_vec()
    } else {
        vec![Side::Ours]
    };
    for d in sides.iter().copied() {
        let dir = Dir::new("fdh-id");
        rules(&dir.join("rules"), "uid/0", ALL);
        let sock = dir.join("s");
        let r = dir.join("rules");
        let _srv = daemon(d, &sock, &["-i", r.to_str().unwrap()]);
        for cl in sides.iter().copied() {
            let long = "x".repeat(256);
            let o = client(cl, "store", &[&sock, &long], None);
            o.assert_code(1);
            assert_eq!(
                norm(&o, cl, "store"),
                "PROG: fatal: unable to store fd: File name too long\n"
            );
            client(cl, "store", &[&sock, &"x".repeat(255)], None).assert_code(0);
            client(cl, "delete", &[&sock, &"x".repeat(255)], None).assert_code(0);
            // An empty identifier is a protocol error: the daemon hangs up.
            let o = client(cl, "store", &[&sock, &""], None);
            o.assert_code(1);
            assert_eq!(
                norm(&o, cl, "store"),
                "PROG: fatal: unable to store fd: Broken pipe\n"
            );
            // Bytes that are not printable are quoted by list.
            client(cl, "store", &[&sock, &"a\tb\u{7f}c"], None).assert_code(0);
            assert_eq!(
                list(cl, &sock),
                vec!["a\\tb\\0x7fc"],
                "daemon {d:?} client {cl:?}"
            );
            client(cl, "delete", &[&sock, &"a\tb\u{7f}c"], None).assert_code(0);
        }
    }
}

/// Rules from a cdb (our ipcrules-cdb), reopened on SIGHUP only, and an empty env file
/// that takes a right away.
#[test]
fn cdb_rules_reload_on_hup_and_empty_env_file_unsets() {
    let dir = Dir::new("fdh-cdb");
    let rd = dir.join("rules");
    rules(&rd, "uid/0", ALL);
    std::fs::write(rd.join("uid/0/env/S6_FDHOLDER_LIST"), "").unwrap();
    let cdb = dir.join("rules.cdb");
    run_timeout(
        cmd(&[
            bin("ipcrules-cdb").to_str().unwrap(),
            cdb.to_str().unwrap(),
            rd.to_str().unwrap(),
        ]),
        20,
    )
    .assert_code(0);
    let sock = dir.join("s");
    let srv = daemon(Side::Ours, &sock, &["-x", cdb.to_str().unwrap()]);
    client(Side::Ours, "store", &[&sock, &"a"], None).assert_code(0);
    let o = client(Side::Ours, "list", &[&sock], None);
    o.assert_code(1);
    assert!(
        o.err().ends_with("Operation not permitted\n"),
        "{}",
        o.err()
    );
    // Grant listing in a new cdb: not seen until SIGHUP.
    std::fs::write(rd.join("uid/0/env/S6_FDHOLDER_LIST"), "\n").unwrap();
    run_timeout(
        cmd(&[
            bin("ipcrules-cdb").to_str().unwrap(),
            cdb.to_str().unwrap(),
            rd.to_str().unwrap(),
        ]),
        20,
    )
    .assert_code(0);
    client(Side::Ours, "list", &[&sock], None).assert_code(1);
    srv.signal(libc::SIGHUP);
    assert!(eventually(10, || client(
        Side::Ours,
        "list",
        &[&sock],
        None
    )
    .status
    .success()));
    // SIGTERM with an fd held: exit 1, as s6-fdholderd.
    let out = srv.stop_with(libc::SIGTERM);
    assert_eq!(out.status.code(), Some(1), "{}", out.err());
}

/// Counts of one hammering client.
#[derive(Default, Debug, Clone, Copy)]
struct Counts {
    served: u64,
    refused: u64,
    other: u64,
}

/// Connect, send a line, read it back, again and again until `stop`.
fn hammer(
    sock: PathBuf,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<Counts> {
    std::thread::spawn(move || {
        let mut c = Counts::default();
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            match UnixStream::connect(&sock) {
                Ok(mut s) => {
                    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                    let mut b = [0u8; 2];
                    if s.write_all(b"x\n").is_ok() && s.read_exact(&mut b).is_ok() && &b == b"x\n" {
                        c.served += 1;
                    } else {
                        c.other += 1;
                    }
                }
                Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => {
                    c.refused += 1;
                    // Do not spin: the machine is shared.
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => c.other += 1,
            }
        }
        c
    })
}

fn svstat(svc: &Path) -> (String, bool) {
    let o = run_timeout(
        cmd(&["s6-svstat", "-o", "pid,ready", svc.to_str().unwrap()]),
        10,
    );
    let out = o.out();
    let mut it = out.split_whitespace();
    let pid = it.next().unwrap_or("-1").to_string();
    (pid, it.next() == Some("true"))
}

/// The worked example: under a real s6-svscan, fdholder-echo (socket kept by the
/// holder) and ipcserverd-echo (no holder) are each restarted 20 times with `s6-svc
/// -t` while a client hammers them. With the holder, not one connection is refused.
#[test]
fn service_restarts_refuse_no_connection_with_the_holder() {
    if !have("s6-svscan") || !have("s6-svc") || !have("s6-svstat") {
        return;
    }
    let d = Dir::new("fdh-svc");
    let scan = d.join("scan");
    std::fs::create_dir(&scan).unwrap();
    for s in ["fdholder", "fdholder-echo", "ipcserver-echo"] {
        crate::service::copy_service(s, &scan);
    }
    let ours = bin("ipcserver").parent().unwrap().display().to_string();
    let path = format!("{ours}:{}", std::env::var("PATH").unwrap_or_default());
    let (holder, held, plain) = (d.join("holder"), d.join("held"), d.join("plain"));
    let mut svscan = Command::new("s6-svscan");
    svscan
        .arg(&scan)
        .env("PATH", &path)
        .env("FDHOLDER_SOCKET", &holder)
        .env("FDHOLDER_ECHO_SOCKET", &held)
        .env("IPCSERVER_ECHO_SOCKET", &plain)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut svscan = svscan.spawn().unwrap();
    let (with, without) = (scan.join("fdholder-echo"), scan.join("ipcserver-echo"));
    let ready = |svc: &Path| eventually(30, || svstat(svc).1);
    assert!(
        ready(&with) && ready(&without),
        "services never became ready"
    );
    let mut results = Vec::new();
    for (svc, sock) in [(&with, &held), (&without, &plain)] {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let h = hammer(sock.clone(), stop.clone());
        for _ in 0..20 {
            let (pid, _) = svstat(svc);
            run_timeout(cmd(&["s6-svc", "-t", svc.to_str().unwrap()]), 10).assert_code(0);
            // Wait for the new instance (s6-supervise spaces starts by a second).
            assert!(eventually(30, || {
                let (p, r) = svstat(svc);
                p != pid && p != "-1" && r
            }));
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        results.push(h.join().unwrap());
    }
    let _ = run_timeout(cmd(&["s6-svscanctl", "-t", scan.to_str().unwrap()]), 10);
    if wait_deadline(&mut svscan, 30).is_none() {
        let _ = svscan.kill();
        let _ = svscan.wait();
    }
    let (a, b) = (results[0], results[1]);
    println!(
        "20 restarts with the fd holder: {} served, {} refused, {} other errors",
        a.served, a.refused, a.other
    );
    println!(
        "20 restarts without it:         {} served, {} refused, {} other errors",
        b.served, b.refused, b.other
    );
    assert_eq!((a.refused, a.other), (0, 0), "with the holder: {a:?}");
    assert!(a.served > 0 && b.served > 0, "{a:?} {b:?}");
}

fn vm_rss_kb(pid: i32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// A client that pipelines requests and never reads its answers: the daemon answers
/// one at a time (it does not queue 50 KiB answers without bound), keeps serving the
/// others, and drops it after -t.
#[test]
fn a_client_that_never_reads_cannot_grow_the_daemon() {
    let dir = Dir::new("fdh-flood");
    rules(&dir.join("rules"), "uid/0", ALL);
    let sock = dir.join("s");
    let r = dir.join("rules");
    let srv = daemon(
        Side::Ours,
        &sock,
        &["-t", "2000", "-i", r.to_str().unwrap()],
    );
    // 100 identifiers of 255 bytes: each list answer is about 25 KiB.
    for i in 0..100 {
        let id = format!("{i:0>255}");
        client(Side::Ours, "store", &[&sock, &id], None).assert_code(0);
    }
    let before = vm_rss_kb(srv.pid());
    let s = raw(&sock);
    let flood = frame(b"L", 0).repeat(20_000); // 20000 requests, 500 MB of answers
    let writer = {
        let mut s = s.try_clone().unwrap();
        s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
        std::thread::spawn(move || {
            let _ = s.write_all(&flood);
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    // Others are still served meanwhile.
    assert_eq!(list(Side::Ours, &sock).len(), 100);
    let during = vm_rss_kb(srv.pid());
    assert!(during < before + 20_000, "VmRSS {before} kB -> {during} kB");
    // The flooder is dropped after -t (its write then fails or completes).
    writer.join().unwrap();
    let mut s = s;
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut sink = vec![0u8; 1 << 16];
    let end = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match read_once(&mut s, &mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => assert!(std::time::Instant::now() < end, "never dropped"),
        }
    }
}

/// SIGTERM: lame duck. A client in the middle of a message gets -T milliseconds, then
/// ipcfdholderd exits 2 (clients left); with nothing pending it exits at once, 0 when
/// it held no fd, as s6-fdholderd. (s6-fdholderd drops a client whose message does not
/// arrive in one read, so it has nothing pending there: see ipcfdholderd(1).)
#[test]
fn sigterm_lame_duck() {
    let sides: Vec<Side> = if have_s6() {
        SIDES.to_vec()
    } else {
        vec![Side::Ours]
    };
    for side in sides {
        let dir = Dir::new("fdh-term");
        rules(&dir.join("rules"), "uid/0", ALL);
        let sock = dir.join("s");
        let r = dir.join("rules");
        if side == Side::Ours {
            let srv = daemon(side, &sock, &["-T", "300", "-i", r.to_str().unwrap()]);
            let mut s = raw(&sock);
            s.write_all(&[0, 0, 0]).unwrap();
            // The daemon has read the partial header once it answers another client.
            assert!(list(Side::Ours, &sock).is_empty());
            let out = srv.stop_with(libc::SIGTERM);
            assert_eq!(out.status.code(), Some(2), "{side:?}: {}", out.err());
            drop(s);
        }
        let srv = daemon(side, &sock, &["-i", r.to_str().unwrap()]);
        let out = srv.stop_with(libc::SIGTERM);
        assert_eq!(out.status.code(), Some(0), "{side:?}: {}", out.err());
    }
}

/// More fds than one message can carry (the kernel passes at most 253): dumps are cut
/// in several messages both ways, and s6-fdholderd takes our chunks too.
#[test]
fn dumps_of_more_than_253_fds() {
    let dir = Dir::new("fdh-big");
    rules(&dir.join("rules"), "uid/0", ALL);
    let r = dir.join("rules");
    let (a, b, c) = (dir.join("a"), dir.join("b"), dir.join("c"));
    let _sa = daemon(Side::Ours, &a, &["-i", r.to_str().unwrap()]);
    let _sb = daemon(Side::Ours, &b, &["-i", r.to_str().unwrap()]);
    let script = format!(
        "i=0; while [ $i -lt 300 ]; do {} {} id$i || exit 1; i=$((i+1)); done",
        prog(Side::Ours, "store").display(),
        a.display()
    );
    run_with(cmd(&["sh", "-c", &script]), None).assert_code(0);
    let o = client(Side::Ours, "getdump", &[&a, &"env"], None);
    o.assert_code(0);
    assert_eq!(env_lines(&o.out(), &["S6_FD#"]), vec!["S6_FD#=300"]);
    assert_eq!(env_lines(&o.out(), &["S6_FDID_"]).len(), 300);
    client(Side::Ours, "transferdump", &[&a, &b], None).assert_code(0);
    assert_eq!(list(Side::Ours, &b).len(), 300);
    if have_s6() {
        let _sc = daemon(Side::S6, &c, &["-i", r.to_str().unwrap()]);
        client(Side::Ours, "transferdump", &[&a, &c], None).assert_code(0);
        assert_eq!(list(Side::S6, &c).len(), 300);
    }
}

fn status_field(pid: i32, field: &str) -> String {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// ipcfdholder-daemon: the socket is created as root, then the daemon runs as the
/// given ids (-u/-g/-G, or -U from the environment), and a live socket at the path is
/// left alone.
#[test]
fn daemon_drops_privileges_and_keeps_live_sockets() {
    let dir = Dir::new("fdh-ids");
    rules(&dir.join("rules"), "uid/0", ALL);
    let sock = dir.join("s");
    let r = dir.join("rules");
    let r = r.to_str().unwrap();
    let srv = daemon(
        Side::Ours,
        &sock,
        &["-u", "65534", "-g", "65534", "-G", "", "-i", r],
    );
    assert_eq!(status_field(srv.pid(), "Uid:"), "65534 65534 65534 65534");
    assert_eq!(status_field(srv.pid(), "Gid:"), "65534 65534 65534 65534");
    // As s6-fdholder-daemon (s6-applyuidgid): the primary gid joins the (empty) list.
    assert_eq!(status_field(srv.pid(), "Groups:"), "65534");
    // Root is still served by its rule (rules are read as the daemon's user).
    client(Side::Ours, "store", &[&sock, &"x"], None).assert_code(0);
    // A second daemon on the same path: refused, the first one untouched.
    let mut c = Command::new(bin("ipcfdholder-daemon"));
    c.args(["-1", "-i", r]).arg(&sock);
    let o = run_with(c, None);
    assert_eq!(o.status.code(), Some(111), "{}", o.err());
    assert_eq!(list(Side::Ours, &sock), vec!["x"]);
    drop(srv);

    let sock2 = dir.join("s2");
    let mut c = Command::new(bin("ipcfdholder-daemon"));
    c.args(["-1", "-U", "-i", r])
        .arg(&sock2)
        .env("UID", "65534")
        .env("GID", "65534")
        .env("GIDLIST", "65534");
    let srv = Server::start(c);
    assert_eq!(status_field(srv.pid(), "Uid:"), "65534 65534 65534 65534");
    assert_eq!(status_field(srv.pid(), "Groups:"), "65534");
    let environ = std::fs::read(format!("/proc/{}/environ", srv.pid())).unwrap();
    assert!(!environ.split(|&b| b == 0).any(|v| v.starts_with(b"UID=")));
}
