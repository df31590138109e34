//! ipcconnlimit against s6-connlimit: environment cases, exit codes, messages, exec.

use super::probe::assert_documented;
use super::*;

row! { [V2_11, V2_15]
fn environment_cases_as_s6() {
    if !have("s6-connlimit") {
        return;
    }
    let d = Dir::new("dconnl");
    for (env, args) in [
        (&[][..], &["echo", "x"][..]),
        (&[("PROTO", "")][..], &["echo", "x"][..]),
        (&[("PROTO", "IPC")][..], &["echo", "x"][..]),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "x")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", " 3")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "3 ")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "4294967296")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "3")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "3"), ("IPCCONNMAX", "3")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "4"), ("IPCCONNMAX", "3")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "0"), ("IPCCONNMAX", "0")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "1"), ("IPCCONNMAX", "0")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "1"), ("IPCCONNMAX", "")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "1"), ("IPCCONNMAX", "x")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "TCP"), ("TCPCONNNUM", "9"), ("IPCCONNMAX", "1")][..],
            &["echo", "x"][..],
        ),
        (&[("PROTO", "IPC"), ("IPCCONNNUM", "1")][..], &[][..]),
        (&[("PROTO", "IPC"), ("IPCCONNNUM", "1")][..], &["-x"][..]),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "1")][..],
            &["--", "echo"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "1")][..],
            &["/nonexistent"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "1")][..],
            &["/etc/passwd"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "1")][..],
            &["sh", "-c", "echo $PROTO $IPCCONNNUM $#", "a", "b"][..],
        ),
    ] {
        let a = run("ipcconnlimit", args, env, b"", &d.path);
        let b = run("s6-connlimit", args, env, b"", &d.path);
        let ours = Seen::from(&a, "ipcconnlimit", &[]);
        let peer = Seen::from(&b, "s6-connlimit", &[]);
        assert_eq!(ours, peer, "env {env:?} args {args:?}");
    }
}
}

/// How many of four clients of one uid a server lets in at once, when each handler is
/// `env IPCCONNMAX=2 LIMITER sh -c 'echo ok; exec cat'` (the clients stay connected).
/// `server` is the command line before the handler (after the socket binder), `env`
/// the server's added environment.
fn admitted(
    server: &[std::ffi::OsString],
    limiter: &std::ffi::OsStr,
    env: &[(&str, &str)],
) -> usize {
    use std::io::{BufRead, BufReader};
    let d = Dir::new("dcnum");
    let s = d.join("s");
    let mut c = Command::new(bin("ipcserver-socketbinder"));
    c.arg(&s).args(server).arg("--");
    c.args(["env", "IPCCONNMAX=2"]).arg(limiter);
    c.args(["sh", "-c", "echo ok; exec cat >/dev/null"]);
    c.env("PATH", peer_path()).envs(env.iter().copied());
    let _srv = Server::start(c);
    let mut held = Vec::new();
    let mut seen = Vec::new();
    for _ in 0..4 {
        let conn = connect(&s);
        let mut line = String::new();
        let _ = BufReader::new(&conn).read_line(&mut line);
        seen.push(line == "ok\n");
        held.push(conn);
    }
    let n = seen.iter().take_while(|ok| **ok).count();
    assert!(seen[n..].iter().all(|ok| !ok), "{seen:?}");
    n
}

fn ours_d() -> Vec<std::ffi::OsString> {
    vec![bin("ipcserverd").into(), "-1".into()]
}

fn s6_d() -> Vec<std::ffi::OsString> {
    vec![s6("s6-ipcserverd"), "-1".into()]
}

/// ipcserverd × ipcconnlimit: exactly IPCCONNMAX, and a stale `IPCCONNNUMBASE=0` in
/// the server's environment changes nothing (ipcserverd removes it).
#[test]
fn ipcserverd_and_ipcconnlimit_admit_exactly_connmax() {
    let limiter = bin("ipcconnlimit");
    assert_eq!(admitted(&ours_d(), limiter.as_os_str(), &[]), 2);
    assert_eq!(
        admitted(&ours_d(), limiter.as_os_str(), &[("IPCCONNNUMBASE", "0")]),
        2
    );
}

row! { [V2_11, V2_15]
/// Every pairing of a server and a limiter that involves one of ours admits exactly
/// IPCCONNMAX clients of one uid. ipcserverd counts this connection (1 for the first,
/// as s6-ipcserverd 2.11); s6-ipcserverd 2.15 counts the earlier ones only (0), so
/// there ipcconnlimit needs `IPCCONNNUMBASE=0`, and s6's own pair admits IPCCONNMAX + 1
/// (ipcserverd(1), ipcconnlimit(1) COMPATIBILITY).
fn connnum_pairings_admit_exactly_connmax() {
    if !have("s6-ipcserverd") || !have("s6-connlimit") {
        return;
    }
    assert_documented("ipcconnlimit", "makes it serve exactly");
    assert_documented("ipcserver", "counts this connection (the first is 1)");
    let ours = bin("ipcconnlimit");
    let ours = ours.as_os_str();
    let theirs = s6("s6-connlimit");
    // Our server with s6's limiter (the same in both versions).
    assert_eq!(admitted(&ours_d(), &theirs, &[]), 2, "ipcserverd × s6-connlimit");
    // s6's server with our limiter.
    let v211 = peer_is(S6::V2_11);
    assert_eq!(
        admitted(&s6_d(), ours, &[]),
        if v211 { 2 } else { 3 },
        "s6-ipcserverd × ipcconnlimit, no IPCCONNNUMBASE"
    );
    if !v211 {
        assert_eq!(
            admitted(&s6_d(), ours, &[("IPCCONNNUMBASE", "0")]),
            2,
            "s6-ipcserverd 2.15 × ipcconnlimit, IPCCONNNUMBASE=0"
        );
    }
    // s6 alone, for the record: 2.15's pair lets one more in.
    assert_eq!(
        admitted(&s6_d(), &theirs, &[]),
        if v211 { 2 } else { 3 },
        "s6-ipcserverd × s6-connlimit"
    );
}
}
