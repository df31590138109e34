//! ipcserverd behind real socket producers: s6-ipcserver-socketbinder (fd 0) and
//! systemd-socket-activate (LISTEN_FDS, fd 3).

use crate::util::*;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::time::Duration;

const PROG: &str = "env | grep -E '^(PROTO|IPC|LISTEN)' | sort; exit 0";

#[test]
fn behind_s6_ipcserver_socketbinder() {
    if !have("s6-ipcserver-socketbinder") {
        return;
    }
    let d = Dir::new("sb");
    let p = d.join("s");
    let mut c = Command::new("s6-ipcserver-socketbinder");
    c.arg(&p)
        .arg(bin("ipcserverd"))
        .args(["-1", "sh", "-c", PROG]);
    let srv = Server::start(c);
    assert_eq!(srv.ready_line, "\n");
    let out = read_string(&mut connect(&p));
    assert_eq!(out, crate::identity::expected_root_env());
}

#[test]
fn behind_systemd_socket_activate() {
    if !have("systemd-socket-activate") {
        return;
    }
    let d = Dir::new("sd");
    let p = d.join("s");
    let mut c = Command::new("systemd-socket-activate");
    c.arg("-l")
        .arg(&p)
        .arg(bin("ipcserverd"))
        .args(["-1", "sh", "-c", PROG]);
    c.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = c.spawn().unwrap();
    // systemd-socket-activate execs its program at the first connection; its socket
    // file exists a moment before it listens, so retry the connect.
    let mut conn = None;
    assert!(eventually(10, || {
        conn = UnixStream::connect(&p).ok();
        conn.is_some()
    }));
    let mut s = conn.unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert_eq!(
        out,
        crate::identity::expected_root_env(),
        "LISTEN_* must not reach the handlers"
    );
    // The server keeps serving (the first handler may not be reaped yet: IPCCONNNUM
    // counts live connections, so it may be 1 or 2).
    assert!(read_string(&mut connect(&p)).ends_with("\nPROTO=IPC\n"));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn stdin_not_a_socket_is_a_usage_error() {
    let out = run_timeout(cmd(&[bin("ipcserverd").to_str().unwrap(), "true"]), 10);
    out.assert_code(100);
    assert_eq!(out.err(), "ipcserverd: fatal: stdin is not a socket\n");
}

#[test]
fn bad_usage() {
    let out = run_timeout(
        cmd(&[bin("ipcserverd").to_str().unwrap(), "-v", "x", "true"]),
        10,
    );
    out.assert_code(100);
    assert!(
        out.err().starts_with(
            "ipcserverd: fatal: -v: x is not a number\nipcserverd: usage: ipcserverd "
        ),
        "{}",
        out.err()
    );
    let out = run_timeout(cmd(&[bin("ipcserverd").to_str().unwrap()]), 10);
    out.assert_code(100);
}
