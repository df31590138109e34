//! Tests: ipcconnlimit behind ipcserver + ipcserver-access env rules, and s6-connlimit
//! in the same place.

use crate::util::*;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Rules that allow uid 0 and set IPCCONNMAX=`max`.
fn rules(d: &Dir, max: &str) -> PathBuf {
    let r = d.join("rules");
    std::fs::create_dir_all(r.join("uid/0/env")).unwrap();
    std::fs::write(r.join("uid/0/allow"), b"").unwrap();
    std::fs::write(r.join("uid/0/env/IPCCONNMAX"), max).unwrap();
    r
}

fn server(sock: &Path, rules: &Path, limiter: &str) -> Server {
    let limiter = if limiter == "ipcconnlimit" {
        bin("ipcconnlimit").into_os_string()
    } else {
        limiter.into()
    };
    Server::start(cmd(&[
        bin("ipcserver").as_os_str(),
        "-1".as_ref(),
        sock.as_os_str(),
        bin("ipcserver-access").as_os_str(),
        "-i".as_ref(),
        rules.as_os_str(),
        &limiter,
        "sh".as_ref(),
        "-c".as_ref(),
        "echo served $IPCCONNNUM/$IPCCONNMAX; exec sleep 30".as_ref(),
    ]))
}

/// Connect and read the first line (empty when the server closed without a word).
fn first_line(sock: &Path) -> (UnixStream, String) {
    let c = UnixStream::connect(sock).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut line = String::new();
    BufReader::new(c.try_clone().unwrap())
        .read_line(&mut line)
        .unwrap();
    (c, line)
}

fn limit_behaviour(limiter: &str) {
    let d = Dir::new("connlim");
    let s = d.join("s");
    let r = rules(&d, "2");
    let srv = server(&s, &r, limiter);
    let (_c1, l1) = first_line(&s);
    assert_eq!(l1, "served 1/2\n");
    // CONNNUM == CONNMAX: served (the s6 2.11 binary's rule).
    let (_c2, l2) = first_line(&s);
    assert_eq!(l2, "served 2/2\n");
    // Above: refused, the connection closed without a byte.
    let (mut c3, l3) = first_line(&s);
    assert_eq!(l3, "");
    let mut rest = Vec::new();
    c3.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    let want = format!("{limiter}: fatal: number of connections from this client limited to 2\n");
    assert!(
        eventually(10, || srv.log().contains(&want)),
        "log: {}",
        srv.log()
    );
}

#[test]
fn refuses_above_connmax_behind_ipcserver_access() {
    limit_behaviour("ipcconnlimit");
}

#[test]
fn s6_connlimit_in_the_same_place_does_the_same() {
    if !have("s6-connlimit") {
        return;
    }
    limit_behaviour("s6-connlimit");
}

#[test]
fn no_connmax_means_no_limit() {
    let d = Dir::new("connnomax");
    let s = d.join("s");
    let r = d.join("rules");
    std::fs::create_dir_all(r.join("uid/0")).unwrap();
    std::fs::write(r.join("uid/0/allow"), b"").unwrap();
    let _srv = server(&s, &r, "ipcconnlimit");
    let conns: Vec<_> = (1..=5).map(|_| first_line(&s)).collect();
    for (i, (_, l)) in conns.iter().enumerate() {
        assert_eq!(*l, format!("served {}/\n", i + 1));
    }
}

#[test]
fn bad_input() {
    let p = bin("ipcconnlimit");
    for (env, args, code, err) in [
        (
            &[][..],
            &["true"][..],
            100,
            "ipcconnlimit: fatal: PROTO not set\n",
        ),
        (
            &[("PROTO", "")][..],
            &["true"][..],
            100,
            "ipcconnlimit: fatal: empty PROTO\n",
        ),
        (
            &[("PROTO", "IPC")][..],
            &["true"][..],
            100,
            "ipcconnlimit: fatal: IPCCONNNUM not set\n",
        ),
        // ipcserver -P sets IPCCONNNUM empty: not a number.
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "")][..],
            &["true"][..],
            100,
            "ipcconnlimit: fatal: invalid IPCCONNNUM\n",
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "1"), ("IPCCONNMAX", "-1")][..],
            &["true"][..],
            100,
            "ipcconnlimit: fatal: invalid IPCCONNMAX\n",
        ),
        (
            &[("PROTO", "A\x1b[2J"), ("A\x1b[2JCONNNUM", "x")][..],
            &["true"][..],
            100,
            "ipcconnlimit: fatal: invalid A\\x1b[2JCONNNUM\n",
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "1")][..],
            &["/nonexistent"][..],
            127,
            "ipcconnlimit: fatal: unable to exec /nonexistent: No such file or directory\n",
        ),
        (&[("PROTO", "IPC"), ("IPCCONNNUM", "1")][..], &[][..], 0, ""),
    ] {
        let mut c = cmd(&[p.as_os_str()]);
        c.args(args).env_clear().env("PATH", "/usr/bin:/bin");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = run_timeout(c, 10);
        out.assert_code(code);
        assert_eq!(out.err(), err, "{env:?}");
    }
}
