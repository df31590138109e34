//! ipcserver against real clients (s6-ipcclient, unixclient, socat, curl) and real
//! kernel checks.

use crate::util::*;
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const ENV_PROG: &str = "env | grep -E '^(PROTO|IPC)' ; exit 0";

fn sh(script: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

fn no_private_dirs(d: &Dir) {
    let left: Vec<String> = d
        .entries()
        .into_iter()
        .filter(|e| e.starts_with(".ipcs"))
        .collect();
    assert!(left.is_empty(), "stray private directories left: {left:?}");
}

#[test]
fn readiness_line_is_path() {
    let d = Dir::new("ready");
    let p = d.join("s");
    let srv = server(&[], &p, &["true"]);
    assert_eq!(srv.ready_line, format!("{}\n", p.display()));
    let m = std::fs::symlink_metadata(&p).unwrap();
    assert!(m.file_type().is_socket());
    assert_eq!(m.permissions().mode() & 0o7777, 0o777);
    no_private_dirs(&d);
}

#[test]
fn env_with_s6_ipcclient_as_root_and_nobody() {
    if !have("s6-ipcclient") {
        return;
    }
    let d = Dir::new("env");
    // uid 65534 binds its client socket here.
    std::fs::set_permissions(&d.path, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let p = d.join("s");
    let _srv = server(&[], &p, &["sh", "-c", ENV_PROG]);
    let client = |bind: Option<&Path>| {
        let mut v: Vec<String> = vec!["s6-ipcclient".into()];
        if let Some(b) = bind {
            v.push("-p".into());
            v.push(b.display().to_string());
        }
        v.push(p.display().to_string());
        v.extend(sh("cat <&6"));
        v
    };
    let out = run_timeout(cmd(&client(None)), 10);
    out.assert_code(0);
    // IPCREMOTEGIDLIST and IPCREMOTEPID: tests/identity.rs.
    let s6_env = |out: &str| -> Vec<String> {
        env_lines(out, &["PROTO", "IPC"])
            .into_iter()
            .filter(|l| !l.starts_with("IPCREMOTEGIDLIST=") && !l.starts_with("IPCREMOTEPID="))
            .collect()
    };
    assert_eq!(
        s6_env(&out.out()),
        vec![
            "IPCCONNNUM=1".to_string(),
            format!("IPCLOCALPATH={}", p.display()),
            "IPCREMOTEEGID=0".into(),
            "IPCREMOTEEUID=0".into(),
            "IPCREMOTEPATH=".into(),
            "PROTO=IPC".into(),
        ]
    );
    let cpath = d.join("c");
    let out = run_timeout(as_nobody(&client(Some(&cpath))), 10);
    out.assert_code(0);
    assert_eq!(
        s6_env(&out.out()),
        vec![
            "IPCCONNNUM=1".to_string(),
            format!("IPCLOCALPATH={}", p.display()),
            "IPCREMOTEEGID=65534".to_string(),
            "IPCREMOTEEUID=65534".into(),
            format!("IPCREMOTEPATH={}", cpath.display()),
            "PROTO=IPC".into(),
        ]
    );
}

#[test]
fn env_with_unixclient_and_socat() {
    let d = Dir::new("ucs");
    let p = d.join("s");
    let _srv = server(&[], &p, &["sh", "-c", ENV_PROG]);
    if have("unixclient") {
        let out = run_timeout(
            cmd(&["unixclient", p.to_str().unwrap(), "sh", "-c", "cat <&6"]),
            10,
        );
        out.assert_code(0);
        assert!(out.out().contains("PROTO=IPC\n"), "{}", out.out());
        assert!(out.out().contains("IPCREMOTEEUID=0\n"));
    }
    if have("socat") {
        let out = run_timeout(
            as_nobody(&["socat", "-", &format!("UNIX-CONNECT:{}", p.display())]),
            10,
        );
        out.assert_code(0);
        assert!(out.out().contains("IPCREMOTEEUID=65534\n"), "{}", out.out());
        assert!(out.out().contains("IPCCONNNUM=1\n"));
    }
}

#[test]
fn minus_capital_p_unsets_credentials() {
    let d = Dir::new("nopc");
    let p = d.join("s");
    let _srv = server(&["-P"], &p, &["sh", "-c", ENV_PROG]);
    let mut s = connect(&p);
    let out = read_string(&mut s);
    assert!(!out.contains("IPCREMOTEEUID"), "{out}");
    assert!(!out.contains("IPCREMOTEEGID"), "{out}");
    assert!(out.contains("IPCCONNNUM=\n"), "{out}");
}

/// An HTTP/1.1 responder in bash: reads the request line, headers and a body of
/// Content-Length bytes, answers JSON describing what it got (seed 004).
const HTTP: &str = r#"
read -r method target proto
len=0
while IFS= read -r line; do
  line=${line%$'\r'}
  [ -z "$line" ] && break
  case "${line,,}" in content-length:*) len=${line#*: } ;; esac
done
body=$(head -c "$len")
[ -n "$body" ] || body=null
if [ "$target" = /missing ]; then status="404 Not Found"; else status="200 OK"; fi
resp="{\"method\":\"$method\",\"target\":\"$target\",\"uid\":$IPCREMOTEEUID,\"body\":$body}"
printf 'HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "$status" "${#resp}" "$resp"
"#;

#[test]
fn http_over_unix_socket_with_curl() {
    if !have("curl") {
        return;
    }
    let d = Dir::new("http");
    let p = d.join("http.sock");
    let _srv = server(&[], &p, &["bash", "-c", HTTP]);
    let sock = p.to_str().unwrap();
    let out = run_timeout(
        cmd(&[
            "curl",
            "-sS",
            "-w",
            "\n%{http_code}",
            "--unix-socket",
            sock,
            "http://localhost/items",
        ]),
        10,
    );
    out.assert_code(0);
    assert_eq!(
        out.out(),
        "{\"method\":\"GET\",\"target\":\"/items\",\"uid\":0,\"body\":null}\n200"
    );
    let out = run_timeout(
        as_nobody(&[
            "curl",
            "-sS",
            "-w",
            "\n%{http_code}",
            "--unix-socket",
            sock,
            "-H",
            "Content-Type: application/json",
            "--data",
            "{\"name\":\"x\",\"n\":3}",
            "http://localhost/items",
        ]),
        10,
    );
    out.assert_code(0);
    assert_eq!(
        out.out(),
        "{\"method\":\"POST\",\"target\":\"/items\",\"uid\":65534,\"body\":{\"name\":\"x\",\"n\":3}}\n200"
    );
    let out = run_timeout(
        cmd(&[
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--unix-socket",
            sock,
            "http://localhost/missing",
        ]),
        10,
    );
    assert_eq!(out.out(), "404");
}

#[test]
fn file_permissions_control_access() {
    if !have("s6-ipcclient") {
        return;
    }
    let d = Dir::new("perm");
    let p = d.join("s");
    let _srv = server(
        &["-a", "0660", "-o", ":4242"],
        &p,
        &["sh", "-c", "echo hello"],
    );
    let m = std::fs::metadata(&p).unwrap();
    assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o660, 0, 4242));
    let sp = p.to_str().unwrap();
    let outsider = run_timeout(as_nobody(&["s6-ipcclient", sp, "sh", "-c", "cat <&6"]), 10);
    outsider.assert_code(111);
    assert_eq!(
        outsider.err(),
        format!("s6-ipcclient: fatal: unable to connect to {sp}: Permission denied\n")
    );
    let mut member = Command::new("setpriv");
    member.args([
        "--reuid", "65534", "--regid", "65534", "--groups", "4242", "--",
    ]);
    member.args(["s6-ipcclient", sp, "sh", "-c", "cat <&6"]);
    let out = run_timeout(member, 10);
    out.assert_code(0);
    assert_eq!(out.out(), "hello\n");
}

#[test]
fn maxconn_makes_clients_wait() {
    let d = Dir::new("c1");
    let p = d.join("s");
    let _srv = server(
        &["-c", "1"],
        &p,
        &["sh", "-c", "echo hello; exec cat >/dev/null"],
    );
    let mut c1 = connect(&p);
    let mut buf = [0u8; 6];
    c1.read_exact(&mut buf).unwrap();
    let mut c2 = connect(&p);
    c2.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let e = read_once(&mut c2, &mut buf).unwrap_err();
    assert!(matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ));
    drop(c1);
    c2.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c2.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hello\n");
}

#[test]
fn localmaxconn_denies_per_uid() {
    let d = Dir::new("lc1");
    let p = d.join("s");
    let srv = server(
        &["-C", "1"],
        &p,
        &[
            "sh",
            "-c",
            "echo $IPCREMOTEEUID $IPCCONNNUM; exec cat >/dev/null",
        ],
    );
    let mut c1 = connect(&p);
    let mut buf = [0u8; 4];
    c1.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"0 1\n");
    // Same uid, over the limit: closed at once.
    let mut c2 = connect(&p);
    assert_eq!(read_string(&mut c2), "");
    // Another uid has its own count.
    if have("s6-ipcclient") {
        let out = run_timeout(
            as_nobody(&[
                "s6-ipcclient",
                p.to_str().unwrap(),
                "sh",
                "-c",
                "head -n1 <&6",
            ]),
            10,
        );
        out.assert_code(0);
        assert_eq!(out.out(), "65534 1\n");
    }
    drop(c1);
    let out = srv.stop_with(libc::SIGTERM);
    assert!(
        out.err().contains("ipcserver: info: deny 0:0 count 1/1\n"),
        "{}",
        out.err()
    );
}

fn wait_children(srv: &Server, n: usize) -> Vec<i32> {
    assert!(
        eventually(10, || srv.children().len() == n),
        "children: {:?}",
        srv.children()
    );
    srv.children()
}

fn alive(pid: i32) -> bool {
    matches!(proc_state(pid), Some(c) if c != 'Z')
}

fn start_sleeper(tag: &str) -> (Dir, Server, UnixStream) {
    let d = Dir::new(tag);
    let p = d.join("s");
    let srv = server(&[], &p, &["sh", "-c", "echo up; exec sleep 60"]);
    let mut c = connect(&p);
    let mut buf = [0u8; 3];
    c.read_exact(&mut buf).unwrap();
    (d, srv, c)
}

#[test]
fn sigterm_exits_and_leaves_children() {
    let (_d, srv, _c) = start_sleeper("term");
    let kids = wait_children(&srv, 1);
    let out = srv.stop_with(libc::SIGTERM);
    out.assert_code(0);
    assert!(alive(kids[0]), "child must survive SIGTERM of the server");
    unsafe_kill(kids[0], libc::SIGKILL);
}

#[test]
fn sighup_kills_children_and_keeps_serving() {
    let (d, srv, mut c) = start_sleeper("hup");
    let kids = wait_children(&srv, 1);
    srv.signal(libc::SIGHUP);
    assert_eq!(read_string(&mut c), "");
    assert!(eventually(10, || srv.children().is_empty()));
    assert!(!alive(kids[0]));
    let mut c2 = connect(&d.join("s"));
    let mut buf = [0u8; 3];
    c2.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"up\n");
}

#[test]
fn sigquit_and_sigabrt_kill_children_and_exit() {
    for sig in [libc::SIGQUIT, libc::SIGABRT] {
        let (_d, srv, mut c) = start_sleeper("quit");
        let kids = wait_children(&srv, 1);
        let out = srv.stop_with(sig);
        out.assert_code(0);
        assert_eq!(read_string(&mut c), "");
        assert!(eventually(10, || !alive(kids[0])), "signal {sig}");
    }
}

#[test]
fn thousand_connections_leave_no_zombie_and_no_fd() {
    let d = Dir::new("k");
    let p = d.join("s");
    let srv = server(&[], &p, &["true"]);
    // One connection first: the server may still be closing start-up fds right after
    // its readiness line.
    assert_eq!(read_string(&mut connect(&p)), "");
    assert!(eventually(10, || srv.children().is_empty()));
    let before = srv.fd_count();
    for _ in 0..1000 {
        let mut s = connect(&p);
        assert_eq!(read_string(&mut s), "");
    }
    assert!(
        eventually(10, || srv.children().is_empty()),
        "left: {:?}",
        srv.children()
    );
    assert_eq!(srv.fd_count(), before);
}

#[test]
fn prog_not_found_warns_and_keeps_serving() {
    let d = Dir::new("nf");
    let p = d.join("s");
    let srv = server(&[], &p, &["/nonexistent/prog"]);
    for _ in 0..3 {
        let mut s = connect(&p);
        assert_eq!(read_string(&mut s), "");
    }
    let out = srv.stop_with(libc::SIGTERM);
    out.assert_code(0);
    // As s6-ipcserverd 2.15: a warning per connection, at verbosity 1 and up.
    let warn = "ipcserver: warning: unable to spawn /nonexistent/prog: No such file or directory (this connection got end of file; the server goes on: install prog, or fix its name or PATH)\n";
    assert_eq!(out.err().matches(warn).count(), 3, "{}", out.err());
    let quiet = server(&["-q"], &d.join("q"), &["/nonexistent/prog"]);
    assert_eq!(read_string(&mut connect(&d.join("q"))), "");
    let out = quiet.stop_with(libc::SIGTERM);
    out.assert_code(0);
    assert_eq!(out.err(), "");
}

#[test]
fn handler_crash_and_vanishing_clients_do_not_stop_the_server() {
    let d = Dir::new("crash");
    let p = d.join("s");
    let _srv = server(&[], &p, &["sh", "-c", "read x; kill -SEGV $$"]);
    for _ in 0..20 {
        let s = connect(&p);
        drop(s); // client vanishes at once
    }
    let mut s = connect(&p);
    s.write_all(b"x\n").unwrap();
    assert_eq!(read_string(&mut s), "");
    let mut s = connect(&p);
    s.write_all(b"x\n").unwrap();
    assert_eq!(read_string(&mut s), "");
}

fn ipcserver_once(args: &[&str], path: &Path) -> std::process::Output {
    let mut c = Command::new(bin("ipcserver"));
    c.args(args).arg(path).arg("true");
    run_timeout(c, 10)
}

#[test]
fn stale_socket_is_replaced() {
    let d = Dir::new("stale");
    let p = d.join("s");
    drop(UnixListener::bind(&p).unwrap());
    let old = std::fs::symlink_metadata(&p).unwrap().ino();
    // Hold the old inode, so that the new socket cannot get its number back.
    let _hold = crate::socknames::hold_inode(&p);
    let _srv = server(&[], &p, &["sh", "-c", "echo new"]);
    assert_ne!(std::fs::symlink_metadata(&p).unwrap().ino(), old);
    assert_eq!(read_string(&mut connect(&p)), "new\n");
    no_private_dirs(&d);
}

#[test]
fn live_socket_file_dir_and_symlink_are_refused_untouched() {
    let d = Dir::new("refuse");
    let p = d.join("s");
    let sp = p.display().to_string();

    let live = UnixListener::bind(&p).unwrap();
    let ino = std::fs::symlink_metadata(&p).unwrap().ino();
    let out = ipcserver_once(&[], &p);
    out.assert_code(111);
    assert_eq!(
        out.err(),
        format!("ipcserver: fatal: {sp} is in use by a running server: refusing to replace it\n")
    );
    assert_eq!(std::fs::symlink_metadata(&p).unwrap().ino(), ino);
    drop(live);
    std::fs::remove_file(&p).unwrap();

    std::fs::write(&p, "data").unwrap();
    let out = ipcserver_once(&[], &p);
    out.assert_code(111);
    assert_eq!(
        out.err(),
        format!("ipcserver: fatal: {sp} exists and is a regular file: refusing to replace it\n")
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "data");
    std::fs::remove_file(&p).unwrap();

    std::fs::create_dir(&p).unwrap();
    ipcserver_once(&[], &p).assert_code(111);
    assert!(p.is_dir());
    std::fs::remove_dir(&p).unwrap();

    let target = d.join("target");
    std::fs::write(&target, "t").unwrap();
    std::os::unix::fs::symlink(&target, &p).unwrap();
    let out = ipcserver_once(&["-a", "0600"], &p);
    out.assert_code(111);
    assert!(
        out.err().contains("is a symbolic link: refusing"),
        "{}",
        out.err()
    );
    assert_eq!(std::fs::read_link(&p).unwrap(), target);
    assert_eq!(
        std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
        0o644
    );
    no_private_dirs(&d);
}

#[test]
fn minus_capital_d_refuses_any_existing_path() {
    let d = Dir::new("bigd");
    let p = d.join("s");
    drop(UnixListener::bind(&p).unwrap());
    let out = ipcserver_once(&["-D"], &p);
    out.assert_code(111);
    assert_eq!(
        out.err(),
        format!(
            "ipcserver: fatal: unable to bind to {}: Address already in use\n",
            p.display()
        )
    );
}

#[test]
fn two_servers_at_once_exactly_one_wins() {
    // Each method (direct bind in 0755 and sticky directories, private directory in a
    // 0777 one), with and without a stale socket to replace.
    for round in 0..12 {
        let d = Dir::new("race");
        let mode = [0o755, 0o1777, 0o777][round % 3];
        std::fs::set_permissions(&d.path, std::fs::Permissions::from_mode(mode)).unwrap();
        let p = d.join("s");
        if round % 2 == 1 {
            drop(UnixListener::bind(&p).unwrap());
        }
        let spawn = || {
            let mut c = Command::new(bin("ipcserver"));
            c.arg("-1").arg(&p).args(["sh", "-c", "echo hi"]);
            c.stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            c.spawn().unwrap()
        };
        let mut a = spawn();
        let mut b = spawn();
        std::thread::sleep(Duration::from_millis(300));
        let ea = a.try_wait().unwrap();
        let eb = b.try_wait().unwrap();
        let exited: Vec<_> = [ea, eb].into_iter().flatten().collect();
        assert_eq!(
            exited.len(),
            1,
            "round {round}: exactly one must lose: {ea:?} {eb:?}"
        );
        assert_eq!(exited[0].code(), Some(111));
        assert_eq!(read_string(&mut connect(&p)), "hi\n");
        for mut c in [a, b] {
            let _ = c.kill();
            let _ = c.wait();
        }
        no_private_dirs(&d);
    }
}

/// The socket file may exist before its owner is final (it is bound at its real name),
/// but nobody can connect until it is: a second uid hammering connect() while the server
/// starts again and again never gets past the permission check, and every connect that
/// succeeds (as root) finds the final mode and owner.
#[test]
fn no_connect_before_mode_and_owner_are_final() {
    let d = Dir::new("watch");
    let p = d.join("s");
    let hammer = crate::socknames::Hammer::start(65533, &p, &d.join("stop"));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (pp, st) = (p.clone(), stop.clone());
    let watcher = std::thread::spawn(move || {
        let mut seen = 0u64;
        let mut bad = Vec::new();
        while !st.load(std::sync::atomic::Ordering::Relaxed) {
            // Which file, in which state: its inode number alone is not enough (the
            // next server's file may reuse it at once), its ctime changes with any chown.
            let state = |m: &std::fs::Metadata| (m.ino(), m.ctime(), m.ctime_nsec());
            let before = std::fs::symlink_metadata(&pp).map(|m| state(&m));
            if UnixStream::connect(&pp).is_ok() {
                // The test removes PATH between starts; and a stat after the connect
                // may find the next server's fresh file (not chowned yet): judge only
                // a file seen unchanged before and after the connect.
                let Ok(m) = std::fs::symlink_metadata(&pp) else {
                    continue;
                };
                if before.ok() != Some(state(&m)) {
                    continue;
                }
                seen += 1;
                let got = (m.mode() & 0o7777, m.uid(), m.gid());
                if got != (0o600, 65534, 65534) {
                    bad.push(got);
                }
            }
        }
        (seen, bad)
    });
    for _ in 0..30 {
        let srv = server(&["-a", "0600", "-o", "65534:65534"], &p, &["true"]);
        drop(srv);
        let _ = std::fs::remove_file(&p);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (seen, bad) = watcher.join().unwrap();
    let h = hammer.finish();
    assert!(seen > 0, "the watcher never connected");
    assert!(
        bad.is_empty(),
        "connected with the wrong mode/owner: {:?}",
        &bad[..bad.len().min(5)]
    );
    h.assert_never_in();
    no_private_dirs(&d);
}

#[test]
fn paths_longer_than_sun_path() {
    let d = Dir::new("long");
    let mut dir = d.path.clone();
    for i in 0..4 {
        dir = dir.join(format!("{i}{}", "d".repeat(48)));
    }
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("a-socket-with-a-long-name");
    assert!(p.as_os_str().len() >= 200);
    let srv = server(&[], &p, &["sh", "-c", "echo $IPCLOCALPATH"]);
    assert_eq!(srv.ready_line, format!("{}\n", p.display()));
    if have("s6-ipcclient") {
        let mut c = Command::new("s6-ipcclient");
        c.current_dir(&dir)
            .args(["a-socket-with-a-long-name", "sh", "-c", "cat <&6"]);
        let out = run_timeout(c, 10);
        out.assert_code(0);
        assert_eq!(out.out(), format!("{}\n", p.display()));
    }
}

#[test]
fn abstract_socket() {
    if !have("socat") {
        return;
    }
    let name = format!("ipct-{}-abs", std::process::id());
    let at = format!("@{name}");
    let mut c = Command::new(bin("ipcserver"));
    c.args(["-1", &at, "sh", "-c", "echo $IPCLOCALPATH"]);
    let srv = Server::start(c);
    assert_eq!(srv.ready_line, format!("{at}\n"));
    let out = run_timeout(
        cmd(&["socat", "-", &format!("ABSTRACT-CONNECT:{name}")]),
        10,
    );
    out.assert_code(0);
    assert_eq!(out.out(), format!("{at}\n"));
}

#[test]
fn bad_usage_exits_100() {
    let usage_line = "ipcserver: usage: ipcserver [ -1 ] [ -q | -Q | -v ] [ -d | -D ] [ -P | -p ] [ -c maxconn ] [ -C localmaxconn ] [ -b backlog ] [ -a perms ] [ -o uid:gid ] [ -G gidlist ] [ -g gid ] [ -u uid ] [ -U ] path prog...\n";
    // -a 77777 and -G 1,,2 are accepted, as by s6 (tests/differential/options.rs).
    for (args, why) in [
        (vec!["-c", "x", "/tmp/x", "true"], "-c: x is not a number"),
        (
            vec!["-a", "999", "/tmp/x", "true"],
            "-a: 999 is not an octal number",
        ),
        (
            vec!["-o", "1", "/tmp/x", "true"],
            "-o: 1 is not UID:GID (numbers or names, either may be empty)",
        ),
        (vec!["-Z", "/tmp/x", "true"], "unknown option -Z"),
        (vec!["/tmp/x"], "missing prog"),
        (vec![], "missing path"),
    ] {
        let out = run_timeout(
            cmd(&[bin("ipcserver").to_str().unwrap()]
                .iter()
                .copied()
                .chain(args.iter().copied())
                .collect::<Vec<_>>()),
            10,
        );
        out.assert_code(100);
        assert_eq!(
            out.err(),
            format!("ipcserver: fatal: {why}\n{usage_line}"),
            "{args:?}"
        );
    }
}

#[test]
fn system_errors_exit_111_and_create_nothing() {
    let d = Dir::new("sys");
    let out = ipcserver_once(&[], &d.join("missing/s"));
    out.assert_code(111);
    assert_eq!(
        out.err(),
        format!(
            "ipcserver: fatal: unable to open directory {}: No such file or directory\n",
            d.join("missing").display()
        )
    );
    // Not root: -u is refused before anything is created.
    std::fs::set_permissions(&d.path, std::fs::Permissions::from_mode(0o777)).unwrap();
    let p = d.join("s");
    let out = run_timeout(
        as_nobody(&[
            bin("ipcserver").to_str().unwrap(),
            "-u",
            "1",
            p.to_str().unwrap(),
            "true",
        ]),
        10,
    );
    out.assert_code(111);
    assert_eq!(
        out.err(),
        "ipcserver: fatal: unable to drop privileges: Operation not permitted\n"
    );
    assert!(d.entries().is_empty(), "{:?}", d.entries());
    // Permission denied on the directory.
    let ro = d.join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run_timeout(
        as_nobody(&[
            bin("ipcserver").to_str().unwrap(),
            ro.join("s").to_str().unwrap(),
            "true",
        ]),
        10,
    );
    out.assert_code(111);
    assert!(out.err().contains("Permission denied"), "{}", out.err());
    assert!(std::fs::read_dir(&ro).unwrap().next().is_none());
}

#[test]
fn privileges_are_dropped_after_bind() {
    let d = Dir::new("drop");
    let p = d.join("s");
    let _srv = server(
        &["-u", "65534", "-g", "65534"],
        &p,
        &[
            "sh",
            "-c",
            "grep -E '^(Uid|Gid|Groups|CapEff|CapPrm):' /proc/self/status",
        ],
    );
    let out = read_string(&mut connect(&p));
    let lines: Vec<&str> = out.lines().map(|l| l.trim_end()).collect();
    let norm: Vec<String> = lines
        .iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert!(
        norm.contains(&"Uid: 65534 65534 65534 65534".to_string()),
        "{out}"
    );
    assert!(
        norm.contains(&"Gid: 65534 65534 65534 65534".to_string()),
        "{out}"
    );
    assert!(norm.contains(&"Groups: 65534".to_string()), "{out}");
    assert!(
        norm.contains(&"CapEff: 0000000000000000".to_string()),
        "{out}"
    );
    // The socket itself stays root's, bound before the drop.
    assert_eq!(std::fs::metadata(&p).unwrap().uid(), 0);
}

/// `-u` without `-g` keeps the gid (root's 0), as s6-ipcserver does; ipcserver says so
/// at start, unless `-q`.
#[test]
fn u_without_g_warns_and_keeps_gid_0() {
    let d = Dir::new("uwog");
    let prog = ["sh", "-c", "id -u; id -g"];
    let p = d.join("s");
    let srv = server(&["-u", "65534"], &p, &prog);
    assert_eq!(read_string(&mut connect(&p)), "65534\n0\n");
    assert_eq!(
        srv.stop_with(libc::SIGTERM).err(),
        "ipcserver: warning: -u without -g: the server and its handlers keep gid 0\n"
    );
    let q = d.join("q");
    let srv = server(&["-q", "-u", "65534"], &q, &prog);
    assert_eq!(read_string(&mut connect(&q)), "65534\n0\n");
    assert_eq!(srv.stop_with(libc::SIGTERM).err(), "");
    // With -g, nothing to say.
    let g = d.join("g");
    let srv = server(&["-u", "65534", "-g", "65534"], &g, &prog);
    assert_eq!(read_string(&mut connect(&g)), "65534\n65534\n");
    assert_eq!(srv.stop_with(libc::SIGTERM).err(), "");
}

#[test]
fn minus_capital_u_reads_and_unsets_uid_gid_gidlist() {
    let d = Dir::new("bigu");
    let p = d.join("s");
    let mut c = Command::new(bin("ipcserver"));
    c.env("UID", "65534")
        .env("GID", "65534")
        .env("GIDLIST", "65534,4242");
    c.args(["-U", "-1"]).arg(&p).args([
        "sh",
        "-c",
        "id -u; id -G; echo ${UID-unset} ${GID-unset} ${GIDLIST-unset}",
    ]);
    let _srv = Server::start(c);
    assert_eq!(
        read_string(&mut connect(&p)),
        "65534\n65534 4242\nunset unset unset\n"
    );
    let mut c = Command::new(bin("ipcserver"));
    c.env_remove("UID")
        .args(["-U"])
        .arg(d.join("t"))
        .arg("true");
    let out = run_timeout(c, 10);
    out.assert_code(100);
    assert_eq!(out.err(), "ipcserver: fatal: UID not set\n");
}

#[test]
fn verbose_log_lines() {
    let d = Dir::new("log");
    let p = d.join("s");
    let srv = server(&["-v"], &p, &["sh", "-c", "exit 3"]);
    read_string(&mut connect(&p));
    assert!(eventually(10, || srv.children().is_empty()));
    std::thread::sleep(Duration::from_millis(100));
    let out = srv.stop_with(libc::SIGTERM);
    let err = out.err();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], "ipcserver: info: starting");
    assert_eq!(lines[1], "ipcserver: info: status: 0/40");
    assert!(
        lines[2].starts_with("ipcserver: info: allow 0:0 pid "),
        "{err}"
    );
    // Our addition (tests/identity.rs checks its values).
    assert!(lines[2].contains(" count 1/40 client pid "), "{err}");
    assert_eq!(lines[3], "ipcserver: info: status: 1/40");
    assert!(
        lines[4].starts_with("ipcserver: info: end pid ")
            && lines[4].ends_with(" uid 0 exitcode 3"),
        "{err}"
    );
    assert_eq!(lines[5], "ipcserver: info: status: 0/40");
    assert_eq!(lines[6], "ipcserver: info: received SIGTERM, quitting");
    assert_eq!(lines[7], "ipcserver: info: exiting");
}

#[test]
fn children_get_clean_fds_and_signals() {
    let d = Dir::new("hyg");
    let p = d.join("s");
    // Started with SIGINT ignored, as a shell does for background jobs.
    let mut c = Command::new("sh");
    c.arg("-c").arg(format!(
        "trap '' INT; exec {} -1 {} sh -c 'ls /proc/self/fd | sort -n | tr \"\\n\" \" \"; grep -E \"^Sig(Blk|Ign)\" /proc/self/status'",
        bin("ipcserver").display(),
        p.display()
    ));
    let _srv = Server::start(c);
    let out = read_string(&mut connect(&p));
    // What any child of this test inherits from the test harness (not ours to close).
    let base = run_timeout(
        cmd(&["sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '"]),
        10,
    )
    .out();
    // fds 0, 1, 2, the one ls opens, and the harness's: nothing of the server's.
    assert!(out.starts_with(&format!("{base}SigBlk")), "{out} vs {base}");
    assert!(base.starts_with("0 1 2 3 "), "{base}");
    assert!(out.contains("SigBlk:\t0000000000000000"), "{out}");
    assert!(out.contains("SigIgn:\t0000000000000000"), "{out}");
}

#[test]
fn out_of_fds_neither_spins_nor_stops_serving() {
    if !have("prlimit") {
        return;
    }
    let d = Dir::new("mfile");
    let p = d.join("s");
    let srv = server(&[], &p, &["sh", "-c", "echo served"]);
    // One connection first: the server may still be closing start-up fds right after
    // its readiness line.
    assert_eq!(read_string(&mut connect(&p)), "served\n");
    let pid = srv.pid().to_string();
    // The lowest free fd number: with the soft limit there, no new fd can be made.
    let fds: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().parse().unwrap())
        .collect();
    let open = (0..).find(|n| !fds.contains(n)).unwrap().to_string();
    // No fd left for accept: every accept fails with EMFILE.
    // Lower the soft limit only: the hard one stays, so it can be raised back.
    run_timeout(
        cmd(&["prlimit", "--pid", &pid, &format!("--nofile={open}:")]),
        10,
    )
    .assert_code(0);
    let mut c = connect(&p);
    c.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    assert!(
        read_once(&mut c, &mut [0u8; 1]).is_err(),
        "served although out of fds"
    );
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let t0 = cpu_ticks(srv.pid());
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(srv.pid()).saturating_sub(t0);
    assert!(
        used <= 5,
        "server used {used} ticks of CPU in 1 s while out of fds"
    );
    run_timeout(cmd(&["prlimit", "--pid", &pid, "--nofile=256:"]), 10).assert_code(0);
    assert_eq!(read_string(&mut c), "served\n");
    let log = srv.log();
    assert_eq!(
        log.matches("ipcserver: warning: unable to accept: Too many open files: pausing accept until resources free up\n").count(),
        1,
        "{log}"
    );
}

/// Start `ipcserver -1 ARGS…` in `cwd` and return it once ready.
fn start_in(cwd: &Path, args: &[&str]) -> Server {
    let mut c = Command::new(bin("ipcserver"));
    c.current_dir(cwd).arg("-1").args(args);
    Server::start(c)
}

/// `ipcserver -v 2 PATH prog` is valid (s6 reads it so too) but binds `./2`: warned
/// about before anything is created, and the server still does what it was told.
#[test]
fn a_number_after_v_becomes_the_path_with_a_warning() {
    let d = Dir::new("v2");
    let srv = start_in(&d.path, &["-v", "2", "sh", "-c", "echo served"]);
    assert!(
        std::fs::metadata(d.join("2"))
            .unwrap()
            .file_type()
            .is_socket(),
        "no ./2"
    );
    let log = srv.stop_with(libc::SIGTERM).err().to_string();
    assert_eq!(
        log.lines().next(),
        Some(
            "ipcserver: warning: -v takes no value (unlike ipcserverd's and ipcserver-access's \
             -v): 2 is the socket path, ./2, and the next argument the program; write -v PATH prog"
        ),
        "{log}"
    );
}

/// A path longer than sun_path: the server starts (our clients reach it), with a
/// warning naming the clients that cannot; socat, which connects by the path, fails.
#[test]
fn a_path_over_107_bytes_is_warned_about_at_start() {
    let d = Dir::new("lp");
    let long = d.join("l".repeat(120));
    let long_s = long.to_str().unwrap();
    let srv = start_in(&d.path, &["-Q", long_s, "sh", "-c", "echo served"]);
    let c = run_timeout(
        cmd(&[
            bin("ipcclient").to_str().unwrap(),
            long_s,
            "sh",
            "-c",
            "cat <&6",
        ]),
        10,
    );
    assert_eq!(c.assert_code(0).out(), "served\n");
    if have("socat") {
        let o = run_timeout(
            cmd(&["socat", "-u", &format!("UNIX-CONNECT:{long_s}"), "-"]),
            10,
        );
        assert!(
            !o.status.success(),
            "socat reached a {}-byte path",
            long_s.len()
        );
    }
    let log = srv.stop_with(libc::SIGTERM).err().to_string();
    let want = format!(
        "ipcserver: warning: {long_s} is {} bytes, more than the 107 a socket address holds: \
         only clients that connect through its directory (ipcclient, ipcsudo) can reach it; \
         curl, socat, nginx and s6-ipcclient cannot (use a shorter path)\n",
        long_s.len()
    );
    assert_eq!(log.matches(&want).count(), 1, "{log}");
    // 107 bytes fit: no warning.
    let fits = d.join("f".repeat(107 - d.path.as_os_str().len() - 1));
    assert_eq!(fits.as_os_str().len(), 107);
    let srv = start_in(&d.path, &[fits.to_str().unwrap(), "true"]);
    let log = srv.stop_with(libc::SIGTERM).err().to_string();
    assert!(!log.contains("bytes, more than"), "{log}");
}

/// A handler that cannot run: one warning at start saying what to fix (the server
/// starts all the same: it may be installed later), and each connection's line says
/// the server goes on.
#[test]
fn an_unrunnable_prog_is_warned_about_at_start() {
    let d = Dir::new("up");
    let noexec = d.join("noexec");
    std::fs::write(&noexec, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&noexec, std::fs::Permissions::from_mode(0o644)).unwrap();
    let noexec = noexec.to_str().unwrap().to_string();
    let cases = [
        (
            "/nonexistent/prog".to_string(),
            "No such file or directory: every client will get end of file until it can (fix the path)",
        ),
        (
            "ipct-no-such-prog".to_string(),
            "No such file or directory: every client will get end of file until it can (install it, or fix the name or PATH)",
        ),
        (
            noexec.clone(),
            "Permission denied: every client will get end of file until it can (make it executable for the server's uid)",
        ),
    ];
    for (i, (prog, why)) in cases.iter().enumerate() {
        let p = d.join(format!("s{i}"));
        let srv = start_in(&d.path, &[p.to_str().unwrap(), prog]);
        assert_eq!(read_string(&mut connect(&p)), "");
        let log = srv.stop_with(libc::SIGTERM).err().to_string();
        let start = format!("ipcserver: warning: {prog} cannot be run: {why}");
        assert_eq!(log.lines().next(), Some(start.as_str()), "{log}");
    }
    // A program that runs, and one made runnable after the start: no warning, served.
    let p = d.join("ok");
    let srv = start_in(&d.path, &[p.to_str().unwrap(), "sh", "-c", "echo hi"]);
    assert_eq!(read_string(&mut connect(&p)), "hi\n");
    assert_eq!(srv.stop_with(libc::SIGTERM).err(), "");
    let p = d.join("late");
    let srv = start_in(&d.path, &[p.to_str().unwrap(), &noexec]);
    std::fs::set_permissions(&noexec, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(read_string(&mut connect(&p)), "hi\n");
    drop(srv);
}

/// A socket directory the server may not write to: the error names the directory
/// (the lock file there is an implementation detail).
#[test]
fn an_unwritable_directory_is_named() {
    let d = Dir::new("ro");
    let dir = d.join("root-only");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let p = dir.join("s");
    let o = run_timeout(
        as_user(
            1000,
            &[
                bin("ipcserver").to_str().unwrap(),
                p.to_str().unwrap(),
                "true",
            ],
        ),
        10,
    );
    o.assert_code(111);
    assert_eq!(
        o.err(),
        format!(
            "ipcserver: fatal: unable to create the socket in directory {}: Permission denied\n",
            dir.display()
        )
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

/// Names for -o, -u, -g and -G, read from /etc/passwd and /etc/group (Debian: nobody
/// is 65534, nogroup 65534, staff 50): the socket's owner and the handler's ids are
/// the numbers, as with the numbers themselves.
#[test]
fn user_and_group_names_are_read_from_etc() {
    let d = Dir::new("names");
    let p = d.join("s");
    let srv = start_in(
        &d.path,
        &[
            "-a",
            "0660",
            "-o",
            "root:staff",
            "-u",
            "nobody",
            "-g",
            "nogroup",
            "-G",
            "staff,7",
            p.to_str().unwrap(),
            "sh",
            "-c",
            "echo $(id -u) $(id -g) $(id -G)",
        ],
    );
    let m = std::fs::metadata(&p).unwrap();
    assert_eq!((m.uid(), m.gid()), (0, 50));
    assert_eq!(read_string(&mut connect(&p)), "65534 65534 65534 7 50\n");
    drop(srv);
    let o = run_timeout(
        cmd(&[
            bin("ipcserver").to_str().unwrap(),
            "-u",
            "ipct-no-such-user",
            p.to_str().unwrap(),
            "true",
        ]),
        10,
    );
    o.assert_code(100);
    assert!(
        o.err().starts_with(
            "ipcserver: fatal: -u: no user ipct-no-such-user in /etc/passwd (it is read directly, \
             without NSS: for an LDAP or sssd user, use s6-envuidgid ipct-no-such-user ipcserver -U …)\n"
        ),
        "{}",
        o.err()
    );
}
