//! ipcserver's spawn (`sys::spawn`, a vfork clone that waits for the exec, as
//! posix_spawn does): an exec failure is known at once and reported as s6-ipcserverd
//! 2.15 does; many concurrent connections, signals racing the spawns, each handler's own
//! environment and clean signal state, and maxconn.

use crate::util::*;
use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Send `msg`, close our side, and return everything the handler sent back.
fn echo(s: &mut UnixStream, msg: &[u8]) -> Vec<u8> {
    s.write_all(msg).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    read_all(s)
}

/// The log lines of `srv` once `f` holds for them (10 s at most).
fn log_when(srv: &Server, f: impl Fn(&[&str]) -> bool) -> String {
    let ok = eventually(10, || f(&srv.log().lines().collect::<Vec<_>>()));
    let log = srv.log();
    assert!(ok, "log:\n{log}");
    log
}

/// Whether ipcserver(1)'s COMPATIBILITY section says `needle` (words compared, line
/// breaks ignored).
fn compatibility_says(needle: &str) -> bool {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/ipcserver.1"))
            .unwrap();
    let compat = page.split(".Sh COMPATIBILITY").nth(1).unwrap_or_default();
    let compat = compat.split("\n.Sh ").next().unwrap_or_default();
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    words(compat).contains(&words(needle))
}

/// With `-v`, a handler that cannot be spawned is one `warning: unable to spawn` line, as
/// in s6-ipcserverd 2.15: no `allow` and no `end` line, the connection is not counted,
/// and the client sees EOF.
fn assert_spawn_warning(prog: &[&str], extra_env: &[(&str, &str)], warn: &str) {
    let d = Dir::new("xf");
    let p = d.join("s");
    let mut c = Command::new(bin("ipcserver"));
    c.envs(extra_env.iter().copied())
        .args(["-v", "-1", "-c", "1"])
        .arg(&p)
        .args(prog);
    let srv = Server::start(c);
    // At -c 1, a failed connection that counted would hold the only slot.
    for n in 1..=3 {
        assert_eq!(read_string(&mut connect(&p)), "");
        log_when(&srv, |l| l.iter().filter(|l| **l == warn).count() == n);
    }
    let log = srv.log();
    assert!(
        !log.contains(": allow ") && !log.contains(": end pid "),
        "{log}"
    );
    assert!(!log.contains("fatal"), "{log}");
    assert!(srv.children().is_empty());
    srv.stop_with(libc::SIGTERM).assert_code(0);
}

#[test]
fn missing_prog_is_a_spawn_warning() {
    assert!(compatibility_says(
        "is reported as s6-ipcserverd 2.15 reports it"
    ));
    assert_spawn_warning(
        &["/nonexistent/prog"],
        &[],
        "ipcserver: warning: unable to spawn /nonexistent/prog: No such file or directory (this connection got end of file; the server goes on: install prog, or fix its name or PATH)",
    );
}

#[test]
fn non_executable_prog_is_a_spawn_warning() {
    let d = Dir::new("nx");
    let f = d.join("data");
    std::fs::write(&f, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    let f = f.to_str().unwrap();
    assert_spawn_warning(
        &[f],
        &[],
        &format!(
            "ipcserver: warning: unable to spawn {f}: Permission denied (this connection got end of file; the server goes on: make prog executable for the server's uid)"
        ),
    );
}

#[test]
fn prog_searched_in_path_is_a_spawn_warning() {
    let d = Dir::new("xp");
    let f = d.join("ipct-noexec");
    std::fs::write(&f, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    let path = format!("/nonexistent:{}:/usr/bin:/bin", d.path.display());
    // Not in any PATH directory.
    assert_spawn_warning(
        &["ipct-no-such-prog"],
        &[("PATH", &path)],
        "ipcserver: warning: unable to spawn ipct-no-such-prog: No such file or directory (this connection got end of file; the server goes on: install prog, or fix its name or PATH)",
    );
    // Found, but not executable: EACCES wins over the other directories' ENOENT, as
    // with posix_spawnp.
    assert_spawn_warning(
        &["ipct-noexec"],
        &[("PATH", &path)],
        "ipcserver: warning: unable to spawn ipct-noexec: Permission denied (this connection got end of file; the server goes on: make prog executable for the server's uid)",
    );
}

/// A burst of clients of a missing prog, then SIGTERM at once: every connection was
/// answered (EOF) and warned about before the server exits, none is left.
#[test]
fn every_spawn_failure_is_reported_before_exit() {
    let d = Dir::new("xq");
    let p = d.join("s");
    let srv = server(&["-v"], &p, &["/nonexistent/prog"]);
    let mut clients: Vec<UnixStream> = (0..20).map(|_| connect(&p)).collect();
    for c in &mut clients {
        assert_eq!(read_string(c), "");
    }
    let out = srv.stop_with(libc::SIGTERM);
    out.assert_code(0);
    let warn = "ipcserver: warning: unable to spawn /nonexistent/prog: No such file or directory (this connection got end of file; the server goes on: install prog, or fix its name or PATH)\n";
    assert_eq!(out.err().matches(warn).count(), 20, "{}", out.err());
    assert!(
        out.err().ends_with("ipcserver: info: exiting\n"),
        "{}",
        out.err()
    );
}

#[test]
fn many_concurrent_connections_all_echo() {
    let d = Dir::new("cc");
    let p = Arc::new(d.join("s"));
    let srv = server(&["-v", "-c", "1000", "-C", "1000"], &p, &["cat"]);
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let p = Arc::clone(&p);
            std::thread::spawn(move || {
                for i in 0..13 {
                    let msg = format!("thread {t} connection {i} {}\n", "x".repeat(t * 100 + i));
                    let mut s = connect(&p);
                    assert_eq!(echo(&mut s, msg.as_bytes()), msg.as_bytes());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // 208 connections: each spawned, reaped, and nothing failed.
    let log = log_when(&srv, |l| {
        l.iter().filter(|l| l.contains(": end pid ")).count() == 208
    });
    assert_eq!(log.matches(": allow ").count(), 208, "{log}");
    assert_eq!(log.matches(" exitcode 0\n").count(), 208, "{log}");
    assert!(!log.contains("fatal") && !log.contains("warning"), "{log}");
    assert!(eventually(10, || srv.children().is_empty()));
    srv.stop_with(libc::SIGTERM).assert_code(0);
}

/// Every handler of a burst of 64 concurrent connections gets its own per-connection
/// environment on top of the server's, and the clean signal state, although the server
/// was started with signals ignored.
#[test]
fn each_handler_gets_its_own_env_and_clean_signals() {
    let d = Arc::new(Dir::new("ce"));
    let p = d.join("s");
    let mut c = Command::new("sh");
    c.env_clear().env("PATH", "/usr/bin:/bin").env("KEEP", "me").arg("-c").arg(format!(
        "trap '' INT QUIT PIPE; exec {} -1 -c 100 -C 100 {} sh -c 'env; grep -E \"^Sig(Blk|Ign)\" /proc/self/status'",
        bin("ipcserver").display(),
        p.display()
    ));
    let srv = Server::start(c);
    let p = Arc::new(p);
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let (d, p) = (Arc::clone(&d), Arc::clone(&p));
            std::thread::spawn(move || {
                for i in 0..4 {
                    let from: PathBuf = d.join(format!("c{t}-{i}"));
                    let mut s = connect_from(&from, &p);
                    let out = String::from_utf8(echo(&mut s, b"")).unwrap();
                    let mut env: Vec<&str> = out
                        .lines()
                        .filter(|l| !l.starts_with("Sig") && !l.starts_with("PWD="))
                        .collect();
                    env.sort();
                    let remote = format!("IPCREMOTEPATH={}", from.display());
                    let local = format!("IPCLOCALPATH={}", p.display());
                    assert!(env.iter().any(|l| l.starts_with("IPCCONNNUM=")), "{out}");
                    env.retain(|l| !l.starts_with("IPCCONNNUM="));
                    // Our additions: this process, its groups (tests/identity.rs).
                    let (gids, pid) = crate::identity::our_gidlist_and_pid();
                    for l in [gids, pid] {
                        assert!(env.contains(&l.as_str()), "{out}: {l}");
                        env.retain(|e| *e != l);
                    }
                    let mut want = vec![
                        "IPCREMOTEEGID=0",
                        "IPCREMOTEEUID=0",
                        &local,
                        &remote,
                        "KEEP=me",
                        "PATH=/usr/bin:/bin",
                        "PROTO=IPC",
                    ];
                    want.sort();
                    assert_eq!(env, want, "{out}");
                    assert!(out.contains("SigBlk:\t0000000000000000\n"), "{out}");
                    assert!(out.contains("SigIgn:\t0000000000000000\n"), "{out}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    srv.stop_with(libc::SIGTERM).assert_code(0);
}

/// Clients keep connecting while the server gets SIGHUP after SIGHUP (each one sends
/// SIGTERM+SIGCONT to every handler, some between clone and exec): the server neither
/// dies nor hangs, no handler is left behind, no exec is reported failed, and it
/// still serves; then SIGTERM in the middle of a burst exits cleanly.
#[test]
fn signals_racing_spawns() {
    let d = Dir::new("rs");
    let p = Arc::new(d.join("s"));
    let srv = server(&["-c", "1000", "-C", "1000"], &p, &["cat"]);
    let stop = Arc::new(AtomicBool::new(false));
    let clients = |stop: &Arc<AtomicBool>| -> Vec<std::thread::JoinHandle<usize>> {
        (0..8)
            .map(|_| {
                let (p, stop) = (Arc::clone(&p), Arc::clone(stop));
                std::thread::spawn(move || {
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let Ok(mut s) = UnixStream::connect(&*p) else {
                            break; // the server is gone (the SIGTERM round)
                        };
                        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                        // A killed handler gives a short answer or a reset: fine.
                        let _ = s.write_all(b"ping\n");
                        let _ = s.shutdown(Shutdown::Write);
                        let mut v = Vec::new();
                        let _ = s.read_to_end(&mut v);
                        n += 1;
                    }
                    n
                })
            })
            .collect()
    };
    let threads = clients(&stop);
    for _ in 0..200 {
        srv.signal(libc::SIGHUP);
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    let served: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(served > 0);
    let mut s = connect(&p);
    assert_eq!(echo(&mut s, b"still here\n"), b"still here\n");
    assert!(
        eventually(10, || srv.children().is_empty()),
        "left: {:?}",
        srv.children()
    );
    assert!(!srv.log().contains("fatal"), "{}", srv.log());
    // SIGTERM while connections keep arriving.
    let stop = Arc::new(AtomicBool::new(false));
    let threads = clients(&stop);
    std::thread::sleep(Duration::from_millis(200));
    let out = srv.stop_with(libc::SIGTERM);
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    out.assert_code(0);
    assert!(!out.err().contains("fatal"), "{}", out.err());
}

/// maxconn holds: of 8 clients at `-c 3`, exactly 3 are served at once, and one more as
/// soon as one of them leaves.
#[test]
fn maxconn_still_enforced() {
    let d = Dir::new("mc");
    let p = d.join("s");
    let srv = server(
        &["-c", "3"],
        &p,
        &["sh", "-c", "echo in; exec cat >/dev/null"],
    );
    let mut clients: Vec<UnixStream> = (0..8).map(|_| connect(&p)).collect();
    let got_in = |s: &mut UnixStream, ms: u64| {
        s.set_read_timeout(Some(Duration::from_millis(ms))).unwrap();
        let mut b = [0u8; 3];
        s.read_exact(&mut b).is_ok()
    };
    // Wait for 3 handlers, then give the others time to (wrongly) start.
    assert!(eventually(10, || srv.children().len() == 3));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(srv.children().len(), 3);
    let served: Vec<usize> = (0..8).filter(|&i| got_in(&mut clients[i], 50)).collect();
    assert_eq!(served.len(), 3, "{served:?}");
    // One leaves: exactly one more gets in.
    let before = srv.children();
    clients.remove(served[0]);
    assert!(eventually(10, || {
        let c = srv.children();
        c.len() == 3 && c != before && c.iter().all(|&pid| proc_state(pid) != Some('Z'))
    }));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(srv.children().len(), 3);
    srv.stop_with(libc::SIGTERM).assert_code(0);
}
