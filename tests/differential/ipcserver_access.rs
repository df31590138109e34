//! ipcserver-access vs s6-ipcserver-access: the UCSPI environment it needs, rules
//! directories and cdb files (made by s6-accessrules-cdb-from-fs, so both read the same
//! bytes), verdicts, log lines, environment edits, exec rules and the caller's signal
//! state.

use super::probe::*;
use crate::util::*;

/// A rules tree: (relative path, contents); a path ending in `/` is a directory.
type Tree = &'static [(&'static str, &'static str)];

#[derive(Clone, Copy)]
enum Rules {
    None,
    Dir(Tree),
    /// The tree compiled by s6-accessrules-cdb-from-fs.
    Cdb(Tree),
    MissingDir,
    MissingCdb,
}

/// What a row asserts (against s6-ipcserver-access; `compat` in ipcserver-access(1)).
use SameOr as Expect;

struct Case {
    name: &'static str,
    opts: &'static [&'static str],
    rules: Rules,
    env: &'static [(&'static str, &'static str)],
    unset: &'static [&'static str],
    socket: bool,
    caller: Caller,
    expect: Expect,
}

const UCSPI: &[(&str, &str)] = &[
    ("PROTO", "IPC"),
    ("IPCREMOTEEUID", "0"),
    ("IPCREMOTEEGID", "0"),
    ("IPCREMOTEPATH", "rp"),
    ("IPCCONNNUM", "1"),
];

const fn case(name: &'static str, opts: &'static [&'static str], rules: Rules) -> Case {
    Case {
        name,
        opts,
        rules,
        env: UCSPI,
        unset: &[],
        socket: true,
        caller: Caller::PLAIN,
        expect: Expect::Same,
    }
}

/// Our deny lines, and allow lines at -v2, end with the rule that decided.
const WHY: &str = "A deny line, and an allow line at";

/// `c`, whose log lines name the deciding rule: `ours` is our stderr.
const fn why(c: Case, ours: &'static str) -> Case {
    Case {
        expect: Expect::Documented {
            compat: WHY,
            ours_stderr: ours,
        },
        ..c
    }
}

const ALLOW0: Tree = &[("uid/0/allow", "")];
const DENY0: Tree = &[("uid/0/deny", "")];
const ENV0: Tree = &[
    ("uid/0/allow", ""),
    ("uid/0/env/FOO", "bar\n"),
    ("uid/0/env/FOOEMPTY", ""),
    ("uid/0/env/FOOSP", "a b \t\r\nsecond line\n"),
    ("uid/0/env/FOONUL", "x\0y"),
    ("uid/0/env/.FOOHIDDEN", "no"),
    ("uid/0/env/IPCREMOTEPATH", "from-rule"),
    ("uid/0/env/IPCLOCALPATH", "from-rule"),
    ("uid/0/env/PROTO", "RULE"),
];
const EXEC0: Tree = &[("uid/0/allow", ""), ("uid/0/exec", "echo from exec rule")];
const EXECNUL: Tree = &[
    ("uid/0/allow", ""),
    ("uid/0/exec", "echo before-nul\0echo after-nul"),
];
const ORDER: Tree = &[
    ("uid/0/deny", ""),
    ("gid/0/allow", ""),
    ("uid/default/allow", ""),
];
const SELF: Tree = &[("uid/self/allow", ""), ("uid/0/deny", "")];
const GIDSELF: Tree = &[("gid/self/allow", ""), ("gid/0/deny", "")];
const GID0: Tree = &[("gid/0/allow", ""), ("gid/0/env/FOO", "gid\n")];
const DEFAULT: Tree = &[("uid/default/allow", ""), ("uid/default/env/FOO", "dflt\n")];
const DEFAULT_DENY: Tree = &[("uid/default/deny", ""), ("uid/5/allow", "")];
const BOTH: Tree = &[("uid/0/allow", ""), ("uid/0/deny", "")];
const EMPTYDIR: Tree = &[("uid/0/", "")];
const OTHER: Tree = &[("uid/5/allow", ""), ("gid/5/allow", "")];

const CASES: &[Case] = &[
    case("none", &[], Rules::None),
    case("none-v2", &["-v", "2"], Rules::None),
    case("none-v0", &["-v", "0"], Rules::None),
    case("allow", &["-i", "r"], Rules::Dir(ALLOW0)),
    case("allow-v0", &["-v", "0", "-i", "r"], Rules::Dir(ALLOW0)),
    why(
        case("allow-v2", &["-v", "2", "-i", "r"], Rules::Dir(ALLOW0)),
        "PROG: info: allow pid P uid 0 gid 0 (rule r/uid/0/allow)\n",
    ),
    case("deny", &["-i", "r"], Rules::Dir(DENY0)),
    why(
        case("deny-v2", &["-v", "2", "-i", "r"], Rules::Dir(DENY0)),
        "PROG: info: deny pid P uid 0 gid 0: Permission denied (rule r/uid/0/deny)\n",
    ),
    case("deny-v0", &["-v", "0", "-i", "r"], Rules::Dir(DENY0)),
    why(
        case("norule-v2", &["-v", "2", "-i", "r"], Rules::Dir(OTHER)),
        "PROG: info: deny pid P uid 0 gid 0: No such file or directory (no rule in r)\n",
    ),
    case("norule", &["-i", "r"], Rules::Dir(OTHER)),
    why(
        case("emptydir-v2", &["-v", "2", "-i", "r"], Rules::Dir(EMPTYDIR)),
        "PROG: info: deny pid P uid 0 gid 0: No such file or directory (no rule in r)\n",
    ),
    case("both-allow-wins", &["-i", "r"], Rules::Dir(BOTH)),
    why(
        case(
            "order-uid-first-v2",
            &["-v", "2", "-i", "r"],
            Rules::Dir(ORDER),
        ),
        "PROG: info: deny pid P uid 0 gid 0: Permission denied (rule r/uid/0/deny)\n",
    ),
    case("self", &["-i", "r"], Rules::Dir(SELF)),
    case("gid-self", &["-i", "r"], Rules::Dir(GIDSELF)),
    case("gid", &["-i", "r"], Rules::Dir(GID0)),
    case("default", &["-i", "r"], Rules::Dir(DEFAULT)),
    why(
        case(
            "default-deny-v2",
            &["-v", "2", "-i", "r"],
            Rules::Dir(DEFAULT_DENY),
        ),
        "PROG: info: deny pid P uid 0 gid 0: Permission denied (rule r/uid/default/deny)\n",
    ),
    case("env", &["-i", "r"], Rules::Dir(ENV0)),
    case("env-E", &["-E", "-i", "r"], Rules::Dir(ENV0)),
    case("env-l", &["-l", "given", "-i", "r"], Rules::Dir(ENV0)),
    case("env-eE-e", &["-E", "-e", "-i", "r"], Rules::Dir(ENV0)),
    case("exec", &["-i", "r"], Rules::Dir(EXEC0)),
    why(
        case("exec-v2", &["-v", "2", "-i", "r"], Rules::Dir(EXEC0)),
        "PROG: info: allow pid P uid 0 gid 0 (rule r/uid/0/allow)\n",
    ),
    case("exec-nul", &["-i", "r"], Rules::Dir(EXECNUL)),
    why(
        case("missing-dir-v2", &["-v", "2", "-i", "r"], Rules::MissingDir),
        "PROG: warning: rules directory r does not exist: every client is denied\nPROG: info: deny pid P uid 0 gid 0: No such file or directory (no rule in r)\n",
    ),
    Case {
        expect: Expect::Documented {
            compat: "A rules directory that does not exist",
            ours_stderr: "PROG: warning: rules directory r does not exist: every client is denied\n",
        },
        ..case("missing-dir", &["-i", "r"], Rules::MissingDir)
    },
    case("cdb-allow", &["-x", "r.cdb"], Rules::Cdb(ALLOW0)),
    why(
        case(
            "cdb-deny-v2",
            &["-v", "2", "-x", "r.cdb"],
            Rules::Cdb(DENY0),
        ),
        "PROG: info: deny pid P uid 0 gid 0: Permission denied (rule uid/0 in r.cdb)\n",
    ),
    why(
        case(
            "cdb-norule-v2",
            &["-v", "2", "-x", "r.cdb"],
            Rules::Cdb(OTHER),
        ),
        "PROG: info: deny pid P uid 0 gid 0: No such file or directory (no rule in r.cdb)\n",
    ),
    why(
        case(
            "cdb-order-v2",
            &["-v", "2", "-x", "r.cdb"],
            Rules::Cdb(ORDER),
        ),
        "PROG: info: deny pid P uid 0 gid 0: Permission denied (rule uid/0 in r.cdb)\n",
    ),
    case("cdb-self", &["-x", "r.cdb"], Rules::Cdb(SELF)),
    case("cdb-gid", &["-x", "r.cdb"], Rules::Cdb(GID0)),
    case("cdb-default", &["-x", "r.cdb"], Rules::Cdb(DEFAULT)),
    case("cdb-env", &["-x", "r.cdb"], Rules::Cdb(ENV0)),
    case("cdb-env-E", &["-E", "-x", "r.cdb"], Rules::Cdb(ENV0)),
    case("cdb-exec", &["-x", "r.cdb"], Rules::Cdb(EXEC0)),
    case("cdb-exec-nul", &["-x", "r.cdb"], Rules::Cdb(EXECNUL)),
    case(
        "i-then-x",
        &["-i", "nowhere", "-x", "r.cdb"],
        Rules::Cdb(ALLOW0),
    ),
    case(
        "x-then-i",
        &["-x", "nowhere", "-i", "r"],
        Rules::Dir(ALLOW0),
    ),
    Case {
        expect: Expect::Documented {
            compat: "Messages name the failed operation",
            ours_stderr: "PROG: fatal: unable to open cdb ruleset r.cdb: No such file or directory\n",
        },
        ..case("cdb-missing", &["-x", "r.cdb"], Rules::MissingCdb)
    },
    Case {
        env: &[],
        unset: &["PROTO"],
        ..case("no-proto", &[], Rules::None)
    },
    Case {
        env: &[("PROTO", "IPC"), ("IPCREMOTEEGID", "0")],
        unset: &["IPCREMOTEEUID"],
        ..case("no-euid", &[], Rules::None)
    },
    Case {
        env: &[("PROTO", "IPC"), ("IPCREMOTEEUID", "0")],
        unset: &["IPCREMOTEEGID"],
        ..case("no-egid", &[], Rules::None)
    },
    Case {
        env: &[
            ("PROTO", "IPC"),
            ("IPCREMOTEEUID", "x"),
            ("IPCREMOTEEGID", "0"),
        ],
        ..case("bad-euid", &[], Rules::None)
    },
    Case {
        env: &[
            ("PROTO", "IPC"),
            ("IPCREMOTEEUID", "0"),
            ("IPCREMOTEEGID", "-1"),
        ],
        ..case("bad-egid", &[], Rules::None)
    },
    Case {
        env: &[
            ("PROTO", "IPC"),
            ("IPCREMOTEEUID", ""),
            ("IPCREMOTEEGID", "0"),
        ],
        ..case("empty-euid", &[], Rules::None)
    },
    Case {
        env: &[
            ("PROTO", "TCP"),
            ("TCPREMOTEEUID", "0"),
            ("TCPREMOTEEGID", "0"),
        ],
        ..case("proto-tcp", &["-i", "r"], Rules::Dir(ENV0))
    },
    Case {
        env: &[
            ("PROTO", "TCP"),
            ("TCPREMOTEEUID", "0"),
            ("TCPREMOTEEGID", "0"),
        ],
        ..case("proto-tcp-E", &["-E"], Rules::None)
    },
    Case {
        env: &[("PROTO", ""), ("REMOTEEUID", "0"), ("REMOTEEGID", "0")],
        ..case("proto-empty", &[], Rules::None)
    },
    Case {
        env: &[
            ("PROTO", "IPC"),
            ("IPCREMOTEEUID", "7"),
            ("IPCREMOTEEGID", "8"),
        ],
        expect: Expect::Documented {
            compat: WHY,
            ours_stderr: "PROG: info: deny pid P uid 7 gid 8: No such file or directory (no rule in r)\n",
        },
        ..case("other-uid-v2", &["-v", "2", "-i", "r"], Rules::Dir(ALLOW0))
    },
    Case {
        env: &[
            ("PROTO", "IPC"),
            ("IPCREMOTEEUID", "5"),
            ("IPCREMOTEEGID", "8"),
        ],
        ..case("uid5", &["-i", "r"], Rules::Dir(OTHER))
    },
    Case {
        socket: false,
        expect: Expect::Documented {
            compat: "Messages name the failed operation",
            ours_stderr: "PROG: info: allow pid P uid 0 gid 0\nPROG: fatal: unable to get the local address of stdin: Socket operation on non-socket\n",
        },
        ..case("not-a-socket", &["-i", "r"], Rules::Dir(ALLOW0))
    },
    Case {
        socket: false,
        ..case(
            "not-a-socket-l",
            &["-l", "x", "-i", "r"],
            Rules::Dir(ALLOW0),
        )
    },
    Case {
        socket: false,
        ..case("not-a-socket-E", &["-E", "-i", "r"], Rules::Dir(ALLOW0))
    },
    Case {
        caller: Caller::HOSTILE,
        ..case("caller-hostile", &["-i", "r"], Rules::Dir(ALLOW0))
    },
    Case {
        caller: Caller {
            ignore: &["PIPE"],
            block: &[],
        },
        ..case(
            "caller-pipe-ignored-cdb",
            &["-x", "r.cdb"],
            Rules::Cdb(ALLOW0),
        )
    },
];

/// Our stderr without the `-v 2` addition to allow and deny lines (` client pid N
/// groups G,…`, ipcserver-access(1) COMPATIBILITY), checked: there on every such line
/// at `-v 2` when fd 0 is the client's socket (`named`), absent otherwise.
fn documented_stderr(log: &str, named: bool, r: &mut Report, case: &str) -> String {
    let mut rest = String::new();
    for l in log.lines() {
        let verdict_line = l.contains("info: allow pid ") || l.contains("info: deny pid ");
        match l.find(" client pid ") {
            Some(i) if verdict_line => {
                // Up to the errno text (deny) or our deciding rule, whichever comes first.
                let end = [": ", " (rule ", " (no rule "]
                    .iter()
                    .filter_map(|m| l[i..].find(m))
                    .min()
                    .map_or(l.len(), |j| i + j);
                rest.push_str(&l[..i]);
                rest.push_str(&l[end..]);
                r.check(case, "our verdict line names the client", &true, &named);
            }
            _ => {
                if verdict_line {
                    r.check(case, "our verdict line names the client", &false, &named);
                }
                rest.push_str(l);
            }
        }
        rest.push('\n');
    }
    rest
}

row! { [V2_11, V2_15]
fn access_table() {
    if !have("s6-ipcserver-access") || !have("s6-accessrules-cdb-from-fs") || !have("perl") {
        return;
    }
    let d = Dir::new("dac");
    let mut r = Report::default();
    for k in CASES {
        let mut got = Vec::new();
        for (side, prog) in [
            ("ours", "ipcserver-access"),
            ("peer", "s6-ipcserver-access"),
        ] {
            let sd = side_dir(&d.path, k.name, side);
            match k.rules {
                Rules::Dir(t) => write_tree(&sd.join("r"), t),
                Rules::Cdb(t) => {
                    write_tree(&sd.join("src"), t);
                    let out = exec_case(
                        &[
                            "s6-accessrules-cdb-from-fs".into(),
                            "r.cdb".into(),
                            "src".into(),
                        ],
                        &[],
                        &[],
                        Stdin::Null,
                        &sd,
                    );
                    assert!(out.status.success(), "{}", k.name);
                }
                Rules::None | Rules::MissingDir | Rules::MissingCdb => {}
            }
            let mut argv = vec![prog.to_string()];
            argv.extend(k.opts.iter().map(|s| s.to_string()));
            argv.extend(probe(&d.path));
            let argv = k.caller.wrap(&argv);
            let stdin = if k.socket { Stdin::Socket } else { Stdin::Null };
            let out = exec_case(&argv, k.env, k.unset, stdin, &sd);
            got.push(Got::of(
                &out,
                &["ipcserver-access", "s6-ipcserver-access"],
                &d.path,
            ));
        }
        let (ours, peer) = (&got[0], &got[1]);
        r.check_code_and_stdout(k.name, ours, peer);
        let v2 = k.opts.windows(2).any(|w| w == ["-v", "2"]);
        // The socket's peer is this (root) process: it speaks for a 0:0 client.
        let root = ["IPCREMOTEEUID", "IPCREMOTEEGID"]
            .iter()
            .all(|n| k.env.contains(&(*n, "0")));
        let our_stderr = documented_stderr(&ours.stderr, k.socket && v2 && root, &mut r, k.name);
        match k.expect {
            Expect::Same => r.check(k.name, "stderr", &our_stderr, &peer.stderr),
            Expect::Documented {
                compat,
                ours_stderr,
            } => {
                r.check_documented(k.name, "ipcserver-access", compat);
                r.check(k.name, "our stderr", &our_stderr.as_str(), &ours_stderr);
            }
        }
    }
    r.finish("ipcserver-access");
}
}

/// Real clients with supplementary groups, behind ipcserver: a rules set without
/// `group/` decides exactly as s6-ipcserver-access (`gid/` is the egid only); with
/// `group/` rules, ours admits the members s6 cannot see (the documented addition).
#[test]
fn supplementary_groups_against_s6() {
    if !have("s6-ipcserver-access") || !have("socat") {
        return;
    }
    assert_documented("ipcserver-access", "group/");
    let d = Dir::new("dsupp");
    type Rules = &'static [(&'static str, &'static str)];
    let sets: &[(&str, Rules, bool)] = &[
        (
            "gid-supp",
            &[("gid/4244/allow", ""), ("uid/default/deny", "")],
            true,
        ),
        (
            "gid-egid",
            &[("gid/1500/allow", ""), ("uid/4244/deny", "")],
            true,
        ),
        (
            "gid-deny",
            &[("gid/4243/deny", ""), ("uid/default/allow", "")],
            true,
        ),
        (
            "uid-first",
            &[("uid/1500/deny", ""), ("gid/1500/allow", "")],
            true,
        ),
        (
            "group",
            &[("group/4244/allow", ""), ("uid/default/deny", "")],
            false,
        ),
    ];
    let clients: &[(u32, &[u32])] = &[
        (1500, &[4243, 4244]),
        (1500, &[4244]),
        (1500, &[]),
        (4244, &[4243]),
    ];
    for (name, tree, same) in sets {
        let rules = d.join(name);
        write_tree(&rules, tree);
        let mut verdicts = Vec::new();
        for prog in ["ipcserver-access", "s6-ipcserver-access"] {
            let sock = d.join(format!("{name}-{prog}.s"));
            let mut c = std::process::Command::new(bin("ipcserver"));
            c.arg("-1")
                .arg(&sock)
                .arg(resolve(prog))
                .arg("-i")
                .arg(&rules)
                .args(["sh", "-c", "echo ok"]);
            let srv = Server::start(c);
            let mut got = Vec::new();
            for (id, groups) in clients {
                let list: Vec<String> = groups.iter().map(u32::to_string).collect();
                let mut argv = vec![
                    "setpriv".to_string(),
                    "--reuid".into(),
                    id.to_string(),
                    "--regid".into(),
                    id.to_string(),
                ];
                if list.is_empty() {
                    argv.push("--clear-groups".into());
                } else {
                    argv.extend(["--groups".into(), list.join(",")]);
                }
                argv.extend([
                    "socat".into(),
                    "-".into(),
                    format!("UNIX-CONNECT:{}", sock.display()),
                ]);
                got.push(run_timeout(cmd(&argv), 20).out());
            }
            drop(srv);
            verdicts.push(got);
        }
        if *same {
            assert_eq!(verdicts[0], verdicts[1], "{name}");
        } else {
            // s6 does not know group/: every client falls through to the default deny.
            assert_eq!(verdicts[1], ["", "", "", ""], "{name}");
            assert_eq!(verdicts[0], ["ok\n", "ok\n", "", "ok\n"], "{name}");
        }
    }
}
