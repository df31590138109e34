//! Tests: reliability and security. The fast half of doc/reliability.md: the
//! attacks (each must fail to get through) and the faults a server must survive. The
//! long runs are in bench/reliability.sh.

use crate::util::*;
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Read to EOF; a reset (the handler died with our bytes unread) also ends it.
fn read_lenient(s: &mut UnixStream) -> Vec<u8> {
    let mut v = Vec::new();
    match s.read_to_end(&mut v) {
        Ok(_) => v,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => v,
        Err(e) => panic!("read: {e}"),
    }
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Start `ipcserver -1 ARGS PATH true` and wait for its readiness line or its exit.
/// Returns the running server, or the exit status and stderr of a refused start.
/// With `slow`, under `strace -f`: every system call stops, which widens the windows
/// between them from microseconds to about a millisecond, for an attacker to hit.
fn start_once(args: &[&str], path: &Path, slow: bool) -> Result<Child, (Option<i32>, String)> {
    let mut c = if slow {
        let mut c = Command::new("strace");
        c.args(["-f", "-qq", "-o", "/dev/null"])
            .arg(bin("ipcserver"));
        c
    } else {
        Command::new(bin("ipcserver"))
    };
    c.args(args).arg("-1").arg(path).arg("true");
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v); // EOF once ready (stdout is closed) or exited
        let _ = tx.send(v);
    });
    let line = rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default();
    if !line.is_empty() {
        return Ok(child);
    }
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let status = wait_deadline(&mut child, 10).expect("ipcserver neither ready nor exited");
    Err((status.code(), err))
}

/// What must not change about a file someone else owns.
fn fingerprint(p: &Path) -> (u64, u32, u32, u32, Vec<u8>) {
    let m = std::fs::symlink_metadata(p).unwrap();
    let data = if m.is_file() {
        std::fs::read(p).unwrap()
    } else {
        Vec::new()
    };
    (m.ino(), m.mode(), m.uid(), m.gid(), data)
}

/// The attacker, as uid 65534, for `secs` seconds: swaps PATH between a symlink to the
/// victim, nothing, and a renamed-in file of its own; and hijacks the server's private
/// directory: renames it away, puts its own directory (or a symlink to one) under the
/// same name, and swaps any socket appearing in it for a symlink to the victim.
/// Prints the number of swaps and hijacks.
const RACER: &str = r#"
use strict;
my ($d, $b, $v, $mine, $t) = @ARGV;
my $p = "$d/$b";
my $end = time + $t;
my ($n, $h) = (0, 0);
while (time < $end) {
    for (1..20) {
        $n++ if symlink($v, $p);
        unlink($p);
        if (open(my $f, '>', "$d/f")) { close $f; $n++ if rename("$d/f", $p); }
        unlink($p);
    }
    opendir(my $dh, $d) or next;
    for my $e (readdir $dh) {
        next unless $e =~ /^\.ipcs-/ && (stat("$d/$e"))[4] != $>;
        next unless rename("$d/$e", "$d/.x$h");
        $h++;
        if ($h % 2) { symlink($mine, "$d/$e"); next; }
        mkdir("$d/$e"); chmod(0777, "$d/$e");
        for (1..2000) {
            if (-S "$d/$e/s") { rename("$d/$e/s", "$d/$e/t"); symlink($v, "$d/$e/s"); last; }
        }
    }
    closedir $dh;
}
print "$n $h\n";
"#;

/// Many starts of `ipcserver -a 0600 -o 65534:65534` while the racer attacks, in a
/// directory of the given mode, and uid 65533 hammers connect() on PATH. No chmod,
/// chown, bind or unlink may land outside the server's own socket and private
/// directory, and uid 65533 never gets past the socket's mode.
fn race(tag: &str, dir_mode: u32, slow: bool) {
    let d = Dir::new(tag);
    let victims = Dir::new("victim");
    let victim = victims.join("secret");
    std::fs::write(&victim, b"root's\n").unwrap();
    chmod(&victim, 0o600);
    let mine = Dir::new("mine"); // a directory the attacker may write in
    chmod(&mine.path, 0o777);
    let before = fingerprint(&victim);
    let vdir_before = fingerprint(&victims.path);
    chmod(&d.path, dir_mode);
    let p = d.join("s");
    let mut racer = as_nobody(&[OsStr::new("perl"), OsStr::new("-e"), OsStr::new(RACER)]);
    racer
        .arg(&d.path)
        .arg("s")
        .arg(&victim)
        .arg(&mine.path)
        .arg("4");
    racer.stdout(Stdio::piped()).stderr(Stdio::piped());
    let racer = racer.spawn().unwrap();
    let hammer = crate::socknames::Hammer::start(65533, &p, &victims.join("stop"));
    let end = Instant::now() + Duration::from_secs(3);
    let (mut won, mut refused) = (0, 0);
    while Instant::now() < end {
        match start_once(&["-a", "0600", "-o", "65534:65534"], &p, slow) {
            Ok(mut child) => {
                won += 1;
                // Under strace the server is strace's child, and a killed tracer only
                // detaches from it: kill the server first.
                for pid in children_of(child.id() as i32) {
                    unsafe_kill(pid, libc::SIGKILL);
                }
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_file(&p);
            }
            Err((code, err)) => {
                refused += 1;
                assert_eq!(code, Some(111), "{err}");
                assert!(err.starts_with("ipcserver: fatal: "), "{err}");
            }
        }
    }
    let out = wait_output(&mut { racer }, 20, "racer");
    let hammered = hammer.finish();
    assert_eq!(
        hammered.got_in, 0,
        "uid 65533 got past the mode: {hammered:?}"
    );
    let counts: Vec<u64> = out
        .out()
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    assert_eq!(counts.len(), 2, "racer: {}{}", out.out(), out.err());
    assert!(
        counts[0] >= 1000,
        "racer swapped PATH only {counts:?} times"
    );
    assert_eq!(fingerprint(&victim), before, "the victim file was touched");
    assert_eq!(fingerprint(&victims.path), vdir_before);
    // Nothing of root's may appear in the attacker's directories.
    for e in walk(&mine.path).into_iter().chain(walk(&d.path)) {
        let m = std::fs::symlink_metadata(&e).unwrap();
        if m.file_type().is_symlink() || m.uid() != 0 {
            continue;
        }
        let name = e.strip_prefix(&d.path).unwrap_or(&e);
        let ok = name == Path::new("s") || name.as_os_str().as_bytes().starts_with(b".x");
        assert!(
            ok,
            "root created {} (won {won}, refused {refused})",
            e.display()
        );
    }
    eprintln!("{tag}: {won} starts won, {refused} refused, racer {counts:?}, {hammered:?}");
}

fn walk(p: &Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let path = e.path();
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                v.extend(walk(&path));
            }
            v.push(path);
        }
    }
    v
}

#[test]
fn symlink_and_rename_race_in_a_sticky_directory() {
    race("race1777", 0o1777, false);
    if have("strace") {
        race("race1777s", 0o1777, true);
    }
}

/// A directory writable by another user (not sticky): the attacker may rename and
/// replace anything in it, including the server's private directory. Run slowed down
/// (strace), this caught the server binding through a hijacked private directory name
/// into a directory of the attacker's choice.
#[test]
fn symlink_and_rename_race_in_a_directory_writable_by_another_user() {
    race("race0777", 0o777, false);
    if have("strace") {
        race("race0777s", 0o777, true);
    }
}

/// Bind a client socket to `name` (raw bytes, relative to cwd-free `dir`), connect to
/// the server, and return what the handler wrote.
fn exchange_from(dir: &Path, name: &[u8], server: &Path) -> Vec<u8> {
    let mut path = dir.as_os_str().as_bytes().to_vec();
    path.push(b'/');
    path.extend_from_slice(name);
    let path = Path::new(OsStr::from_bytes(&path));
    let mut st = connect_from(path, server);
    let out = read_all(&mut st);
    let _ = std::fs::remove_file(path);
    out
}

/// IPCREMOTEPATH is whatever the client bound to: bytes passed through exactly, never
/// interpreted (a newline cannot start a second variable, invalid UTF-8 is not mangled).
#[test]
fn remote_path_with_control_bytes_and_invalid_utf8_is_byte_exact() {
    let d = Dir::new("rpath");
    let c = Dir::new("c");
    let p = d.join("s");
    // printf %s writes the value as is; the env dump shows no variable was injected.
    let _srv = sh_server(
        &p,
        r#"printf '%s' "$IPCREMOTEPATH"; printf '\0'; echo "${INJECTED-unset}""#,
    );
    let names: [&[u8]; 5] = [
        b"a\nINJECTED=1\nb",
        b"\x01\x02\x1b[31m\x7f",
        b"\xff\xfe\x80invalid\xc3",
        b"tab\there;`id`$(id)",
        b"%s%n%x\\",
    ];
    for name in names {
        let out = exchange_from(&c.path, name, &p);
        let mut want = c.path.as_os_str().as_bytes().to_vec();
        want.push(b'/');
        want.extend_from_slice(name);
        want.extend_from_slice(b"\x00unset\n");
        assert_eq!(out, want, "{:?}", String::from_utf8_lossy(&out));
    }
}

/// A client connects as uid 65534, passes the connected socket (SCM_RIGHTS) to a root
/// process and exits; it also tries to claim uid 0 with SCM_CREDENTIALS. The handler
/// must still see 65534: SO_PEERCRED is fixed at connect time.
#[test]
fn peer_credentials_survive_passing_the_socket_and_lying() {
    use rustix::net::{
        RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
        SendAncillaryMessage, SendFlags, SocketAddrUnix, UCred,
    };
    use std::io::IoSlice;
    use std::mem::MaybeUninit;
    use std::os::unix::process::CommandExt;

    let d = Dir::new("cred");
    let p = d.join("s");
    let _srv = sh_server(&p, "read x; echo \"$IPCREMOTEEUID:$IPCREMOTEEGID:$x\"");
    let (ours, theirs) = UnixStream::pair().unwrap();
    ours.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let addr = SocketAddrUnix::new(&p).unwrap();
    let mut c = Command::new("true");
    c.uid(65534).gid(65534); // std also clears the supplementary groups
    // SAFETY: the closure runs in the forked child and only makes system calls on
    // memory prepared before the fork (no allocation, no locks).
    unsafe {
        c.pre_exec(move || {
            use rustix::net::{AddressFamily, SocketFlags, SocketType};
            let s = rustix::net::socket_with(
                AddressFamily::UNIX,
                SocketType::STREAM,
                SocketFlags::CLOEXEC,
                None,
            )?;
            rustix::net::connect(&s, &addr)?;
            let lie = UCred {
                pid: rustix::process::getpid(),
                uid: rustix::process::Uid::ROOT,
                gid: rustix::process::Gid::ROOT,
            };
            let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmCredentials(1))];
            let mut anc = SendAncillaryBuffer::new(&mut space);
            anc.push(SendAncillaryMessage::ScmCredentials(lie));
            let lied = rustix::net::sendmsg(&s, &[IoSlice::new(b"")], &mut anc, SendFlags::empty())
                .is_ok();
            let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
            let mut anc = SendAncillaryBuffer::new(&mut space);
            let fds = [rustix::fd::AsFd::as_fd(&s)];
            anc.push(SendAncillaryMessage::ScmRights(&fds));
            let flag = [u8::from(lied)];
            rustix::net::sendmsg(
                &theirs,
                &[IoSlice::new(&flag)],
                &mut anc,
                SendFlags::empty(),
            )?;
            // Never exec: the connection now lives only in the parent. std passes only
            // an errno back, so the child says "done" with an unlikely one.
            Err(std::io::Error::from_raw_os_error(libc::EOWNERDEAD))
        });
    }
    let e = c.spawn().unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EOWNERDEAD), "{e}");
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut anc = RecvAncillaryBuffer::new(&mut space);
    let mut flag = [0u8; 1];
    let r = no_intr(|| {
        rustix::net::recvmsg(
            &ours,
            &mut [std::io::IoSliceMut::new(&mut flag)],
            &mut anc,
            RecvFlags::CMSG_CLOEXEC,
        )
    })
    .unwrap();
    assert_eq!(r.bytes, 1);
    assert_eq!(flag[0], 0, "the kernel let uid 65534 claim uid 0");
    let mut conn = None;
    for m in anc.drain() {
        if let RecvAncillaryMessage::ScmRights(mut fds) = m {
            conn = fds.next();
        }
    }
    let mut conn = UnixStream::from(conn.expect("no fd passed"));
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // Root now writes on the socket; the handler still sees the connecting uid.
    conn.write_all(b"root-writes\n").unwrap();
    let out = String::from_utf8(read_all(&mut conn)).unwrap();
    assert_eq!(out, "65534:65534:root-writes\n");
}

fn status_fields(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// After -u/-g (with and without -G), and after -U, the handler has no capability,
/// no saved or filesystem id of root, and none of the server's supplementary groups,
/// even when the server started with several (root's 0 among them).
#[test]
fn privilege_drop_leaves_nothing_of_root() {
    let d = Dir::new("privs");
    let probe = "grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapAmb|NoNewPrivs):' /proc/self/status; \
                 setpriv --reuid 0 true 2>/dev/null && echo REGAINED; exit 0";
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 4] = [
        (&["-u", "65534", "-g", "65534"], &[], "Groups: 65534"),
        // As s6: a group list gets the primary gid added.
        (
            &["-u", "65534", "-g", "65534", "-G", ""],
            &[],
            "Groups: 65534",
        ),
        (
            &["-u", "65534", "-g", "65534", "-G", "4242,4243"],
            &[],
            "Groups: 4242 4243 65534",
        ),
        (
            &["-U"],
            &[("UID", "65534"), ("GID", "65534"), ("GIDLIST", "4242")],
            "Groups: 4242 65534",
        ),
    ];
    for (i, (args, env, groups)) in cases.iter().enumerate() {
        let p = d.join(format!("s{i}"));
        // The server starts as root with supplementary groups 0, 1 and 27.
        let mut c = Command::new("setpriv");
        c.args(["--groups", "0,1,27", "--"]).arg(bin("ipcserver"));
        c.args(*args).arg("-1").arg(&p).args(["sh", "-c", probe]);
        for (k, v) in *env {
            c.env(k, v);
        }
        let _srv = Server::start(c);
        let out = String::from_utf8(read_all(&mut connect(&p))).unwrap();
        let f = status_fields(&out);
        let want = [
            "Uid: 65534 65534 65534 65534",
            "Gid: 65534 65534 65534 65534",
            groups,
            "CapInh: 0000000000000000",
            "CapPrm: 0000000000000000",
            "CapEff: 0000000000000000",
            "CapAmb: 0000000000000000",
        ];
        for w in want {
            assert!(f.iter().any(|l| l == w), "{args:?}: want {w:?} in\n{out}");
        }
        assert!(!out.contains("REGAINED"), "{out}");
    }
}

/// Handlers that crash, exit at once, never read, are SIGKILLed, and clients that
/// reset mid-transfer: afterwards every child is reaped, the per-uid count is back to
/// zero (the next client gets IPCCONNNUM=1), and the fd count is unchanged.
#[test]
fn misbehaving_handlers_and_clients_keep_counts_right() {
    let d = Dir::new("mis");
    let p = d.join("s");
    let script = r#"read kind || exit 0
case $kind in
crash) kill -SEGV $$ ;;
exit) exit 0 ;;
noread) sleep 0.2; head -c 300000 /dev/zero ;;
killme) echo $$; exec sleep 30 ;;
count) echo "$IPCCONNNUM" ;;
esac"#;
    let srv = server(&["-v", "-c", "8", "-C", "8"], &p, &["sh", "-c", script]);
    // The fd count once the server is in its loop (it closes its private bind
    // directory only after the readiness line): after a first connection.
    let mut s = connect(&p);
    s.write_all(b"exit\n").unwrap();
    assert_eq!(read_lenient(&mut s), b"");
    let fds = srv.fd_count();
    for round in 0..8 {
        let mut s = connect(&p);
        s.write_all(b"crash\n").unwrap();
        assert_eq!(read_lenient(&mut s), b"");
        let mut s = connect(&p);
        s.write_all(b"exit\n").unwrap();
        assert_eq!(read_lenient(&mut s), b"");
        // Reset mid-transfer: close with unread data (RST), while the handler writes.
        let mut s = connect(&p);
        s.write_all(b"noread\n").unwrap();
        let mut buf = [0u8; 100];
        let _ = s.read(&mut buf);
        drop(s);
        let mut s = connect(&p);
        s.write_all(b"killme\n").unwrap();
        let mut line = String::new();
        BufReader::new(&s).read_line(&mut line).unwrap();
        unsafe_kill(line.trim().parse().unwrap(), libc::SIGKILL);
        assert_eq!(read_lenient(&mut s), b"", "round {round}");
        // A client that vanishes before the handler reads.
        drop(connect(&p));
    }
    // Every one of the 41 handlers has been reaped (the last clients may not even have
    // been accepted when the children list first looks empty).
    let ended = || srv.log().matches(": end pid ").count() == 8 * 5 + 1;
    assert!(eventually(10, ended), "{}", srv.log());
    let mut s = connect(&p);
    s.write_all(b"count\n").unwrap();
    assert_eq!(read_lenient(&mut s), b"1\n");
    assert!(eventually(10, || srv.children().is_empty()));
    assert!(
        eventually(5, || srv.fd_count() == fds),
        "fds {fds} -> {}",
        srv.fd_count()
    );
    let log = srv.stop_with(libc::SIGTERM).err();
    let allows = log.matches(": allow ").count();
    let ends = log.matches(": end pid ").count();
    assert_eq!(allows, 1 + 8 * 5 + 1, "{log}");
    assert_eq!(ends, allows, "{log}");
    assert!(log.trim_end().ends_with("info: exiting"), "{log}");
    assert!(!log.contains("deny"), "{log}");
}

/// A storm of SIGHUPs while clients keep connecting: no child lost or left, counts
/// back to zero, the server still serving.
#[test]
fn hup_storm_during_load_loses_nothing() {
    let d = Dir::new("hup");
    let p = d.join("s");
    let srv = server(
        &["-v", "-c", "20"],
        &p,
        &["sh", "-c", "echo ok; exec sleep 5"],
    );
    let pid = srv.pid();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let st = stop.clone();
    let hups = std::thread::spawn(move || {
        let mut n = 0;
        while !st.load(std::sync::atomic::Ordering::Relaxed) {
            unsafe_kill(pid, libc::SIGHUP);
            n += 1;
            std::thread::sleep(Duration::from_micros(200));
        }
        n
    });
    let mut served = 0;
    for _ in 0..200 {
        let mut s = connect(&p);
        let mut buf = [0u8; 3];
        // A handler may be TERMed by a HUP before it writes: both outcomes are fine,
        // but the server must neither die nor hang.
        if s.read_exact(&mut buf).is_ok() {
            served += 1;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let n = hups.join().unwrap();
    assert!(n > 100, "only {n} HUPs");
    assert!(served > 0);
    unsafe_kill(pid, libc::SIGHUP); // the last HUP ends every sleeper
    assert!(
        eventually(10, || srv.children().is_empty()),
        "{:?}",
        srv.children()
    );
    // Still serving. A HUP sent earlier may still be on its way through the self-pipe
    // and end this handler too: try a few times.
    let mut tries = 0;
    let served_once = || {
        let mut buf = [0u8; 3];
        connect(&p).read_exact(&mut buf).is_ok() && &buf == b"ok\n"
    };
    while !served_once() {
        tries += 1;
        assert!(tries < 5, "not serving after the storm");
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = srv.stop_with(libc::SIGTERM).err();
    let allows = log.matches(": allow ").count();
    let ends = log.matches(": end pid ").count();
    // The last client's handler may still be running at TERM.
    assert!(
        ends == allows || ends + 1 == allows,
        "allow {allows} end {ends}"
    );
    assert_eq!(allows, 201 + tries, "{log}");
}

/// The server SIGKILLed and restarted (as a supervisor would): the stale socket is
/// replaced, nothing else is left in the directory.
#[test]
fn sigkilled_server_restarts_on_its_stale_socket() {
    let d = Dir::new("kill9");
    let p = d.join("s");
    for i in 0..20 {
        let srv = sh_server(&p, "echo up");
        assert_eq!(read_all(&mut connect(&p)), b"up\n", "start {i}");
        srv.signal(libc::SIGKILL);
        drop(srv);
        assert_eq!(d.entries(), vec!["s".to_string()]);
    }
}

/// A full filesystem: a socket needs no data block, so a tmpfs with no free space
/// still takes one; with no free inode the start fails with a clear error and exit
/// 111, leaving nothing behind.
#[test]
fn socket_directory_on_a_full_filesystem() {
    let d = Dir::new("full");
    let m = d.join("m");
    std::fs::create_dir(&m).unwrap();
    let mnt = |opts: &str| {
        Command::new("mount")
            .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
            .arg(&m)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if !mnt("size=64k,nr_inodes=64") {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "cannot mount tmpfs"
        );
        eprintln!("skipping: cannot mount a tmpfs");
        return;
    }
    struct Umount<'a>(&'a Path);
    impl Drop for Umount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _u = Umount(&m);
    // Fill the data blocks.
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=4k", "count=100"])
        .arg(format!("of={}", m.join("fill").display()))
        .stderr(Stdio::null())
        .status();
    let p = m.join("s");
    {
        let _srv = sh_server(&p, "echo fine");
        assert_eq!(read_all(&mut connect(&p)), b"fine\n");
    }
    std::fs::remove_file(&p).unwrap();
    // Use up the inodes.
    for i in 0.. {
        if std::fs::write(m.join(format!("i{i}")), b"").is_err() {
            break;
        }
    }
    let listing = std::fs::read_dir(&m).unwrap().count();
    let mut c = Command::new(bin("ipcserver"));
    c.arg(&p).arg("true");
    let out = run_timeout(c, 10);
    out.assert_code(111);
    let err = out.err();
    assert!(
        err.starts_with(&format!(
            "ipcserver: fatal: unable to create the socket in directory {}: ",
            m.display()
        )) && err.ends_with(": No space left on device\n"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&m).unwrap().count(), listing);
}

/// Environment values and arguments with newlines, control bytes and invalid UTF-8 go
/// through the s6-sudo protocol (ipcsudo → ipcserver → ipcsudod) byte for byte, and a
/// newline in a value cannot smuggle in a variable the server did not open.
#[test]
fn sudo_env_and_args_with_control_bytes_are_byte_exact() {
    use std::os::unix::ffi::OsStringExt;
    let d = Dir::new("sudoenv");
    let p = d.join("s");
    let mut c = Command::new(bin("ipcserver"));
    c.arg("-1").arg(&p).arg(bin("ipcsudod")).args([
        "sh",
        "-c",
        r#"printf '%s\0' "$X" "$@" "${INJECTED-unset}""#,
        "sh",
    ]);
    c.env("X", "").env_remove("INJECTED");
    let _srv = Server::start(c);
    let value: &[u8] = b"a\nINJECTED=1\n\x01\x1b[2J\xff\xfe\\";
    let arg: &[u8] = b"\n\t\x7f\xc3(";
    let mut client = Command::new(bin("ipcsudo"));
    client
        .arg(&p)
        .arg(std::ffi::OsString::from_vec(arg.to_vec()))
        .env("X", OsStr::from_bytes(value))
        .env("INJECTED", "from-client");
    let out = run_timeout(client, 10);
    out.assert_code(0);
    let mut want = value.to_vec();
    want.push(0);
    want.extend_from_slice(arg);
    want.push(0);
    want.extend_from_slice(b"unset\0");
    assert_eq!(
        out.stdout,
        want,
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Rule env values with control bytes, escape sequences, invalid UTF-8, shell syntax and
/// `NAME=` text reach the program byte for byte (s6-envdir rules: first line, NUL read
/// as newline), from a rules directory and from a cdb made of it, through ipcserver and
/// ipcserver-access; s6-ipcserver-access gives the same bytes from the same rules.
#[test]
fn rule_env_values_with_control_bytes_are_byte_exact() {
    let d = Dir::new("ruleenv");
    let rules = d.join("rules");
    let env = rules.join("uid/0/env");
    std::fs::create_dir_all(&env).unwrap();
    std::fs::write(rules.join("uid/0/allow"), b"").unwrap();
    let values: [(&str, &[u8], &[u8]); 4] = [
        (
            "R_CTL",
            b"\x01\x02\x1b[31m\x7f\t|",
            b"\x01\x02\x1b[31m\x7f\t|",
        ),
        ("R_UTF", b"\xff\xfe\x80\xc3(", b"\xff\xfe\x80\xc3("),
        (
            "R_SH",
            b"$(id) `id` ${X} \\n %s\n",
            b"$(id) `id` ${X} \\n %s",
        ),
        ("R_INJ", b"a\0INJECTED=1\0b", b"a\nINJECTED=1\nb"),
    ];
    let mut want = Vec::new();
    for (name, content, value) in values {
        std::fs::write(env.join(name), content).unwrap();
        want.extend_from_slice(value);
        want.push(0);
    }
    want.extend_from_slice(b"unset\0");
    let script = r#"printf '%s\0' "$R_CTL" "$R_UTF" "$R_SH" "$R_INJ" "${INJECTED-unset}""#;
    let mut cases = our_access_rows(&d, &rules);
    if have("s6-ipcserver-access") {
        cases.push(("s6-ipcserver-access".into(), "-i", rules.clone()));
    }
    for (i, (access, opt, ruleset)) in cases.into_iter().enumerate() {
        let p = d.join(format!("s{i}"));
        let mut c = access_server(&p, &access, opt, &ruleset);
        c.args(["sh", "-c", script]).env_remove("INJECTED");
        let _srv = Server::start(c);
        let out = read_all(&mut connect(&p));
        assert_eq!(
            out,
            want,
            "{access:?} {opt}: {:?}",
            String::from_utf8_lossy(&out)
        );
    }
}

/// Ours on the ruleset `rules`, as rows (access program, option, ruleset): the
/// directory, and the cdb ipcrules-cdb makes of it in `d`.
fn our_access_rows(d: &Dir, rules: &Path) -> Vec<(OsString, &'static str, PathBuf)> {
    let cdb = d.join("rules.cdb");
    run_timeout(
        cmd(&[
            bin("ipcrules-cdb").as_os_str(),
            cdb.as_os_str(),
            rules.as_os_str(),
        ]),
        10,
    )
    .assert_code(0);
    let ours = bin("ipcserver-access").into_os_string();
    vec![(ours.clone(), "-i", rules.to_path_buf()), (ours, "-x", cdb)]
}

/// `ipcserver -1 p ACCESS OPT RULESET`, the program to run still to be added.
fn access_server(p: &Path, access: &OsStr, opt: &str, ruleset: &Path) -> Command {
    let mut c = Command::new(bin("ipcserver"));
    c.arg("-1").arg(p).arg(access).arg(opt).arg(ruleset);
    c
}

/// An `exec` file whose script is empty (it starts with a NUL: execlineb gets "") is
/// still an exec rule: the program must not run, whether the rules come from the
/// directory or from the cdb ipcrules-cdb makes of it, and s6 agrees. Found by the
/// `rules` fuzz target (decode → encode → decode turned the empty script into none).
#[test]
fn empty_exec_script_survives_the_cdb() {
    let d = Dir::new("emptyexec");
    let rules = d.join("rules");
    std::fs::create_dir_all(rules.join("uid/0")).unwrap();
    std::fs::write(rules.join("uid/0/allow"), b"").unwrap();
    std::fs::write(rules.join("uid/0/exec"), b"\0echo from-script").unwrap();
    let mut cases = our_access_rows(&d, &rules);
    if have("s6-accessrules-cdb-from-fs") && have("s6-ipcserver-access") {
        let s6cdb = d.join("s6.cdb");
        run_timeout(
            cmd(&[
                OsStr::new("s6-accessrules-cdb-from-fs"),
                s6cdb.as_os_str(),
                rules.as_os_str(),
            ]),
            10,
        )
        .assert_code(0);
        cases.push(("s6-ipcserver-access".into(), "-x", s6cdb));
        cases.push(("s6-ipcserver-access".into(), "-i", rules.clone()));
    }
    for (i, (access, opt, ruleset)) in cases.into_iter().enumerate() {
        let p = d.join(format!("s{i}"));
        let mut c = access_server(&p, &access, opt, &ruleset);
        c.args(["echo", "from-prog"]);
        let _srv = Server::start(c);
        let out = read_lenient(&mut connect(&p));
        assert_eq!(
            String::from_utf8_lossy(&out),
            "",
            "{access:?} {opt} ran something"
        );
    }
}

/// Once the readiness line is out, the server's fd table is final: supervisors and
/// tests count fds (or compute the lowest free one) from that moment. The server used to
/// open /dev/null for stdout only after writing the line, leaving a transient fd that
/// made `ipcserver::thousand_connections_leave_no_zombie_and_no_fd` and
/// `ipcserver::out_of_fds_neither_spins_nor_stops_serving` fail under load. Checked on
/// the system call trace, so the result does not depend on scheduling.
#[test]
fn no_fd_is_created_after_the_readiness_line() {
    if !have("strace") {
        return;
    }
    let d = Dir::new("readyfd");
    let p = d.join("s");
    let trace = d.join("trace");
    let mut c = Command::new("strace");
    c.args(["-qq", "-e", "trace=%desc,%net", "-o"])
        .arg(&trace)
        .arg(bin("ipcserver"))
        .arg("-1")
        .arg(&p)
        .arg("true");
    let mut srv = Server::start(c);
    // The server is strace's child; TERM it, then strace exits with it.
    let server_pid = *eventually_some(|| srv.children().first().copied());
    unsafe_kill(server_pid, libc::SIGTERM);
    wait_deadline(&mut srv.child, 10).expect("strace did not exit");
    let t = std::fs::read_to_string(&trace).unwrap();
    let ready = format!("write(1, \"{}\\n\"", p.display());
    let after = t
        .split_once(&ready)
        .unwrap_or_else(|| panic!("no readiness write in\n{t}"))
        .1;
    // Up to the first poll of the loop: no call may return a new fd.
    let setup = after.split("poll(").next().unwrap();
    for line in setup.lines().skip(1) {
        let creates = ["openat(", "open(", "socket(", "pipe", "dup(", "accept"]
            .iter()
            .any(|c| line.starts_with(c))
            || line.contains("F_DUPFD");
        assert!(
            !creates,
            "fd created after the readiness line: {line}\n{setup}"
        );
    }
}

fn eventually_some<T>(mut f: impl FnMut() -> Option<T>) -> Box<T> {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f() {
            return Box::new(v);
        }
        assert!(Instant::now() < end, "timed out");
        std::thread::sleep(Duration::from_millis(10));
    }
}
