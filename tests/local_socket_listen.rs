//! Tests: local-stream-socket-listen, local-seqpacket-socket-listen,
//! local-datagram-socket-listen, alone, chained, in front of ipcserverd, and behind
//! systemd-socket-activate.

use crate::util::*;
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::net::{SocketAddrUnix, SocketFlags, SocketType};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

const SEQ: &str = "local-seqpacket-socket-listen";
const STREAM: &str = "local-stream-socket-listen";
const DGRAM: &str = "local-datagram-socket-listen";

/// Socket types as /proc/net/unix shows them.
const T_STREAM: u32 = 1;
const T_DGRAM: u32 = 2;
const T_SEQPACKET: u32 = 5;

fn tool(name: &str) -> Command {
    Command::new(bin(name))
}

/// A prog that says it is ready, then keeps its fds and environment for inspection.
const HOLD: [&str; 3] = ["sh", "-c", "echo ready; exec sleep 60"];

/// Start a chain ending in [`HOLD`], and return once `sleep` runs, so that its
/// environment and fds are stable (during exec, /proc/PID/environ reads empty).
fn start_held(c: Command) -> Server {
    let s = Server::start(c);
    let comm = format!("/proc/{}/comm", s.pid());
    let environ = format!("/proc/{}/environ", s.pid());
    // The kernel names the process before it lays out the new environment: wait for
    // both.
    assert!(
        eventually(10, || std::fs::read_to_string(&comm).unwrap_or_default()
            == "sleep\n"
            && std::fs::read(&environ).is_ok_and(|e| !e.is_empty())),
        "prog never reached sleep"
    );
    s
}

/// (type, listening) of the socket on `fd` of process `pid`, from /proc/net/unix.
fn sock_info(pid: i32, fd: i32) -> Option<(u32, bool)> {
    let link = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
    let link = link.to_string_lossy().into_owned();
    let inode = link
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .to_string();
    unix_sockets()
        .into_iter()
        .find(|e| e.inode == inode)
        .map(|e| (e.ty, e.listening))
}

/// The environment of a process, as `NAME=value` strings.
fn environ(pid: i32) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    raw.split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

fn env_of(pid: i32, prefixes: &[&str]) -> Vec<String> {
    env_lines(&environ(pid).join("\n"), prefixes)
}

/// A duplicate of fd `n` of process `pid` (which must be our child).
fn steal_fd(pid: i32, n: i32) -> OwnedFd {
    let pid = rustix::process::Pid::from_raw(pid).unwrap();
    let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).unwrap();
    rustix::process::pidfd_getfd(&pidfd, n, rustix::process::PidfdGetfdFlags::empty()).unwrap()
}

fn client(ty: SocketType, path: &Path) -> OwnedFd {
    let s = unix_socket(ty);
    rustix::net::connect(&s, &SocketAddrUnix::new(path).unwrap()).unwrap();
    set_timeout(&s);
    s
}

fn set_timeout(s: impl AsFd) {
    use rustix::net::sockopt::{Timeout, set_socket_timeout};
    set_socket_timeout(&s, Timeout::Recv, Some(Duration::from_secs(10))).unwrap();
}

fn recv_msg(s: impl AsFd) -> Vec<u8> {
    let mut buf = [0u8; 4096];
    let n = no_intr(|| rustix::net::recv(&s, &mut buf, rustix::net::RecvFlags::empty()))
        .unwrap()
        .0;
    buf[..n].to_vec()
}

#[test]
fn chain_of_two_accumulates_listen_fds() {
    let d = Dir::new("chain");
    let (a, b) = (d.join("a"), d.join("b"));
    let mut c = tool(SEQ);
    c.env_remove("LISTEN_FDS")
        .env_remove("LISTEN_PID")
        .env("LISTEN_FDNAMES", "stale:junk:x")
        .arg("--systemd-compatibility")
        .arg("--fdname=first")
        .arg(&a)
        .arg(bin(STREAM))
        .args([
            "--systemd-compatibility",
            "--fdname",
            "second",
            "--backlog=7",
        ])
        .arg(&b)
        .args(HOLD);
    let s = start_held(c);
    let pid = s.pid();
    assert_eq!(sock_info(pid, 3), Some((T_SEQPACKET, true)));
    assert_eq!(sock_info(pid, 4), Some((T_STREAM, true)));
    assert_eq!(sock_info(pid, 5), None);
    assert_eq!(
        env_of(pid, &["LISTEN_", "UPSTART_"]),
        vec![
            "LISTEN_FDNAMES=first:second".to_string(),
            "LISTEN_FDS=2".to_string(),
            format!("LISTEN_PID={pid}"),
        ]
    );
    // Both fds are inherited (no CLOEXEC), or sleep would not hold them.
    assert!(
        std::fs::symlink_metadata(&a)
            .unwrap()
            .file_type()
            .is_socket()
    );
    assert!(
        std::fs::symlink_metadata(&b)
            .unwrap()
            .file_type()
            .is_socket()
    );
}

#[test]
fn without_systemd_compatibility_env_is_untouched_and_fd_is_3() {
    let d = Dir::new("nosd");
    let a = d.join("a");
    let mut c = tool(DGRAM);
    // A LISTEN_PID naming another process: not ours to count.
    c.env("LISTEN_FDS", "1")
        .env("LISTEN_PID", "1")
        .arg("--upstart-compatibility")
        .arg(&a)
        .args(HOLD);
    let s = start_held(c);
    let pid = s.pid();
    assert_eq!(sock_info(pid, 3), Some((T_DGRAM, false)));
    assert_eq!(
        env_of(pid, &["LISTEN_", "UPSTART_"]),
        vec![
            "LISTEN_FDS=1",
            "LISTEN_PID=1",
            "UPSTART_EVENTS=socket",
            "UPSTART_FDS=3"
        ]
    );
}

#[test]
fn stale_listen_pid_is_ignored_with_systemd_compatibility() {
    let d = Dir::new("stale");
    let mut c = tool(STREAM);
    c.env("LISTEN_FDS", "4")
        .env("LISTEN_PID", "1")
        .args(["--systemd-compatibility", "--upstart-compatibility"])
        .arg(d.join("a"))
        .args(HOLD);
    let s = start_held(c);
    let pid = s.pid();
    assert_eq!(sock_info(pid, 3), Some((T_STREAM, true)));
    assert_eq!(
        env_of(pid, &["LISTEN_", "UPSTART_"]),
        vec![
            "LISTEN_FDS=1".to_string(),
            format!("LISTEN_PID={pid}"),
            "UPSTART_EVENTS=socket".to_string(),
            "UPSTART_FDS=3".to_string(),
        ]
    );
}

#[test]
fn numbers_are_read_like_nosh() {
    let d = Dir::new("num");
    // 0640 is octal, 416 is the same mode in decimal, 0x1a0 in hexadecimal.
    for (i, m) in ["0640", "416", "0x1a0", "-m0640"].iter().enumerate() {
        let p = d.join(format!("s{i}"));
        let mut c = tool(STREAM);
        if let Some(short) = m.strip_prefix("-m") {
            c.arg(format!("-m{short}"));
        } else {
            c.args(["--mode", m]);
        }
        c.args(["-u", "065534", "--gid=0xfffe"]).arg(&p).arg("true");
        run_timeout(c, 10).assert_code(0);
        let md = std::fs::symlink_metadata(&p).unwrap();
        assert_eq!(md.mode() & 0o7777, 0o640, "{m}");
        assert_eq!((md.uid(), md.gid()), (0o65534, 0xfffe), "{m}");
    }
}

#[test]
fn default_mode_follows_umask_as_nosh() {
    let d = Dir::new("umask");
    let p = d.join("s");
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("umask 027; exec \"$@\"")
        .arg("sh")
        .arg(bin(STREAM))
        .arg(&p)
        .arg("true");
    run_timeout(c, 10).assert_code(0);
    let md = std::fs::symlink_metadata(&p).unwrap();
    assert_eq!(md.mode() & 0o7777, 0o750);
}

/// The other half of the chain: ipcserverd adopts fd 3 because LISTEN_PID is its pid.
#[test]
fn seqpacket_behind_ipcserverd_keeps_message_boundaries() {
    let d = Dir::new("ipcd");
    let p = d.join("s");
    let mut c = tool(SEQ);
    c.arg("--systemd-compatibility")
        .arg(&p)
        .arg(bin("ipcserverd"))
        .arg("-1")
        .args([
            "sh",
            "-c",
            "echo \"$PROTO:$IPCREMOTEEUID:${LISTEN_FDS-unset}\"; echo $$; \
             for f in 3 4 5; do [ -e /proc/$$/fd/$f ] && echo open$f; done; exec cat",
        ]);
    let s = Server::start(c);
    let conn = client(SocketType::SEQPACKET, &p);
    assert_eq!(recv_msg(&conn), b"IPC:0:unset\n");
    // One process per connection, each a child of ipcserverd (the listener's pid).
    let other = client(SocketType::SEQPACKET, &p);
    assert_eq!(recv_msg(&other), b"IPC:0:unset\n");
    let pid = |m: Vec<u8>| String::from_utf8(m).unwrap().trim().parse::<i32>().unwrap();
    let (p1, p2) = (pid(recv_msg(&conn)), pid(recv_msg(&other)));
    assert_ne!(p1, p2);
    let kids = s.children();
    assert!(kids.contains(&p1) && kids.contains(&p2), "{kids:?}");
    drop(other);
    rustix::net::send(&conn, b"one", rustix::net::SendFlags::empty()).unwrap();
    rustix::net::send(&conn, b"two2", rustix::net::SendFlags::empty()).unwrap();
    // cat reads one packet per read: each comes back whole and alone.
    assert_eq!(recv_msg(&conn), b"one");
    assert_eq!(recv_msg(&conn), b"two2");
    rustix::net::shutdown(&conn, rustix::net::Shutdown::Write).unwrap();
    assert_eq!(recv_msg(&conn), b"");
}

#[test]
fn socat_seqpacket_client_through_two_listeners() {
    let d = Dir::new("socat");
    if !have("socat") {
        return;
    }
    let (a, b) = (d.join("a"), d.join("b"));
    let mut c = tool(STREAM);
    c.arg("--systemd-compatibility")
        .arg(&a)
        .arg(bin(SEQ))
        .arg("--systemd-compatibility")
        .arg(&b)
        .arg(bin("ipcserverd"))
        .arg("-1")
        .args([
            "sh",
            "-c",
            "for f in 3 4; do [ -e /proc/$$/fd/$f ] && echo open$f; done; echo \"got $(cat)\"",
        ]);
    // ipcserverd serves fd 3 (the stream socket at a); fd 4 must not reach handlers.
    let _s = Server::start(c);
    let mut cl = Command::new("socat");
    cl.arg("-t5")
        .arg("-")
        .arg(format!("UNIX-CONNECT:{}", a.display()));
    let mut child = cl
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut i = child.stdin.take().unwrap();
        i.write_all(b"hi").unwrap();
    }
    let out = wait_output(&mut child, 10, "socat");
    out.assert_code(0);
    assert_eq!(out.out(), "got hi\n");

    // And the seqpacket socket at b, served by nothing, is listening on fd 4 of
    // ipcserverd: socat's seqpacket connect succeeds into its backlog.
    let mut cl = Command::new("socat");
    cl.arg("-u")
        .arg("-")
        .arg(format!("UNIX-CONNECT:{},type=5", b.display()));
    run_timeout(cl, 10).assert_code(0);
}

#[test]
fn socat_seqpacket_client_behind_ipcserverd() {
    let d = Dir::new("socat5");
    if !have("socat") {
        return;
    }
    let p = d.join("s");
    let mut c = tool(SEQ);
    c.args(["--systemd-compatibility", "-m", "0666"])
        .arg(&p)
        .arg(bin("ipcserverd"))
        .args(["-1", "sh", "-c", "echo \"$IPCREMOTEEUID\"; exec cat"]);
    let _s = Server::start(c);
    let mut cl = as_nobody(&["socat", "-t5", "-"]);
    cl.arg(format!("UNIX-CONNECT:{},type=5", p.display()));
    let mut child = cl
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut i = child.stdin.take().unwrap();
        i.write_all(b"packet").unwrap();
    }
    let out = wait_output(&mut child, 10, "socat");
    out.assert_code(0);
    assert_eq!(out.out(), "65534\npacket");
}

/// `(payload, uids in SCM_CREDENTIALS)` of the next message on `sock`.
fn recv_with_creds(sock: impl AsFd) -> (Vec<u8>, Vec<(u32, u32)>) {
    use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
    use std::mem::MaybeUninit;
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmCredentials(1))];
    let mut anc = RecvAncillaryBuffer::new(&mut space);
    let mut buf = [0u8; 64];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let r =
        no_intr(|| rustix::net::recvmsg(&sock, &mut iov, &mut anc, RecvFlags::empty())).unwrap();
    let creds = anc
        .drain()
        .filter_map(|m| match m {
            RecvAncillaryMessage::ScmCredentials(u) => Some((u.uid.as_raw(), u.gid.as_raw())),
            _ => None,
        })
        .collect();
    (buf[..r.bytes].to_vec(), creds)
}

#[test]
fn pass_credentials_delivers_scm_credentials() {
    let d = Dir::new("cred");
    if !have("socat") {
        return;
    }
    // Datagram: the listener's own socket receives.
    let p = d.join("dg");
    let mut c = tool(DGRAM);
    c.args(["--pass-credentials", "--mode=0666"])
        .arg(&p)
        .args(HOLD);
    let s = start_held(c);
    let sock = steal_fd(s.pid(), 3);
    set_timeout(&sock);
    assert!(rustix::net::sockopt::socket_passcred(&sock).unwrap());
    // socat does not ask for credentials itself: the kernel adds them for the receiver.
    let mut cl = as_nobody(&["sh", "-c", "printf hello | socat -u - \"UNIX-SENDTO:$0\""]);
    cl.arg(&p);
    run_timeout(cl, 10).assert_code(0);
    assert_eq!(
        recv_with_creds(&sock),
        (b"hello".to_vec(), vec![(65534, 65534)])
    );

    // Seqpacket: connections accepted from the listener inherit SO_PASSCRED.
    let p = d.join("sp");
    let mut c = tool(SEQ);
    c.args(["--pass-credentials", "-m", "0666"])
        .arg(&p)
        .args(HOLD);
    let s = start_held(c);
    let listener = steal_fd(s.pid(), 3);
    let mut cl = as_nobody(&[
        "sh",
        "-c",
        "printf pkt | socat -u - \"UNIX-CONNECT:$0,type=5\"",
    ]);
    cl.arg(&p);
    run_timeout(cl, 10).assert_code(0);
    let conn = rustix::net::accept_with(&listener, SocketFlags::CLOEXEC).unwrap();
    set_timeout(&conn);
    assert_eq!(
        recv_with_creds(&conn),
        (b"pkt".to_vec(), vec![(65534, 65534)])
    );

    // Without the option, no credentials.
    let p = d.join("none");
    let mut c = tool(DGRAM);
    c.args(["--mode=0666"]).arg(&p).args(HOLD);
    let s = start_held(c);
    let sock = steal_fd(s.pid(), 3);
    set_timeout(&sock);
    let mut cl = as_nobody(&["sh", "-c", "printf bare | socat -u - \"UNIX-SENDTO:$0\""]);
    cl.arg(&p);
    run_timeout(cl, 10).assert_code(0);
    assert_eq!(recv_with_creds(&sock), (b"bare".to_vec(), vec![]));
}

fn passsec(fd: impl AsFd) -> i32 {
    let mut v: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: v and len outlive the call; len is v's size.
    let r = unsafe {
        libc::getsockopt(
            fd.as_fd().as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PASSSEC,
            (&raw mut v).cast(),
            &mut len,
        )
    };
    assert_eq!(r, 0);
    v
}

#[test]
fn pass_security_sets_so_passsec() {
    let d = Dir::new("sec");
    for (ty, name) in [(T_SEQPACKET, SEQ), (T_STREAM, STREAM), (T_DGRAM, DGRAM)] {
        for set in [false, true] {
            let p = d.join(format!("{ty}{set}"));
            let mut c = tool(name);
            if set {
                c.arg("--pass-security");
            }
            c.arg(&p).args(HOLD);
            let s = start_held(c);
            assert_eq!(sock_info(s.pid(), 3).map(|i| i.0), Some(ty));
            let sock = steal_fd(s.pid(), 3);
            assert_eq!(passsec(&sock), i32::from(set), "{name} {set}");
            assert!(!rustix::net::sockopt::socket_passcred(&sock).unwrap());
        }
    }
}

#[test]
fn abstract_and_long_paths() {
    let d = Dir::new("long");
    let name = format!("@ipct-ls-{}-{}", std::process::id(), line!());
    let mut c = tool(STREAM);
    c.arg(&name).args(HOLD);
    let s = start_held(c);
    assert_eq!(sock_info(s.pid(), 3), Some((T_STREAM, true)));
    let cl = unix_socket(SocketType::STREAM);
    let addr = SocketAddrUnix::new_abstract_name(&name.as_bytes()[1..]).unwrap();
    rustix::net::connect(&cl, &addr).unwrap();
    drop(s);

    let mut deep = d.path.clone();
    while deep.as_os_str().len() < 200 {
        deep.push("0123456789abcdef");
    }
    std::fs::create_dir_all(&deep).unwrap();
    let p = deep.join("socket");
    let mut c = tool(SEQ);
    c.arg(&p).args(HOLD);
    let s = start_held(c);
    assert!(
        std::fs::symlink_metadata(&p)
            .unwrap()
            .file_type()
            .is_socket()
    );
    let cl = unix_socket(SocketType::SEQPACKET);
    ipccore::sys::sock::connect(&cl, &ipccore::sys::sock::SockPath::Fs(p.clone())).unwrap();
    drop(s);
    assert_eq!(
        std::fs::read_dir(&deep).unwrap().count(),
        1,
        "no stray files"
    );
}

/// `--mode 0660 --gid G`: the kernel refuses a uid outside G, admits a member.
#[test]
fn mode_and_group_are_enforced_by_the_kernel() {
    let d = Dir::new("perm");
    if !have("socat") {
        return;
    }
    let p = d.join("s");
    let mut c = tool(STREAM);
    c.args([
        "--systemd-compatibility",
        "--mode",
        "0660",
        "--gid",
        "65534",
    ])
    .arg(&p)
    .arg(bin("ipcserverd"))
    .args(["-1", "echo", "welcome"]);
    let _s = Server::start(c);
    let md = std::fs::symlink_metadata(&p).unwrap();
    assert_eq!((md.mode() & 0o7777, md.uid(), md.gid()), (0o660, 0, 65534));
    let target = format!("UNIX-CONNECT:{}", p.display());
    let member = run_timeout(as_nobody(&["socat", "-u", &target, "-"]), 10);
    member.assert_code(0);
    assert_eq!(member.out(), "welcome\n");
    let o = run_timeout(as_user(65533, &["socat", "-u", &target, "-"]), 10);
    assert_ne!(o.code(), Some(0));
    assert!(o.err().contains("Permission denied"), "{}", o.err());
}

/// Nobody connects before the mode and owner are final: a second uid hammering connect()
/// never gets past the permission check, and every connect that succeeds (as root)
/// finds the final mode and owner. (The file itself may show its first, owner-only
/// mode for a moment: it is bound at its real name, then chowned, then listens.)
#[test]
fn no_connect_before_mode_and_owner_are_final() {
    let d = Dir::new("watch");
    let p = d.join("s");
    let hammer = crate::socknames::Hammer::start(65533, &p, &d.join("stop"));
    let stop = Arc::new(AtomicBool::new(false));
    let (seen, wrong) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let w = {
        let (p, stop, seen, wrong) = (p.clone(), stop.clone(), seen.clone(), wrong.clone());
        std::thread::spawn(move || {
            let mut bad = Vec::new();
            let addr = SocketAddrUnix::new(p.as_path()).unwrap();
            while !stop.load(Ordering::Relaxed) {
                let s = unix_socket(SocketType::SEQPACKET);
                if rustix::net::connect(&s, &addr).is_err() {
                    continue;
                }
                let Ok(md) = std::fs::symlink_metadata(&p) else {
                    continue;
                };
                seen.fetch_add(1, Ordering::Relaxed);
                let got = (md.mode() & 0o7777, md.uid(), md.gid());
                if got != (0o640, 65534, 65534) {
                    wrong.fetch_add(1, Ordering::Relaxed);
                    bad.push(got);
                }
            }
            bad
        })
    };
    for _ in 0..20 {
        let _ = std::fs::remove_file(&p);
        let mut c = tool(SEQ);
        c.args(["-m", "0640", "-u", "65534", "-g", "65534"])
            .arg(&p)
            .args(["sleep", "0.2"]);
        run_timeout(c, 10).assert_code(0);
    }
    stop.store(true, Ordering::Relaxed);
    let bad = w.join().unwrap();
    hammer.finish().assert_never_in();
    assert!(
        seen.load(Ordering::Relaxed) > 0,
        "the watcher never connected"
    );
    assert_eq!(wrong.load(Ordering::Relaxed), 0, "seen: {bad:?}");
    assert_eq!(d.entries(), vec!["s"], "no stray files");
}

/// systemd-socket-activate as a second producer of LISTEN_FDS, in front of our chain.
#[test]
fn behind_systemd_socket_activate() {
    let d = Dir::new("sdsa");
    if !have("systemd-socket-activate") {
        return;
    }
    let (a, b) = (d.join("a"), d.join("b"));
    let out = d.join("out");
    let mut c = Command::new("systemd-socket-activate");
    c.arg("-l")
        .arg(&a)
        .arg("--fdname=sd")
        .arg(bin(SEQ))
        .args(["--systemd-compatibility", "--fdname", "ours"])
        .arg(&b)
        .args([
            "sh",
            "-c",
            "{ echo \"pid=$$\"; env | grep ^LISTEN_ | sort; \
             for f in 3 4; do readlink /proc/$$/fd/$f; done; \
             cat /proc/net/unix; } > \"$0\"",
        ])
        .arg(&out);
    c.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    // Without -a, systemd-socket-activate execs on the first connection.
    // Its socket file exists a moment before it listens: retry the connect.
    let mut conn = None;
    assert!(
        eventually(10, || {
            conn = std::os::unix::net::UnixStream::connect(&a).ok();
            conn.is_some()
        }),
        "systemd-socket-activate never listened"
    );
    let _conn = conn;
    let o = wait_output(&mut child, 10, "systemd-socket-activate");
    o.assert_code(0);
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    let pid = lines
        .next()
        .unwrap()
        .strip_prefix("pid=")
        .unwrap()
        .to_string();
    let env: Vec<&str> = lines.by_ref().take(3).collect();
    assert_eq!(
        env,
        vec![
            "LISTEN_FDNAMES=sd:ours",
            "LISTEN_FDS=2",
            &format!("LISTEN_PID={pid}"),
        ]
    );
    let inode = |l: Option<&str>| {
        l.unwrap()
            .strip_prefix("socket:[")
            .unwrap()
            .trim_end_matches(']')
            .to_string()
    };
    let (i3, i4) = (inode(lines.next()), inode(lines.next()));
    let table: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    let ty = |i: &str| {
        table
            .iter()
            .find(|f| f.get(6) == Some(&i))
            .map(|f| (f[4].to_string(), f[3].to_string()))
            .unwrap()
    };
    // fd 3: systemd's stream socket; fd 4: our seqpacket socket; both listening.
    assert_eq!(ty(&i3), ("0001".to_string(), "00010000".to_string()));
    assert_eq!(ty(&i4), ("0005".to_string(), "00010000".to_string()));
}

#[test]
fn bad_usage_exits_100() {
    let d = Dir::new("usage");
    let p = d.join("s");
    let ps = p.to_str().unwrap();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (STREAM, vec!["--mode", "0999", ps, "true"]),
        (STREAM, vec!["--mode=010000", ps, "true"]),
        (STREAM, vec!["-m", "rw", ps, "true"]),
        (STREAM, vec!["--uid", "-1", ps, "true"]),
        (STREAM, vec!["--uid=4294967295", ps, "true"]),
        (SEQ, vec!["-g", "ipct-no-such-group", ps, "true"]),
        (SEQ, vec!["--backlog", "3000000000", ps, "true"]),
        (SEQ, vec!["-b", "", ps, "true"]),
        (DGRAM, vec!["--backlog", "5", ps, "true"]),
        (SEQ, vec!["--mode=0666"]),
        (SEQ, vec![ps]),
        (SEQ, vec!["--no-such-option", ps, "true"]),
        (SEQ, vec!["--mode=0666=", ps, "true"]),
        (
            SEQ,
            vec!["--fdname", "a:b", "--systemd-compatibility", ps, "true"],
        ),
        (SEQ, vec!["--fdname", "a", ps, "true"]),
        (SEQ, vec!["", "true"]),
    ];
    for (name, args) in cases {
        let mut c = tool(name);
        c.args(&args);
        let o = run_timeout(c, 10);
        o.assert_code(100);
        assert!(
            o.err().starts_with(&format!("{name}: usage: {name} "))
                || o.err().starts_with(&format!("{name}: fatal: ")),
            "{args:?}: {}",
            o.err()
        );
        assert!(!p.exists(), "{args:?} created the socket");
    }
    // A refused name is quoted escaped, never lossily: every byte shows.
    let mut c = tool(SEQ);
    c.arg("--systemd-compatibility").arg("--fdname");
    c.arg(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"a\xff\nb"));
    c.args([ps, "true"]);
    let o = run_timeout(c, 10);
    o.assert_code(100);
    assert!(
        o.err().starts_with(&format!(
            "{SEQ}: fatal: invalid file descriptor name: a\\xff\\nb\n"
        )),
        "{}",
        o.err()
    );
    // The short usage line, exactly.
    let o = run_timeout(tool(DGRAM), 10);
    o.assert_code(100);
    assert_eq!(
        o.err(),
        "local-datagram-socket-listen: fatal: missing path\n\
         local-datagram-socket-listen: usage: local-datagram-socket-listen [ -u uid ] [ -g gid ] [ -m mode ] [ --pass-credentials ] [ --pass-security ] [ --upstart-compatibility ] [ --systemd-compatibility ] [ --fdname name ] path next-prog...\n"
    );
}

#[test]
fn refused_paths_exit_111_and_stay_untouched() {
    let d = Dir::new("refuse");
    let file = d.join("file");
    std::fs::write(&file, "keep").unwrap();
    let o = run_timeout(
        {
            let mut c = tool(SEQ);
            c.arg(&file).arg("true");
            c
        },
        10,
    );
    o.assert_code(111);
    assert_eq!(
        o.err(),
        format!(
            "{SEQ}: fatal: {} exists and is a regular file: refusing to replace it\n",
            file.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep");

    // A live socket, whatever its type, is refused too.
    let live = d.join("live");
    let mut c = tool(STREAM);
    c.arg(&live).args(HOLD);
    let s = start_held(c);
    let ino = std::fs::symlink_metadata(&live).unwrap().ino();
    let mut c = tool(DGRAM);
    c.arg(&live).arg("true");
    let o = run_timeout(c, 10);
    o.assert_code(111);
    assert!(
        o.err().contains("in use by a running server"),
        "{}",
        o.err()
    );
    assert_eq!(std::fs::symlink_metadata(&live).unwrap().ino(), ino);
    drop(s);

    // A stale socket (its listener gone) is replaced.
    let _hold = crate::socknames::hold_inode(&live);
    let mut c = tool(SEQ);
    c.arg(&live).arg("true");
    run_timeout(c, 10).assert_code(0);
    assert_ne!(std::fs::symlink_metadata(&live).unwrap().ino(), ino);

    let mut c = tool(SEQ);
    c.arg(d.join("nodir/s")).arg("true");
    let o = run_timeout(c, 10);
    o.assert_code(111);
    assert_eq!(
        o.err(),
        format!(
            "{SEQ}: fatal: unable to open directory {}: No such file or directory\n",
            d.join("nodir").display()
        )
    );
}

#[test]
fn exec_failures_127_and_126() {
    let d = Dir::new("exec");
    let mut c = tool(STREAM);
    c.arg(d.join("s")).arg("ipct-no-such-prog");
    let o = run_timeout(c, 10);
    o.assert_code(127);
    assert_eq!(
        o.err(),
        format!("{STREAM}: fatal: unable to exec ipct-no-such-prog: No such file or directory\n")
    );
    let mut c = tool(STREAM);
    c.arg(d.join("t")).arg(&d.path);
    run_timeout(c, 10).assert_code(126);
}

/// execline's fdmove, which Debian keeps out of PATH.
fn fdmove() -> Option<std::path::PathBuf> {
    let lib = Path::new("/usr/lib/execline/bin/fdmove");
    if lib.is_file() {
        return Some(lib.to_path_buf());
    }
    have("fdmove").then(|| "fdmove".into())
}

/// inetd style, as nosh's manual suggests: `fdmove 0 3`, then a server that takes its
/// listening socket on stdin. s6-ipcserverd (the real peer) and our ipcserverd.
#[test]
fn fd_3_moved_to_stdin_for_s6_ipcserverd_and_ipcserverd() {
    let d = Dir::new("inetd");
    let Some(fdmove) = fdmove() else { return };
    let mut servers = vec![bin("ipcserverd")];
    if have("s6-ipcserverd") {
        servers.push("s6-ipcserverd".into());
    }
    for (i, server) in servers.iter().enumerate() {
        for (ty, name) in [(SocketType::STREAM, STREAM), (SocketType::SEQPACKET, SEQ)] {
            let p = d.join(format!("s{i}{name}"));
            let mut c = tool(name);
            c.arg(&p).arg(&fdmove).args(["0", "3"]).arg(server).args([
                "-1",
                "sh",
                "-c",
                "echo \"$PROTO:$IPCREMOTEEUID\"",
            ]);
            let _s = Server::start(c);
            let conn = client(ty, &p);
            assert_eq!(recv_msg(&conn), b"IPC:0\n", "{server:?} {name}");
        }
    }
}

/// Two listeners started at once on one path: exactly one wins, the other is refused.
#[test]
fn concurrent_starts_one_wins() {
    let d = Dir::new("race");
    for round in 0..5 {
        let p = d.join(format!("s{round}"));
        let start = |name: &str| {
            let mut c = tool(name);
            c.arg(&p)
                .args(["sh", "-c", "echo won; exec sleep 60"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            c.spawn().unwrap()
        };
        let (mut a, mut b) = (start(STREAM), start(SEQ));
        // The loser exits 111 at once; the winner runs sleep until killed.
        let exited = eventually(10, || {
            a.try_wait().unwrap().is_some() || b.try_wait().unwrap().is_some()
        });
        assert!(exited, "neither start was refused");
        std::thread::sleep(Duration::from_millis(100));
        let (ra, rb) = (a.try_wait().unwrap(), b.try_wait().unwrap());
        let codes: Vec<Option<i32>> = [ra, rb].iter().map(|r| r.and_then(|s| s.code())).collect();
        assert_eq!(codes.iter().filter(|c| c.is_some()).count(), 1, "{codes:?}");
        assert!(codes.contains(&Some(111)), "{codes:?}");
        let _ = a.kill();
        let _ = b.kill();
        let _ = a.wait();
        let _ = b.wait();
        assert!(
            std::fs::symlink_metadata(&p)
                .unwrap()
                .file_type()
                .is_socket()
        );
    }
    let mut e = d.entries();
    e.retain(|n| n.starts_with('.'));
    assert!(e.is_empty(), "stray files: {e:?}");
}
