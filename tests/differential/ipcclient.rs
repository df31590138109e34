//! ipcclient vs s6-ipcclient: every option, connect and exec failures, and what the
//! chain-loaded program sees (fds 6/7, environment, signal mask and dispositions).

use super::probe::*;
use crate::util::*;
use std::path::Path;

/// Where the client connects.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// A live s6-ipcserver socket.
    Live,
    Missing,
    /// A regular file.
    File,
    /// A socket file nobody listens on.
    Stale,
}

/// The program to chain-load.
#[derive(Clone, Copy, Debug)]
enum Prog {
    Probe,
    Missing,
    NotExecutable,
    Exit(u8),
}

/// What a row asserts (against s6-ipcclient; `compat` in ipcclient(1)).
use SameOr as Expect;

struct Case {
    name: &'static str,
    opts: &'static [&'static str],
    target: Target,
    prog: Prog,
    caller: Caller,
    env: &'static [(&'static str, &'static str)],
    /// Files to create in each side's directory first (relative names).
    files: &'static [&'static str],
    expect: Expect,
}

const fn case(name: &'static str, opts: &'static [&'static str]) -> Case {
    Case {
        name,
        opts,
        target: Target::Live,
        prog: Prog::Probe,
        caller: Caller::PLAIN,
        env: &[],
        files: &[],
        expect: Expect::Same,
    }
}

const CASES: &[Case] = &[
    case("plain", &[]),
    case("q", &["-q"]),
    case("Q", &["-Q"]),
    case("qQ", &["-q", "-Q"]),
    case("vq", &["-v", "-q"]),
    case("qq", &["-q", "-q"]),
    case("l", &["-l", "name"]),
    case("l-empty", &["-l", ""]),
    case("l-slash", &["-l", "/x/y"]),
    case("l-twice", &["-l", "a", "-l", "b"]),
    case("p", &["-p", "b"]),
    case("p-l", &["-p", "b", "-l", "other"]),
    case("l-p", &["-l", "other", "-p", "b"]),
    case("dashdash", &["--"]),
    Case {
        env: &[("IPCLOCALPATH", "inherited"), ("PROTO", "TCP")],
        ..case("env-overwritten", &[])
    },
    Case {
        env: &[("FOO", "kept"), ("IPCREMOTEPATH", "kept")],
        ..case("env-kept", &[])
    },
    Case {
        caller: Caller::HOSTILE,
        ..case("signals-hostile", &[])
    },
    Case {
        caller: Caller {
            ignore: &["PIPE"],
            block: &[],
        },
        ..case("signals-pipe-ignored", &[])
    },
    Case {
        caller: Caller {
            ignore: &["HUP", "QUIT", "TERM", "USR2", "ALRM", "CHLD"],
            block: &["INT", "HUP"],
        },
        ..case("signals-many", &[])
    },
    Case {
        caller: Caller::HOSTILE,
        ..case("signals-hostile-p", &["-p", "b"])
    },
    Case {
        target: Target::Missing,
        ..case("missing", &[])
    },
    Case {
        target: Target::Missing,
        ..case("missing-q", &["-q"])
    },
    Case {
        target: Target::File,
        ..case("file", &[])
    },
    Case {
        target: Target::Stale,
        ..case("stale", &[])
    },
    Case {
        target: Target::Stale,
        ..case("stale-v", &["-v"])
    },
    Case {
        files: &["b"],
        ..case("p-exists", &["-p", "b"])
    },
    case("p-nodir", &["-p", "nodir/b"]),
    Case {
        prog: Prog::Missing,
        ..case("prog-missing", &[])
    },
    Case {
        prog: Prog::NotExecutable,
        ..case("prog-not-exec", &[])
    },
    Case {
        prog: Prog::Exit(3),
        ..case("prog-exit-3", &[])
    },
    Case {
        prog: Prog::Exit(0),
        ..case("prog-exit-0-q", &["-q"])
    },
    Case {
        expect: Expect::Documented {
            compat: "without the doubled program name of s6-ipcclient",
            ours_stderr: "PROG: info: connected to srv\n",
        },
        ..case("v", &["-v"])
    },
    Case {
        expect: Expect::Documented {
            compat: "without the doubled program name of s6-ipcclient",
            ours_stderr: "PROG: info: connected to srv\n",
        },
        ..case("Qv", &["-Q", "-v"])
    },
];

fn prog_argv(p: Prog, dir: &Path) -> Vec<String> {
    match p {
        Prog::Probe => probe(dir),
        Prog::Missing => vec!["/nonexistent/prog".into()],
        Prog::NotExecutable => vec!["/etc/passwd".into()],
        Prog::Exit(n) => vec!["sh".into(), "-c".into(), format!("exit {n}")],
    }
}

row! { [V2_11, V2_15]
fn ipcclient_table() {
    if !have("s6-ipcclient") || !have("s6-ipcserver") || !have("perl") {
        return;
    }
    let d = Dir::new("dcl");
    let live = d.join("srv");
    let mut c = std::process::Command::new(s6("s6-ipcserver"));
    c.env("PATH", peer_path());
    c.arg("-1").arg(&live).arg("true");
    let _srv = Server::start(c);
    std::fs::write(d.join("file"), "").unwrap();
    let stale = d.join("stale");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let mut r = Report::default();
    for k in CASES {
        let mut got = Vec::new();
        for (side, prog) in [("ours", "ipcclient"), ("peer", "s6-ipcclient")] {
            let sd = side_dir(&d.path, k.name, side);
            for f in k.files {
                std::fs::write(sd.join(f), "").unwrap();
            }
            let target = match k.target {
                Target::Live => "../srv",
                Target::Missing => "../none",
                Target::File => "../file",
                Target::Stale => "../stale",
            };
            let mut argv = vec![prog.to_string()];
            argv.extend(k.opts.iter().map(|s| s.to_string()));
            argv.push(target.into());
            argv.extend(prog_argv(k.prog, &d.path));
            let argv = k.caller.wrap(&argv);
            let out = exec_case(&argv, k.env, &[], Stdin::Null, &sd);
            let mut g = Got::of(&out, &["ipcclient", "s6-ipcclient"], &d.path);
            // Both name the socket as given (relative): make the names line up.
            g.stderr = g.stderr.replace("../", "");
            got.push(g);
        }
        let (ours, peer) = (&got[0], &got[1]);
        match k.expect {
            Expect::Same => {
                r.check_same(k.name, ours, peer);
            }
            Expect::Documented {
                compat,
                ours_stderr,
            } => {
                r.check_documented(k.name, "ipcclient", compat);
                r.check_code_and_stdout(k.name, ours, peer);
                r.check(k.name, "our stderr", &ours.stderr.as_str(), &ours_stderr);
            }
        }
    }
    r.finish("ipcclient");
}
}

row! { [V2_11, V2_15]
/// Under a low open-file limit, the step that fails is named as s6-ipcclient names it:
/// fd 6 first, then fd 7.
fn low_fd_limit_names_the_same_fd() {
    if !have("s6-ipcserver") || !have("s6-ipcclient") || !have("prlimit") {
        return;
    }
    let d = Dir::new("dclnofile");
    let mut c = std::process::Command::new(s6("s6-ipcserver"));
    c.env("PATH", peer_path());
    c.arg("-1").arg(d.join("srv")).arg("true");
    let _srv = Server::start(c);
    let srv = d.join("srv").to_string_lossy().into_owned();
    for n in ["6", "7", "8"] {
        let got: Vec<Got> = ["ipcclient", "s6-ipcclient"]
            .iter()
            .map(|prog| {
                let argv = [
                    "prlimit".to_string(),
                    format!("--nofile={n}"),
                    resolve(prog).to_string_lossy().into_owned(),
                    srv.clone(),
                    "true".into(),
                ];
                let out = exec_case(&argv, &[], &[], Stdin::Null, &d.path);
                Got::of(&out, &["ipcclient", "s6-ipcclient"], &d.path)
            })
            .collect();
        assert_eq!(got[0], got[1], "--nofile={n}");
    }
}
}
