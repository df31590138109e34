//! Worked examples with real third-party software: git's `ext::` transport and rsync's
//! RSYNC_CONNECT_PROG through `ipcclient SOCK ipcioconnect` to inetd-mode daemons behind
//! ipcserver, and service/socket-proxy in front of busybox httpd.
// Why: the obvious shell bridge (`sh -c 'cat >&7 & cat <&6'`) hangs `git clone`.

use crate::util::*;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut c = Command::new("git");
    c.args([
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "-c",
        "init.defaultBranch=main",
    ])
    .args(args)
    .current_dir(dir)
    .env("PATH", path_with_our_bins())
    .env("GIT_CONFIG_NOSYSTEM", "1")
    .env("HOME", dir);
    run_timeout(c, 120)
}

#[test]
fn git_clone_and_push_through_ext_transport() {
    if !have("git") {
        return;
    }
    let d = Dir::new("brgit");
    std::fs::create_dir_all(d.join("src")).unwrap();
    std::fs::write(d.join("src/README"), b"hello through ipcioconnect\n").unwrap();
    // A file big enough to need many round trips of the pack protocol.
    let big: Vec<u8> = (0..2_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(d.join("src/blob"), &big).unwrap();
    git(&d.join("src"), &["init", "-q"]).assert_code(0);
    git(&d.join("src"), &["add", "."]).assert_code(0);
    git(&d.join("src"), &["commit", "-qm", "one"]).assert_code(0);
    std::fs::create_dir(d.join("repos")).unwrap();
    git(&d.path, &["clone", "-q", "--bare", "src", "repos/repo.git"]).assert_code(0);
    let sock = d.join("git.sock");
    let base = format!("--base-path={}", d.join("repos").display());
    let _srv = Server::start(cmd(&[
        bin("ipcserver").to_str().unwrap(),
        "-1",
        sock.to_str().unwrap(),
        "git",
        "daemon",
        "--inetd",
        "--export-all",
        "--enable=receive-pack",
        &base,
    ]));
    let url = format!("ext::ipcclient {} ipcioconnect %G/repo.git", sock.display());
    for version in ["2", "0"] {
        let dst = format!("clone{version}");
        let out = git(
            &d.path,
            &[
                "-c",
                "protocol.ext.allow=always",
                "-c",
                &format!("protocol.version={version}"),
                "clone",
                "-q",
                &url,
                &dst,
            ],
        );
        out.assert_code(0);
        assert_eq!(std::fs::read(d.join(&dst).join("blob")).unwrap(), big);
    }
    // Push back through the same bridge.
    std::fs::write(d.join("clone2/new"), b"pushed\n").unwrap();
    git(&d.join("clone2"), &["add", "new"]).assert_code(0);
    git(&d.join("clone2"), &["commit", "-qm", "two"]).assert_code(0);
    git(
        &d.join("clone2"),
        &[
            "-c",
            "protocol.ext.allow=always",
            "push",
            "-q",
            "origin",
            "HEAD:main",
        ],
    )
    .assert_code(0);
    let log = git(&d.join("repos/repo.git"), &["log", "--format=%s", "main"]);
    assert_eq!(log.assert_code(0).out(), "two\none\n");
}

#[test]
fn rsync_daemon_through_rsync_connect_prog() {
    if !have("rsync") {
        return;
    }
    let d = Dir::new("brrsync");
    let data = d.join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(40_503) >> 7) as u8)
        .collect();
    std::fs::write(data.join("big"), &big).unwrap();
    std::fs::write(data.join("sub/small"), b"small\n").unwrap();
    let conf = d.join("rsyncd.conf");
    std::fs::write(
        &conf,
        format!(
            "use chroot = no\nuid = root\ngid = root\n[data]\npath = {}\nread only = no\n",
            data.display()
        ),
    )
    .unwrap();
    let sock = d.join("rsync.sock");
    let config = format!("--config={}", conf.display());
    let _srv = Server::start(cmd(&[
        bin("ipcserver").to_str().unwrap(),
        "-1",
        sock.to_str().unwrap(),
        "rsync",
        "--daemon",
        &config,
    ]));
    let prog = format!("ipcclient {} ipcioconnect", sock.display());
    let rsync = |args: &[&str]| {
        let mut c = Command::new("rsync");
        c.args(args)
            .current_dir(&d.path)
            .env("PATH", path_with_our_bins())
            .env("RSYNC_CONNECT_PROG", &prog);
        run_timeout(c, 120)
    };
    rsync(&["-a", "rsync://localhost/data/", "copy/"]).assert_code(0);
    assert_eq!(std::fs::read(d.join("copy/big")).unwrap(), big);
    assert_eq!(std::fs::read(d.join("copy/sub/small")).unwrap(), b"small\n");
    // Upload.
    std::fs::write(d.join("up"), b"uploaded\n").unwrap();
    rsync(&["-a", "up", "rsync://localhost/data/"]).assert_code(0);
    assert_eq!(std::fs::read(data.join("up")).unwrap(), b"uploaded\n");
}

/// service/socket-proxy in `d`, fronting `backend`, for gid 4243 except uid 1501.
fn start_proxy(d: &Dir, backend: &Path) -> (Server, PathBuf) {
    let svc = crate::service::copy_service("socket-proxy", &d.path);
    let rules = d.join("rules");
    std::fs::create_dir_all(rules.join("gid/4243")).unwrap();
    std::fs::create_dir_all(rules.join("uid/1501")).unwrap();
    std::fs::write(rules.join("gid/4243/allow"), b"").unwrap();
    std::fs::write(rules.join("uid/1501/deny"), b"").unwrap();
    let public = d.join("pub.sock");
    let mut c = Command::new("sh");
    // fd 3 open: the run script uses it for readiness, as under s6 with notification-fd;
    // its log (stdout and stderr) goes to the captured stderr.
    c.args(["-c", "exec ./run 3>&1 1>&2"])
        .current_dir(&svc)
        .env("PATH", path_with_our_bins())
        .env("PUBLIC", &public)
        .env("BACKEND", backend)
        .env("GROUP", "4243")
        .env("RULES", &rules);
    (Server::start(c), public)
}

fn curl_as(ids: &[&str], public: &Path, args: &[&str]) -> std::process::Output {
    let mut c = Command::new("setpriv");
    c.args(ids)
        .arg("--")
        .arg("curl")
        .args(["-sS", "--max-time", "30", "--unix-socket"]);
    c.arg(public).args(args);
    run_timeout(c, 60)
}

// SO_PEERCRED carries the primary gid only: a gid rule matches members whose primary
// group it is (service/socket-proxy/README.md says so).
const MEMBER: &[&str] = &["--reuid", "1500", "--regid", "4243", "--clear-groups"];
const DENIED_UID: &[&str] = &["--reuid", "1501", "--regid", "4243", "--clear-groups"];
const OUTSIDER: &[&str] = &["--reuid", "1502", "--regid", "1502", "--clear-groups"];

#[test]
fn socket_proxy_in_front_of_busybox_httpd() {
    if !have("busybox") || !have("curl") {
        return;
    }
    let d = Dir::new("brproxy");
    let www = d.join("www");
    std::fs::create_dir_all(www.join("cgi-bin")).unwrap();
    std::fs::write(www.join("index.html"), b"<h1>through the proxy</h1>\n").unwrap();
    let cgi = www.join("cgi-bin/echo.cgi");
    std::fs::write(
        &cgi,
        "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\necho \"method=$REQUEST_METHOD\"\nhead -c \"$CONTENT_LENGTH\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&cgi, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let backend = d.join("backend.sock");
    let httpd = Server::start(cmd(&[
        bin("ipcserver").to_str().unwrap(),
        "-1",
        "-v",
        "-a",
        "0600",
        backend.to_str().unwrap(),
        "busybox",
        "httpd",
        "-i",
        "-h",
        www.to_str().unwrap(),
    ]));
    let (proxy, public) = start_proxy(&d, &backend);
    let meta = std::fs::metadata(&public).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o660
    );
    assert_eq!(std::os::unix::fs::MetadataExt::gid(&meta), 4243);

    // A member is served, GET and POST (the body crosses the relay and back).
    let out = curl_as(MEMBER, &public, &["http://localhost/"]);
    assert_eq!(out.assert_code(0).out(), "<h1>through the proxy</h1>\n");
    let body: String = (0..20_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let out = curl_as(
        MEMBER,
        &public,
        &["--data-binary", &body, "http://localhost/cgi-bin/echo.cgi"],
    );
    assert_eq!(out.assert_code(0).out(), format!("method=POST\n{body}"));

    // An outsider is refused by the kernel: connect fails with EACCES (curl: 7).
    let out = curl_as(OUTSIDER, &public, &["http://localhost/"]);
    out.assert_code(7);

    // A member denied by uid in the rules: connected, then refused by ipcserver-access
    // before anything reaches the backend (curl: empty reply 52, or 56 when the close
    // finds its request unread, or 7 when the close comes before curl's own check of
    // the fresh connection; what proves the refusal is the backend's log below).
    let served = |log: &str| log.matches("info: allow").count();
    // The backend logs its allow line when it accepts: wait for both to be written.
    assert!(
        eventually(10, || served(&httpd.log()) == 2),
        "backend log: {}",
        httpd.log()
    );
    let before = served(&httpd.log());
    let out = curl_as(DENIED_UID, &public, &["http://localhost/"]);
    assert!(matches!(out.status.code(), Some(7 | 52 | 56)), "{out:?}");
    assert_eq!(out.out(), "");
    // The member again, so the backend's log surely has caught up.
    curl_as(MEMBER, &public, &["http://localhost/"]).assert_code(0);
    assert!(
        eventually(10, || served(&httpd.log()) == before + 1),
        "backend log: {}",
        httpd.log()
    );
    // The proxy's log names the refusal and the rule that made it (the run script's
    // `ipcserver-access -v 2`), and not only the allowed clients.
    let deny = format!(
        " uid 1501 gid 4243: Permission denied (rule {}/uid/1501/deny)",
        d.join("rules").display()
    );
    assert!(
        eventually(10, || proxy.log().lines().any(|l| l
            .starts_with("ipcserver-access: info: deny pid ")
            && l.ends_with(&deny))),
        "proxy log: {}",
        proxy.log()
    );
    drop(proxy);
}

#[test]
fn socket_proxy_backend_sees_every_byte_and_the_half_close() {
    // A raw backend that records what arrives, and answers only after end of file:
    // only a relay that passes the half-close on lets the answer come back.
    let d = Dir::new("brhalf");
    let backend = d.join("backend.sock");
    let got = d.join("got");
    let script = format!(
        "cat > {g}; printf 'backend saw %s bytes then EOF\\n' $(wc -c < {g}); head -c 500000 /dev/zero | tr '\\0' y",
        g = got.display()
    );
    let _b = Server::start(cmd(&[
        bin("ipcserver").to_str().unwrap(),
        "-1",
        backend.to_str().unwrap(),
        "sh",
        "-c",
        &script,
    ]));
    let (_proxy, public) = start_proxy(&d, &backend);
    // As root (uid 0, gid 0): give root access through a rule too.
    std::fs::create_dir_all(d.join("rules/uid/0")).unwrap();
    std::fs::write(d.join("rules/uid/0/allow"), b"").unwrap();
    let mut c = UnixStream::connect(&public).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req: Vec<u8> = (0..1_500_000u32).map(|i| (i % 251) as u8).collect();
    let writer = {
        let mut w = c.try_clone().unwrap();
        let req = req.clone();
        std::thread::spawn(move || {
            w.write_all(&req).unwrap();
            w.shutdown(std::net::Shutdown::Write).unwrap();
        })
    };
    let mut reply = Vec::new();
    c.read_to_end(&mut reply).unwrap();
    writer.join().unwrap();
    let head = b"backend saw 1500000 bytes then EOF\n";
    assert!(
        reply.starts_with(head),
        "{:?}",
        String::from_utf8_lossy(&reply[..reply.len().min(80)])
    );
    assert_eq!(reply.len(), head.len() + 500_000);
    assert!(reply[head.len()..].iter().all(|&b| b == b'y'));
    assert_eq!(std::fs::read(&got).unwrap(), req);
}

#[test]
fn socket_proxy_under_s6_supervise_signals_readiness() {
    if !have("s6-supervise") || !have("s6-svwait") {
        return;
    }
    let d = Dir::new("brsv");
    let backend = d.join("backend.sock");
    let _b = Server::start(cmd(&[
        bin("ipcserver").to_str().unwrap(),
        "-1",
        backend.to_str().unwrap(),
        "sh",
        "-c",
        "read line; echo \"backend got $line\"",
    ]));
    let svc = crate::service::copy_service("socket-proxy", &d.path);
    let rules = d.join("rules");
    std::fs::create_dir_all(rules.join("uid/0")).unwrap();
    std::fs::write(rules.join("uid/0/allow"), b"").unwrap();
    let public = d.join("pub.sock");
    let mut sup = Command::new("s6-supervise");
    sup.arg(&svc)
        .env("PATH", path_with_our_bins())
        .env("PUBLIC", &public)
        .env("BACKEND", &backend)
        .env("GROUP", "4243")
        .env("RULES", &rules)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut sup = sup.spawn().unwrap();
    assert!(eventually(10, || svc.join("supervise/status").exists()));
    run_timeout(
        cmd(&["s6-svwait", "-U", "-t", "10000", svc.to_str().unwrap()]),
        15,
    )
    .assert_code(0);
    let mut c = UnixStream::connect(&public).expect("listening once ready");
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    c.write_all(b"hello\n").unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    let mut reply = String::new();
    c.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, "backend got hello\n");
    run_timeout(cmd(&["s6-svc", "-xd", svc.to_str().unwrap()]), 10).assert_code(0);
    assert!(
        wait_deadline(&mut sup, 10).is_some(),
        "s6-supervise did not exit"
    );
}
