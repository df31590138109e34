//! The ready-made service directories under a real supervisor. See: issue 2 §6.

use crate::util::*;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn path_with_our_bins() -> String {
    let ours = bin("ipcserver").parent().unwrap().display().to_string();
    format!("{ours}:{}", std::env::var("PATH").unwrap_or_default())
}

/// Copy a service directory from `service/` into `dir`.
pub fn copy_service(name: &str, dir: &Path) -> std::path::PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("service")
        .join(name);
    let dst = dir.join(name);
    let out = run_timeout(
        cmd(&["cp", "-r", src.to_str().unwrap(), dst.to_str().unwrap()]),
        10,
    );
    out.assert_code(0);
    dst
}

#[test]
fn ipcserver_echo_under_s6_supervise_with_readiness() {
    if !have("s6-supervise") || !have("s6-svwait") {
        return;
    }
    let d = Dir::new("svc");
    let svc = copy_service("ipcserver-echo", &d.path);
    let sock = d.join("echo.sock");
    let mut sup = Command::new("s6-supervise");
    sup.arg(&svc)
        .env("PATH", path_with_our_bins())
        .env("IPCSERVER_ECHO_SOCKET", &sock)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut sup = sup.spawn().unwrap();
    assert!(eventually(10, || svc.join("supervise/status").exists()));
    // -U: wait until the service has notified readiness through notification-fd.
    let out = run_timeout(
        cmd(&["s6-svwait", "-U", "-t", "10000", svc.to_str().unwrap()]),
        15,
    );
    out.assert_code(0);
    let mut s = UnixStream::connect(&sock).expect("socket must listen once ready");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"ping\n").unwrap();
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping\n");
    drop(s);
    let out = run_timeout(cmd(&["s6-svc", "-xd", svc.to_str().unwrap()]), 10);
    out.assert_code(0);
    assert!(
        wait_deadline(&mut sup, 10).is_some(),
        "s6-supervise did not exit"
    );
}

#[test]
fn ipcserver_echo_without_notification_fd() {
    // runit and daemontools: no fd 3; the run script must still serve.
    let d = Dir::new("svr");
    let svc = copy_service("ipcserver-echo", &d.path);
    let sock = d.join("echo.sock");
    let mut c = Command::new("./run");
    c.current_dir(&svc)
        .env("PATH", path_with_our_bins())
        .env("IPCSERVER_ECHO_SOCKET", &sock)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    assert!(eventually(10, || UnixStream::connect(&sock).is_ok()));
    let mut s = UnixStream::connect(&sock).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"x\n").unwrap();
    let mut buf = [0u8; 2];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"x\n");
    let _ = child.kill();
    let _ = child.wait();
}
