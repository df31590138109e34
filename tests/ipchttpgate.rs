//! ipchttpgate: the real gate under the real ipcserver, in front of a recording
//! backend (tests/httpgate/backend.py, Python's http.server on a Unix socket), driven by
//! curl `--unix-socket`, Python's http.client and raw sockets, as other uids through
//! setpriv; and in front of podman's API service with the read-only preset.

use crate::util::*;
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// A client whose primary group is the operators' group, 4243.
const MEMBER: &[&str] = &["--reuid", "1500", "--regid", "4243", "--clear-groups"];
/// A client in no group of interest.
const OUTSIDER: &[&str] = &["--reuid", "1501", "--regid", "1501", "--clear-groups"];

/// The interpreter for scripts run as other uids (the `python3` in PATH may live under
/// /root, which they cannot enter).
const PY: &str = "/usr/bin/python3";

/// Rules shaped like the docker presets, plus test paths.
const RULES: &str = "\
# reads for everyone
allow GET,HEAD (/v[0-9.]+)?/(containers|images)/json *
allow POST (/v[0-9.]+)?/containers/[^/]+/(start|stop|restart) gid=4243
allow * /echo(/.*)? uid=1500,uid=0
allow * /(chunked|close)(/.*)? *
allow POST /upgrade *
deny DELETE /.* *
";

fn backend_py() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/httpgate/backend.py")
}

/// Everything a gate test runs: the recording backend and the gate under ipcserver.
struct Gate {
    d: Dir,
    _backend: Server,
    gate: Server,
    sock: PathBuf,
}

impl Gate {
    /// The backend, and `ipcserver -a 0666 SOCK [chain...] ipchttpgate ARGS -r RULES
    /// BACKEND`; `None` when a peer is missing (outside CI).
    fn start(tag: &str, rules: &str, args: &[&str], chain: &[&str]) -> Option<Gate> {
        Gate::start_with(
            tag,
            rules,
            |sock, gate| {
                let mut prog: Vec<&str> = chain.to_vec();
                prog.extend(gate.iter().map(|a| a.to_str().unwrap()));
                server(&["-a", "0666"], sock, &prog)
            },
            args,
        )
    }

    /// The backend, and `BINDER -a 0666 SOCK ipchttpgate ARGS -r RULES BACKEND`: the
    /// gate in listening mode, one process (a shell prints the readiness line once the
    /// socket listens, and becomes the gate). `None` when a peer is missing.
    fn listening(tag: &str, rules: &str, args: &[&str], binder: &OsStr) -> Option<Gate> {
        let ours = Path::new(binder).is_absolute();
        if !ours && !have(&binder.to_string_lossy()) {
            return None;
        }
        Gate::start_with(
            tag,
            rules,
            |sock, gate| {
                let mut c = Command::new(binder);
                c.args(["-a", "0666"])
                    .arg(sock)
                    .args(["sh", "-c", "echo ready; exec \"$0\" \"$@\""])
                    .args(gate);
                Server::start(c)
            },
            args,
        )
    }

    /// The backend, the rules file, and the gate `start` makes of the socket's path and
    /// the gate's command line.
    fn start_with(
        tag: &str,
        rules: &str,
        start: impl FnOnce(&Path, &[OsString]) -> Server,
        args: &[&str],
    ) -> Option<Gate> {
        if !have("python3") || !have("curl") || !have("setpriv") {
            return None;
        }
        let d = Dir::new(tag);
        let bsock = d.join("b.sock");
        let backend = Server::start(cmd(&[
            "python3",
            backend_py().to_str().unwrap(),
            bsock.to_str().unwrap(),
            d.join("requests").to_str().unwrap(),
        ]));
        std::fs::write(d.join("rules"), rules).unwrap();
        let sock = d.join("g.sock");
        let mut gate: Vec<OsString> = vec![bin("ipchttpgate").into()];
        gate.extend(args.iter().map(OsString::from));
        gate.extend(["-r".into(), d.join("rules").into(), bsock.into()]);
        let gate = start(&sock, &gate);
        Some(Gate {
            d,
            _backend: backend,
            gate,
            sock,
        })
    }

    /// What reached the backend: its record of every request it read whole.
    fn requests(&self) -> String {
        std::fs::read_to_string(self.d.join("requests")).unwrap_or_default()
    }

    /// The `REQUEST conn METHOD PATH` lines of [`requests`](Gate::requests).
    fn request_lines(&self) -> Vec<String> {
        self.requests()
            .lines()
            .filter(|l| l.starts_with("REQUEST "))
            .map(str::to_string)
            .collect()
    }

    /// curl as `ids` (setpriv arguments) through the gate.
    fn curl(&self, ids: &[&str], args: &[&str]) -> Output {
        let mut c = Command::new("setpriv");
        c.args(ids)
            .args(["--", "curl", "-sS", "--max-time", "30", "--unix-socket"])
            .arg(&self.sock)
            .args(args);
        run_timeout(c, 60)
    }

    /// The HTTP status curl got.
    fn status(&self, ids: &[&str], args: &[&str]) -> String {
        let mut a = vec!["-o", "/dev/null", "-w", "%{http_code}"];
        a.extend(args);
        self.curl(ids, &a).assert_code(0).out()
    }

    /// Send `bytes` on a new connection and read until the gate closes it.
    fn raw(&self, bytes: &[u8]) -> String {
        let mut s = connect(&self.sock);
        // The gate may refuse and close before it has read everything.
        let _ = s.write_all(bytes);
        String::from_utf8_lossy(&read_until_closed(&mut s)).into_owned()
    }

    /// What the gates logged (their stderr is the server's).
    fn log(&self) -> String {
        self.gate.log()
    }
}

/// Read until end of file; a reset after the data (the gate closed with bytes of ours
/// unread) ends the reading too.
fn read_until_closed(s: &mut UnixStream) -> Vec<u8> {
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut v = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match read_once(s, &mut buf) {
            Ok(0) => return v,
            Ok(n) => v.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return v,
            Err(e) => panic!("read: {e} after {:?}", String::from_utf8_lossy(&v)),
        }
    }
}

/// The status lines of the responses in `text`, in order.
fn statuses(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("HTTP/1.1 "))
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect()
}

#[test]
fn reads_pass_and_writes_are_refused_by_uid_and_gid() {
    let Some(g) = Gate::start("hgbasic", RULES, &[], &[]) else {
        return;
    };
    for who in [MEMBER, OUTSIDER] {
        let ok = g.status(who, &["http://localhost/v1.40/containers/json?all=1"]);
        assert_eq!(ok, "200");
    }
    let start = "http://localhost/v1.40/containers/abc/start";
    assert_eq!(g.status(MEMBER, &["-X", "POST", start]), "200");
    assert_eq!(g.status(OUTSIDER, &["-X", "POST", start]), "403");
    // A create and a delete are no one's.
    let create = "http://localhost/v1.40/containers/create";
    for who in [MEMBER, OUTSIDER] {
        assert_eq!(g.status(who, &["-X", "POST", "-d", "{}", create]), "403");
        let del = "http://localhost/v1.40/containers/abc";
        assert_eq!(g.status(who, &["-X", "DELETE", del]), "403");
    }
    let out = g
        .curl(OUTSIDER, &["-i", "-X", "POST", start])
        .assert_code(0)
        .out();
    assert!(out.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{out}");
    assert!(out.contains("\r\nContent-Length: 47\r\n"), "{out}");
    assert!(out.ends_with("\r\n\r\n403 Forbidden: not allowed by the gate's rules\n"));
    // Only the allowed requests reached the backend.
    let seen = g.request_lines();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(
        seen[2].ends_with(" POST /v1.40/containers/abc/start"),
        "{seen:?}"
    );
}

#[test]
fn identity_fields_are_the_kernels_and_forged_ones_are_removed() {
    // -c and -C are accepted in handler mode too, where they do nothing.
    let Some(g) = Gate::start("hgident", RULES, &["-c", "1", "-C", "1"], &[]) else {
        return;
    };
    let forged = [
        "X-Remote-Uid: 0",
        "x-remote-uid: 0",
        "X-REMOTE-GID: 0",
        "X-Remote-Groups: 0,4243",
        "X-Remote-Pid: 1",
    ];
    let mut args = vec!["http://localhost/echo/who"];
    for h in &forged {
        args.extend(["-H", h]);
    }
    let out = g.curl(MEMBER, &args).assert_code(0).out();
    let fields = remote_fields_of_1500(&out);
    // ipcserver sets IPCREMOTEPID once the identity work is in: then one more field,
    // and never the forged one.
    assert!(fields.len() <= 4, "{out}");
    assert!(!out.contains(": 0\n") && !out.contains("Pid: 1\n"), "{out}");
}

#[test]
fn malformed_requests_are_refused_and_never_forwarded() {
    let Some(g) = Gate::start("hgbad", RULES, &[], &[]) else {
        return;
    };
    let big = format!("X-Big: {}\r\n", "a".repeat(70 * 1024));
    let cases: Vec<(String, &str)> = vec![
        (
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".into(),
            "400 Bad Request: both Content-Length and Transfer-Encoding",
        ),
        (
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!".into(),
            "400 Bad Request: differing Content-Lengths",
        ),
        (
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n".into(),
            "400 Bad Request: a bad chunk size",
        ),
        (
            "GET /echo HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded: yes\r\n\r\n".into(),
            "400 Bad Request: invalid header field name (or obs-fold)",
        ),
        (
            "GET http://localhost/echo HTTP/1.1\r\nHost: x\r\n\r\n".into(),
            "400 Bad Request: request target not in origin form",
        ),
        (
            "GET /echo/../v1.40/containers/create HTTP/1.1\r\nHost: x\r\n\r\n".into(),
            "400 Bad Request: a . or .. segment in the path",
        ),
        (
            "GET /echo/./x HTTP/1.1\r\nHost: x\r\n\r\n".into(),
            "400 Bad Request: a . or .. segment in the path",
        ),
        (
            "GET /echo//x HTTP/1.1\r\nHost: x\r\n\r\n".into(),
            "400 Bad Request: an empty segment (//) in the path",
        ),
        (
            "GET /echo%2F..%2Fx HTTP/1.1\r\nHost: x\r\n\r\n".into(),
            "400 Bad Request: an encoded /, \\ or . in the path",
        ),
        (
            "GET /echo/%5c HTTP/1.1\r\nHost: x\r\n\r\n".into(),
            "400 Bad Request: an encoded /, \\ or . in the path",
        ),
        (
            "GET /echo/%2e%2E HTTP/1.1\r\nHost: x\r\n\r\n".into(),
            "400 Bad Request: an encoded /, \\ or . in the path",
        ),
        (
            "GET /echo/%00 HTTP/1.1\r\nHost: x\r\n\r\n".into(),
            "400 Bad Request: an encoded NUL in the path",
        ),
        (
            "GET /echo/\0 HTTP/1.1\r\nHost: x\r\n\r\n".into(),
            "400 Bad Request: invalid request line",
        ),
        (
            "GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".into(),
            "400 Bad Request: more than one Host header field",
        ),
        (
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n".into(),
            "501 Not Implemented: a transfer coding other than chunked",
        ),
        (
            format!("GET /echo HTTP/1.1\r\nHost: x\r\n{big}\r\n"),
            "431 Request Header Fields Too Large: a header section over 64 KiB",
        ),
    ];
    for (req, want) in &cases {
        let got = g.raw(req.as_bytes());
        let code = &want[..3];
        assert!(
            got.starts_with(&format!("HTTP/1.1 {code} ")),
            "{req:?}\ngot {got:?}"
        );
        assert!(got.contains("\r\nConnection: close\r\n"), "{got:?}");
        assert!(
            got.ends_with(&format!("\r\n\r\n{want}\n")),
            "{req:?}\ngot {got:?}"
        );
    }
    assert_eq!(g.requests(), "", "a refused request reached the backend");
    // Each refusal is logged with the client's uid.
    assert!(
        g.log()
            .contains("ipchttpgate: info: refuse uid 0 400 GET /echo/../v1.40/containers/create: a . or .. segment in the path\n"),
        "{}",
        g.log()
    );
}

#[test]
fn a_bad_chunk_after_forwarded_bytes_never_completes_a_request() {
    let Some(g) = Gate::start("hgchunk", RULES, &[], &[]) else {
        return;
    };
    let mut s = connect(&g.sock);
    s.write_all(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    s.write_all(b"5\nworld\r\n0\r\n\r\nGET /echo/smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let got = String::from_utf8_lossy(&read_until_closed(&mut s)).into_owned();
    assert!(
        got.ends_with("Connection: close\r\n\r\n400 Bad Request: a bad chunk size\n"),
        "{got:?}"
    );
    // The backend had the head and the first chunk, then its connection closed: it never
    // read a whole request, and nothing after the bad line reached it.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(g.requests(), "");
}

#[test]
fn pipelined_requests_are_answered_in_order_each_judged_on_its_own() {
    let Some(g) = Gate::start("hgpipe", RULES, &[], &[]) else {
        return;
    };
    let got = g.raw(
        b"GET /echo/1 HTTP/1.1\r\nHost: x\r\n\r\n\
          POST /v1.40/containers/create HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}\
          HEAD /echo/3 HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /echo/4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        statuses(&got),
        [
            "HTTP/1.1 200 OK",
            "HTTP/1.1 403 Forbidden",
            "HTTP/1.1 200 OK",
            "HTTP/1.1 200 OK"
        ],
        "{got}"
    );
    let first = got.find("REQUEST 1 GET /echo/1").unwrap();
    let last = got.find("REQUEST 1 GET /echo/4").unwrap();
    assert!(first < got.find("403 Forbidden").unwrap() && last > first);
    // The HEAD's answer has no body: the next status line follows its head at once.
    assert!(got.contains("\r\n\r\nHTTP/1.1 200 OK"), "{got}");
    assert_eq!(
        g.request_lines(),
        [
            "REQUEST 1 GET /echo/1",
            "REQUEST 1 HEAD /echo/3",
            "REQUEST 1 GET /echo/4"
        ]
    );
}

#[test]
fn a_denied_body_is_dropped_and_the_connection_goes_on() {
    let Some(g) = Gate::start("hgdrop", RULES, &[], &[]) else {
        return;
    };
    let body = "x".repeat(200_000);
    let req = format!(
        "POST /v1.40/containers/create HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}\
         POST /v1.40/containers/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
         3\r\nGET\r\n0\r\n\r\n\
         GET /echo/after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let got = g.raw(req.as_bytes());
    assert_eq!(
        statuses(&got),
        [
            "HTTP/1.1 403 Forbidden",
            "HTTP/1.1 403 Forbidden",
            "HTTP/1.1 200 OK"
        ],
        "{got}"
    );
    assert_eq!(g.request_lines(), ["REQUEST 1 GET /echo/after"]);
    // A denied body announced with Expect: 100-continue may or may not come: the 403
    // ends the connection instead of waiting for it.
    let got = g.raw(
        b"POST /v1.40/containers/create HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\
          Content-Length: 5\r\n\r\n",
    );
    assert_eq!(statuses(&got), ["HTTP/1.1 403 Forbidden"], "{got}");
    assert!(got.contains("\r\nConnection: close\r\n"), "{got}");
}

#[test]
fn a_chunked_body_over_100_kb_streams_through() {
    let Some(g) = Gate::start("hgbody", RULES, &[], &[]) else {
        return;
    };
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let file = g.d.join("body");
    std::fs::write(&file, &data).unwrap();
    let sum = run_timeout(cmd(&["sha256sum", file.to_str().unwrap()]), 20).out();
    let sum = sum.split_whitespace().next().unwrap().to_string();
    let at = format!("@{}", file.display());
    for (extra, framing) in [
        (&["-H", "Transfer-Encoding: chunked"][..], "chunked"),
        (&[][..], "length"),
        (&["-H", "Expect: 100-continue"][..], "length"),
    ] {
        let mut args = vec!["-v", "--data-binary", &at];
        args.extend(extra);
        args.push("http://localhost/echo/body");
        let out = g.curl(MEMBER, &args);
        out.assert_code(0);
        assert!(
            out.out()
                .contains(&format!("BODY 300000 {sum} {framing}\n")),
            "{}\n{}",
            out.out(),
            out.err()
        );
        if extra.contains(&"Expect: 100-continue") {
            assert!(
                out.err().contains("< HTTP/1.1 100 Continue"),
                "{}",
                out.err()
            );
        }
    }
    // A chunked response comes back whole.
    let out = g
        .curl(MEMBER, &["http://localhost/chunked/x"])
        .assert_code(0)
        .out();
    assert!(
        out.starts_with("REQUEST 4 GET /chunked/x\n") && out.ends_with("END\n"),
        "{out}"
    );
}

#[test]
fn two_hundred_requests_on_one_kept_alive_connection() {
    let Some(g) = Gate::start("hgkeep", RULES, &[], &[]) else {
        return;
    };
    let script = "import http.client, socket, sys\n\
        class C(http.client.HTTPConnection):\n\
        \x20   def connect(self):\n\
        \x20       self.sock = socket.socket(socket.AF_UNIX)\n\
        \x20       self.sock.connect(sys.argv[1])\n\
        c = C('localhost')\n\
        c.connect()\n\
        first = c.sock\n\
        for i in range(200):\n\
        \x20   c.request('POST' if i % 2 else 'GET', '/echo/%d' % i, body=b'x' * i)\n\
        \x20   r = c.getresponse()\n\
        \x20   body = r.read()\n\
        \x20   assert r.status == 200, r.status\n\
        \x20   assert ('/echo/%d\\n' % i).encode() in body, body\n\
        \x20   assert c.sock is first\n\
        print('ok')\n";
    let mut c = Command::new("setpriv");
    c.args(MEMBER).args(["--", PY, "-c", script]).arg(&g.sock);
    let out = run_timeout(c, 120);
    assert_eq!(out.assert_code(0).out(), "ok\n");
    let seen = g.request_lines();
    assert_eq!(seen.len(), 200);
    // One backend connection for the one client connection.
    assert!(seen.iter().all(|l| l.starts_with("REQUEST 1 ")), "{seen:?}");
}

#[test]
fn upgrade_turns_the_connection_into_a_raw_relay() {
    let Some(g) = Gate::start("hgupg", RULES, &[], &[]) else {
        return;
    };
    upgrade_round_trip(&g);
}

/// An upgrade through `g`: the early bytes, then 500 kB both ways, then the half-close.
fn upgrade_round_trip(g: &Gate) {
    let mut s = connect(&g.sock);
    // Bytes after the request in the same write are the first of the raw stream.
    s.write_all(
        b"POST /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\
          Content-Length: 4\r\n\r\n{}\r\nEARLY ",
    )
    .unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&head).contains("EARLY ") {
        let n = read_once(&mut s, &mut buf).unwrap();
        assert!(n > 0, "closed: {:?}", String::from_utf8_lossy(&head));
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    assert!(head.starts_with("HTTP/1.1 101 UPGRADED\r\n"), "{head}");
    // Past the 101, nothing is parsed: a request line is only bytes.
    let raw: Vec<u8> = b"GET /v1.40/containers/create HTTP/1.1\r\n\r\n\x00\xff".to_vec();
    let big: Vec<u8> = raw.iter().cycle().take(500_000).copied().collect();
    let mut w = s.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        w.write_all(&big).unwrap();
        // The half-close reaches the backend, which then closes its side.
        w.shutdown(std::net::Shutdown::Write).unwrap();
        big
    });
    let rest = read_until_closed(&mut s);
    let big = sender.join().unwrap();
    assert_eq!(rest.len(), big.len());
    assert!(rest == big);
    assert!(
        g.log().is_empty() || !g.log().contains("fatal"),
        "{}",
        g.log()
    );
}

#[test]
fn timeouts_end_slow_and_idle_clients() {
    let Some(g) = Gate::start("hgtime", RULES, &["-t", "400", "-T", "800"], &[]) else {
        return;
    };
    // A header section that never ends: 408, then the close.
    let mut s = connect(&g.sock);
    s.write_all(b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    let got = String::from_utf8_lossy(&read_until_closed(&mut s)).into_owned();
    assert!(got.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{got}");
    assert!(got.contains("Connection: close\r\n"), "{got}");
    // Nothing at all, or nothing after a response: closed without a word.
    let mut s = connect(&g.sock);
    assert_eq!(read_until_closed(&mut s), b"");
    let mut s = connect(&g.sock);
    s.write_all(b"GET /echo/1 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let got = String::from_utf8_lossy(&read_until_closed(&mut s)).into_owned();
    assert_eq!(statuses(&got), ["HTTP/1.1 200 OK"]);
    // A body that stops coming: 408 (no response had started), then the close.
    let mut s = connect(&g.sock);
    s.write_all(b"POST /echo/2 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        .unwrap();
    let got = String::from_utf8_lossy(&read_until_closed(&mut s)).into_owned();
    assert!(got.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{got}");
    assert!(
        eventually(10, || g.log().contains(
            "ipchttpgate: info: close uid 0 POST /echo/2: client idle for 800 ms\n"
        )),
        "{}",
        g.log()
    );
    assert!(
        eventually(10, || g.log().contains(
            "ipchttpgate: info: refuse uid 0 408: no complete header section in 400 ms\n"
        )),
        "{}",
        g.log()
    );
}

#[test]
fn http10_and_connection_close_end_the_connection() {
    let Some(g) = Gate::start("hgclose", RULES, &[], &[]) else {
        return;
    };
    for req in [
        "GET /echo/a HTTP/1.0\r\n\r\nGET /echo/b HTTP/1.0\r\n\r\n",
        "GET /echo/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /echo/b HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /v1.40/images/x HTTP/1.0\r\n\r\nGET /echo/b HTTP/1.0\r\n\r\n",
    ] {
        let got = g.raw(req.as_bytes());
        assert_eq!(statuses(&got).len(), 1, "{req:?}: {got}");
    }
    // A backend that closes after its response ends the client's connection too.
    let got =
        g.raw(b"GET /close/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /echo/b HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(statuses(&got), ["HTTP/1.1 200 OK"], "{got}");
    let seen = g.request_lines();
    assert!(!seen.iter().any(|l| l.ends_with("/echo/b")), "{seen:?}");
}

#[test]
fn logs_name_uid_method_escaped_path_and_rule() {
    let Some(g) = Gate::start("hglog", RULES, &[], &[]) else {
        return;
    };
    let del = "http://localhost/v1.40/containers/caf%C3%A9";
    assert_eq!(g.status(OUTSIDER, &["-X", "DELETE", del]), "403");
    assert_eq!(
        g.status(OUTSIDER, &["-X", "PUT", "http://localhost/x"]),
        "403"
    );
    assert_eq!(
        g.status(OUTSIDER, &["http://localhost/v1.40/images/json"]),
        "200"
    );
    let log = g.log();
    assert_eq!(
        log,
        "ipchttpgate: info: deny uid 1501 DELETE /v1.40/containers/caf\\xc3\\xa9: rule 7\n\
         ipchttpgate: info: deny uid 1501 PUT /x: no rule\n",
        "at -v 1 only refusals are logged"
    );
    let Some(g) = Gate::start("hglog2", RULES, &["-v", "2"], &[]) else {
        return;
    };
    assert_eq!(
        g.status(OUTSIDER, &["http://localhost/v1.40/images/json"]),
        "200"
    );
    assert!(eventually(10, || g.log()
        == "ipchttpgate: info: allow uid 1501 GET /v1.40/images/json: rule 2\n"));
}

/// The list in the handler's environment put there by the test itself (`env
/// IPCREMOTEGIDLIST=…` in the chain, over ipcserver's): what the gate does with a list,
/// whatever the client's real groups.
#[test]
fn group_rule_with_gidlist_set_by_env_in_the_chain() {
    let rules = "allow GET /grp/any group=4244\nallow GET /grp/egid gid=4244\n";
    let chain = ["env", "IPCREMOTEGIDLIST=4244,27"];
    let Some(g) = Gate::start("hggrp", rules, &[], &chain) else {
        return;
    };
    assert_eq!(g.status(OUTSIDER, &["http://localhost/grp/any"]), "200");
    // gid= is the effective gid only.
    assert_eq!(g.status(OUTSIDER, &["http://localhost/grp/egid"]), "403");
    assert!(
        g.requests().contains("H X-Remote-Groups: 1501,4244,27\n"),
        "{}",
        g.requests()
    );
}

/// ipcserver exports the client's supplementary groups (`SO_PEERGROUPS`): `group=`
/// rules see them.
#[test]
fn group_rule_uses_kernel_groups_from_ipcserver() {
    let rules = "allow GET /grp/any group=4244\n";
    let Some(g) = Gate::start("hgkgrp", rules, &[], &[]) else {
        return;
    };
    let member = ["--reuid", "1502", "--regid", "1502", "--groups", "4244"];
    assert_eq!(g.status(&member, &["http://localhost/grp/any"]), "200");
    assert_eq!(g.status(OUTSIDER, &["http://localhost/grp/any"]), "403");
    assert!(
        g.requests().contains("H X-Remote-Groups: 1502,4244\n"),
        "{}",
        g.requests()
    );
}

/// The `X-Remote-*` lines (any case) the recording backend saw, `out` being its record;
/// the first three must be those of uid 1500, gid 4243, no other group.
fn remote_fields_of_1500(out: &str) -> Vec<&str> {
    let fields: Vec<&str> = out
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("h x-remote-"))
        .collect();
    assert!(fields.len() >= 3, "{out}");
    assert_eq!(
        &fields[..3],
        [
            "H X-Remote-Uid: 1500",
            "H X-Remote-Gid: 4243",
            "H X-Remote-Groups: 4243"
        ],
        "{out}"
    );
    fields
}

/// The gate run directly on one end of a socket pair, with `env`: its exit code and
/// stderr, and what the client end read.
fn gate_on_pair(args: &[&str], env: &[(&str, &str)], request: &[u8]) -> (Output, String) {
    let (mut ours, theirs) = UnixStream::pair().unwrap();
    let mut c = Command::new(bin("ipchttpgate"));
    c.args(args)
        .env_remove("IPCREMOTEEUID")
        .env_remove("IPCREMOTEEGID")
        .envs(env.iter().copied())
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(
            theirs.try_clone().unwrap(),
        )))
        .stdout(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    drop(c);
    ours.write_all(request).unwrap();
    // The client is done: a gate waiting for a request sees the end of the connection.
    ours.shutdown(std::net::Shutdown::Write).unwrap();
    let got = String::from_utf8_lossy(&read_until_closed(&mut ours)).into_owned();
    let out = wait_output(&mut child, 30, "ipchttpgate");
    (out, got)
}

#[test]
fn exit_codes_and_fatal_messages() {
    let d = Dir::new("hgexit");
    let rules = d.join("rules");
    std::fs::write(&rules, "allow * /.* *\n").unwrap();
    let r = rules.to_str().unwrap();
    let id = [("IPCREMOTEEUID", "1000"), ("IPCREMOTEEGID", "1000")];
    // No identity: refuses to run.
    let (out, got) = gate_on_pair(&["-r", r, "/nowhere"], &[], b"");
    out.assert_code(100);
    assert_eq!(out.err(), "ipchttpgate: fatal: IPCREMOTEEUID not set\n");
    assert_eq!(got, "");
    // A malformed rules file: file, line and reason.
    let bad = d.join("bad");
    std::fs::write(&bad, "# ok\nallow * /.* *\npermit GET / *\n").unwrap();
    let (out, _) = gate_on_pair(&["-r", bad.to_str().unwrap(), "/nowhere"], &id, b"");
    out.assert_code(100);
    assert_eq!(
        out.err(),
        format!(
            "ipchttpgate: fatal: {}: line 3: unknown action permit (allow or deny)\n",
            bad.display()
        )
    );
    // The backend unreachable: 502 to the client, 111.
    let none = d.join("none.sock");
    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let (out, got) = gate_on_pair(&["-r", r, none.to_str().unwrap()], &id, req);
    out.assert_code(111);
    assert_eq!(
        out.err(),
        format!(
            "ipchttpgate: fatal: unable to connect to {}: No such file or directory\n",
            none.display()
        )
    );
    assert!(got.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{got}");
    assert!(
        got.ends_with("502 Bad Gateway: the backend is unreachable\n"),
        "{got}"
    );
    // A backend that does not speak HTTP: 502 to the client, 111.
    let junk = d.join("junk.sock");
    let _junk = server(&[], &junk, &["sh", "-c", "printf 'SSH-2.0-x\\r\\n\\r\\n'"]);
    let (out, got) = gate_on_pair(&["-r", r, junk.to_str().unwrap()], &id, req);
    out.assert_code(111);
    assert_eq!(
        out.err(),
        format!(
            "ipchttpgate: fatal: backend {} sent a malformed response head\n",
            junk.display()
        )
    );
    assert!(got.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{got}");
    // A client that closes: 0, and nothing said.
    let (out, got) = gate_on_pair(&["-r", r, none.to_str().unwrap()], &id, b"");
    out.assert_code(0);
    assert_eq!((out.err().as_str(), got.as_str()), ("", ""));
}

/// A backend whose backlog is full: the gate's non-blocking connect gets EAGAIN, and
/// it waits (blocking, at most its connect timeout) until the backend accepts, instead
/// of answering 502.
#[test]
fn a_full_backend_backlog_is_waited_for() {
    let d = Dir::new("hgbacklog");
    let rules = d.join("rules");
    std::fs::write(&rules, "allow * /.* *\n").unwrap();
    let sock = d.join("b.sock");
    // Backlog 1: two connections waiting fill it. The backend accepts only after 2 s.
    let respond = "printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok'";
    let _backend = Server::start(cmd(&[
        bin("ipcserver-socketbinder").as_os_str(),
        OsStr::new("-b"),
        OsStr::new("1"),
        sock.as_os_str(),
        OsStr::new("sh"),
        OsStr::new("-c"),
        OsStr::new(&format!(
            "echo ready; sleep 2; exec {} -P sh -c \"{respond}\"",
            bin("ipcserverd").display()
        )),
    ]));
    let _fill: Vec<UnixStream> = (0..2)
        .map(|_| UnixStream::connect(&sock).unwrap())
        .collect();
    let id = [("IPCREMOTEEUID", "1000"), ("IPCREMOTEEGID", "1000")];
    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let (out, got) = gate_on_pair(
        &["-r", rules.to_str().unwrap(), sock.to_str().unwrap()],
        &id,
        req,
    );
    out.assert_code(0);
    assert!(
        got.starts_with("HTTP/1.1 200 OK\r\n") && got.ends_with("ok"),
        "{got}"
    );
}

/// service/httpgate under s6-supervise, with the read-only preset, in front of the
/// recording backend: reads pass, a create is refused, and the supervisor stops it.
#[test]
fn service_httpgate_under_s6_supervise() {
    if !have("s6-supervise") || !have("s6-svc") || !have("python3") || !have("curl") {
        return;
    }
    let d = Dir::new("hgsvc");
    let bsock = d.join("b.sock");
    let _backend = Server::start(cmd(&[
        "python3",
        backend_py().to_str().unwrap(),
        bsock.to_str().unwrap(),
        d.join("requests").to_str().unwrap(),
    ]));
    let svc = crate::service::copy_service("httpgate", &d.path);
    let public = d.join("pub.sock");
    std::fs::create_dir_all(svc.join("env")).unwrap();
    std::fs::write(svc.join("env/PUBLIC"), format!("{}\n", public.display())).unwrap();
    std::fs::write(svc.join("env/BACKEND"), format!("{}\n", bsock.display())).unwrap();
    let log = std::fs::File::create(d.join("log")).unwrap();
    let sup = Command::new("s6-supervise")
        .arg(&svc)
        .env("PATH", path_with_our_bins())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    /// Stops the service (its ipcserver would outlive a killed supervisor), then kills
    /// the supervisor.
    struct Stop(std::process::Child, PathBuf);
    impl Drop for Stop {
        fn drop(&mut self) {
            let s = self.1.to_str().unwrap();
            let _ = run_timeout(cmd(&["s6-svc", "-k", "-d", "-x", s]), 30);
            if wait_deadline(&mut self.0, 10).is_none() {
                let _ = self.0.kill();
                let _ = self.0.wait();
            }
        }
    }
    let mut sup = Stop(sup, svc.clone());
    let s = svc.to_str().unwrap();
    assert!(eventually(20, || svc.join("supervise/status").exists()));
    run_timeout(cmd(&["s6-svwait", "-U", "-t", "20000", s]), 30).assert_code(0);
    let curl = |args: &[&str]| {
        let mut c = Command::new("setpriv");
        c.args(OUTSIDER)
            .args(["--", "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}"])
            .args(["--max-time", "30", "--unix-socket"])
            .arg(&public)
            .args(args);
        run_timeout(c, 60).assert_code(0).out()
    };
    assert_eq!(curl(&["http://localhost/v1.40/containers/json"]), "200");
    assert_eq!(curl(&["http://localhost/v1.41/images/busybox/json"]), "200");
    assert_eq!(
        curl(&["-XPOST", "http://localhost/v1.40/containers/create"]),
        "403"
    );
    assert_eq!(
        curl(&["-XPOST", "http://localhost/v1.40/containers/x/exec"]),
        "403"
    );
    run_timeout(cmd(&["s6-svc", "-wD", "-d", "-T", "20000", s]), 30).assert_code(0);
    run_timeout(cmd(&["s6-svc", "-x", s]), 30).assert_code(0);
    assert!(
        wait_deadline(&mut sup.0, 20).is_some(),
        "s6-supervise did not exit"
    );
    let log = std::fs::read_to_string(d.join("log")).unwrap();
    assert!(
        log.contains("ipchttpgate: info: deny uid 1501 POST /v1.40/containers/create: rule 21\n"),
        "{log}"
    );
}

/// The real thing: podman's API service (Docker-compatible and libpod) behind the gate
/// with the read-only preset, driven by `podman --url` and curl as two uids.
#[test]
fn podman_api_behind_the_readonly_preset() {
    if !have("podman") || !have("curl") {
        return;
    }
    let d = Dir::new("hgpod");
    let api = d.join("api.sock");
    let tmp = |n: &str| {
        let p = d.join(n);
        std::fs::create_dir_all(&p).unwrap();
        p
    };
    let (root, runroot, xdg) = (tmp("root"), tmp("runroot"), tmp("xdg"));
    // Own storage, no network, nothing pulled: podman serves its API from empty state.
    let mut c = Command::new("podman");
    c.arg("--root")
        .arg(&root)
        .arg("--runroot")
        .arg(&runroot)
        .args([
            "--storage-driver",
            "vfs",
            "--events-backend",
            "none",
            "--cgroup-manager",
            "cgroupfs",
        ])
        .args(["system", "service", "-t", "0"])
        .arg(format!("unix://{}", api.display()))
        .env("XDG_RUNTIME_DIR", &xdg)
        .env("HOME", &xdg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(d.join("podman.log")).unwrap());
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _podman = Kill(c.spawn().unwrap());
    assert!(
        eventually(60, || listening(&api)),
        "podman system service did not listen: {}",
        std::fs::read_to_string(d.join("podman.log")).unwrap_or_default()
    );
    let preset =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("service/httpgate/docker-readonly.rules");
    let sock = d.join("gate.sock");
    let gate = server(
        &["-a", "0666"],
        &sock,
        &[
            bin("ipchttpgate").to_str().unwrap(),
            "-r",
            preset.to_str().unwrap(),
            api.to_str().unwrap(),
        ],
    );
    let url = format!("unix://{}", sock.display());
    for (who, home) in [(MEMBER, "h1500"), (OUTSIDER, "h1501")] {
        let home = d.join(home);
        std::fs::create_dir_all(&home).unwrap();
        let uid: u32 = who[1].parse().unwrap();
        std::os::unix::fs::chown(&home, Some(uid), None).unwrap();
        let podman = |args: &[&str]| {
            let mut c = Command::new("setpriv");
            c.args(who)
                .args(["--", "env"])
                .arg(format!("HOME={}", home.display()))
                .arg(format!("XDG_RUNTIME_DIR={}", home.display()))
                .args(["podman", "--url", &url])
                .args(args);
            run_timeout(c, 120)
        };
        for read in [&["version"][..], &["ps", "-a"], &["images"]] {
            let out = podman(read);
            out.assert_code(0);
        }
        assert!(podman(&["version"]).out().contains("API Version:"));
        // A delete is refused by the gate: podman reports the 403.
        let out = podman(&["rm", "nosuch"]);
        assert_ne!(out.code(), Some(0), "{out:?}");
        let curl = |args: &[&str]| {
            let mut c = Command::new("setpriv");
            c.args(who)
                .args(["--", "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}"])
                .args(["--max-time", "30", "--unix-socket"])
                .arg(&sock)
                .args(args);
            run_timeout(c, 60).assert_code(0).out()
        };
        assert_eq!(curl(&["http://d/v1.40/version"]), "200");
        assert_eq!(curl(&["http://d/v1.40/containers/json?all=1"]), "200");
        assert_eq!(curl(&["http://d/v1.40/images/json"]), "200");
        let create = [
            "-XPOST",
            "-H",
            "Content-Type: application/json",
            "-d",
            "{\"Image\":\"busybox\"}",
            "http://d/v1.40/containers/create",
        ];
        assert_eq!(curl(&create), "403");
        assert_eq!(curl(&["-XDELETE", "http://d/v1.40/containers/x"]), "403");
        assert_eq!(curl(&["-XDELETE", "http://d/v1.40/images/busybox"]), "403");
    }
    let log = gate.log();
    for want in [
        "ipchttpgate: info: deny uid 1500 POST /v1.40/containers/create: rule 21\n",
        "ipchttpgate: info: deny uid 1501 DELETE /v1.40/containers/x: rule 21\n",
        "ipchttpgate: info: deny uid 1501 DELETE /v1.40/images/busybox: rule 21\n",
    ] {
        assert!(log.contains(want), "{want:?} not in the log:\n{log}");
    }
    // podman's own request, refused.
    assert!(
        log.lines().any(
            |l| l.starts_with("ipchttpgate: info: deny uid 1501 DELETE /v")
                && l.ends_with("/libpod/containers/nosuch: rule 21")
        ),
        "{log}"
    );
}

/// ipcserver stops its handlers with SIGTERM: a gate relaying an upgraded connection
/// ends too (ipcioconnect alone would ignore the signal, as s6-ioconnect does).
#[test]
fn sigterm_ends_an_upgraded_connection() {
    let Some(g) = Gate::start("hgterm", RULES, &[], &[]) else {
        return;
    };
    let mut s = connect(&g.sock);
    s.write_all(
        b"POST /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nping",
    )
    .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"ping") {
        let n = read_once(&mut s, &mut buf).unwrap();
        assert!(n > 0, "{:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    let gates = g.gate.children();
    assert_eq!(gates.len(), 1, "{gates:?}");
    unsafe_kill(gates[0], 15);
    assert_eq!(read_until_closed(&mut s), b"");
    assert!(eventually(10, || g.gate.children().is_empty()));
}

// Listening mode: the gate on a listening socket (fd 0) of its own, one process for
// every connection.

/// Our socketbinder and s6's (the real peer, from PATH).
fn binders() -> [OsString; 2] {
    [
        bin("ipcserver-socketbinder").into(),
        s6("s6-ipcserver-socketbinder"),
    ]
}

/// A GET on a new connection, `Connection: close`; the whole answer.
fn get_close(g: &Gate, path: &str) -> String {
    g.raw(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
}

/// The number of threads of process `pid`.
fn threads(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count()
}

#[test]
fn listening_mode_judges_by_the_kernels_identity() {
    let rules = format!("{RULES}allow GET /grp/any group=4244\n");
    for binder in binders() {
        let Some(g) = Gate::listening("hglid", &rules, &["-v", "2"], &binder) else {
            continue;
        };
        let start = "http://localhost/v1.40/containers/abc/start";
        assert_eq!(g.status(MEMBER, &["-X", "POST", start]), "200");
        assert_eq!(g.status(OUTSIDER, &["-X", "POST", start]), "403");
        let reads = "http://localhost/v1.40/containers/json";
        assert_eq!(g.status(OUTSIDER, &[reads]), "200");
        let grp = ["--reuid", "1502", "--regid", "1502", "--groups", "4244"];
        assert_eq!(g.status(&grp, &["http://localhost/grp/any"]), "200");
        assert_eq!(g.status(OUTSIDER, &["http://localhost/grp/any"]), "403");
        let forged = ["-H", "X-Remote-Uid: 0", "-H", "x-remote-groups: 0"];
        let mut args = vec!["http://localhost/echo/who"];
        args.extend(forged);
        let out = g.curl(MEMBER, &args).assert_code(0).out();
        let fields = remote_fields_of_1500(&out);
        assert_eq!(fields.len(), 4, "{out}");
        assert!(fields[3].starts_with("H X-Remote-Pid: "), "{out}");
        assert!(g.requests().contains("H X-Remote-Groups: 1502,4244\n"));
        // One process served it all, and said whom it let in.
        assert!(g.gate.children().is_empty());
        let log = g.log();
        assert!(log.contains("ipchttpgate: info: allow 1500:4243 count 1/40 client pid "));
        assert!(log.contains(
            "ipchttpgate: info: deny uid 1501 POST /v1.40/containers/abc/start: no rule\n"
        ));
    }
}

#[test]
fn listening_mode_leaks_no_fd_over_200_connections() {
    let binder = OsString::from(bin("ipcserver-socketbinder"));
    let Some(g) = Gate::listening("hglfd", RULES, &[], &binder) else {
        return;
    };
    let pid = g.gate.pid();
    let reads = "/v1.40/containers/json";
    // Counted once the gate has served (and so set itself up).
    assert!(get_close(&g, reads).starts_with("HTTP/1.1 200 OK\r\n"));
    // A connection's thread closes its fds before it ends.
    assert!(eventually(30, || threads(pid) == 1));
    let before = g.gate.fd_count();
    for i in 0..100 {
        match i % 3 {
            0 => assert!(get_close(&g, reads).starts_with("HTTP/1.1 200 OK\r\n")),
            1 => assert!(get_close(&g, "/nothing").starts_with("HTTP/1.1 403 Forbidden\r\n")),
            // Gone before the answer: the gate's write fails (EPIPE, not SIGPIPE).
            _ => {
                let mut s = connect(&g.sock);
                s.write_all(b"GET /chunked/big HTTP/1.1\r\nHost: x\r\n\r\n")
                    .unwrap();
            }
        }
    }
    let sock = g.sock.clone();
    let clients: Vec<_> = (0..100)
        .map(|_| {
            let sock = sock.clone();
            std::thread::spawn(move || {
                let mut s = connect(&sock);
                s.write_all(
                    b"GET /v1.40/images/json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                )
                .unwrap();
                String::from_utf8_lossy(&read_until_closed(&mut s)).into_owned()
            })
        })
        .collect();
    for c in clients {
        let got = c.join().unwrap();
        assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
    }
    assert!(
        eventually(30, || g.gate.fd_count() == before && threads(pid) == 1),
        "fds {} (before: {before}), threads {}",
        g.gate.fd_count(),
        threads(pid)
    );
    assert!(get_close(&g, reads).starts_with("HTTP/1.1 200 OK\r\n"));
    assert_eq!(proc_state(pid).map(|c| c != 'Z'), Some(true));
}

#[test]
fn listening_mode_reads_the_rules_again_and_fails_closed() {
    let binder = OsString::from(bin("ipcserver-socketbinder"));
    let Some(g) = Gate::listening("hglrules", "allow GET /a *\n", &[], &binder) else {
        return;
    };
    let rules = g.d.join("rules");
    let code = |path: &str| {
        let got = get_close(&g, path);
        got.get(9..12).unwrap_or("closed").to_string()
    };
    assert_eq!((code("/a"), code("/b")), ("200".into(), "403".into()));
    // Each version has its own size: a change shows even within one timestamp tick.
    std::fs::write(&rules, "allow GET /b *\n# now b\n").unwrap();
    assert_eq!((code("/a"), code("/b")), ("403".into(), "200".into()));
    std::fs::write(&rules, "allow GET /b *\npermit GET /a *\n").unwrap();
    assert_eq!((code("/a"), code("/b")), ("closed".into(), "closed".into()));
    std::fs::write(&rules, "allow GET /(a|b) *\n").unwrap();
    assert_eq!((code("/a"), code("/b")), ("200".into(), "200".into()));
    std::fs::remove_file(&rules).unwrap();
    assert_eq!(code("/a"), "closed");
    std::fs::write(&rules, "allow GET /a *\n").unwrap();
    assert_eq!((code("/a"), code("/b")), ("200".into(), "403".into()));
    let log = g.log();
    let warned = |w: &str| log.lines().filter(|l| l.contains(w)).count();
    assert_eq!(
        warned(
            "line 2: unknown action permit (allow or deny): refusing connections until the rules file is fixed"
        ),
        1,
        "{log}"
    );
    assert_eq!(
        warned("No such file or directory: refusing connections"),
        1,
        "{log}"
    );
    assert_eq!(
        warned("ipchttpgate: info: refuse uid 0: the rules file is broken"),
        3,
        "{log}"
    );
}

/// `-C`: a uid holding connections open cannot take the places of another uid's.
#[test]
fn listening_mode_per_uid_limit_keeps_other_uids_in() {
    let binder = OsString::from(bin("ipcserver-socketbinder"));
    let args = ["-c", "4", "-C", "2"];
    let Some(g) = Gate::listening("hglimit", RULES, &args, &binder) else {
        return;
    };
    // The attacker opens 4 connections (maxconn), sends nothing, and reports how many
    // the gate closed; then holds the rest until its stdin closes.
    let script = r#"
import socket, sys, select, time
socks = []
for _ in range(4):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); socks.append(s)
closed, end = set(), time.time() + 20
while len(closed) < 2 and time.time() < end:
    r, _, _ = select.select([s for s in socks if s not in closed], [], [], 0.1)
    for s in r:
        if s.recv(1) == b"": closed.add(s)
print("closed", len(closed), flush=True)
sys.stdin.read()
"#;
    let mut attacker = Command::new("setpriv")
        .args(OUTSIDER)
        .args(["--", PY, "-c", script])
        .arg(&g.sock)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let out = attacker.stdout.take().unwrap();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).unwrap();
    assert_eq!(line, "closed 2\n");
    // Two slots are the attacker's; another uid still gets in.
    let reads = "http://localhost/v1.40/containers/json";
    assert_eq!(g.status(MEMBER, &[reads]), "200");
    assert_eq!(g.status(MEMBER, &[reads]), "200");
    drop(attacker.stdin.take());
    wait_output(&mut attacker, 30, "attacker");
    let log = g.log();
    assert_eq!(
        log.matches("ipchttpgate: info: deny 1501:1501 count 2/2\n")
            .count(),
        2,
        "{log}"
    );
}

/// `-c`: at maxconn the next client waits in the backlog, and is served once a
/// connection ends.
#[test]
fn listening_mode_at_maxconn_clients_wait() {
    let binder = OsString::from(bin("ipcserver-socketbinder"));
    let Some(g) = Gate::listening("hglmax", RULES, &["-c", "1"], &binder) else {
        return;
    };
    let first = connect(&g.sock);
    let mut second = connect(&g.sock);
    second
        .write_all(b"GET /v1.40/images/json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    second
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 16];
    let e = read_once(&mut second, &mut buf).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock, "{e}");
    drop(first);
    let got = String::from_utf8_lossy(&read_until_closed(&mut second)).into_owned();
    assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
}

#[test]
fn listening_mode_sigterm_sigint_and_sigquit_exit_0() {
    let binder = OsString::from(bin("ipcserver-socketbinder"));
    for sig in [15, 2, 3] {
        let Some(g) = Gate::listening("hglterm", RULES, &[], &binder) else {
            return;
        };
        // Served: the signals are trapped by now (the readiness line comes before).
        assert!(get_close(&g, "/v1.40/images/json").starts_with("HTTP/1.1 200 OK\r\n"));
        // A connection in flight is cut.
        let mut s = connect(&g.sock);
        s.write_all(b"GET /v1.40/images/json HTTP/1.1\r\n").unwrap();
        let Gate { gate, .. } = g;
        let out = gate.stop_with(sig);
        assert_eq!(out.status.code(), Some(0), "{}", out.err());
        assert_eq!(read_until_closed(&mut s), b"");
    }
}

#[test]
fn listening_mode_wants_a_unix_stream_socket() {
    let d = Dir::new("hgltcp");
    std::fs::write(d.join("rules"), "allow * /.* *\n").unwrap();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut c = Command::new(bin("ipchttpgate"));
    c.arg("-r")
        .arg(d.join("rules"))
        .arg("/nowhere")
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(tcp)))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // Not run_timeout, which gives the command /dev/null as stdin.
    let mut child = c.spawn().unwrap();
    drop(c);
    let out = wait_output(&mut child, 30, "ipchttpgate");
    out.assert_code(100);
    assert_eq!(
        out.err().lines().next(),
        Some("ipchttpgate: fatal: stdin is a listening socket, but not a Unix stream socket")
    );
}

/// A connection the gate accepted itself is one fd both ways: the 101 relay still
/// passes the half-close on.
#[test]
fn listening_mode_relays_an_upgrade() {
    let binder = OsString::from(bin("ipcserver-socketbinder"));
    let Some(g) = Gate::listening("hglupg", RULES, &[], &binder) else {
        return;
    };
    upgrade_round_trip(&g);
    upgrade_round_trip(&g);
}
