//! Tests: ipcsudo, ipcsudoc, ipcsudod, against s6-sudo, s6-sudoc and s6-sudod.

use crate::util::*;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::mem::MaybeUninit;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Side {
    Ours,
    S6,
}

/// The command every interop server runs: report, copy stdin, write to stderr, exit
/// with `$1`, or kill itself with SIGTERM when `$1` is `sig`.
const CMD: &str = r#"case $1 in sig) kill -TERM $$;; esac; echo "run $* FOO=$FOO BAR=$BAR"; cat; echo err >&2; exit $1"#;

fn server(side: Side, sock: &Path, dopts: &[&str], sargv: &[&str]) -> Server {
    let mut argv: Vec<OsString> = vec![bin("ipcserver").into(), "-1".into(), sock.into()];
    match side {
        Side::Ours => argv.push(bin("ipcsudod").into()),
        Side::S6 => argv.push("s6-sudod".into()),
    }
    argv.extend(dopts.iter().map(OsString::from));
    argv.extend(sargv.iter().map(OsString::from));
    let mut c = cmd(&argv);
    c.env("FOO", "").env("BAR", "server");
    Server::start(c)
}

fn client_argv(side: Side, copts: &[&str], sock: &Path, args: &[&str]) -> Vec<OsString> {
    let mut argv: Vec<OsString> = match side {
        Side::Ours => vec![bin("ipcsudo").into()],
        Side::S6 => vec!["s6-sudo".into()],
    };
    argv.extend(copts.iter().map(OsString::from));
    argv.push(sock.into());
    argv.extend(args.iter().map(OsString::from));
    argv
}

/// Run a client with stdin from a file holding `input` and stderr into a file;
/// returns (code, stdout, stderr file contents).
fn run_client(d: &Dir, argv: &[OsString], input: &str) -> (Option<i32>, String, String) {
    let inp = d.join("stdin");
    let errp = d.join("stderr");
    std::fs::write(&inp, input).unwrap();
    let mut c = cmd(argv);
    c.env("FOO", "client").env("BAR", "client");
    c.stdin(std::fs::File::open(&inp).unwrap())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&errp).unwrap());
    let mut child = c.spawn().unwrap();
    let out = wait_output(&mut child, 15, &format!("{argv:?}"));
    let err = std::fs::read_to_string(&errp).unwrap();
    (out.code(), out.out(), err)
}

fn sides() -> Vec<(Side, Side)> {
    let mut v = vec![(Side::Ours, Side::Ours)];
    if have("s6-sudod") && have("s6-sudo") {
        v.extend([
            (Side::Ours, Side::S6),
            (Side::S6, Side::Ours),
            (Side::S6, Side::S6),
        ]);
    }
    v
}

#[test]
fn interop_fds_exit_codes_and_env() {
    for (srv, cli) in sides() {
        let d = Dir::new("sudo");
        let sock = d.join("s");
        let _s = server(srv, &sock, &[], &["sh", "-c", CMD, "sh"]);
        let case = format!("server {srv:?}, client {cli:?}");

        // The command reads the client's stdin file, writes to its stdout pipe and its
        // stderr file; the client's env fills only FOO, which the server has empty.
        let r = run_client(&d, &client_argv(cli, &[], &sock, &["0", "x"]), "input\n");
        assert_eq!(
            r,
            (
                Some(0),
                "run 0 x FOO=client BAR=server\ninput\n".into(),
                "err\n".into()
            ),
            "{case}"
        );
        let r = run_client(&d, &client_argv(cli, &[], &sock, &["3"]), "three\n");
        assert_eq!(
            r,
            (
                Some(3),
                "run 3 FOO=client BAR=server\nthree\n".into(),
                "err\n".into()
            ),
            "{case}"
        );
        // -e: no environment sent.
        let r = run_client(&d, &client_argv(cli, &["-e"], &sock, &["0"]), "");
        assert_eq!(r.1, "run 0 FOO= BAR=server\n", "{case}");
        // Killed by a signal: 128 + SIGTERM.
        let r = run_client(&d, &client_argv(cli, &[], &sock, &["sig"]), "");
        assert_eq!(r, (Some(143), String::new(), String::new()), "{case}");
        // Exit codes over 128 read as 128 (s6-sudoc's wait_estatus).
        let r = run_client(&d, &client_argv(cli, &[], &sock, &["200"]), "");
        assert_eq!(r.0, Some(128), "{case}");
    }
}

#[test]
fn null_fds_options() {
    for (srv, cli) in sides() {
        if cli != Side::Ours && srv != Side::Ours {
            continue;
        }
        let d = Dir::new("sudo");
        let sock = d.join("s");
        let _s = server(srv, &sock, &["-0", "-1", "-2"], &["sh", "-c", CMD, "sh"]);
        let r = run_client(&d, &client_argv(cli, &[], &sock, &["0"]), "input\n");
        // stdin and stdout are /dev/null, stderr is the server's (not the client's).
        assert_eq!(
            r,
            (Some(0), String::new(), String::new()),
            "{srv:?} {cli:?}"
        );
    }
}

/// Privilege gain end to end: a root service behind an access check lets uid 65534
/// (group 65534) run `id -u`, and runs nothing for anybody else.
#[test]
fn privilege_gain_through_access_rules() {
    if !have("s6-ipcserver-access") {
        return;
    }
    let d = Dir::new("sudo");
    let sock = d.join("s");
    let rules = d.join("rules");
    std::fs::create_dir_all(rules.join("gid/65534")).unwrap();
    std::fs::write(rules.join("gid/65534/allow"), "").unwrap();
    let marker = d.join("ran");
    let script = format!("id -u; echo ran >> {}", marker.display());
    let _s = Server::start(cmd(&[
        bin("ipcserver").as_os_str(),
        "-1".as_ref(),
        sock.as_os_str(),
        "s6-ipcserver-access".as_ref(),
        "-i".as_ref(),
        rules.as_os_str(),
        bin("ipcsudod").as_os_str(),
        "sh".as_ref(),
        "-c".as_ref(),
        script.as_ref(),
    ]));

    for client in sides()
        .into_iter()
        .map(|s| s.1)
        .filter(|&c| c == Side::Ours || have("s6-sudo"))
    {
        let denied = as_user(65533, &client_argv(client, &[], &sock, &[]));
        let out = run_timeout(denied, 10);
        out.assert_code(111);
        assert_eq!(out.out(), "");
        // ipcsudoc(1) COMPATIBILITY: s6-sudoc says "unable to connect", we say refused.
        let want = match client {
            Side::Ours => "connection refused by the server",
            _ => "appropriate permissions",
        };
        assert!(out.err().contains(want), "{}", out.err());
        assert!(!marker.exists(), "a denied client got a command run");
    }

    let out = run_timeout(as_nobody(&client_argv(Side::Ours, &[], &sock, &[])), 10);
    out.assert_code(0);
    assert_eq!(out.out(), "0\n");
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "ran\n");
    if have("s6-sudo") {
        let out = run_timeout(as_nobody(&client_argv(Side::S6, &[], &sock, &[])), 10);
        out.assert_code(0);
        assert_eq!(out.out(), "0\n");
    }
}

fn read_line_timeout(child: &mut Child, secs: u64) -> String {
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let mut b = [0u8; 1];
        while out.read(&mut b).unwrap_or(0) == 1 && b[0] != b'\n' {
            v.push(b[0]);
        }
        let _ = tx.send(String::from_utf8_lossy(&v).into_owned());
    });
    rx.recv_timeout(Duration::from_secs(secs)).expect("no line")
}

#[test]
fn client_killed_command_gets_term() {
    let mut servers = vec![Side::Ours];
    if have("s6-sudod") {
        servers.push(Side::S6);
    }
    for srv in servers {
        let d = Dir::new("sudo");
        let sock = d.join("s");
        let marker = d.join("term");
        // s6-sudod leaves the command running if the client dies before the
        // confirmation went out: give it time to send it before saying "ready".
        let pause = if srv == Side::S6 { "sleep 0.3;" } else { "" };
        let script = format!(
            "trap 'echo TERM > {}; exit 0' TERM; {pause} echo ready; while :; do sleep 0.05; done",
            marker.display()
        );
        let s = server(srv, &sock, &[], &["sh", "-c", &script]);
        let mut c = cmd(&client_argv(Side::Ours, &[], &sock, &[]));
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = c.spawn().unwrap();
        assert_eq!(read_line_timeout(&mut child, 10), "ready");
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            eventually(10, || std::fs::read_to_string(&marker)
                .is_ok_and(|t| t == "TERM\n")),
            "{srv:?}: the command never got SIGTERM"
        );
        // The ipcsudod handling that client is gone too (it exits 1).
        assert!(eventually(10, || s.children().is_empty()));
    }
}

#[test]
fn detached_command_survives_client() {
    let d = Dir::new("sudo");
    let sock = d.join("s");
    let started = d.join("started");
    let done = d.join("done");
    let script = format!(
        "trap 'echo TERM > {done}; exit 0' TERM; touch {st}; sleep 1; echo done > {done}",
        st = started.display(),
        done = done.display()
    );
    let _s = server(Side::Ours, &sock, &["-d"], &["sh", "-c", &script]);
    let mut c = cmd(&client_argv(Side::Ours, &[], &sock, &[]));
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    assert!(eventually(10, || started.exists()));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(eventually(10, || std::fs::read_to_string(&done)
        .is_ok_and(|t| t == "done\n")));
}

// ---- Malformed input, with a hand-made peer on a socketpair. ----

/// Run `c` (an ipcsudod, or a chain that execs one) on one end of a socketpair (fds 0
/// and 1, stderr piped), the test on the other, whose reads give up after 10 seconds.
fn on_pair(mut c: Command) -> (UnixStream, Child) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    c.stdin(Stdio::from(OwnedFd::from(theirs.try_clone().unwrap())))
        .stdout(Stdio::from(OwnedFd::from(theirs)))
        .stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    // Our copies of the server's end go with `c`, or it would never see EOF.
    drop(c);
    ours.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    (ours, child)
}

/// ipcsudod on one end of a socketpair (fds 0 and 1), the test on the other.
fn raw_sudod(opts: &[&str], d: &Dir) -> (UnixStream, Child, PathBuf) {
    let marker = d.join("ran");
    let mut c = Command::new(bin("ipcsudod"));
    c.args(opts)
        .args(["sh", "-c", &format!("touch {}", marker.display())]);
    let (ours, child) = on_pair(c);
    (ours, child, marker)
}

fn request(banner: &[u8], counts: [u32; 4], strings: &[u8]) -> Vec<u8> {
    let mut p = banner.to_vec();
    for c in counts {
        p.extend_from_slice(&c.to_be_bytes());
    }
    p.extend_from_slice(strings);
    let mut m = (p.len() as u32).to_be_bytes().to_vec();
    m.extend_from_slice(&3u16.to_be_bytes());
    m.extend_from_slice(&p);
    m
}

fn read_banner(s: &mut UnixStream) {
    let mut b = [0u8; 15];
    s.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"s6-sudo b v1.0\n");
}

/// What the server answered after the request (the errno byte, if any), its exit code
/// and stderr.
fn finish(mut s: UnixStream, mut child: Child) -> (Vec<u8>, Option<i32>, String) {
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let out = wait_output(&mut child, 10, "ipcsudod");
    (answer, out.code(), out.err())
}

#[test]
fn malformed_requests_are_refused() {
    let good_strings = b"a\0K=v\0";
    let null = std::fs::File::open("/dev/null").unwrap();
    let three = [null.as_fd(), null.as_fd(), null.as_fd()];
    /// A malformed request and how ipcsudod must answer it.
    struct Case<'a> {
        name: &'a str,
        /// The message sent after the banner.
        msg: Vec<u8>,
        /// How many fds go with it.
        nfds: usize,
        /// ipcsudod's exit code, its stderr, and what the client reads.
        code: i32,
        err: &'a str,
        answer: &'a [u8],
    }
    let cases: Vec<Case<'_>> = vec![
        Case {
            name: "wrong banner",
            msg: request(b"s6-sudo a v2.0\n", [1, 1, 2, 4], good_strings),
            nfds: 3,
            code: 100,
            err: "ipcsudod: fatal: wrong client banner\n",
            answer: b"\x16",
        },
        Case {
            name: "no fds",
            msg: request(b"s6-sudo a v1.0\n", [1, 1, 2, 4], good_strings),
            nfds: 0,
            code: 100,
            err: "ipcsudod: fatal: client did not send 3 fds\n",
            answer: b"",
        },
        Case {
            name: "two fds",
            msg: request(b"s6-sudo a v1.0\n", [1, 1, 2, 4], good_strings),
            nfds: 2,
            code: 100,
            err: "ipcsudod: fatal: client did not send 3 fds\n",
            answer: b"",
        },
        Case {
            name: "five fds",
            msg: request(b"s6-sudo a v1.0\n", [1, 1, 2, 4], good_strings),
            nfds: 5,
            code: 100,
            err: "ipcsudod: fatal: client did not send 3 fds\n",
            answer: b"",
        },
        Case {
            name: "too many fds for the control buffer",
            msg: request(b"s6-sudo a v1.0\n", [1, 1, 2, 4], good_strings),
            nfds: 20,
            code: 111,
            err: "ipcsudod: fatal: unable to read message from client: Protocol error\n",
            answer: b"",
        },
        Case {
            name: "lengths do not add up",
            msg: request(b"s6-sudo a v1.0\n", [1, 1, 2, 9], good_strings),
            nfds: 3,
            code: 100,
            err: "ipcsudod: fatal: wrong client argc/envlen\n",
            answer: b"\x16",
        },
        Case {
            name: "argc over the limit",
            msg: request(b"s6-sudo a v1.0\n", [131_073, 1, 2, 4], good_strings),
            nfds: 3,
            code: 100,
            err: "ipcsudod: fatal: too many args/envvars from client\n",
            answer: b"\x16",
        },
        Case {
            name: "argc does not match the strings",
            msg: request(b"s6-sudo a v1.0\n", [3, 1, 2, 4], good_strings),
            nfds: 3,
            code: 100,
            err: "ipcsudod: fatal: bad arguments from client\n",
            answer: b"\x16",
        },
        Case {
            name: "variable without =",
            msg: request(b"s6-sudo a v1.0\n", [1, 1, 2, 4], b"a\0KKv\0"),
            nfds: 3,
            code: 100,
            err: "ipcsudod: fatal: bad environment from client\n",
            answer: b"\x16",
        },
        Case {
            name: "short message",
            msg: {
                let mut m = 4u32.to_be_bytes().to_vec();
                m.extend_from_slice(&[0, 3]);
                m.extend_from_slice(b"s6-s");
                m
            },
            nfds: 3,
            code: 100,
            err: "ipcsudod: fatal: wrong client message\n",
            answer: b"\x16",
        },
        Case {
            name: "oversized message",
            msg: {
                let mut m = (1u32 << 30).to_be_bytes().to_vec();
                m.extend_from_slice(&[0, 3]);
                m
            },
            nfds: 3,
            code: 100,
            err: "ipcsudod: fatal: client message too big\n",
            answer: b"",
        },
    ];
    for Case {
        name,
        msg,
        nfds,
        code,
        err,
        answer,
    } in cases
    {
        let d = Dir::new("sudo");
        let (mut s, child, marker) = raw_sudod(&[], &d);
        read_banner(&mut s);
        let fds: Vec<BorrowedFd<'_>> = (0..nfds).map(|i| three[i % 3]).collect();
        send_fds(&s, &msg, &fds);
        let (got, c, e) = finish(s, child);
        assert_eq!((c, e.as_str()), (Some(code), err), "case {name}");
        assert_eq!(got, answer, "case {name}");
        assert!(!marker.exists(), "case {name}: the command ran");
    }
}

/// A client gone right after its request, before the confirmation could reach it, is a
/// hang-up: without -d the command is stopped, with -d it runs on. s6-sudod leaves it
/// running either way (ipcsudod(1) COMPATIBILITY). Whether the confirmation still fitted
/// in the socket buffer before the close decides the exit code (111, or the hang-up's
/// 1 / the detached 0), never the command's fate.
#[test]
fn client_gone_before_confirmation_is_a_hangup() {
    let null = std::fs::File::open("/dev/null").unwrap();
    let three = [null.as_fd(), null.as_fd(), null.as_fd()];
    // (server, options, exit codes it may give, whether the command is stopped)
    let mut cases: Vec<(PathBuf, &[&str], &[i32], bool)> = vec![
        (bin("ipcsudod"), &[], &[111, 1], true),
        (bin("ipcsudod"), &["-d"], &[111, 0], false),
    ];
    if have("s6-sudod") {
        // s6-sudod may die of the SIGPIPE of its confirmation (128 + 13 here).
        cases.push(("s6-sudod".into(), &[], &[111, 0, 141], false));
        cases.push(("s6-sudod".into(), &["-d"], &[111, 0, 141], false));
    }
    for (prog, opts, codes, stopped) in cases {
        let what = format!("{} {opts:?}", prog.display());
        let d = Dir::new("sudogone");
        let done = d.join("done");
        let script = format!(
            "trap 'echo TERM > {0}; exit 0' TERM; sleep 1; echo done > {0}",
            done.display()
        );
        let mut c = Command::new(&prog);
        c.args(opts).args(["sh", "-c", &script]);
        let (mut s, mut child) = on_pair(c);
        read_banner(&mut s);
        send_fds(
            &s,
            &request(b"s6-sudo a v1.0\n", [1, 1, 2, 4], b"a\0K=v\0"),
            &three,
        );
        drop(s);
        let out = wait_output(&mut child, 20, &what);
        let code = {
            use std::os::unix::process::ExitStatusExt;
            out.status
                .code()
                .or(out.status.signal().map(|sig| 128 + sig))
        };
        assert!(
            code.is_some_and(|c| codes.contains(&c)),
            "{what}: {:?} {}",
            out.status,
            out.err()
        );
        if stopped {
            // It never gets to write "done" (SIGTERM may even come before its trap is
            // set, so "TERM" is not certain either).
            std::thread::sleep(Duration::from_secs(2));
            let got = std::fs::read_to_string(&done).unwrap_or_default();
            assert!(got.is_empty() || got == "TERM\n", "{what}: {got:?}");
        } else {
            assert!(
                eventually(10, || std::fs::read_to_string(&done)
                    .is_ok_and(|t| t == "done\n")),
                "{what}: the command did not run on: {:?}",
                std::fs::read_to_string(&done)
            );
        }
    }
}

#[test]
fn server_hangup_timeout_and_exec_failure() {
    // Client gone after the banner.
    let d = Dir::new("sudo");
    let (mut s, child, _) = raw_sudod(&[], &d);
    read_banner(&mut s);
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let (_, c, e) = finish(s, child);
    assert_eq!(
        (c, e.as_str()),
        (
            Some(111),
            "ipcsudod: fatal: unable to read message from client: connection closed\n"
        )
    );

    // A client that says nothing, with -t.
    let (mut s, child, _) = raw_sudod(&["-t", "300"], &d);
    read_banner(&mut s);
    let t = Instant::now();
    let out = {
        let mut child = child;
        wait_output(&mut child, 10, "ipcsudod -t")
    };
    assert!(t.elapsed() < Duration::from_secs(5));
    out.assert_code(111);
    assert_eq!(
        out.err(),
        "ipcsudod: fatal: unable to read message from client: Connection timed out\n"
    );
    drop(s);

    // A command that does not exist: the client is told ENOENT, the message goes to the
    // command's stderr (the client's), and the server exits 111, as s6-sudod.
    let mut c = Command::new(bin("ipcsudod"));
    c.arg("/nonexistent/cmd");
    let (mut s, child) = on_pair(c);
    read_banner(&mut s);
    let null = std::fs::File::open("/dev/null").unwrap();
    let (mut client_err, cmd_err) = UnixStream::pair().unwrap();
    send_fds(
        &s,
        &request(b"s6-sudo a v1.0\n", [0, 0, 0, 0], b""),
        &[null.as_fd(), null.as_fd(), cmd_err.as_fd()],
    );
    drop(cmd_err);
    let (got, c, e) = finish(s, child);
    assert_eq!(got, vec![2u8]);
    assert_eq!((c, e.as_str()), (Some(111), ""));
    client_err
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut msg = String::new();
    client_err.read_to_string(&mut msg).unwrap();
    assert_eq!(
        msg,
        "ipcsudod: fatal: unable to exec /nonexistent/cmd: No such file or directory\n"
    );
}

// ---- ipcsudoc against hand-made servers. ----

/// ipcsudoc with fds 6 and 7 on one end of a socketpair, as ipcclient would leave them.
fn raw_sudoc(opts: &[&str]) -> (UnixStream, Child) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("exec 6<&0 7>&0 0</dev/null; exec \"$@\"")
        .arg("sh")
        .arg(bin("ipcsudoc"))
        .args(opts)
        .arg("arg1")
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    ours.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    (ours, child)
}

/// Read the whole request: header, payload, and count the fds.
fn read_request(s: &UnixStream) -> (Vec<u8>, usize) {
    let mut fds = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut got = 0;
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(8))];
        let mut control = rustix::net::RecvAncillaryBuffer::new(&mut space);
        let r = no_intr(|| {
            rustix::net::recvmsg(
                s,
                &mut [std::io::IoSliceMut::new(&mut buf[got..])],
                &mut control,
                rustix::net::RecvFlags::CMSG_CLOEXEC,
            )
        })
        .unwrap();
        for m in control.drain() {
            if let rustix::net::RecvAncillaryMessage::ScmRights(it) = m {
                fds.extend(it);
            }
        }
        got += r.bytes;
        if got >= 6 {
            let len = u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize;
            if got >= 6 + len {
                break;
            }
        }
        assert!(r.bytes > 0 && Instant::now() < end, "request incomplete");
    }
    buf.truncate(got);
    (buf, fds.len())
}

#[test]
fn sudoc_against_bad_servers() {
    // Closed at once (what an access check that says no looks like).
    let (s, child) = raw_sudoc(&[]);
    drop(s);
    let out = {
        let mut child = child;
        wait_output(&mut child, 10, "ipcsudoc")
    };
    out.assert_code(111);
    assert_eq!(
        out.err(),
        "ipcsudoc: fatal: connection refused by the server (it closed the connection before its banner: access rules?)\n"
    );

    // Not an s6-sudo server.
    let (mut s, mut child) = raw_sudoc(&[]);
    s.write_all(b"HELLO there....").unwrap();
    let out = wait_output(&mut child, 10, "ipcsudoc");
    out.assert_code(100);
    assert_eq!(
        out.err(),
        "ipcsudoc: fatal: wrong banner - check that you are connecting to an ipcsudod or s6-sudod server\n"
    );

    // The server refuses with an errno; the request was well formed.
    let (mut s, mut child) = raw_sudoc(&["-e"]);
    s.write_all(b"s6-sudo b v1.0\n").unwrap();
    let (req, nfds) = read_request(&s);
    assert_eq!(nfds, 3);
    assert_eq!(
        &req[..],
        b"\0\0\0\x24\0\x03s6-sudo a v1.0\n\0\0\0\x01\0\0\0\0\0\0\0\x05\0\0\0\0arg1\0"
    );
    s.write_all(&[13]).unwrap();
    let out = wait_output(&mut child, 10, "ipcsudoc");
    out.assert_code(111);
    assert_eq!(
        out.err(),
        "ipcsudoc: fatal: unable to start privileged program: server answered: Permission denied\n"
    );

    // Silent after the banner, with -t.
    let (mut s, mut child) = raw_sudoc(&["-t", "200"]);
    s.write_all(b"s6-sudo b v1.0\n").unwrap();
    let _ = read_request(&s);
    let out = wait_output(&mut child, 10, "ipcsudoc -t");
    out.assert_code(111);
    assert_eq!(
        out.err(),
        "ipcsudoc: fatal: unable to get confirmation from server: Connection timed out\n"
    );

    // Confirmed, then silent, with -T.
    let (mut s, mut child) = raw_sudoc(&["-T", "200"]);
    s.write_all(b"s6-sudo b v1.0\n").unwrap();
    let _ = read_request(&s);
    s.write_all(&[0]).unwrap();
    let out = wait_output(&mut child, 10, "ipcsudoc -T");
    out.assert_code(111);
    assert_eq!(
        out.err(),
        "ipcsudoc: fatal: unable to get exit status from server: Connection timed out\n"
    );

    // A status: exit 5.
    let (mut s, mut child) = raw_sudoc(&[]);
    s.write_all(b"s6-sudo b v1.0\n").unwrap();
    let _ = read_request(&s);
    s.write_all(&[0, 0, 0, 5, 0]).unwrap();
    let out = wait_output(&mut child, 10, "ipcsudoc");
    out.assert_code(5);
    assert_eq!(out.err(), "");
}

#[test]
fn usage_errors() {
    // The reason, then the usage line.
    let bad: &[(&[&str], &str)] = &[
        (&["ipcsudoc", "-t", "x"], "-t: x is not a number"),
        (&["ipcsudoc", "-Z"], "unknown option -Z"),
        (
            &["ipcsudod", "-t", "-1", "true"],
            "-t: -1 is not a number (digits only, no sign)",
        ),
        (&["ipcsudod", "-x"], "unknown option -x"),
        (&["ipcsudo"], "missing path"),
        (&["ipcsudo", "-T", "x", "/s"], "-T: x is not a number"),
    ];
    for (argv, why) in bad {
        let mut c = Command::new(bin(argv[0]));
        c.args(&argv[1..]);
        let out = run_timeout(c, 10);
        out.assert_code(100);
        // The reason first (`PROG: fatal: …`), then the usage line.
        let err = out.err();
        let lines: Vec<&str> = err.lines().collect();
        assert!(
            lines.len() == 2
                && lines[0] == format!("{}: fatal: {why}", argv[0])
                && lines[1].starts_with(&format!("{}: usage: {} ", argv[0], argv[0])),
            "{argv:?}: {}",
            out.err()
        );
    }
    // Not under ipcclient: no fds 6 and 7.
    let out = run_timeout(Command::new(bin("ipcsudoc")), 10);
    out.assert_code(100);
    assert_eq!(
        out.err(),
        "ipcsudoc: fatal: fds 6 and 7 must be the connection to the server (run under ipcclient)\n"
    );
    // ipcsudo reports what ipcclient reports.
    let d = Dir::new("sudo");
    let out = run_timeout(cmd(&client_argv(Side::Ours, &[], &d.join("none"), &[])), 10);
    out.assert_code(111);
    assert_eq!(
        out.err(),
        format!(
            "ipcclient: fatal: unable to connect to {}: No such file or directory\n",
            d.join("none").display()
        )
    );
}

// ---- The service/ example, run for real. ----

/// Kills the service's process on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn which(prog: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
        .unwrap()
}

/// service/ipcsudo-group/run, with ipcserver-access played by s6-ipcserver-access
/// (ipcserver-access is another branch's program).
#[test]
fn service_example_group_rule() {
    if !have("s6-ipcserver-access") {
        return;
    }
    let d = Dir::new("svc");
    let shim = d.join("bin");
    std::fs::create_dir(&shim).unwrap();
    for (name, target) in [
        ("ipcserver", bin("ipcserver")),
        ("ipcsudod", bin("ipcsudod")),
        ("ipcserver-access", which("s6-ipcserver-access")),
    ] {
        std::os::unix::fs::symlink(target, shim.join(name)).unwrap();
    }
    let svc = Path::new(env!("CARGO_MANIFEST_DIR")).join("service/ipcsudo-group");
    let sock = d.join("s");
    let path = format!("{}:{}", shim.display(), std::env::var("PATH").unwrap());
    let mut c = Command::new(svc.join("run"));
    c.current_dir(&svc)
        .env("PATH", &path)
        .env("SOCKET", &sock)
        .env("GROUP", "65534")
        .env("RULES", d.join("rules"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _svc = Running(c.spawn().unwrap());
    // The file exists from the bind on; wait for a connection to be taken.
    assert!(
        eventually(10, || std::os::unix::net::UnixStream::connect(&sock)
            .is_ok()),
        "the service never listened"
    );

    // A member of the group (primary gid 65534) runs the command as root.
    let out = run_timeout(as_nobody(&client_argv(Side::Ours, &[], &sock, &[])), 10);
    out.assert_code(0);
    assert_eq!(out.out(), "running as uid 0 for a member of the group\n");
    // The command refuses arguments, on the client's stderr.
    let out = run_timeout(as_nobody(&client_argv(Side::Ours, &[], &sock, &["x"])), 10);
    out.assert_code(100);
    assert_eq!(out.err(), "usage: ipcsudo SOCKET   (no arguments)\n");

    // Not in the group: the socket's mode stops the connection.
    let other = as_user(65533, &client_argv(Side::Ours, &[], &sock, &[]));
    let out = run_timeout(other, 10);
    out.assert_code(111);
    assert_eq!(
        out.err(),
        format!(
            "ipcclient: fatal: unable to connect to {}: Permission denied\n",
            sock.display()
        )
    );
    // In the group only as a supplementary group: connects, but the rules deny.
    let mut supp = Command::new("setpriv");
    supp.args([
        "--reuid", "65533", "--regid", "65533", "--groups", "65534", "--",
    ]);
    supp.args(client_argv(Side::Ours, &[], &sock, &[]));
    let out = run_timeout(supp, 10);
    out.assert_code(111);
    assert_eq!(out.out(), "");
    assert_eq!(
        out.err(),
        "ipcsudoc: fatal: connection refused by the server (it closed the connection before its banner: access rules?)\n"
    );
}

/// ipcsudod's command starts clean whatever ipcsudod inherited: signals ignored by its
/// caller (SIGINT, SIGPIPE, and glibc's 32 and 33 from a posix_spawn) are back to their
/// defaults, and the mask is empty. It used to be spawned with std's Command, through
/// glibc's posix_spawn, which left 32 and 33 ignored.
#[test]
fn command_signal_state_is_clean() {
    // perl ignores INT and PIPE, blocks USR1, and execs ipcsudod; std's Command spawns
    // perl through posix_spawn, which leaves 32 and 33 ignored in it.
    let mut c = Command::new("perl");
    c.args([
        "-e",
        "use POSIX; $SIG{INT}='IGNORE'; $SIG{PIPE}='IGNORE'; \
         sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGUSR1)); exec {$ARGV[0]} @ARGV or die;",
        "--",
    ])
    .arg(bin("ipcsudod"))
    .args(["cat", "/proc/self/status"]);
    let (mut s, child) = on_pair(c);
    read_banner(&mut s);
    let null = std::fs::File::open("/dev/null").unwrap();
    let (mut rd, wr) = UnixStream::pair().unwrap();
    send_fds(
        &s,
        &request(b"s6-sudo a v1.0\n", [0, 0, 0, 0], b""),
        &[null.as_fd(), wr.as_fd(), null.as_fd()],
    );
    drop(wr);
    let (answer, code, err) = finish(s, child);
    assert_eq!(
        (answer.first(), code, err.as_str()),
        (Some(&0u8), Some(0), "")
    );
    rd.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut status = String::new();
    rd.read_to_string(&mut status).unwrap();
    let line = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(line("SigIgn:"), "SigIgn:\t0000000000000000");
    assert_eq!(line("SigBlk:"), "SigBlk:\t0000000000000000");
}
