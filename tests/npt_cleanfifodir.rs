//! Tests: npt-cleanfifodir on real fifodirs, with a live listener, planted entries and a
//! symlink planted by uid 65534.

use crate::util::*;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::Command;

/// A listener-shaped name with the given 6-character tail.
fn lname(tail: &str) -> String {
    format!("ftrig1:@4000000065667788{:08x}:{tail}", 0x99aa_bbccu32)
}

fn mkfifo(p: &Path) {
    run_timeout(cmd(&["mkfifo".as_ref(), p.as_os_str()]), 10).assert_code(0);
}

fn clean(dir: &Path) -> std::process::Output {
    run_timeout(
        cmd(&[bin("npt-cleanfifodir").as_os_str(), dir.as_os_str()]),
        20,
    )
}

fn listener_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ftrig1:@") && n.len() == 39)
        .collect();
    v.sort();
    v
}

#[test]
fn removes_stale_fifos_keeps_everything_else() {
    let d = Dir::new("clean");
    let f = mkfifodir(&d, "fifodir");
    let stale = f.join(lname("stale1"));
    mkfifo(&stale);
    assert_eq!(
        stale.to_string_lossy().rsplit('/').next().unwrap().len(),
        39
    );
    // A fifo with a reader (as a live listener has), not listener-shaped fifos, and
    // listener-shaped things that are not fifos.
    let held = f.join(lname("held01"));
    mkfifo(&held);
    let _reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&held)
        .unwrap();
    mkfifo(&f.join("ftrig1"));
    mkfifo(&f.join(format!(".{}", lname("notyet"))));
    std::fs::write(f.join(lname("file01")), b"x").unwrap();
    std::fs::create_dir(f.join(lname("dir001"))).unwrap();
    let _sock = std::os::unix::net::UnixListener::bind(f.join(lname("sock01"))).unwrap();
    let _sock2 = std::os::unix::net::UnixDatagram::bind(f.join(lname("sock02"))).unwrap();
    let out = clean(&f);
    out.assert_code(0);
    assert_eq!(out.err(), "");
    assert!(!stale.exists(), "stale fifo not removed");
    let left = listener_names(&f);
    let mut want = vec![
        lname("dir001"),
        lname("file01"),
        lname("held01"),
        lname("sock01"),
        lname("sock02"),
    ];
    want.sort();
    assert_eq!(left, want);
    assert!(f.join("ftrig1").exists());
    assert!(f.join(format!(".{}", lname("notyet"))).exists());
}

use std::os::unix::fs::OpenOptionsExt;

#[test]
fn live_listener_survives_and_still_hears() {
    let d = Dir::new("cleanlive");
    let f = mkfifodir(&d, "fifodir");
    mkfifo(&f.join(lname("stale2")));
    // npt-wait runs `echo ready` once subscribed, then waits for "x".
    // (Its events go to /dev/null; the readiness line goes out on fd 3.)
    let script = format!(
        "exec {} -t 20000 {} x sh -c 'echo ready >&3' 3>&1 >/dev/null",
        bin("npt-wait").display(),
        f.display()
    );
    let mut w = Server::start(cmd(&["sh", "-c", &script]));

    assert_eq!(listener_names(&f).len(), 2);
    clean(&f).assert_code(0);
    let left = listener_names(&f);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_ne!(left[0], lname("stale2"));
    run_timeout(
        cmd(&[bin("npt-notify").as_os_str(), f.as_os_str(), "x".as_ref()]),
        10,
    )
    .assert_code(0);
    let st = wait_deadline(&mut w.child, 20).expect("listener never woke");
    assert_eq!(st.code(), Some(0));
}

#[test]
fn symlink_planted_by_another_uid_is_not_followed_or_removed() {
    // uid 65534 may add entries to a public fifodir (01733). It plants a listener-named
    // symlink to a fifo with no reader outside (s6's open-then-unlink would follow it,
    // find ENXIO and remove the link) and one to a root-owned file.
    let d = Dir::new("cleanattack");
    let f = mkfifodir(&d, "fifodir");
    let outside = d.join("victim-fifo");
    mkfifo(&outside);
    let secret = d.join("secret");
    std::fs::write(&secret, b"keep").unwrap();
    for (tail, target) in [("link01", &outside), ("link02", &secret)] {
        let link = f.join(lname(tail));
        run_timeout(
            as_nobody(&[
                "ln".as_ref(),
                "-s".as_ref(),
                target.as_os_str(),
                link.as_os_str(),
            ]),
            10,
        )
        .assert_code(0);
    }
    // And a stale fifo of its own, which is fair game.
    let own = f.join(lname("nobody"));
    run_timeout(as_nobody(&["mkfifo".as_ref(), own.as_os_str()]), 10).assert_code(0);
    for _ in 0..3 {
        clean(&f).assert_code(0);
    }
    for tail in ["link01", "link02"] {
        let m = std::fs::symlink_metadata(f.join(lname(tail))).unwrap();
        assert!(m.file_type().is_symlink(), "{tail} was replaced or removed");
    }
    assert!(std::fs::metadata(&outside).unwrap().file_type().is_fifo());
    assert_eq!(std::fs::read(&secret).unwrap(), b"keep");
    assert!(!own.exists(), "the planted stale fifo itself should go");
}

#[test]
fn bad_input() {
    let d = Dir::new("cleanbad");
    std::fs::write(d.join("file"), b"").unwrap();
    let p = bin("npt-cleanfifodir");
    let out = run_timeout(Command::new(&p), 10);
    out.assert_code(100);
    assert_eq!(
        out.err(),
        "npt-cleanfifodir: fatal: missing fifodir\n\
         npt-cleanfifodir: usage: npt-cleanfifodir fifodir\n"
    );
    for (arg, err) in [
        ("none", "No such file or directory"),
        ("file", "Not a directory"),
    ] {
        let a = d.join(arg);
        let out = run_timeout(cmd(&[p.as_os_str(), a.as_os_str()]), 10);
        out.assert_code(111);
        assert_eq!(
            out.err(),
            format!(
                "npt-cleanfifodir: fatal: unable to clean up fifodir at {}: {err}\n",
                a.display()
            )
        );
    }
}
