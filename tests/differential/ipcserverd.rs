//! ipcserverd vs s6-ipcserverd: behind s6-ipcserver-socketbinder with every option,
//! and on every kind of stdin that is not a listening socket.

use super::ipcserver::{
    Handler, as_s6_2_11_maxconn, check_code_and_log, handler_argv, ours_and_peer, serve_once,
    without_identity_vars,
};
use super::probe::*;
use crate::util::*;
use rustix::net::SocketType;

struct Case {
    name: &'static str,
    opts: &'static [&'static str],
    handler: Handler,
    env: &'static [(&'static str, &'static str)],
    caller: Caller,
}

const fn case(name: &'static str, opts: &'static [&'static str]) -> Case {
    Case {
        name,
        opts,
        handler: Handler::Probe,
        env: &[],
        caller: Caller::PLAIN,
    }
}

const CASES: &[Case] = &[
    case("plain", &[]),
    case("v0", &["-v", "0"]),
    case("v1", &["-v", "1"]),
    case("v2", &["-v", "2"]),
    case("v3", &["-v", "3"]),
    case("v2-v0", &["-v", "2", "-v", "0"]),
    case("1", &["-1"]),
    case("1-v2", &["-1", "-v", "2"]),
    case("P-v2", &["-P", "-v", "2"]),
    case("Pp-v2", &["-P", "-p", "-v", "2"]),
    case("c1-v2", &["-c", "1", "-v", "2"]),
    case("c0-v2", &["-c", "0", "-v", "2"]),
    case("c3000-v2", &["-c", "3000", "-v", "2"]),
    case("c16385-v2", &["-c", "16385", "-v", "2"]),
    case("C1-v2", &["-C", "1", "-v", "2"]),
    case("C50-v2", &["-C", "50", "-v", "2"]),
    case("c3-C9-v2", &["-c", "3", "-C", "9", "-v", "2"]),
    case("P-C1-v2", &["-P", "-C", "1", "-v", "2"]),
    case("dashdash", &["--"]),
    Case {
        handler: Handler::Missing,
        ..case("handler-missing-v2", &["-v", "2"])
    },
    Case {
        handler: Handler::Missing,
        ..case("handler-missing-v0", &["-v", "0"])
    },
    Case {
        handler: Handler::NotExecutable,
        ..case("handler-not-exec", &[])
    },
    Case {
        env: &[("PROTO", "X"), ("IPCLOCALPATH", "kept"), ("FOO", "kept")],
        ..case("env", &[])
    },
    Case {
        env: &[("IPCREMOTEEUID", "x")],
        ..case("env-P", &["-P"])
    },
    Case {
        caller: Caller {
            ignore: &["PIPE", "INT"],
            block: &["USR1", "CHLD", "TERM"],
        },
        ..case("caller-blocks-chld-term-v2", &["-v", "2"])
    },
];

const PROGS: &[&str] = &[
    "ipcserverd",
    "s6-ipcserverd",
    "s6-ipcserver (child)",
    "s6-ipcserver-socketbinder",
];

row! { [V2_11, V2_15]
fn ipcserverd_table() {
    if !have("s6-ipcserverd") || !have("s6-ipcserver-socketbinder") || !have("perl") {
        return;
    }
    assert_documented("ipcserverd", "client pid CPID groups G,...");
    let d = Dir::new("dsd");
    let mut r = Report::default();
    for k in CASES {
        let progs = ["ipcserverd", "s6-ipcserverd"];
        let mut sides = ours_and_peer(&d.path, k.name, progs, |prog, sd| {
            let mut argv = vec![
                "s6-ipcserver-socketbinder".to_string(),
                "s".into(),
                resolve(prog).to_string_lossy().into_owned(),
            ];
            argv.extend(k.opts.iter().map(|s| s.to_string()));
            argv.extend(handler_argv(k.handler, &d.path));
            let argv = k.caller.wrap(&argv);
            serve_once(&argv, k.env, &[], sd, &sd.join("s"), PROGS, &d.path)
        });
        as_s6_2_11_maxconn(k.opts, &mut sides[0]);
        let (ours, peer) = (&sides[0], &sides[1]);
        let pc = check_code_and_log(&mut r, k.name, k.opts, k.handler, ours, peer);
        r.check(k.name, "stdout (-1)", &ours.stdout, &peer.stdout);
        // The handler's signal state is documented apart (ipcserver(1)); the rest of
        // its view (fds, environment, groups) must be s6's.
        let strip = |h: &str| -> String {
            h.lines()
                .filter(|l| !l.starts_with("SigIgn:") && !l.starts_with("SigBlk:"))
                .map(|l| format!("{l}\n"))
                .collect()
        };
        let view = without_identity_vars(&ours.handler, pc, &mut r, k.name);
        r.check(
            k.name,
            "handler's view",
            &strip(&view),
            &connnum_as_2_11(&strip(&peer.handler)),
        );
    }
    r.finish("ipcserverd");
}
}

/// What is on stdin.
enum In {
    Closed,
    DevNull,
    UnboundStream,
    BoundStream,
}

struct StdinCase {
    name: &'static str,
    stdin: fn() -> In,
    opts: &'static [&'static str],
    /// `None`: same message as s6. `Some(words)`: ours says it better, as the named
    /// ipcserverd(1) COMPATIBILITY line explains; the exit code is s6's.
    compat: Option<&'static str>,
}

const STDIN_CASES: &[StdinCase] = &[
    StdinCase {
        name: "closed",
        stdin: || In::Closed,
        opts: &[],
        compat: None,
    },
    StdinCase {
        name: "closed-v0",
        stdin: || In::Closed,
        opts: &["-v", "0"],
        compat: None,
    },
    StdinCase {
        name: "devnull",
        stdin: || In::DevNull,
        opts: &[],
        compat: None,
    },
    StdinCase {
        name: "devnull-1",
        stdin: || In::DevNull,
        opts: &["-1"],
        compat: None,
    },
    StdinCase {
        name: "unbound-stream",
        stdin: || In::UnboundStream,
        opts: &[],
        compat: Some("is not a listening socket"),
    },
    StdinCase {
        name: "bound-stream",
        stdin: || In::BoundStream,
        opts: &["-v", "2"],
        compat: Some("is not a listening socket"),
    },
];

row! { [V2_11, V2_15]
fn ipcserverd_stdin_table() {
    if !have("s6-ipcserverd") {
        return;
    }
    let d = Dir::new("dsi");
    let mut r = Report::default();
    for k in STDIN_CASES {
        let mut got = Vec::new();
        for prog in ["ipcserverd", "s6-ipcserverd"] {
            let stdin = match (k.stdin)() {
                In::Closed => Stdin::Closed,
                In::DevNull => Stdin::Null,
                In::UnboundStream | In::BoundStream => {
                    // CLOEXEC: it reaches the server as its stdin, not through
                    // another test's spawn running in parallel.
                    let s = unix_socket(SocketType::STREAM);
                    if matches!((k.stdin)(), In::BoundStream) {
                        let p = d.join(format!("b-{prog}-{}", k.name));
                        let a = rustix::net::SocketAddrUnix::new(&p).unwrap();
                        rustix::net::bind(&s, &a).unwrap();
                    }
                    Stdin::Fd(s)
                }
            };
            let mut argv = vec![prog.to_string()];
            argv.extend(k.opts.iter().map(|s| s.to_string()));
            argv.push("true".into());
            let out = exec_case(&argv, &[], &[], stdin, &d.path);
            got.push(Got::of(&out, &["ipcserverd", "s6-ipcserverd"], &d.path));
        }
        r.check(k.name, "exit code", &got[0].code, &got[1].code);
        match k.compat {
            None => r.check(k.name, "stderr", &got[0].stderr, &got[1].stderr),
            Some(c) => {
                r.check_documented(k.name, "ipcserverd", c);
                r.check(
                    k.name,
                    "our stderr",
                    &got[0].stderr.as_str(),
                    &"PROG: fatal: stdin is not a listening socket\n",
                );
            }
        }
    }
    r.finish("ipcserverd stdin");
}
}

row! { [V2_11, V2_15]
/// `-1` with stdout closed: a usage error in both.
fn readiness_on_closed_stdout() {
    if !have("s6-ipcserverd") || !have("s6-ipcserver-socketbinder") {
        return;
    }
    let d = Dir::new("dsc");
    let mut got = Vec::new();
    for prog in ["ipcserverd", "s6-ipcserverd"] {
        let sd = side_dir(&d.path, "closed-stdout", prog);
        let script = format!(
            "exec s6-ipcserver-socketbinder s {} -1 true >&-",
            resolve(prog).to_string_lossy()
        );
        let out = exec_case(
            &["sh".into(), "-c".into(), script],
            &[],
            &[],
            Stdin::Null,
            &sd,
        );
        got.push(Got::of(&out, &["ipcserverd", "s6-ipcserverd"], &d.path));
    }
    assert_eq!(got[0], got[1]);
    assert_eq!(got[0].code, Some(100));
}
}

row! { [V2_11, V2_15]
/// `-C 0`: ours means 1 (as s6-ipcserver bumps it); a direct s6-ipcserverd -C0 denies
/// every client.
fn localmaxconn_zero() {
    if !have("s6-ipcserverd") || !have("s6-ipcserver-socketbinder") {
        return;
    }
    // Equal: `-C 0` denies every client in both (ipcserverd(1) OPTIONS says so).
    let d = Dir::new("dsz");
    let mut sides = Vec::new();
    for prog in ["ipcserverd", "s6-ipcserverd"] {
        let sd = side_dir(&d.path, "C0", prog);
        let argv = vec![
            "s6-ipcserver-socketbinder".to_string(),
            "s".into(),
            resolve(prog).to_string_lossy().into_owned(),
            "-C".into(),
            "0".into(),
            "sh".into(),
            "-c".into(),
            "echo served".into(),
        ];
        sides.push(serve_once(
            &argv,
            &[],
            &[],
            &sd,
            &sd.join("s"),
            PROGS,
            &d.path,
        ));
    }
    assert_eq!(sides[0].handler, "");
    assert_eq!(sides[1].handler, "");
    assert_eq!(sides[0].code, sides[1].code);
}
}
