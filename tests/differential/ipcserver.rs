//! ipcserver vs s6-ipcserver: every option, the handler's view (environment, fds,
//! groups, signal state), the socket file's mode, the log lines, and start-up errors.

use super::probe::*;
use crate::util::*;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The handler.
#[derive(Clone, Copy, Debug)]
pub enum Handler {
    Probe,
    Missing,
    NotExecutable,
}

/// What a row asserts besides the common documented differences (see `compare`).
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    Same,
    /// Ours differs as ipcserver(1) COMPATIBILITY says (`compat` must be there); the
    /// row then checks only that ours has `code` and, if given, this stderr.
    Documented {
        compat: &'static str,
        code: Option<i32>,
        peer_code: Option<i32>,
        stderr: Option<&'static str>,
    },
    /// Same code and messages, but ours fails before making the socket file, s6 after
    /// (`compat` must be in ipcserver(1)).
    NoStraySocket {
        compat: &'static str,
    },
}

pub struct Case {
    pub name: &'static str,
    pub opts: &'static [&'static str],
    /// The socket path (relative to the side's directory).
    pub path: &'static str,
    pub handler: Handler,
    pub env: &'static [(&'static str, &'static str)],
    pub unset: &'static [&'static str],
    pub caller: Caller,
    /// Make PATH a regular file first.
    pub file_at_path: bool,
    pub expect: Expect,
}

const fn case(name: &'static str, opts: &'static [&'static str]) -> Case {
    Case {
        name,
        opts,
        path: "s",
        handler: Handler::Probe,
        env: &[],
        unset: &[],
        caller: Caller::PLAIN,
        file_at_path: false,
        expect: Expect::Same,
    }
}

/// SIGPIPE and SIGINT ignored, a blocked mask (the `caller-blocks-term` rows block
/// SIGTERM too: both servers unblock what they trap).
const SERVER_HOSTILE: Caller = Caller {
    ignore: &["PIPE", "INT"],
    block: &["USR1", "USR2"],
};

const IDS: &[(&str, &str)] = &[("UID", "65534"), ("GID", "65534"), ("GIDLIST", "1,2")];

pub const CASES: &[Case] = &[
    case("plain", &[]),
    case("q", &["-q"]),
    case("Q", &["-Q"]),
    case("v", &["-v"]),
    case("vq", &["-v", "-q"]),
    case("P", &["-P"]),
    case("P-v", &["-P", "-v"]),
    case("Pp", &["-P", "-p"]),
    case("p-v", &["-p", "-v"]),
    case("c1-v", &["-c", "1", "-v"]),
    case("c0-v", &["-c", "0", "-v"]),
    case("c5-C2-v", &["-c", "5", "-C", "2", "-v"]),
    case("C1-v", &["-C", "1", "-v"]),
    case("C100-v", &["-C", "100", "-v"]),
    case("c2000-v", &["-c", "2000", "-v"]),
    case("c20000-v", &["-c", "20000", "-v"]),
    case("P-C1-v", &["-P", "-C", "1", "-v"]),
    case("b1", &["-b", "1"]),
    case("b0", &["-b", "0"]),
    case("b5000", &["-b", "5000"]),
    case("a0700", &["-a", "0700"]),
    case("a700", &["-a", "700"]),
    case("a0777", &["-a", "0777"]),
    case("a0600", &["-a", "0600"]),
    case("a0666", &["-a", "0666"]),
    case("a0755", &["-a", "0755"]),
    case("a7777", &["-a", "7777"]),
    case("a4755", &["-a", "4755"]),
    case("a1777", &["-a", "1777"]),
    case("d", &["-d"]),
    case("D", &["-D"]),
    case("dD", &["-d", "-D"]),
    case("G-g", &["-G", "1,2,3", "-g", "65534"]),
    case("G-only", &["-G", "5"]),
    case("G-empty", &["-G", ""]),
    case("G-dup", &["-G", "7,7,0"]),
    case("G-g-in-list", &["-G", "65534,3", "-g", "65534"]),
    case("G-g-u", &["-G", "4", "-g", "65534", "-u", "65534"]),
    case("g0", &["-g", "0"]),
    Case {
        expect: Expect::Documented {
            compat: "alone, s6 keeps the caller's supplementary groups",
            code: Some(0),
            peer_code: Some(0),
            stderr: None,
        },
        ..case("g-only", &["-g", "65534"])
    },
    case("u0", &["-u", "0"]),
    case("G-u0-g0", &["-G", "9", "-u", "0", "-g", "0"]),
    Case {
        env: IDS,
        ..case("U", &["-U"])
    },
    Case {
        env: &[("UID", "65534"), ("GID", "65534"), ("GIDLIST", "")],
        ..case("U-gidlist-empty", &["-U"])
    },
    Case {
        env: &[("UID", "0"), ("GID", "0"), ("GIDLIST", "3")],
        ..case("U-zero", &["-U"])
    },
    Case {
        env: &[("UID", "65534"), ("GID", "65534")],
        unset: &["GIDLIST"],
        expect: Expect::NoStraySocket {
            compat: "checked before the socket is made",
        },
        ..case("U-no-gidlist", &["-U"])
    },
    Case {
        env: &[("GID", "65534"), ("GIDLIST", "")],
        unset: &["UID"],
        expect: Expect::NoStraySocket {
            compat: "checked before the socket is made",
        },
        ..case("U-no-uid", &["-U"])
    },
    Case {
        env: &[("UID", "65534"), ("GIDLIST", "")],
        unset: &["GID"],
        expect: Expect::NoStraySocket {
            compat: "checked before the socket is made",
        },
        ..case("U-no-gid", &["-U"])
    },
    Case {
        env: &[("UID", "x"), ("GID", "65534"), ("GIDLIST", "")],
        expect: Expect::NoStraySocket {
            compat: "checked before the socket is made",
        },
        ..case("U-bad-uid", &["-U"])
    },
    Case {
        env: &[("UID", "1"), ("GID", "y"), ("GIDLIST", "")],
        expect: Expect::NoStraySocket {
            compat: "checked before the socket is made",
        },
        ..case("U-bad-gid", &["-U"])
    },
    Case {
        env: &[("UID", "1"), ("GID", "1"), ("GIDLIST", "a,b")],
        expect: Expect::NoStraySocket {
            compat: "checked before the socket is made",
        },
        ..case("U-bad-gidlist", &["-U"])
    },
    Case {
        env: IDS,
        ..case("U-v", &["-U", "-v"])
    },
    Case {
        env: IDS,
        ..case("U-with-g", &["-U", "-g", "5"])
    },
    Case {
        env: &[
            ("PROTO", "TCP"),
            ("IPCREMOTEEUID", "x"),
            ("IPCCONNNUM", "9"),
            ("IPCREMOTEPATH", "y"),
            ("FOO", "kept"),
        ],
        ..case("env-overwritten", &[])
    },
    Case {
        env: &[("IPCREMOTEEUID", "x"), ("IPCREMOTEEGID", "y")],
        ..case("env-P-unsets", &["-P"])
    },
    Case {
        handler: Handler::Missing,
        ..case("handler-missing", &[])
    },
    Case {
        handler: Handler::Missing,
        ..case("handler-missing-q", &["-q"])
    },
    Case {
        handler: Handler::Missing,
        ..case("handler-missing-v", &["-v"])
    },
    Case {
        handler: Handler::NotExecutable,
        ..case("handler-not-exec-v", &["-v"])
    },
    Case {
        handler: Handler::NotExecutable,
        ..case("handler-not-exec-P-v", &["-P", "-v"])
    },
    Case {
        path: "nodir/s",
        expect: Expect::Documented {
            compat: "Messages name the failed operation",
            code: Some(111),
            peer_code: Some(111),
            stderr: None,
        },
        ..case("path-in-missing-dir", &[])
    },
    Case {
        file_at_path: true,
        expect: Expect::Documented {
            compat: "replaces only a stale socket",
            code: Some(111),
            peer_code: Some(0),
            stderr: None,
        },
        ..case("file-at-path-d", &[])
    },
    Case {
        file_at_path: true,
        expect: Expect::Documented {
            compat: "Messages name the failed operation",
            code: Some(111),
            peer_code: Some(111),
            stderr: None,
        },
        ..case("file-at-path-D", &["-D"])
    },
    Case {
        caller: SERVER_HOSTILE,
        ..case("caller-hostile", &[])
    },
    Case {
        caller: SERVER_HOSTILE,
        ..case("caller-hostile-v", &["-v"])
    },
    Case {
        caller: Caller::HOSTILE,
        ..case("caller-blocks-term", &[])
    },
    Case {
        caller: Caller::HOSTILE,
        ..case("caller-blocks-term-v", &["-v"])
    },
    Case {
        caller: Caller {
            ignore: &["HUP", "QUIT", "USR2"],
            block: &["CHLD", "HUP"],
        },
        ..case("caller-many", &["-v"])
    },
];

/// One side's observations.
#[derive(Debug, PartialEq, Eq, Clone, Default)]
pub struct Side {
    pub code: Option<i32>,
    /// Startup failure or log, normalised.
    pub stderr: String,
    pub stdout: String,
    /// What the handler printed on the connection.
    pub handler: String,
    /// The socket file's permission bits, if it was created.
    pub mode: Option<u32>,
}

/// Check that ours, run with `opts` and `handler`, exited as the peer and logged what
/// it logs (less what ipcserver(1) documents; s6 2.15's words for a handler that cannot
/// run). Returns whether the row's options ask for the peer's credentials (-p).
pub fn check_code_and_log(
    r: &mut Report,
    case: &str,
    opts: &[&str],
    handler: Handler,
    ours: &Side,
    peer: &Side,
) -> bool {
    r.check(case, "exit code", &ours.code, &peer.code);
    let pc = peercred(opts);
    let log = documented_log(&without_spawn_hints(&ours.stderr), pc, r, case);
    if let Handler::Probe = handler {
        r.check(case, "log", &log, &peer.stderr);
    } else {
        let peer_log = as_s6_2_15(&peer.stderr, verbosity_of(opts));
        r.check(case, "log (s6 2.15's exec failure)", &log, &peer_log);
    }
    pc
}

/// `run(prog, its directory)` for ours and then the peer (`progs`), each in a
/// directory of its own for `case` under `dir`: their two sides, ours first.
pub fn ours_and_peer(
    dir: &Path,
    case: &str,
    progs: [&str; 2],
    mut run: impl FnMut(&str, &Path) -> Side,
) -> Vec<Side> {
    let sides = ["ours", "peer"].into_iter().zip(progs);
    sides
        .map(|(side, prog)| run(prog, &side_dir(dir, case, side)))
        .collect()
}

/// The handler's argv for `h`.
pub fn handler_argv(h: Handler, dir: &Path) -> Vec<String> {
    match h {
        Handler::Probe => probe(dir),
        Handler::Missing => vec!["/nonexistent/handler".into()],
        Handler::NotExecutable => vec!["/etc/passwd".into()],
    }
}

/// Start `argv` in `cwd`, connect to `sock` once, read what the handler says, wait for
/// the handler to end, stop the server with SIGTERM, and collect everything.
pub fn serve_once(
    argv: &[String],
    env: &[(&str, &str)],
    unset: &[&str],
    cwd: &Path,
    sock: &Path,
    progs: &[&str],
    base: &Path,
) -> Side {
    let log_path = cwd.join("log");
    let mut c = case_command(argv, env, unset, cwd);
    c.stdin(Stdio::null())
        .stdout(std::fs::File::create(cwd.join("stdout")).unwrap())
        .stderr(std::fs::File::create(&log_path).unwrap());
    let mut child = c.spawn().unwrap();
    let pid = child.id() as i32;
    let mut conn = None;
    let mut exited = None;
    eventually(20, || {
        if let Some(st) = child.try_wait().unwrap() {
            exited = Some(st);
            return true;
        }
        conn = UnixStream::connect(sock).ok();
        conn.is_some()
    });
    let mode = std::fs::symlink_metadata(sock)
        .ok()
        .filter(|m| {
            use std::os::unix::fs::FileTypeExt;
            m.file_type().is_socket()
        })
        .map(|m| m.permissions().mode() & 0o7777);
    let mut handler = String::new();
    let status = match exited {
        Some(st) => st,
        None => {
            let mut s = conn.expect("server neither listened nor exited");
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let _ = s.read_to_string(&mut handler);
            drop(s);
            // The handler's end must be logged before we stop the server.
            eventually(20, || children_of(pid).is_empty());
            if std::fs::read_to_string(&log_path)
                .unwrap_or_default()
                .contains("allow")
            {
                // The end line and the status line after it (written right after).
                eventually(20, || {
                    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    log.split_once("end pid")
                        .is_some_and(|(_, after)| after.contains("status:"))
                });
            }
            unsafe_kill(pid, libc::SIGTERM);
            match wait_deadline(&mut child, 10) {
                Some(st) => st,
                None => {
                    let _ = child.kill();
                    let st = child.wait().unwrap();
                    handler.push_str("[did not stop on SIGTERM]\n");
                    st
                }
            }
        }
    };
    Side {
        code: status.code(),
        stderr: norm(&std::fs::read(&log_path).unwrap(), progs, base),
        stdout: std::fs::read_to_string(cwd.join("stdout")).unwrap(),
        handler: norm(handler.as_bytes(), progs, base),
        mode,
    }
}

const PROGS: &[&str] = &[
    "ipcserver",
    "s6-ipcserver",
    "s6-ipcserverd",
    "s6-ipcserver (child)",
    "s6-ipcserver-socketbinder",
    "s6-applyuidgid",
];

/// Remove the lines our handler view has by design and check them: `IPCLOCALPATH`
/// (an addition), and the signal state (handlers start clean; s6 passes on what its
/// caller ignored). Returns the rest.
fn documented_handler_view(h: &str, path: &str, r: &mut Report, case: &str) -> String {
    let mut rest = String::new();
    for l in h.lines() {
        if let Some(v) = l.strip_prefix("env IPCLOCALPATH=") {
            r.check(case, "our IPCLOCALPATH", &v, &path);
        } else if l.starts_with("SigIgn:") || l.starts_with("SigBlk:") {
            r.check(
                case,
                "our handler's signal state",
                &l.split('\t').nth(1),
                // perl ignores SIGFPE itself; nothing else may be ignored or blocked.
                &Some(if l.starts_with("SigIgn:") {
                    "0000000000000080"
                } else {
                    "0000000000000000"
                }),
            );
        } else {
            rest.push_str(l);
            rest.push('\n');
        }
    }
    rest
}

/// Our log without our additions about a handler that cannot run (ipcserver(1),
/// COMPATIBILITY; their text is asserted in tests/ipcserver.rs): the start-time
/// warning, and the hint that ends each `unable to spawn` line.
pub fn without_spawn_hints(log: &str) -> String {
    let mut out = String::new();
    for l in log.lines() {
        if l.contains(": warning: ") && l.contains(" cannot be run: ") {
            continue;
        }
        let l = l
            .find(" (this connection got end of file; the server goes on")
            .map_or(l, |i| &l[..i]);
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// s6-ipcserverd 2.11's log of connections whose handler cannot be executed, as 2.15
/// (which spawns with posix_spawn) and we log them (ipcserver(1) COMPATIBILITY): the
/// forked child's `fatal: unable to exec X: E` becomes `warning: unable to spawn X: E`,
/// printed at verbosity 1 and up only, and the connection's `allow` and `end` lines go,
/// each with the `status` line that follows it.
pub fn as_s6_2_15(log: &str, verbosity: u32) -> String {
    let mut out = String::new();
    let mut after_dropped = false;
    for l in log.lines() {
        let status = l.contains(": info: status: ");
        if std::mem::take(&mut after_dropped) && status {
            continue;
        }
        if l.contains(": info: allow ") || l.contains(": info: end pid ") {
            after_dropped = true;
            continue;
        }
        if let Some((who, rest)) = l.split_once(": fatal: unable to exec ") {
            if verbosity >= 1 {
                out.push_str(&format!("{who}: warning: unable to spawn {rest}\n"));
            }
            continue;
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

#[test]
fn s6_2_15_form_of_a_failed_exec() {
    let log = "PROG: info: starting\nPROG: info: status: 0/40\n\
               PROG: info: allow 0:0 pid 5 count 1/40\nPROG: info: status: 1/40\n\
               PROG: fatal: unable to exec /x: No such file or directory\n\
               PROG: info: end pid 5 uid 0 exitcode 127\nPROG: info: status: 0/40\n";
    assert_eq!(
        as_s6_2_15(log, 2),
        "PROG: info: starting\nPROG: info: status: 0/40\n\
         PROG: warning: unable to spawn /x: No such file or directory\n"
    );
    assert_eq!(as_s6_2_15("PROG: fatal: unable to exec /x: E\n", 0), "");
}

/// The verbosity `opts` give ipcserver or ipcserverd (`-q`, `-Q`, `-v`, `-v N`).
pub fn verbosity_of(opts: &[&str]) -> u32 {
    let mut v = 1;
    let mut it = opts.iter();
    while let Some(o) = it.next() {
        v = match *o {
            "-q" => 0,
            "-Q" => 1,
            "-v" => match it.clone().next().and_then(|n| n.parse().ok()) {
                Some(n) => {
                    it.next();
                    n
                }
                None => 2,
            },
            _ => v,
        };
    }
    v
}

/// Whether these options leave credential lookups on (the last of `-p`/`-P` wins).
pub fn peercred(opts: &[&str]) -> bool {
    opts.iter().rev().find(|o| **o == "-p" || **o == "-P") != Some(&"-P")
}

/// Our log without the documented addition to `allow` lines (` client pid N groups
/// G,…`, ipcserver(1) COMPATIBILITY), checked: present on every allow line when
/// credentials are looked up, absent otherwise.
pub fn documented_log(log: &str, peercred: bool, r: &mut Report, case: &str) -> String {
    let mut rest = String::new();
    for l in log.lines() {
        let (head, added) = match l.find(" client pid ") {
            Some(i) if l.contains("info: allow ") => (&l[..i], true),
            _ => (l, false),
        };
        if l.contains("info: allow ") {
            r.check(case, "our allow line names the client", &added, &peercred);
        }
        rest.push_str(head);
        rest.push('\n');
    }
    rest
}

/// The handler's view without our additions `IPCREMOTEGIDLIST` and `IPCREMOTEPID`,
/// checked: both set when credentials are looked up, neither otherwise.
pub fn without_identity_vars(h: &str, peercred: bool, r: &mut Report, case: &str) -> String {
    let mut n = 0;
    let mut rest = String::new();
    for l in h.lines() {
        if l.starts_with("env IPCREMOTEGIDLIST=") || l.starts_with("env IPCREMOTEPID=") {
            n += 1;
        } else {
            rest.push_str(l);
            rest.push('\n');
        }
    }
    // Only a handler that ran can print them.
    if h.contains("env PROTO=") {
        r.check(
            case,
            "our IPCREMOTEGIDLIST and IPCREMOTEPID",
            &n,
            &(if peercred { 2 } else { 0 }),
        );
    }
    rest
}

/// The log without its `fatal: unable to exec` lines, and those lines.
pub fn split_exec_line(log: &str) -> (String, Vec<String>) {
    let (mut rest, mut exec) = (String::new(), Vec::new());
    for l in log.lines() {
        if l.contains("fatal: unable to exec ") {
            exec.push(l.to_string());
        } else {
            rest.push_str(l);
            rest.push('\n');
        }
    }
    (rest, exec)
}

fn peer_handler_view(h: &str) -> String {
    h.lines()
        .filter(|l| !l.starts_with("SigIgn:") && !l.starts_with("SigBlk:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

row! { [V2_11, V2_15]
fn ipcserver_table() {
    if !have("s6-ipcserver") || !have("perl") {
        return;
    }
    assert_documented("ipcserver", "are additions");
    assert_documented("ipcserver", "client pid CPID groups G,...");
    assert_documented(
        "ipcserver",
        "Handlers start with every signal at its default disposition",
    );
    assert_documented("ipcserver", "s6-ipcserverd write a bare newline");
    assert_documented("ipcserver", "A handler program that cannot be run");
    assert_documented("ipcserver", "is reported as s6-ipcserverd 2.15 reports it");
    let d = Dir::new("dsv");
    let mut r = Report::default();
    for k in CASES {
        let progs = ["ipcserver", "s6-ipcserver"];
        let mut sides = ours_and_peer(&d.path, k.name, progs, |prog, sd| {
            if k.file_at_path {
                std::fs::write(sd.join(k.path), "").unwrap();
            }
            let mut argv = vec![prog.to_string()];
            argv.extend(k.opts.iter().map(|s| s.to_string()));
            argv.push(k.path.into());
            argv.extend(handler_argv(k.handler, &d.path));
            let argv = k.caller.wrap(&argv);
            let sock = sd.join(k.path);
            serve_once(&argv, k.env, k.unset, sd, &sock, PROGS, &d.path)
        });
        as_s6_2_11_maxconn(k.opts, &mut sides[0]);
        let (ours, peer) = (&sides[0], &sides[1]);
        match k.expect {
            Expect::Same => {
                let pc = check_code_and_log(&mut r, k.name, k.opts, k.handler, ours, peer);
                r.check(k.name, "socket mode", &ours.mode, &peer.mode);
                let view = without_identity_vars(&ours.handler, pc, &mut r, k.name);
                let view = documented_handler_view(&view, k.path, &mut r, k.name);
                r.check(
                    k.name,
                    "handler's view",
                    &view,
                    &connnum_as_2_11(&peer_handler_view(&peer.handler)),
                );
                r.check(k.name, "stdout", &ours.stdout, &peer.stdout);
            }
            Expect::NoStraySocket { compat } => {
                r.check_documented(k.name, "ipcserver", compat);
                r.check(k.name, "exit code", &ours.code, &peer.code);
                r.check(k.name, "log", &ours.stderr, &peer.stderr);
                r.check(k.name, "our socket file", &ours.mode, &None);
            }
            Expect::Documented {
                compat,
                code,
                peer_code,
                stderr,
            } => {
                r.check_documented(k.name, "ipcserver", compat);
                r.check(k.name, "our exit code", &ours.code, &code);
                r.check(
                    k.name,
                    "peer exit code (expected second)",
                    &peer.code,
                    &peer_code,
                );
                if let Some(e) = stderr {
                    r.check(k.name, "our stderr", &ours.stderr.as_str(), &e);
                }
            }
        }
    }
    r.finish("ipcserver");
}
}

row! { [V2_11, V2_15]
/// `-1`: ours writes PATH and a newline (the s6-ipcserver manual), s6-ipcserverd a bare
/// newline; everything else about the start is the same.
fn readiness_line() {
    if !have("s6-ipcserver") {
        return;
    }
    assert_documented("ipcserver", "s6-ipcserverd write a bare newline");
    let d = Dir::new("dsr");
    for (prog, want) in [("ipcserver", "s\n"), ("s6-ipcserver", "\n")] {
        let sd = side_dir(&d.path, "ready", prog);
        let argv = vec![prog.to_string(), "-1".into(), "s".into(), "true".into()];
        let s = serve_once(&argv, &[], &[], &sd, &sd.join("s"), PROGS, &d.path);
        assert_eq!(s.stdout, want, "{prog}");
        assert_eq!(s.code, Some(0), "{prog}");
    }
    // -1 with stdout closed: the same usage error (s6-ipcserverd's check).
    let mut got = Vec::new();
    for prog in ["ipcserver", "s6-ipcserver"] {
        let sd = side_dir(&d.path, "closed", prog);
        let script = format!("exec {} -1 s true >&-", resolve(prog).to_string_lossy());
        let out = exec_case(
            &["sh".into(), "-c".into(), script],
            &[],
            &[],
            Stdin::Null,
            &sd,
        );
        got.push(Got::of(&out, PROGS, &d.path));
    }
    assert_eq!(got[0], got[1]);
    assert_eq!(got[0].code, Some(100));
}
}

/// Start `prog -1 opts s sh -c 'exec cat >/dev/null'` in `sd` and wait for its
/// readiness line (no probe connection: its handler could still count against
/// localmaxconn when the test's first client arrives).
fn start_holding(prog: &str, opts: &[&str], sd: &Path) -> std::process::Child {
    let mut c = Command::new(resolve(prog));
    c.env("PATH", peer_path());
    c.arg("-1")
        .args(opts)
        .arg("s")
        .args(["sh", "-c", "exec cat >/dev/null"])
        .current_dir(sd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(sd.join("log")).unwrap());
    let mut child = c.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut b = [0u8; 1];
    assert_eq!(out.read(&mut b).unwrap(), 1, "{prog} never became ready");
    child
}

fn log_of(sd: &Path, base: &Path) -> String {
    norm(&std::fs::read(sd.join("log")).unwrap(), PROGS, base)
}

row! { [V2_11, V2_15]
/// Over localmaxconn: both servers close the extra connection at once, and log the deny
/// at every verbosity (-q included). s6 adds a leftover errno text (`: Success` in 2.11,
/// whatever errno held in 2.15); ours has no tail (ipcserver(1) COMPATIBILITY).
fn localmaxconn_deny_lines() {
    if !have("s6-ipcserver") {
        return;
    }
    assert_documented("ipcserver", "ends with leftover errno text");
    let d = Dir::new("dsl");
    for (tag, v) in [("v", "-v"), ("Q", "-Q"), ("q", "-q")] {
        let mut logs = Vec::new();
        for prog in ["ipcserver", "s6-ipcserver"] {
            let sd = side_dir(&d.path, &format!("deny-{tag}"), prog);
            let mut srv = start_holding(prog, &[v, "-C", "1"], &sd);
            let _held = UnixStream::connect(sd.join("s")).unwrap();
            assert!(
                eventually(20, || children_of(srv.id() as i32).len() == 1),
                "{prog} {v}: {:?} {}",
                children_of(srv.id() as i32),
                log_of(&sd, &d.path)
            );
            let mut extra = UnixStream::connect(sd.join("s")).unwrap();
            extra
                .set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            let mut buf = Vec::new();
            assert_eq!(
                extra.read_to_end(&mut buf).unwrap(),
                0,
                "{prog}: denied client reads EOF"
            );
            drop(_held);
            assert!(eventually(20, || children_of(srv.id() as i32).is_empty()));
            if v == "-v" {
                assert!(eventually(20, || log_of(&sd, &d.path)
                    .matches("end pid")
                    .count()
                    == 1));
            }
            std::thread::sleep(Duration::from_millis(50));
            unsafe_kill(srv.id() as i32, libc::SIGTERM);
            assert_eq!(wait_deadline(&mut srv, 20).unwrap().code(), Some(0));
            logs.push(log_of(&sd, &d.path));
        }
        let mut ok = Report::default();
        logs[0] = documented_log(&logs[0], true, &mut ok, "deny");
        ok.finish("allow lines");
        let peer_as_documented = without_errno_tail(&logs[1]);
        if v == "-q" {
            assert_eq!(logs[0], "PROG: info: deny 0:0 count 1/1\n", "-q");
        }
        assert_eq!(logs[0], peer_as_documented, "{v}");
    }
}
}

/// With s6 2.11 as the peer, `ours` run with `opts` logs the maxconn 2.11 would: s6
/// 2.11 caps -c at 1000, 2.13 and later (and ours) at 16384 (ipcserver(1)
/// COMPATIBILITY).
pub fn as_s6_2_11_maxconn(opts: &[&str], ours: &mut Side) {
    if let Some(n) = maxconn_over_1000(opts)
        && peer_is(S6::V2_11)
    {
        assert_documented("ipcserver", "with s6 2.13's ceiling of 16384");
        ours.stderr = ours.stderr.replace(&format!("/{n}\n"), "/1000\n");
    }
}

/// The maxconn that `opts` (`-c N`) asks for, capped at 16384, when it is over 2.11's
/// ceiling of 1000.
fn maxconn_over_1000(opts: &[&str]) -> Option<u32> {
    let i = opts.iter().position(|o| *o == "-c")?;
    let n: u32 = opts.get(i + 1)?.parse().ok()?;
    (n > 1000).then_some(n.min(16384))
}

/// `log` with the errno text s6 leaves after each deny line (`deny U:G count N/M: X`)
/// cut off.
fn without_errno_tail(log: &str) -> String {
    log.lines()
        .map(|l| match l.find(" count ") {
            Some(i) if l.contains("info: deny ") => match l[i..].find(": ") {
                Some(j) => l[..i + j].to_string(),
                None => l.to_string(),
            },
            _ => l.to_string(),
        })
        .map(|l| l + "\n")
        .collect()
}

row! { [V2_11, V2_15]
/// HUP, QUIT and ABRT: the same log lines, the same effect on a running handler, the
/// same exit code.
fn signal_lines() {
    if !have("s6-ipcserver") {
        return;
    }
    let d = Dir::new("dsg");
    for (tag, sig) in [
        ("hup", libc::SIGHUP),
        ("quit", libc::SIGQUIT),
        ("abrt", libc::SIGABRT),
        ("term", libc::SIGTERM),
    ] {
        let mut seen = Vec::new();
        for prog in ["ipcserver", "s6-ipcserver"] {
            let sd = side_dir(&d.path, &format!("sig-{tag}"), prog);
            let mut srv = start_holding(prog, &["-v"], &sd);
            let held = UnixStream::connect(sd.join("s")).unwrap();
            held.set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            assert!(eventually(20, || children_of(srv.id() as i32).len() == 1));
            let handler = children_of(srv.id() as i32)[0];
            unsafe_kill(srv.id() as i32, sig);
            let code = if sig == libc::SIGHUP {
                // The handler is killed, the server serves on.
                assert!(eventually(20, || log_of(&sd, &d.path)
                    .matches("end pid")
                    .count()
                    == 1));
                unsafe_kill(srv.id() as i32, libc::SIGTERM);
                wait_deadline(&mut srv, 20).unwrap().code()
            } else {
                wait_deadline(&mut srv, 20).unwrap().code()
            };
            // The handler's fate: gone (TERM or KILL) or still there (TERM to server).
            let alive = eventually(2, || proc_state(handler).is_none_or(|s| s == 'Z'));
            if sig == libc::SIGTERM {
                unsafe_kill(handler, libc::SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(50));
            // After QUIT or ABRT, whether the handler's end is logged before the exit
            // is a race in both servers: keep only what is certain.
            let mut log = String::new();
            let mut quitting = false;
            for l in log_of(&sd, &d.path).lines() {
                if l.contains("received SIGQUIT") || l.contains("received SIGABRT") {
                    quitting = true;
                } else if quitting && (l.contains("end pid") || l.contains("status:")) {
                    continue;
                }
                log.push_str(l);
                log.push('\n');
            }
            if prog == "ipcserver" {
                let mut ok = Report::default();
                log = documented_log(&log, true, &mut ok, tag);
                ok.finish("allow lines");
            }
            seen.push((code, log, alive));
        }
        assert_eq!(seen[0], seen[1], "{tag}");
    }
}
}

/// The row for our two additions, `IPCREMOTEGIDLIST` and `IPCREMOTEPID` (ipcserver(1)
/// COMPATIBILITY): both servers inherit them set to `inherited`; s6 passes them on
/// untouched, ours replaces them with the client's (root's groups and this test's pid)
/// or, with `-P`, removes them. The rest of the handler's view is the same.
#[test]
fn identity_variables_row() {
    if !have("s6-ipcserver") || !have("perl") {
        return;
    }
    assert_documented("ipcserver", "IPCREMOTEGIDLIST");
    let d = Dir::new("dsid");
    let inherited = [
        ("IPCREMOTEGIDLIST", "inherited"),
        ("IPCREMOTEPID", "inherited"),
    ];
    let (gids, pid) = crate::identity::our_gidlist_and_pid();
    for (tag, opts) in [("p", &[][..]), ("P", &["-P"][..])] {
        let mut views = Vec::new();
        for (side, prog) in [("ours", "ipcserver"), ("peer", "s6-ipcserver")] {
            let sd = side_dir(&d.path, &format!("id-{tag}"), side);
            let mut argv = vec![prog.to_string()];
            argv.extend(opts.iter().map(|s| s.to_string()));
            argv.push("s".into());
            argv.extend(probe(&d.path));
            let got = serve_once(&argv, &inherited, &[], &sd, &sd.join("s"), PROGS, &d.path);
            views.push(got.handler);
        }
        let pick = |h: &str| -> Vec<String> {
            h.lines()
                .filter(|l| {
                    l.starts_with("env IPCREMOTEGIDLIST=") || l.starts_with("env IPCREMOTEPID=")
                })
                .map(str::to_string)
                .collect()
        };
        assert_eq!(
            pick(&views[1]),
            [
                "env IPCREMOTEGIDLIST=inherited",
                "env IPCREMOTEPID=inherited"
            ],
            "s6 passes them on ({tag})"
        );
        let ours_want: Vec<String> = if opts.is_empty() {
            vec![format!("env {gids}"), format!("env {pid}")]
        } else {
            Vec::new()
        };
        let mut ours = pick(&views[0]);
        ours.sort();
        assert_eq!(ours, ours_want, "ours ({tag})");
        let rest = |h: &str| -> String {
            h.lines()
                .filter(|l| {
                    !l.starts_with("env IPCREMOTEGIDLIST=")
                        && !l.starts_with("env IPCREMOTEPID=")
                        && !l.starts_with("env IPCLOCALPATH=")
                        && !l.starts_with("Sig")
                })
                .map(|l| format!("{l}\n"))
                .collect()
        };
        assert_eq!(rest(&views[0]), rest(&views[1]), "the rest ({tag})");
    }
}

row! { [V2_11, V2_15]
/// The handler's ignored signals, the server's caller ignoring INT and QUIT: ours
/// clears every ignore (perl then ignores SIGFPE itself: 0x80); s6 2.11 passes the
/// caller's on (what the probe shows run directly by the same caller), and 2.15,
/// spawning with posix_spawn, also leaves glibc's signals 32 and 33 ignored.
/// ipcserver(1) and ipcserverd(1) COMPATIBILITY.
fn handler_ignored_signals_per_version() {
    if !have("s6-ipcserver") || !have("s6-ipcserver-socketbinder") || !have("perl") {
        return;
    }
    assert_documented("ipcserver", "leaves glibc's signals 32 and 33 ignored");
    assert_documented("ipcserverd", "leaves glibc's signals 32 and 33 ignored");
    let d = Dir::new("dsigign");
    let caller = Caller {
        ignore: &["INT", "QUIT"],
        block: &[],
    };
    let sig_ign = |report: &str| {
        report
            .lines()
            .find_map(|l| l.strip_prefix("SigIgn:\t"))
            .and_then(|v| u64::from_str_radix(v, 16).ok())
    };
    let direct = caller.probe_directly(&d.path);
    let direct = sig_ign(&String::from_utf8_lossy(&direct.stdout)).unwrap();
    assert_eq!(direct & 0x86, 0x86, "{direct:x}");
    assert_eq!(direct & 0x1_8000_0000, 0, "the caller resets 32 and 33: {direct:x}");
    let s6_want = if peer_is(S6::V2_15) {
        direct | 0x1_8000_0000
    } else {
        direct
    };
    for (ours, peer) in [("ipcserver", "s6-ipcserver"), ("ipcserverd", "s6-ipcserverd")] {
        for (prog, want) in [(ours, 0x80), (peer, s6_want)] {
            let sd = side_dir(&d.path, "sigign", prog);
            let mut argv: Vec<String> = if prog.ends_with('d') {
                vec![
                    "s6-ipcserver-socketbinder".into(),
                    "s".into(),
                    resolve(prog).to_string_lossy().into_owned(),
                ]
            } else {
                vec![prog.into(), "s".into()]
            };
            argv.extend(probe(&d.path));
            let side = serve_once(&caller.wrap(&argv), &[], &[], &sd, &sd.join("s"), &[], &d.path);
            assert_eq!(sig_ign(&side.handler), Some(want), "{prog}: {}", side.handler);
        }
    }
}
}

row! { [V2_11, V2_15]
/// `-1` with a closed stdout: both refuse (100, s6-ipcserverd's message); ours removes
/// its socket, s6's leaves the socket and `PATH.lock` behind (ipcserver(1)
/// COMPATIBILITY).
fn readiness_on_closed_stdout_leaves_nothing_behind() {
    if !have("s6-ipcserver") {
        return;
    }
    assert_documented("ipcserver", "leaves the socket and its path.lock behind");
    let d = Dir::new("dsclosed");
    let mut seen = Vec::new();
    for prog in ["ipcserver", "s6-ipcserver"] {
        let sd = side_dir(&d.path, "closed", prog);
        let argv = [
            "sh".to_string(),
            "-c".into(),
            "exec \"$@\" >&-".into(),
            "sh".into(),
            resolve(prog).to_string_lossy().into_owned(),
            "-1".into(),
            "s".into(),
            "true".into(),
        ];
        let out = exec_case(&argv, &[], &[], Stdin::Null, &sd);
        seen.push(Got::of(&out, &["ipcserver", "s6-ipcserverd"], &d.path));
        let mut left: Vec<String> = std::fs::read_dir(&sd)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let want: &[&str] = if prog == "ipcserver" { &[] } else { &["s", "s.lock"] };
        assert_eq!(left, want, "{prog}");
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0].code, Some(100));
    assert_eq!(
        seen[0].stderr,
        "PROG: fatal: called with option -1 but stdout said: Bad file descriptor\n"
    );
}
}

row! { [V2_11, V2_15]
/// The open-file limit each needs to start: s6-ipcserver serves with 4, ours with 7
/// (it holds the directory, the lock and the socket at once, and checks the socket by
/// name); below, ours exits 111 naming the step (ipcserver(1) COMPATIBILITY).
fn open_file_limit_to_start() {
    if !have("s6-ipcserver") || !have("prlimit") {
        return;
    }
    assert_documented("ipcserver", "needs an open-file limit of 7 to start");
    let d = Dir::new("dsnofile");
    let start = |prog: &str, n: u32| {
        let s = d.join(format!("{prog}-{n}"));
        let mut c = Command::new("prlimit");
        c.arg(format!("--nofile={n}"))
            .arg(resolve(prog))
            .arg("-1")
            .arg(&s)
            .arg("true");
        c
    };
    let _s6 = Server::start(start("s6-ipcserver", 4));
    let _ours = Server::start(start("ipcserver", 7));
    for (n, step) in [
        (4, "open directory"),
        (5, "create socket"),
        (6, "open /"),
    ] {
        let out = run_timeout(start("ipcserver", n), 10);
        out.assert_code(111);
        let err = out.err();
        assert!(
            err.starts_with(&format!("ipcserver: fatal: unable to {step}"))
                && err.ends_with(": Too many open files\n"),
            "{n}: {err}"
        );
    }
}
}

row! { [V2_11, V2_15]
/// A server started with stderr closed: its handlers find fd 2 closed, as s6's do (the
/// Rust runtime's /dev/null there is close-on-exec), with ipcserver and with ipcserverd.
fn closed_stderr_reaches_the_handler_closed() {
    if !have("s6-ipcserver") || !have("s6-ipcserver-socketbinder") || !have("perl") {
        return;
    }
    let d = Dir::new("dsclosed2");
    let fds = |h: &str| -> Vec<String> {
        h.lines()
            .filter(|l| l.starts_with("fd "))
            .map(str::to_string)
            .collect()
    };
    for (ours, peer) in [("ipcserver", "s6-ipcserver"), ("ipcserverd", "s6-ipcserverd")] {
        let mut seen = Vec::new();
        for prog in [ours, peer] {
            let sd = side_dir(&d.path, "closed2", prog);
            let mut argv: Vec<String> = vec!["sh".into(), "-c".into(), "exec \"$@\" 2>&-".into(), "sh".into()];
            if prog.ends_with('d') {
                argv.push(resolve("s6-ipcserver-socketbinder").to_string_lossy().into_owned());
                argv.push("s".into());
            }
            argv.push(resolve(prog).to_string_lossy().into_owned());
            if !prog.ends_with('d') {
                argv.push("s".into());
            }
            argv.extend(probe(&d.path));
            let side = serve_once(&argv, &[], &[], &sd, &sd.join("s"), &[], &d.path);
            seen.push(fds(&side.handler));
        }
        assert!(!seen[0].is_empty(), "{ours}: no handler report");
        // fd 2 was free when perl started: its script landed there.
        assert!(seen[0].iter().any(|l| l == "fd 2 probe.pl"), "{ours}: {:?}", seen[0]);
        assert_eq!(seen[0], seen[1], "{ours}");
    }
}
}
