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
        ": Permission denied (rule {}/uid/1501/deny)",
        d.join("rules").display()
    );
    assert!(
        eventually(10, || proxy
            .log()
            .lines()
            .any(|l| l.starts_with("ipcserver-access: info: deny pid ")
                && l.contains(" uid 1501 gid 4243 ")
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

/// service/socket-proxy with `CONNECT_AS=client` in `d`, fronting `backend` at
/// `public`, for the members of group 4243 (supplementary members too: `group/`).
fn start_proxy_as_client(d: &Dir, backend: &Path, public: &Path, extra: &[(&str, &str)]) -> Server {
    let svc = crate::service::copy_service("socket-proxy", &d.path);
    let rules = d.join("rules");
    std::fs::create_dir_all(rules.join("group/4243")).unwrap();
    std::fs::create_dir_all(rules.join("uid/1501")).unwrap();
    std::fs::write(rules.join("group/4243/allow"), b"").unwrap();
    std::fs::write(rules.join("uid/1501/deny"), b"").unwrap();
    let mut c = Command::new("sh");
    c.args(["-c", "exec ./run 3>&1"])
        .current_dir(&svc)
        .env("PATH", path_with_our_bins())
        .env("PUBLIC", public)
        .env("BACKEND", backend)
        .env("GROUP", "4243")
        .env("RULES", &rules)
        .env("CONNECT_AS", "client");
    for (k, v) in extra {
        c.env(k, v);
    }
    Server::start(c)
}

/// A backend that prints the peer credentials and groups the kernel gives it (read by
/// python, not by us): behind `CONNECT_AS=client` they are the client's.
#[test]
fn socket_proxy_connects_as_the_client() {
    if !have("s6-applyuidgid") || !have("socat") || !Path::new("/usr/bin/python3").exists() {
        return;
    }
    let d = Dir::new("brasclient");
    let backend = d.join("backend.sock");
    let py = "import socket, struct\n\
              s = socket.socket(fileno=0)\n\
              p, u, g = struct.unpack('iII', s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))\n\
              b = s.getsockopt(socket.SOL_SOCKET, 59, 1024)\n\
              gs = sorted(struct.unpack('%dI' % (len(b) // 4), b))\n\
              print('uid=%d gid=%d groups=%s' % (u, g, ','.join(map(str, gs))), flush=True)\n";
    let _b = Server::start(cmd(&[
        bin("ipcserver").to_str().unwrap(),
        "-1",
        backend.to_str().unwrap(),
        "/usr/bin/python3",
        "-c",
        py,
    ]));
    let public = d.join("pub.sock");
    let _proxy = start_proxy_as_client(&d, &backend, &public, &[]);
    let ask = |ids: &[&str]| {
        let mut c = Command::new("setpriv");
        c.args(ids)
            .args(["--", "socat", "-"])
            .arg(format!("UNIX-CONNECT:{}", public.display()));
        run_timeout(c, 30)
    };
    // A member by a supplementary group: the backend sees uid 1500, gid 1500 and its
    // groups (s6-applyuidgid adds the gid to the list, as initgroups does).
    let out = ask(&[
        "--reuid",
        "1500",
        "--regid",
        "1500",
        "--groups",
        "4243,4244",
    ]);
    assert_eq!(
        out.assert_code(0).out(),
        "uid=1500 gid=1500 groups=1500,4243,4244\n",
        "proxy: {}\nbackend: {}",
        _proxy.log(),
        _b.log()
    );
    let out = ask(&["--reuid", "1502", "--regid", "4243", "--clear-groups"]);
    assert_eq!(out.assert_code(0).out(), "uid=1502 gid=4243 groups=4243\n");
    // Denied by uid: nothing reaches the backend.
    let out = ask(&["--reuid", "1501", "--regid", "1501", "--groups", "4243"]);
    assert_eq!(out.out(), "");
}

/// PostgreSQL peer authentication through the proxy: the backend's socket is in a
/// directory only its group (4250) may enter, so users cannot reach it directly; the
/// proxy connects as each client with that group added (`BACKEND_GROUP`), and
/// PostgreSQL maps the client's own uid to its role. uid 1 (daemon) has a role and gets
/// in; uid 65534 (nobody) asking for that role is refused by PostgreSQL itself.
#[test]
fn socket_proxy_postgresql_peer_authentication() {
    let pgbin = Path::new("/usr/lib/postgresql/15/bin");
    if !pgbin.join("postgres").exists() || !have("psql") || !have("s6-applyuidgid") {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("postgresql 15 is not installed");
        }
        return;
    }
    let d = Dir::new("brpg");
    let (data, sock) = (d.join("data"), d.join("pgsock"));
    std::fs::create_dir(&data).unwrap();
    std::fs::create_dir(&sock).unwrap();
    let as_postgres = |argv: &[&str]| {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid",
            "postgres",
            "--regid",
            "postgres",
            "--clear-groups",
            "--",
        ])
        .args(argv)
        .current_dir(&d.path);
        c
    };
    run_timeout(
        cmd(&[
            "chown",
            "postgres:4250",
            data.to_str().unwrap(),
            sock.to_str().unwrap(),
        ]),
        10,
    )
    .assert_code(0);
    std::fs::set_permissions(&sock, std::os::unix::fs::PermissionsExt::from_mode(0o750)).unwrap();
    let initdb = pgbin.join("initdb");
    let out = run_timeout(
        as_postgres(&[
            initdb.to_str().unwrap(),
            "-D",
            data.to_str().unwrap(),
            "-U",
            "postgres",
            "--auth=peer",
        ]),
        120,
    );
    assert!(out.status.success(), "initdb: {}", out.err());
    std::fs::write(data.join("pg_hba.conf"), "local all all peer\n").unwrap();
    let mut pg = as_postgres(&[
        pgbin.join("postgres").to_str().unwrap(),
        "-D",
        data.to_str().unwrap(),
        "-k",
        sock.to_str().unwrap(),
        "-c",
        "listen_addresses=",
    ]);
    pg.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(d.join("pg.log")).unwrap());
    let mut pg = pg.spawn().unwrap();
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            // SIGINT: PostgreSQL's fast shutdown.
            unsafe_kill(self.0.id() as i32, libc::SIGINT);
            if wait_deadline(&mut self.0, 30).is_none() {
                let _ = self.0.kill();
                let _ = self.0.wait();
            }
        }
    }
    let backend = sock.join(".s.PGSQL.5432");
    // psql as the postgres superuser, straight to the server's socket directory.
    let admin = |sql: &[&str]| {
        let h = sock.to_str().unwrap();
        let mut argv = vec!["psql", "-X", "-h", h, "-U", "postgres", "-d", "postgres"];
        argv.extend(sql);
        as_postgres(&argv)
    };
    let ready = eventually(60, || {
        admin(&["-Atc", "select 1"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let _ = pg.try_wait();
    let pg = Stop(pg);
    assert!(
        ready,
        "postgres did not start: {}",
        std::fs::read_to_string(d.join("pg.log")).unwrap_or_default()
    );
    let out = run_timeout(admin(&["-c", "create role daemon login"]), 30);
    assert!(out.status.success(), "{}", out.err());

    let public_dir = d.join("proxy");
    std::fs::create_dir(&public_dir).unwrap();
    let public = public_dir.join(".s.PGSQL.5432");
    let _proxy = start_proxy_as_client(&d, &backend, &public, &[("BACKEND_GROUP", "4250")]);
    let psql = |uid: &str, host: &Path| {
        let mut c = Command::new("setpriv");
        c.args(["--reuid", uid, "--regid", uid, "--groups", "4243", "--"])
            .args(["psql", "-X", "-h"])
            .arg(host)
            .args([
                "-U",
                "daemon",
                "-d",
                "postgres",
                "-Atc",
                "select current_user",
            ])
            .current_dir("/");
        run_timeout(c, 60)
    };
    // daemon through the proxy: PostgreSQL sees uid 1 and lets it in as role daemon.
    let out = psql("1", &public_dir);
    assert_eq!(out.out(), "daemon\n", "{}", out.err());
    // nobody through the proxy asking for role daemon: PostgreSQL refuses it by uid.
    let out = psql("65534", &public_dir);
    assert!(!out.status.success());
    assert!(
        out.err()
            .contains("Peer authentication failed for user \"daemon\""),
        "{}",
        out.err()
    );
    // daemon directly: the backend's directory is closed to it.
    let out = psql("1", &sock);
    assert!(!out.status.success());
    assert!(out.err().contains("Permission denied"), "{}", out.err());
    drop(pg);
}

/// ipchttpgate in front of a real WSGI application served by gunicorn on a Unix socket:
/// the application learns who is calling from `X-Remote-Uid`/`X-Remote-Groups`, which
/// only the gate can set, and each method and path is allowed per uid or group.
#[test]
fn ipchttpgate_in_front_of_gunicorn_passes_the_kernel_identity() {
    if !have("gunicorn") || !have("curl") {
        return;
    }
    let d = Dir::new("brgate");
    std::fs::write(
        d.join("whoami.py"),
        "def app(environ, start_response):\n\
         \x20   body = ('%s %s uid=%s groups=%s\\n' % (environ['REQUEST_METHOD'],\n\
         \x20       environ['PATH_INFO'], environ.get('HTTP_X_REMOTE_UID'),\n\
         \x20       environ.get('HTTP_X_REMOTE_GROUPS'))).encode()\n\
         \x20   start_response('200 OK', [('Content-Type', 'text/plain'),\n\
         \x20       ('Content-Length', str(len(body)))])\n\
         \x20   return [body]\n",
    )
    .unwrap();
    let app = d.join("app.sock");
    let mut g = Command::new("gunicorn");
    g.arg("--chdir")
        .arg(&d.path)
        .arg("-b")
        .arg(format!("unix:{}", app.display()))
        .args(["--workers", "1", "whoami:app"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(d.join("gunicorn.log")).unwrap());
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _gunicorn = Kill(g.spawn().unwrap());
    assert!(
        eventually(30, || listening(&app)),
        "gunicorn: {}",
        std::fs::read_to_string(d.join("gunicorn.log")).unwrap_or_default()
    );
    std::fs::write(
        d.join("rules"),
        "allow GET /whoami *\nallow POST /whoami gid=4243\n",
    )
    .unwrap();
    let public = d.join("pub.sock");
    let gate = bin("ipchttpgate");
    let _gate = Server::start(cmd(&[
        bin("ipcserver").to_str().unwrap(),
        "-1",
        "-a",
        "0666",
        public.to_str().unwrap(),
        gate.to_str().unwrap(),
        "-r",
        d.join("rules").to_str().unwrap(),
        app.to_str().unwrap(),
    ]));
    let url = "http://localhost/whoami";
    // The forged field is replaced: gunicorn would join two into "1500,0".
    let out = curl_as(MEMBER, &public, &["-H", "X-Remote-Uid: 0", url]);
    assert_eq!(
        out.assert_code(0).out(),
        "GET /whoami uid=1500 groups=4243\n"
    );
    let out = curl_as(MEMBER, &public, &["-d", "x", url]);
    assert_eq!(
        out.assert_code(0).out(),
        "POST /whoami uid=1500 groups=4243\n"
    );
    let out = curl_as(OUTSIDER, &public, &[url]);
    assert_eq!(
        out.assert_code(0).out(),
        "GET /whoami uid=1502 groups=1502\n"
    );
    let out = curl_as(
        OUTSIDER,
        &public,
        &["-w", "%{http_code}", "-o", "/dev/null", "-d", "x", url],
    );
    assert_eq!(out.assert_code(0).out(), "403");
    let out = curl_as(
        MEMBER,
        &public,
        &[
            "-w",
            "%{http_code}",
            "-o",
            "/dev/null",
            "http://localhost/other",
        ],
    );
    assert_eq!(out.assert_code(0).out(), "403");
}
