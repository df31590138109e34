//! The fifodir family: npt-mkfifodir vs s6-mkfifodir, npt-notify vs s6-ftrig-notify,
//! npt-wait vs s6-ftrig-wait (no prog) and s6-ftrig-listen1 (with prog), including
//! what the prog sees of its caller's signal state.

use super::probe::*;
use crate::util::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

#[derive(Clone, Copy)]
enum Pre {
    Nothing,
    Dir,
    File,
    FifoDir,
    OtherOwnerDir,
}

struct MkCase {
    name: &'static str,
    opts: &'static [&'static str],
    target: &'static str,
    pre: Pre,
}

const MK: &[MkCase] = &[
    MkCase {
        name: "new",
        opts: &[],
        target: "f",
        pre: Pre::Nothing,
    },
    MkCase {
        name: "g",
        opts: &["-g", "65534"],
        target: "f",
        pre: Pre::Nothing,
    },
    MkCase {
        name: "g0",
        opts: &["-g", "0"],
        target: "f",
        pre: Pre::Nothing,
    },
    MkCase {
        name: "f-new",
        opts: &["-f"],
        target: "f",
        pre: Pre::Nothing,
    },
    MkCase {
        name: "exists-dir",
        opts: &[],
        target: "f",
        pre: Pre::Dir,
    },
    MkCase {
        name: "exists-dir-f",
        opts: &["-f"],
        target: "f",
        pre: Pre::Dir,
    },
    MkCase {
        name: "exists-fifodir",
        opts: &[],
        target: "f",
        pre: Pre::FifoDir,
    },
    MkCase {
        name: "exists-fifodir-g",
        opts: &["-g", "65534"],
        target: "f",
        pre: Pre::FifoDir,
    },
    MkCase {
        name: "exists-file",
        opts: &[],
        target: "f",
        pre: Pre::File,
    },
    MkCase {
        name: "exists-file-f",
        opts: &["-f"],
        target: "f",
        pre: Pre::File,
    },
    MkCase {
        name: "other-owner",
        opts: &[],
        target: "f",
        pre: Pre::OtherOwnerDir,
    },
    MkCase {
        name: "other-owner-f",
        opts: &["-f"],
        target: "f",
        pre: Pre::OtherOwnerDir,
    },
    MkCase {
        name: "missing-parent",
        opts: &[],
        target: "no/f",
        pre: Pre::Nothing,
    },
    MkCase {
        name: "dashdash",
        opts: &["--"],
        target: "f",
        pre: Pre::Nothing,
    },
];

/// Mode, uid and gid of a path, if it exists.
fn stat(p: &Path) -> Option<(u32, u32, u32)> {
    std::fs::symlink_metadata(p)
        .ok()
        .map(|m| (m.permissions().mode() & 0o7777, m.uid(), m.gid()))
}

row! { [V2_11, V2_15]
fn mkfifodir_table() {
    if !have("s6-mkfifodir") {
        return;
    }
    let d = Dir::new("dmk");
    let mut r = Report::default();
    for k in MK {
        let mut got = Vec::new();
        for (side, prog) in [("ours", "npt-mkfifodir"), ("peer", "s6-mkfifodir")] {
            let sd = side_dir(&d.path, k.name, side);
            let t = sd.join(k.target);
            match k.pre {
                Pre::Nothing => {}
                Pre::Dir => std::fs::create_dir(&t).unwrap(),
                Pre::File => std::fs::write(&t, "").unwrap(),
                Pre::FifoDir => {
                    std::fs::create_dir(&t).unwrap();
                    std::fs::set_permissions(&t, std::fs::Permissions::from_mode(0o1733)).unwrap();
                }
                Pre::OtherOwnerDir => {
                    std::fs::create_dir(&t).unwrap();
                    std::os::unix::fs::chown(&t, Some(65534), Some(65534)).unwrap();
                }
            }
            let mut argv = vec![prog.to_string()];
            argv.extend(k.opts.iter().map(|s| s.to_string()));
            argv.push(k.target.into());
            let out = exec_case(&argv, &[], &[], Stdin::Null, &sd);
            got.push((
                Got::of(&out, &["npt-mkfifodir", "s6-mkfifodir"], &d.path),
                stat(&t),
            ));
        }
        r.check(k.name, "exit code", &got[0].0.code, &got[1].0.code);
        r.check(k.name, "stderr", &got[0].0.stderr, &got[1].0.stderr);
        r.check(k.name, "mode, uid, gid", &got[0].1, &got[1].1);
    }
    r.finish("npt-mkfifodir");
}
}

struct NotifyCase {
    name: &'static str,
    /// Make the fifodir first.
    dir: bool,
    /// Names of fifos (without readers) to plant in it.
    fifos: &'static [&'static str],
    msg: &'static str,
}

const STALE: &str = "ftrig1:@400000006b02655f38659883:2CEXU-";
const NOTIFY: &[NotifyCase] = &[
    NotifyCase {
        name: "no-dir",
        dir: false,
        fifos: &[],
        msg: "x",
    },
    NotifyCase {
        name: "empty",
        dir: true,
        fifos: &[],
        msg: "x",
    },
    NotifyCase {
        name: "empty-msg",
        dir: true,
        fifos: &[],
        msg: "",
    },
    NotifyCase {
        name: "long-msg",
        dir: true,
        fifos: &[],
        msg: "abcdefghijklmnopqrstuvwxyz0123456789",
    },
    NotifyCase {
        name: "stale",
        dir: true,
        fifos: &[STALE],
        msg: "x",
    },
    NotifyCase {
        name: "wrong-name",
        dir: true,
        fifos: &["ftrig1:@short"],
        msg: "x",
    },
    NotifyCase {
        name: "hidden",
        dir: true,
        fifos: &[".ftrig1:@400000006b02655f38659883:2CEXU-"],
        msg: "x",
    },
];

row! { [V2_11, V2_15]
fn notify_table() {
    if !have("s6-ftrig-notify") {
        return;
    }
    let d = Dir::new("dno");
    let mut r = Report::default();
    for k in NOTIFY {
        let mut got = Vec::new();
        for (side, prog) in [("ours", "npt-notify"), ("peer", "s6-ftrig-notify")] {
            let sd = side_dir(&d.path, k.name, side);
            if k.dir {
                let fd = sd.join("f");
                std::fs::create_dir(&fd).unwrap();
                for f in k.fifos {
                    let p = std::ffi::CString::new(fd.join(f).to_str().unwrap()).unwrap();
                    // SAFETY: a valid C string.
                    assert_eq!(unsafe { libc::mkfifo(p.as_ptr(), 0o622) }, 0);
                }
            }
            let argv = vec![prog.to_string(), "f".into(), k.msg.into()];
            let out = exec_case(&argv, &[], &[], Stdin::Null, &sd);
            let mut left: Vec<String> = std::fs::read_dir(sd.join("f"))
                .map(|rd| {
                    rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            left.sort();
            got.push((
                Got::of(&out, &["npt-notify", "s6-ftrig-notify"], &d.path),
                left,
            ));
        }
        r.check(k.name, "exit code", &got[0].0.code, &got[1].0.code);
        r.check(k.name, "stderr", &got[0].0.stderr, &got[1].0.stderr);
        r.check(k.name, "fifos left", &got[0].1, &got[1].1);
    }
    r.finish("npt-notify");
}
}

#[derive(Clone, Copy)]
enum WaitExpect {
    Same,
    /// Same code and stdout; our stderr as given, `compat` in npt-wait(1).
    Message {
        compat: &'static str,
        stderr: &'static str,
    },
    /// Our exit code, stdout and stderr; `compat` in npt-wait(1).
    Documented {
        compat: &'static str,
        code: i32,
        stdout: &'static str,
    },
}

struct WaitCase {
    name: &'static str,
    opts: &'static [&'static str],
    regex: &'static str,
    /// What the prog notifies (s6-ftrig-notify, one call per element); empty: no prog.
    events: &'static [&'static str],
    /// Make the fifodir first.
    dir: bool,
    expect: WaitExpect,
}

const TIMEOUT: WaitExpect = WaitExpect::Documented {
    compat: "the timeout exits 99, as s6-ftrig-wait 2.15 does",
    code: 99,
    stdout: "",
};

const WAIT: &[WaitCase] = &[
    WaitCase {
        name: "one-byte",
        opts: &["-t", "20000"],
        regex: "x",
        events: &["x"],
        dir: true,
        expect: WaitExpect::Same,
    },
    WaitCase {
        name: "one-of",
        opts: &["-t", "20000"],
        regex: "[ud]",
        events: &["d"],
        dir: true,
        expect: WaitExpect::Same,
    },
    WaitCase {
        name: "first-byte-matches",
        opts: &["-t", "20000"],
        regex: "s",
        events: &["s"],
        dir: true,
        expect: WaitExpect::Same,
    },
    WaitCase {
        name: "dot",
        opts: &["-t", "20000"],
        regex: ".",
        events: &["U"],
        dir: true,
        expect: WaitExpect::Same,
    },
    WaitCase {
        name: "accumulated",
        opts: &["-t", "20000"],
        regex: "ab+c",
        events: &["xxab", "bbcz"],
        dir: true,
        expect: WaitExpect::Documented {
            compat: "The answer is the whole accumulated string",
            code: 0,
            stdout: "xxabbbcz\n",
        },
    },
    // `^` and `$` anchor to the accumulated string, as in 2.15; 2.14 and earlier never
    // match them (and time out).
    WaitCase {
        name: "anchor-start",
        opts: &["-t", "2000"],
        regex: "^b",
        events: &["b"],
        dir: true,
        expect: WaitExpect::Documented {
            compat: "never match",
            code: 0,
            stdout: "b\n",
        },
    },
    WaitCase {
        name: "anchor-end",
        opts: &["-t", "2000"],
        regex: "b$",
        events: &["ab"],
        dir: true,
        expect: WaitExpect::Documented {
            compat: "never match",
            code: 0,
            stdout: "ab\n",
        },
    },
    WaitCase {
        name: "two-bytes",
        opts: &["-t", "20000"],
        regex: "ud",
        events: &["ud"],
        dir: true,
        expect: WaitExpect::Documented {
            compat: "The answer is the whole accumulated string",
            code: 0,
            stdout: "ud\n",
        },
    },
    WaitCase {
        name: "timeout",
        opts: &["-t", "300"],
        regex: "x",
        events: &[],
        dir: true,
        expect: TIMEOUT,
    },
    WaitCase {
        // s6-ftrig-listen1's timeout (2.11 and 2.15 alike): 1, its message.
        name: "timeout-prog",
        opts: &["-t", "300"],
        regex: "x",
        events: &["y"],
        dir: true,
        expect: WaitExpect::Same,
    },
    WaitCase {
        name: "no-dir",
        opts: &["-t", "300"],
        regex: "x",
        events: &[],
        dir: false,
        expect: WaitExpect::Message {
            compat: "A failed subscription reads",
            stderr: "PROG: fatal: unable to subscribe to f: No such file or directory\n",
        },
    },
    WaitCase {
        name: "no-dir-prog",
        opts: &["-t", "300"],
        regex: "x",
        events: &["x"],
        dir: false,
        expect: WaitExpect::Message {
            compat: "A failed subscription reads",
            stderr: "PROG: fatal: unable to subscribe to f: No such file or directory\n",
        },
    },
];

row! { [V2_11, V2_15]
fn wait_table() {
    if !have("s6-ftrig-wait") || !have("s6-ftrig-listen1") || !have("s6-ftrig-notify") {
        return;
    }
    let d = Dir::new("dwa");
    let mut r = Report::default();
    for k in WAIT {
        let mut got = Vec::new();
        let peer = if k.events.is_empty() {
            "s6-ftrig-wait"
        } else {
            "s6-ftrig-listen1"
        };
        for (side, prog) in [("ours", "npt-wait"), ("peer", peer)] {
            let sd = side_dir(&d.path, k.name, side);
            if k.dir {
                let out = exec_case(
                    &["s6-mkfifodir".into(), "f".into()],
                    &[],
                    &[],
                    Stdin::Null,
                    &sd,
                );
                assert!(out.status.success());
            }
            let mut argv = vec![prog.to_string()];
            argv.extend(k.opts.iter().map(|s| s.to_string()));
            argv.push("f".into());
            argv.push(k.regex.into());
            if !k.events.is_empty() {
                let script: Vec<String> = k
                    .events
                    .iter()
                    .map(|e| format!("s6-ftrig-notify f '{e}'"))
                    .collect();
                argv.extend(["sh".into(), "-c".into(), script.join("; ")]);
            }
            let out = exec_case(&argv, &[], &[], Stdin::Null, &sd);
            got.push(Got::of(
                &out,
                &["npt-wait", "s6-ftrig-wait", "s6-ftrig-listen1"],
                &d.path,
            ));
        }
        let (ours, peer) = (&got[0], &got[1]);
        match k.expect {
            WaitExpect::Same => {
                r.check_same(k.name, ours, peer);
            }
            WaitExpect::Message { compat, stderr } => {
                r.check_documented(k.name, "npt-wait", compat);
                r.check_code_and_stdout(k.name, ours, peer);
                r.check(k.name, "our stderr", &ours.stderr.as_str(), &stderr);
            }
            // Each documented difference is one from 2.14 and earlier: 2.15 behaves as
            // we do (the whole sequence, 99 on a timeout), so against it the row is
            // plain equality.
            WaitExpect::Documented { compat, .. } if peer_is(S6::V2_15) => {
                r.check_documented(k.name, "npt-wait", compat);
                r.check_same(k.name, ours, peer);
            }
            WaitExpect::Documented {
                compat,
                code,
                stdout,
            } => {
                r.check_documented(k.name, "npt-wait", compat);
                r.check(k.name, "our exit code", &ours.code, &Some(code));
                r.check(k.name, "our stdout", &ours.stdout.as_str(), &stdout);
                // s6 2.11 times out on an anchored regex: only ours has no message.
                if !k.name.starts_with("anchor-") {
                    r.check(k.name, "stderr", &ours.stderr, &peer.stderr);
                }
            }
        }
    }
    r.finish("npt-wait");
}
}

row! { [V2_11, V2_15]
/// npt-wait's prog gets the caller's signal state, as an exec would give it;
/// s6-ftrig-listen1 clears the mask and resets SIGPIPE (and leaves glibc's 32 and 33
/// ignored), as npt-wait(1) COMPATIBILITY says.
fn wait_prog_signal_state() {
    if !have("s6-ftrig-listen1") || !have("perl") {
        return;
    }
    assert_documented("npt-wait", "s6-ftrig-listen1 clears the signal mask");
    let d = Dir::new("dws");
    for (i, caller) in [
        Caller::PLAIN,
        Caller::HOSTILE,
        Caller {
            ignore: &["PIPE", "HUP", "TERM", "USR2"],
            block: &["INT", "CHLD"],
        },
    ]
    .iter()
    .enumerate()
    {
        // What the caller's state looks like to a program it execs directly.
        let direct = caller.probe_directly(&d.path);
        let sigs = |s: &str| -> Vec<String> {
            s.lines()
                .filter(|l| l.starts_with("Sig"))
                .map(str::to_string)
                .collect()
        };
        let want = sigs(&String::from_utf8_lossy(&direct.stdout));
        let mut views = Vec::new();
        for prog in ["npt-wait", "s6-ftrig-listen1"] {
            let sd = side_dir(&d.path, &format!("sig{i}"), prog);
            assert!(
                exec_case(
                    &["s6-mkfifodir".into(), "f".into()],
                    &[],
                    &[],
                    Stdin::Null,
                    &sd
                )
                .status
                .success()
            );
            let out_file = sd.join("probe.out");
            let mut argv = vec![
                prog.to_string(),
                "-t".into(),
                "20000".into(),
                "f".into(),
                "x".into(),
            ];
            argv.extend(probe(&d.path));
            let argv = caller.wrap(&argv);
            let mut c = std::process::Command::new(resolve(&argv[0]));
            c.args(&argv[1..])
                .current_dir(&sd)
                .env("PROBE_OUT", &out_file)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = c.spawn().unwrap();
            // The prog runs once the subscription exists: notify after it wrote.
            assert!(eventually(20, || std::fs::metadata(&out_file)
                .map(|m| m.len() > 0)
                .unwrap_or(false)));
            std::thread::sleep(std::time::Duration::from_millis(100));
            let n = exec_case(
                &["s6-ftrig-notify".into(), "f".into(), "x".into()],
                &[],
                &[],
                Stdin::Null,
                &sd,
            );
            assert!(n.status.success());
            let out = wait_output(&mut child, 20, prog);
            assert_eq!(out.status.code(), Some(0), "{prog}: {out:?}");
            views.push(sigs(&std::fs::read_to_string(&out_file).unwrap()));
        }
        assert_eq!(
            views[0], want,
            "npt-wait's prog must see its caller's signal state"
        );
        if i > 0 {
            assert_ne!(views[1], want, "s6-ftrig-listen1 is expected to reset it");
        }
    }
}
}

row! { [V2_11, V2_15]
/// Out of fds: the same exit code (111); ours names the step (selfpipe, subscription,
/// fifo), s6 the helper it could not start (npt-wait(1) COMPATIBILITY).
fn out_of_fds_names_the_step() {
    if !have("s6-ftrig-wait") || !have("prlimit") {
        return;
    }
    assert_documented("npt-wait", "Running out of fds is reported at the step that met it");
    let d = Dir::new("dnofds");
    let f = mkfifodir(&d, "f");
    let f = f.to_string_lossy().into_owned();
    for n in ["4", "5", "6"] {
        let limit = format!("--nofile={n}");
        let run = |prog: &str| {
            let argv = [
                "prlimit".to_string(),
                limit.clone(),
                resolve(prog).to_string_lossy().into_owned(),
                "-t".into(),
                "100".into(),
                f.clone(),
                "x".into(),
            ];
            exec_case(&argv, &[], &[], Stdin::Null, &d.path)
        };
        let (ours, peer) = (run("npt-wait"), run("s6-ftrig-wait"));
        assert_eq!((ours.status.code(), peer.status.code()), (Some(111), Some(111)), "{n}");
        assert!(
            String::from_utf8_lossy(&peer.stderr)
                .starts_with("s6-ftrig-wait: fatal: unable to ftrigr_startf: Too many open files"),
            "{n}: {peer:?}"
        );
        let ours = String::from_utf8_lossy(&ours.stderr).into_owned();
        assert!(
            ["unable to create selfpipe", "unable to subscribe to", "unable to open fifo in"]
                .iter()
                .any(|s| ours.starts_with(&format!("npt-wait: fatal: {s}")))
                && ours.ends_with(": Too many open files\n"),
            "{n}: {ours}"
        );
    }
}
}
