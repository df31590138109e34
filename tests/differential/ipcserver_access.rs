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

#[derive(Clone, Copy)]
enum Expect {
    Same,
    /// Same exit code and stdout; our stderr as given; `compat` in ipcserver-access(1).
    Documented {
        compat: &'static str,
        ours_stderr: &'static str,
    },
}

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

#[test]
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
        r.check(k.name, "exit code", &ours.code, &peer.code);
        r.check(k.name, "stdout (prog's view)", &ours.stdout, &peer.stdout);
        match k.expect {
            Expect::Same => r.check(k.name, "stderr", &ours.stderr, &peer.stderr),
            Expect::Documented {
                compat,
                ours_stderr,
            } => {
                r.check(
                    k.name,
                    "documented",
                    &documented("ipcserver-access", compat),
                    &true,
                );
                r.check(k.name, "our stderr", &ours.stderr.as_str(), &ours_stderr);
            }
        }
    }
    r.finish("ipcserver-access");
}
