//! ipcrules-cdb vs s6-accessrules-cdb-from-fs: the same rules directory compiled by
//! both, the cdb files compared byte for byte, exit codes and messages compared.

use super::probe::*;
use crate::util::*;

/// A rules tree: (relative path, contents); a path ending in `/` is a directory.
type Tree = &'static [(&'static str, &'static [u8])];

#[derive(Clone, Copy)]
enum Expect {
    Same,
    /// The same exit code and cdb bytes; ours warns (this stderr), s6 says nothing;
    /// `compat` in ipcrules-cdb(1).
    Warns {
        compat: &'static str,
        stderr: &'static str,
    },
    /// Ours: this exit code and stderr, no cdb; `compat` in ipcrules-cdb(1).
    Documented {
        compat: &'static str,
        code: i32,
        stderr: &'static str,
    },
}

struct Case {
    name: &'static str,
    tree: Tree,
    /// Extra arguments before `cdbfile dir`.
    opts: &'static [&'static str],
    /// The rules directory argument (`r` is the tree).
    dir: &'static str,
    /// The cdb file argument.
    cdb: &'static str,
    expect: Expect,
}

/// A tree that compiles as s6 compiles it, with our warnings `stderr`.
const fn warns(c: Case, stderr: &'static str) -> Case {
    Case {
        expect: Expect::Warns {
            compat: "warns about every entry",
            stderr,
        },
        ..c
    }
}

const fn case(name: &'static str, tree: Tree) -> Case {
    Case {
        name,
        tree,
        opts: &[],
        dir: "r",
        cdb: "o.cdb",
        expect: Expect::Same,
    }
}

const X4095: &[u8] = &[b'x'; 4095];
const X4096: &[u8] = &[b'x'; 4096];
const X4097: &[u8] = &[b'x'; 4097];
const X2000: &[u8] = &[b'y'; 2000];

const CASES: &[Case] = &[
    case("empty", &[("uid/", b"")]),
    case("no-subdirs", &[(".keep", b"")]),
    case("allow", &[("uid/0/allow", b"")]),
    case("deny", &[("uid/0/deny", b"")]),
    warns(
        case(
            "allow-and-deny",
            &[("uid/0/allow", b""), ("uid/0/deny", b"")],
        ),
        "PROG: warning: r/uid/0: both allow and deny: allow wins\n",
    ),
    warns(
        case("neither", &[("uid/0/other", b"")]),
        "PROG: warning: r/uid/0/other: not one of allow, deny, env, exec: ignored\nPROG: warning: r/uid/0: neither allow nor deny: holds no rule\n",
    ),
    warns(
        case("misspelt", &[("gid/50/alow", b""), ("uid/0/allow", b"")]),
        "PROG: warning: r/gid/50/alow: not one of allow, deny, env, exec: ignored\nPROG: warning: r/gid/50: neither allow nor deny: holds no rule\n",
    ),
    warns(
        case(
            "bad-keys",
            &[
                ("uid/bob/allow", b""),
                ("gid/default/allow", b""),
                ("uids/0/allow", b""),
                ("uid/0/allow", b""),
                ("uid/0/env/A=B", b"x"),
            ],
        ),
        "PROG: warning: r/gid/default: not a number or self: no client is looked up there\nPROG: warning: r/uid/0/env/A=B: a variable name cannot contain =: ignored\nPROG: warning: r/uid/bob: not a number or default or self: no client is looked up there\nPROG: warning: r/uids: not uid or gid or group or cgroup or exe: no client is looked up there\n",
    ),
    warns(
        case("empty-entry", &[("uid/0/", b"")]),
        "PROG: warning: r/uid/0: neither allow nor deny: holds no rule\n",
    ),
    case("dot-entry", &[("uid/.0/allow", b""), ("uid/1/allow", b"")]),
    case("dot-subdir", &[(".uid/0/allow", b""), ("gid/1/deny", b"")]),
    case(
        "many",
        &[
            ("uid/0/allow", b""),
            ("uid/1/deny", b""),
            ("uid/default/allow", b""),
            ("uid/self/deny", b""),
            ("gid/5/allow", b""),
            ("gid/self/allow", b""),
            ("ip4/127.0.0.1_32/allow", b""),
            ("reversedns/@localhost/deny", b""),
        ],
    ),
    case(
        "env",
        &[
            ("uid/0/allow", b""),
            ("uid/0/env/FOO", b"bar\n"),
            ("uid/0/env/UNSETME", b""),
        ],
    ),
    case(
        "env-forms",
        &[
            ("uid/0/allow", b""),
            ("uid/0/env/A", b"trailing \t\r\n"),
            ("uid/0/env/B", b"first\nsecond\n"),
            ("uid/0/env/C", b"nul\0inside"),
            ("uid/0/env/D", b"\n"),
            ("uid/0/env/.E", b"hidden"),
            ("uid/0/env/F", b" leading"),
        ],
    ),
    Case {
        expect: Expect::Documented {
            compat: "An environment of 4097 to 4100 bytes is refused",
            code: 100,
            stderr: "PROG: fatal: r/uid/0: env too big\n",
        },
        ..case("env-4095", &[("uid/0/allow", b""), ("uid/0/env/V", X4095)])
    },
    case(
        "env-4090",
        &[("uid/0/allow", b""), ("uid/0/env/V", &[b'z'; 4090])],
    ),
    case(
        "env-empty-dir",
        &[("uid/0/allow", b""), ("uid/0/env/", b"")],
    ),
    Case {
        expect: Expect::Documented {
            compat: "Messages name the failed operation",
            code: 100,
            stderr: "PROG: fatal: r/uid/0: env too big\n",
        },
        ..case(
            "env-two-big",
            &[
                ("uid/0/allow", b""),
                ("uid/0/env/A", X2000),
                ("uid/0/env/B", X2000),
                ("uid/0/env/C", X2000),
            ],
        )
    },
    case(
        "exec",
        &[("uid/0/allow", b""), ("uid/0/exec", b"echo hi\n")],
    ),
    case(
        "exec-nul",
        &[("uid/0/allow", b""), ("uid/0/exec", b"echo a\0echo b\0")],
    ),
    case("exec-empty", &[("uid/0/allow", b""), ("uid/0/exec", b"")]),
    case("exec-on-deny", &[("uid/0/deny", b""), ("uid/0/exec", b"x")]),
    case(
        "env-and-exec",
        &[
            ("uid/0/allow", b""),
            ("uid/0/env/FOO", b"bar"),
            ("uid/0/exec", b"echo \"$FOO\""),
        ],
    ),
    warns(
        case("utf8-key", &[("uid/é/allow", b"")]),
        "PROG: warning: r/uid/\\xc3\\xa9: not a number or default or self: no client is looked up there\n",
    ),
    Case {
        dir: "missing",
        expect: Expect::Documented {
            compat: "Messages name the failed operation",
            code: 111,
            stderr: "PROG: fatal: unable to open directory missing: No such file or directory\n",
        },
        ..case("missing-dir", &[])
    },
    Case {
        cdb: "nodir/o.cdb",
        expect: Expect::Documented {
            compat: "Messages name the failed operation",
            code: 111,
            stderr: "",
        },
        ..case("cdb-in-missing-dir", &[("uid/0/allow", b"")])
    },
    Case {
        expect: Expect::Documented {
            compat: "Messages name the failed operation",
            code: 111,
            stderr: "PROG: fatal: unable to open directory r/uid: Not a directory\n",
        },
        ..case("top-level-file", &[("uid", b"")])
    },
    Case {
        expect: Expect::Documented {
            compat: "An environment file whose first line is over 4095 bytes",
            code: 100,
            stderr: "PROG: fatal: r/uid/0/env/V: first line too long (over 4095 bytes)\n",
        },
        ..case("env-4096", &[("uid/0/allow", b""), ("uid/0/env/V", X4096)])
    },
    Case {
        expect: Expect::Documented {
            compat: "An exec script over 4096 bytes is refused",
            code: 100,
            stderr: "PROG: fatal: r/uid/0/exec: file too big (over 4096 bytes)\n",
        },
        ..case("exec-4097", &[("uid/0/allow", b""), ("uid/0/exec", X4097)])
    },
];

row! { [V2_11, V2_15]
fn rulescdb_table() {
    if !have("s6-accessrules-cdb-from-fs") {
        return;
    }
    let d = Dir::new("drc");
    let mut r = Report::default();
    for k in CASES {
        // One tree for both tools (readdir order is part of the output), reached as
        // `r` from each side's directory.
        let src = d.join(format!("src-{}", k.name));
        write_tree(&src, k.tree);
        let mut got = Vec::new();
        for (side, prog) in [
            ("ours", "ipcrules-cdb"),
            ("peer", "s6-accessrules-cdb-from-fs"),
        ] {
            let sd = side_dir(&d.path, k.name, side);
            std::os::unix::fs::symlink(&src, sd.join("r")).unwrap();
            let mut argv = vec![prog.to_string()];
            argv.extend(k.opts.iter().map(|s| s.to_string()));
            argv.push(k.cdb.into());
            argv.push(k.dir.into());
            let out = exec_case(&argv, &[], &[], Stdin::Null, &sd);
            let g = Got::of(
                &out,
                &["ipcrules-cdb", "s6-accessrules-cdb-from-fs"],
                &d.path,
            );
            let cdb = std::fs::read(sd.join(k.cdb)).ok();
            got.push((g, cdb));
        }
        let ((ours, ocdb), (peer, pcdb)) = (&got[0], &got[1]);
        match k.expect {
            Expect::Same => {
                r.check(k.name, "exit code", &ours.code, &peer.code);
                r.check(k.name, "stderr", &ours.stderr, &peer.stderr);
                r.check(k.name, "cdb bytes", ocdb, pcdb);
            }
            Expect::Warns { compat, stderr } => {
                r.check_documented(k.name, "ipcrules-cdb", compat);
                r.check(k.name, "exit code", &ours.code, &peer.code);
                r.check(k.name, "our stderr", &ours.stderr.as_str(), &stderr);
                r.check(k.name, "peer stderr", &peer.stderr.as_str(), &"");
                r.check(k.name, "cdb bytes", ocdb, pcdb);
            }
            Expect::Documented {
                compat,
                code,
                stderr,
            } => {
                r.check_documented(k.name, "ipcrules-cdb", compat);
                r.check(k.name, "our exit code", &ours.code, &Some(code));
                if !stderr.is_empty() {
                    r.check(k.name, "our stderr", &ours.stderr.as_str(), &stderr);
                }
                r.check(k.name, "our cdb", ocdb, &None);
                // The peer's code: the same where both refuse.
                if code != 100 || k.name == "env-two-big" {
                    r.check(k.name, "peer exit code", &peer.code, &Some(code));
                }
            }
        }
    }
    r.finish("ipcrules-cdb");
}
}

row! { [V2_11, V2_15]
/// The default file mode: ours 0644, s6 2.11's 0600 (mkstemp), as documented.
fn default_mode() {
    if !have("s6-accessrules-cdb-from-fs") {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    // Without -m, both s6 versions leave the file 0600 (mkstemp), and so do we.
    let d = Dir::new("drm");
    write_tree(&d.join("r"), &[("uid/0/allow", b"")]);
    for (prog, want) in [
        ("ipcrules-cdb", 0o600),
        ("s6-accessrules-cdb-from-fs", 0o600),
    ] {
        let out = exec_case(
            &[prog.into(), format!("{prog}.cdb"), "r".into()],
            &[],
            &[],
            Stdin::Null,
            &d.path,
        );
        assert!(out.status.success());
        let m = std::fs::metadata(d.join(format!("{prog}.cdb"))).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, want, "{prog}");
    }
}
}
