//! Tests: ipcserver-access and ipcrules-cdb, against s6-ipcserver-access,
//! s6-accessrules-cdb-from-fs and s6-ipcserver.

use crate::util::*;
use ipccore::formats::rulescdb::{Rule, decode};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// One rule of a rules directory.
#[derive(Clone, Debug)]
struct R {
    key: String,
    allow: bool,
    env: Vec<(String, Vec<u8>)>,
    exec: Option<String>,
}

fn allow(key: &str) -> R {
    R {
        key: key.into(),
        allow: true,
        env: vec![],
        exec: None,
    }
}

fn deny(key: &str) -> R {
    R {
        allow: false,
        ..allow(key)
    }
}

impl R {
    fn env(mut self, name: &str, content: &[u8]) -> R {
        self.env.push((name.into(), content.to_vec()));
        self
    }
    fn exec(mut self, script: &str) -> R {
        self.exec = Some(script.into());
        self
    }
}

/// Lay `rules` out as s6 does, under `dir`, readable by everyone.
fn make_rules(dir: &Path, rules: &[R]) {
    std::fs::create_dir_all(dir.join("uid")).unwrap();
    std::fs::create_dir_all(dir.join("gid")).unwrap();
    for r in rules {
        let base = dir.join(&r.key);
        std::fs::create_dir_all(&base).unwrap();
        std::fs::write(base.join(if r.allow { "allow" } else { "deny" }), "").unwrap();
        if !r.env.is_empty() {
            std::fs::create_dir_all(base.join("env")).unwrap();
            for (n, c) in &r.env {
                std::fs::write(base.join("env").join(n), c).unwrap();
            }
        }
        if let Some(e) = &r.exec {
            std::fs::write(base.join("exec"), e).unwrap();
        }
    }
    chmod_tree(dir);
}

fn chmod_tree(p: &Path) {
    let m = std::fs::metadata(p).unwrap();
    let mode = if m.is_dir() { 0o755 } else { 0o644 };
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    if m.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            chmod_tree(&e.unwrap().path());
        }
    }
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// ipcserver-access (ours or s6's) run directly, with a controlled environment: the
/// UCSPI variables for (uid, gid) and a fixed PATH. stdin is /dev/null, so `-l` is
/// always given (s6 would otherwise fail on getsockname).
fn direct(prog: &str, uid: u32, gid: u32, args: &[&str], nobody: bool) -> Command {
    let mut argv: Vec<String> = vec![prog.into()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let mut c = if nobody { as_nobody(&argv) } else { cmd(&argv) };
    c.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("PROTO", "IPC")
        .env("IPCREMOTEEUID", uid.to_string())
        .env("IPCREMOTEEGID", gid.to_string())
        .env("IPCREMOTEPATH", "")
        .env("IPCCONNNUM", "1");
    c
}

fn ours() -> String {
    s(&bin("ipcserver-access"))
}

/// (exit code, sorted env or program output, log lines with pid and prefix normalized).
fn outcome(o: &std::process::Output) -> (Option<i32>, Vec<String>, Vec<String>) {
    assert!(!o.err().contains("panicked"), "panic:\n{}", o.err());
    let mut out: Vec<String> = o.out().lines().map(str::to_string).collect();
    out.sort();
    let log = o
        .err()
        .lines()
        .map(|l| {
            let l = l.strip_prefix("s6-").unwrap_or(l);
            match l.find(" pid ") {
                Some(i) => {
                    let rest = &l[i + 5..];
                    let j = rest.find(' ').unwrap_or(rest.len());
                    format!("{} pid P{}", &l[..i], &rest[j..])
                }
                None => l.to_string(),
            }
        })
        .collect();
    (o.code(), out, log)
}

/// Our `outcome` with the deciding rule taken off the allow and deny lines (s6's end
/// before it), after checking that every such line has one (ipcserver-access(1),
/// COMPATIBILITY).
fn without_reason(
    (code, out, log): (Option<i32>, Vec<String>, Vec<String>),
) -> (Option<i32>, Vec<String>, Vec<String>) {
    let log = log
        .into_iter()
        .map(|l| {
            if !(l.contains(": info: allow pid ") || l.contains(": info: deny pid ")) {
                return l;
            }
            let i = l
                .rfind(" (rule ")
                .or_else(|| l.rfind(" (no rule in "))
                .unwrap_or_else(|| panic!("no reason in {l:?}"));
            assert!(l.ends_with(')'), "{l:?}");
            l[..i].to_string()
        })
        .collect();
    (code, out, log)
}

fn client(path: &Path, nobody: bool) -> std::process::Output {
    let argv = [
        "s6-ipcclient".to_string(),
        s(path),
        "sh".into(),
        "-c".into(),
        "exec cat <&6".into(),
    ];
    let c = if nobody { as_nobody(&argv) } else { cmd(&argv) };
    run_timeout(c, 10)
}

/// Serve `rules` with our ipcserver in front of ipcserver-access, prog printing its
/// environment; return what a uid-0 and a uid-65534 client read.
fn serve_and_connect(
    server: &[String],
    access_args: &[String],
    prog: &[&str],
) -> (String, String, String) {
    let d = Dir::new("srv");
    let sock = d.join("s");
    let mut argv: Vec<String> = server.to_vec();
    argv.push(s(&sock));
    argv.push(ours());
    argv.extend(access_args.iter().cloned());
    argv.extend(prog.iter().map(|p| p.to_string()));
    let srv = Server::start(cmd(&argv));
    let root = client(&sock, false);
    root.assert_code(0);
    let nobody = client(&sock, true);
    nobody.assert_code(0);
    let log = srv.stop_with(15).err();
    (root.out(), nobody.out(), log)
}

fn ipcserver() -> Vec<String> {
    vec![s(&bin("ipcserver")), "-1".into()]
}

fn env_of(out: &str, prefixes: &[&str]) -> Vec<String> {
    env_lines(out, prefixes)
}

#[test]
fn behind_ipcserver_by_uid_gid_self_default() {
    if !have("s6-ipcclient") || !have("setpriv") {
        return;
    }
    // (rules, root allowed, nobody allowed, env a client gets)
    let cases: Vec<(Vec<R>, bool, bool)> = vec![
        (vec![allow("uid/0"), deny("uid/65534")], true, false),
        (vec![allow("gid/65534")], false, true),
        (vec![allow("uid/self")], true, false),
        (vec![allow("gid/self")], true, false),
        (vec![allow("uid/default")], true, true),
        (vec![deny("uid/65534"), allow("uid/default")], true, false),
        // uid beats gid, gid beats default, self beats everything.
        (vec![allow("uid/65534"), deny("gid/65534")], false, true),
        (vec![deny("gid/65534"), allow("uid/default")], true, false),
        (vec![deny("uid/self"), allow("uid/0")], false, false),
        (vec![], false, false),
    ];
    for (i, (rules, want_root, want_nobody)) in cases.into_iter().enumerate() {
        let d = Dir::new("rules");
        let rules: Vec<R> = rules
            .into_iter()
            .map(|r| {
                let k = r.key.clone();
                r.env("R_KEY", k.as_bytes())
            })
            .collect();
        make_rules(&d.path, &rules);
        let args = vec!["-v2".to_string(), "-i".into(), s(&d.path)];
        let (root, nobody, log) = serve_and_connect(&ipcserver(), &args, &["env"]);
        let msg = format!("case {i}: {rules:?}\nlog:\n{log}");
        assert_eq!(
            root.contains("PROTO=IPC"),
            want_root,
            "{msg}\nroot:\n{root}"
        );
        assert_eq!(
            nobody.contains("PROTO=IPC"),
            want_nobody,
            "{msg}\nnobody:\n{nobody}"
        );
        if want_nobody {
            assert!(nobody.contains("IPCREMOTEEUID=65534\n"), "{msg}");
            assert!(nobody.contains("R_KEY="), "{msg}");
        }
        if want_root {
            assert!(root.contains("IPCREMOTEEUID=0\n"), "{msg}");
            // Our ipcserver set IPCLOCALPATH to the path as given; -e keeps it.
            assert!(root.contains("/s\n"), "{msg}\n{root}");
        }
        let allows = log.matches("ipcserver-access: info: allow pid ").count();
        let denies = log.matches("ipcserver-access: info: deny pid ").count();
        assert_eq!(allows, want_root as usize + want_nobody as usize, "{msg}");
        assert_eq!(denies, 2 - allows, "{msg}");
    }
}

#[test]
fn env_dir_reaches_prog() {
    if !have("s6-ipcclient") || !have("setpriv") {
        return;
    }
    let d = Dir::new("rules");
    make_rules(
        &d.path,
        &[allow("uid/65534")
            .env("R_PLAIN", b"value\n")
            .env("R_TRIM", b"spaces \t\r\nsecond line\n")
            .env("R_NUL", b"a\0b")
            .env("R_EMPTYLINE", b"\n")
            .env("IPCCONNNUM", b"")
            .env(".R_DOT", b"hidden")],
    );
    let args = vec!["-i".to_string(), s(&d.path)];
    let (_, nobody, _) = serve_and_connect(&ipcserver(), &args, &["env"]);
    assert!(nobody.contains("R_PLAIN=value\n"), "{nobody}");
    assert!(nobody.contains("R_TRIM=spaces\n"), "{nobody}");
    assert!(nobody.contains("R_NUL=a\nb\n"), "{nobody}");
    assert!(nobody.contains("R_EMPTYLINE=\n"), "{nobody}");
    // An empty file unsets: ipcserver's IPCCONNNUM is gone.
    assert!(!nobody.contains("IPCCONNNUM="), "{nobody}");
    assert!(!nobody.contains("R_DOT"), "{nobody}");
}

#[test]
fn exec_rule_runs_execlineb() {
    if !have("s6-ipcclient") || !have("execlineb") || !have("setpriv") {
        return;
    }
    let d = Dir::new("rules");
    make_rules(
        &d.path,
        &[allow("uid/65534")
            .env("R_X", b"from-env")
            .exec("importas -i x R_X echo exec ${x}\n")],
    );
    let args = vec!["-i".to_string(), s(&d.path)];
    let (root, nobody, _) = serve_and_connect(&ipcserver(), &args, &["env"]);
    assert_eq!(nobody, "exec from-env\n");
    assert_eq!(root, "");
}

#[test]
fn exec_rule_without_execlineb_denies() {
    let d = Dir::new("rules");
    make_rules(&d.path, &[allow("uid/5").exec("echo hi\n")]);
    // A PATH with env in it but no execlineb.
    let p = d.join("bin");
    std::fs::create_dir(&p).unwrap();
    std::os::unix::fs::symlink("/usr/bin/env", p.join("env")).unwrap();
    let mut c = direct(&ours(), 5, 5, &["-l", "L", "-i", &s(&d.path), "env"], false);
    c.env("PATH", &p);
    let o = run_timeout(c, 10);
    o.assert_code(1);
    assert_eq!(o.out(), "", "prog must not run");
    assert!(
        o.err().starts_with("ipcserver-access: warning: deny pid ")
            && o.err().ends_with(
                " uid 5 gid 5: the rule has an exec script, and execlineb is not in PATH\n"
            ),
        "{}",
        o.err()
    );
}

#[test]
fn behind_s6_ipcserver() {
    if !have("s6-ipcserver") || !have("s6-ipcclient") || !have("setpriv") {
        return;
    }
    let d = Dir::new("rules");
    make_rules(
        &d.path,
        &[allow("uid/65534").env("R_A", b"1"), deny("uid/0")],
    );
    let args = vec!["-i".to_string(), s(&d.path)];
    let server = vec!["s6-ipcserver".to_string(), "-1".into()];
    let (root, nobody, log) = serve_and_connect(&server, &args, &["env"]);
    assert_eq!(root, "");
    assert!(nobody.contains("R_A=1\n"), "{nobody}");
    // s6-ipcserver sets no IPCLOCALPATH: it comes from getsockname on fd 0.
    let local = nobody
        .lines()
        .find(|l| l.starts_with("IPCLOCALPATH="))
        .unwrap_or_default();
    assert!(
        local.starts_with("IPCLOCALPATH=/tmp/ipct") && local.ends_with("-srv/s"),
        "{nobody}"
    );
    assert!(log.contains("ipcserver-access: info: allow pid "), "{log}");
}

#[test]
fn unix_proto_and_minus_e() {
    let d = Dir::new("rules");
    make_rules(&d.path, &[allow("uid/7").env("R_A", b"1")]);
    let mut c = direct(&ours(), 0, 0, &["-E", "-i", &s(&d.path), "env"], false);
    c.env_remove("PROTO")
        .env_remove("IPCREMOTEEUID")
        .env_remove("IPCREMOTEEGID")
        .env("PROTO", "UNIX")
        .env("UNIXREMOTEEUID", "7")
        .env("UNIXREMOTEEGID", "8")
        .env("UNIXREMOTEPATH", "/x")
        .env("UNIXLOCALPATH", "/y");
    let o = run_timeout(c, 10);
    o.assert_code(0);
    let env = env_of(&o.out(), &["UNIX", "PROTO", "R_", "IPC"]);
    // -E removes the UCSPI variables of $PROTO, and only those.
    assert_eq!(env, ["IPCCONNNUM=1", "IPCREMOTEPATH=", "R_A=1"]);
    let mut c = direct(
        &ours(),
        0,
        0,
        &["-l", "/here", "-i", &s(&d.path), "env"],
        false,
    );
    c.env("PROTO", "UNIX")
        .env("UNIXREMOTEEUID", "7")
        .env("UNIXREMOTEEGID", "8");
    let o = run_timeout(c, 10);
    o.assert_code(0);
    assert!(o.out().contains("UNIXLOCALPATH=/here\n"), "{}", o.out());
}

#[test]
fn logging_levels() {
    let d = Dir::new("rules");
    make_rules(&d.path, &[allow("uid/5"), deny("uid/6")]);
    let r = s(&d.path);
    let run = |uid: u32, v: &str| {
        let o = run_timeout(
            direct(
                &ours(),
                uid,
                9,
                &["-v", v, "-l", "L", "-i", &r, "true"],
                false,
            ),
            10,
        );
        outcome(&o)
    };
    assert_eq!(
        run(5, "1"),
        (
            Some(0),
            vec![],
            vec!["ipcserver-access: info: allow pid P uid 5 gid 9".to_string()]
        )
    );
    assert_eq!(run(5, "0"), (Some(0), vec![], vec![]));
    assert_eq!(run(6, "1"), (Some(1), vec![], vec![]));
    assert_eq!(
        run(6, "2").2,
        [format!(
            "ipcserver-access: info: deny pid P uid 6 gid 9: Permission denied (rule {r}/uid/6/deny)"
        )]
    );
    assert_eq!(
        run(7, "2").2,
        [format!(
            "ipcserver-access: info: deny pid P uid 7 gid 9: No such file or directory (no rule in {r})"
        )]
    );
    assert_eq!(
        run(5, "2").2,
        [format!(
            "ipcserver-access: info: allow pid P uid 5 gid 9 (rule {r}/uid/5/allow)"
        )]
    );
}

/// A mistyped `-i` is named at every connection, at the default verbosity (s6 is
/// silent), and the deny line at -v2 says no rule was found there.
#[test]
fn missing_rules_directory_is_named() {
    let d = Dir::new("rulez");
    let r = s(&d.join("rulez"));
    let run = |v: &str| {
        let o = run_timeout(
            direct(&ours(), 5, 9, &["-v", v, "-E", "-i", &r, "true"], false),
            10,
        );
        outcome(&o)
    };
    let warning = format!(
        "ipcserver-access: warning: rules directory {r} does not exist: every client is denied"
    );
    assert_eq!(run("1"), (Some(1), vec![], vec![warning.clone()]));
    assert_eq!(run("0"), (Some(1), vec![], vec![]));
    assert_eq!(
        run("2").2,
        [
            warning,
            format!(
                "ipcserver-access: info: deny pid P uid 5 gid 9: No such file or directory (no rule in {r})"
            )
        ]
    );
}

#[test]
fn bad_environment_and_usage() {
    let o = run_timeout(cmd(&[ours().as_str()]), 10);
    o.assert_code(100);
    // The reason, then the usage line.
    assert!(
        o.err().starts_with(
            "ipcserver-access: fatal: missing prog\nipcserver-access: usage: ipcserver-access "
        ),
        "{}",
        o.err()
    );
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[], "PROTO not set"),
        (&[("PROTO", "IPC")], "IPCREMOTEEUID not set"),
        (
            &[("PROTO", "IPC"), ("IPCREMOTEEUID", "+1")],
            "invalid $IPCREMOTEEUID",
        ),
        (
            &[("PROTO", "IPC"), ("IPCREMOTEEUID", "1")],
            "IPCREMOTEEGID not set",
        ),
        (
            &[
                ("PROTO", "IPC"),
                ("IPCREMOTEEUID", "1"),
                ("IPCREMOTEEGID", "4294967296"),
            ],
            "invalid $IPCREMOTEEGID",
        ),
    ];
    for (env, msg) in cases {
        let mut c = cmd(&[ours().as_str(), "true"]);
        c.env_clear().envs(env.iter().copied());
        let o = run_timeout(c, 10);
        o.assert_code(100);
        assert_eq!(o.err(), format!("ipcserver-access: fatal: {msg}\n"));
        if have("s6-ipcserver-access") {
            let mut c = cmd(&["s6-ipcserver-access", "true"]);
            c.env_clear().envs(env.iter().copied());
            let o = run_timeout(c, 10);
            o.assert_code(100);
            assert_eq!(o.err(), format!("s6-ipcserver-access: fatal: {msg}\n"));
        }
    }
}

#[test]
fn no_ruleset_allows_and_getsockname_needs_a_socket() {
    let o = run_timeout(direct(&ours(), 3, 3, &["-v2", "-l", "L", "env"], false), 10);
    o.assert_code(0);
    assert_eq!(
        outcome(&o).2,
        [
            "ipcserver-access: warning: invoked without a ruleset!",
            "ipcserver-access: info: allow pid P uid 3 gid 3"
        ]
    );
    if have("s6-ipcserver-access") {
        let o = run_timeout(
            direct(
                "s6-ipcserver-access",
                3,
                3,
                &["-v2", "-l", "L", "env"],
                false,
            ),
            10,
        );
        assert_eq!(
            outcome(&o).2,
            [
                "ipcserver-access: warning: invoked without a ruleset!",
                "ipcserver-access: info: allow pid P uid 3 gid 3"
            ]
        );
    }
    // -e without -l and no IPCLOCALPATH: fd 0 must be a socket. The allow line comes
    // first, as s6 logs it before looking at fd 0.
    let o = run_timeout(direct(&ours(), 3, 3, &["true"], false), 10);
    o.assert_code(111);
    let err = o
        .err()
        .replace(&format!("pid {} ", o_pid(&o.err())), "pid P ");
    assert_eq!(
        err,
        "ipcserver-access: info: allow pid P uid 3 gid 3\n\
         ipcserver-access: fatal: unable to get the local address of stdin: Socket operation on non-socket\n"
    );
    // An IPCLOCALPATH set by the server is kept.
    let mut c = direct(&ours(), 3, 3, &["env"], false);
    c.env("IPCLOCALPATH", "/given");
    let o = run_timeout(c, 10);
    o.assert_code(0);
    assert!(o.out().contains("IPCLOCALPATH=/given\n"));
}

/// Write a cdb with arbitrary (possibly invalid) values.
fn raw_cdb(path: &Path, recs: &[(&str, &[u8])]) {
    let recs: Vec<(Vec<u8>, Vec<u8>)> = recs
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.to_vec()))
        .collect();
    ipccore::formats::rulescdb::write_cdb(path, &recs, 0o644).unwrap();
}

#[test]
fn corrupt_and_missing_cdb() {
    let d = Dir::new("bad");
    let f = d.join("r.cdb");
    let run = |file: &Path| {
        let o = run_timeout(
            direct(&ours(), 1, 1, &["-l", "L", "-x", &s(file), "env"], false),
            10,
        );
        assert!(!o.err().contains("panicked"), "{}", o.err());
        o
    };
    let o = run(&d.join("none.cdb"));
    o.assert_code(111);
    assert_eq!(
        o.err(),
        format!(
            "ipcserver-access: fatal: unable to open cdb ruleset {}: No such file or directory\n",
            s(&d.join("none.cdb"))
        )
    );
    // Lengths that do not add up, env too long, an empty value, an unterminated env, a
    // value over s6's 8197 bytes (s6 checks the length before the tag: even a `D` value
    // that long is an error, not a denial).
    let long_deny = vec![b'D'; 8198];
    let bad: [(&[u8], &str); 6] = [
        (&long_deny, "value longer than 8197 bytes"),
        (b"A\x00\x05ab\x00\x00\x00", "value lengths do not add up"),
        (b"A\x00\x00\x00\x03ab", "value lengths do not add up"),
        (b"A\x20\x00", "env part longer than 4096 bytes"),
        (b"", "empty value"),
        (
            b"A\x00\x01X\x00\x00",
            "env part does not end with a NUL byte",
        ),
    ];
    for (v, why) in bad {
        raw_cdb(&f, &[("uid/1", v)]);
        let o = run(&f);
        o.assert_code(111);
        assert_eq!(
            o.err(),
            format!(
                "ipcserver-access: fatal: invalid rule uid/1 in cdb ruleset {}: {why}\n",
                s(&f)
            )
        );
        // s6 accepts an unterminated env and glues it to the next variable
        // ("XIPCLOCALPATH=L"); we refuse it.
        if !why.contains("NUL") && have("s6-ipcserver-access") {
            let o = run_timeout(
                direct(
                    "s6-ipcserver-access",
                    1,
                    1,
                    &["-l", "L", "-x", &s(&f), "env"],
                    false,
                ),
                10,
            );
            o.assert_code(111);
        }
    }
    // Truncated files.
    raw_cdb(&f, &[("uid/1", b"A\x00\x00\x00\x00")]);
    let good = std::fs::read(&f).unwrap();
    for len in [0, 100, 2047, good.len() - 3] {
        std::fs::write(&f, &good[..len]).unwrap();
        let o = run(&f);
        o.assert_code(111);
        assert!(
            o.err()
                .starts_with("ipcserver-access: fatal: invalid cdb ruleset "),
            "{len}: {}",
            o.err()
        );
        assert!(o.err().contains(&s(&f)), "{}", o.err());
    }
    // Random damage: never a panic, never an allow of a key that was a deny.
    raw_cdb(
        &f,
        &[("uid/1", b"D"), ("gid/1", b"D"), ("uid/default", b"D")],
    );
    let good = std::fs::read(&f).unwrap();
    let mut rng = XorShift(0x1234_5678);
    for _ in 0..40 {
        let mut b = good.clone();
        for _ in 0..4 {
            let x = rng.next();
            let i = (x as usize) % b.len();
            b[i] = (x >> 32) as u8;
        }
        std::fs::write(&f, &b).unwrap();
        let o = run(&f);
        assert!(
            matches!(o.code(), Some(1) | Some(111)),
            "{:?} {}",
            o.code(),
            o.err()
        );
    }
}

#[test]
fn fs_errors_name_the_path() {
    let d = Dir::new("fserr");
    make_rules(&d.path, &[allow("uid/3").env("BIG", &vec![b'x'; 5000])]);
    // uid/4 is a file, not a directory.
    std::fs::write(d.join("uid/4"), "").unwrap();
    let run = |uid: u32| {
        let o = run_timeout(
            direct(
                &ours(),
                uid,
                99,
                &["-l", "L", "-i", &s(&d.path), "env"],
                false,
            ),
            10,
        );
        assert!(!o.err().contains("panicked"), "{}", o.err());
        o
    };
    let o = run(3);
    o.assert_code(111);
    assert_eq!(
        o.err(),
        format!(
            "ipcserver-access: fatal: {}/uid/3/env/BIG: first line too long (over 4095 bytes)\n",
            s(&d.path)
        )
    );
    let o = run(4);
    o.assert_code(111);
    assert_eq!(
        o.err(),
        format!(
            "ipcserver-access: fatal: unable to check access rule {}/uid/4/allow: Not a directory\n",
            s(&d.path)
        )
    );
    // A missing rules directory holds no rule: deny (as s6).
    let o = run_timeout(
        direct(
            &ours(),
            3,
            3,
            &["-l", "L", "-i", &s(&d.join("none")), "env"],
            false,
        ),
        10,
    );
    o.assert_code(1);
    // An env directory the server's uid cannot read.
    if have("setpriv") {
        make_rules(&d.path, &[allow("uid/5").env("A", b"1")]);
        std::fs::set_permissions(d.join("uid/5/env"), std::fs::Permissions::from_mode(0o700))
            .unwrap();
        let o = run_timeout(
            direct(&ours(), 5, 5, &["-l", "L", "-i", &s(&d.path), "env"], true),
            10,
        );
        o.assert_code(111);
        assert_eq!(
            o.err(),
            format!(
                "ipcserver-access: fatal: unable to open directory {}/uid/5/env: Permission denied\n",
                s(&d.path)
            )
        );
    }
}

/// A generated rules directory: every key of a small universe is absent, allow (with
/// random env and sometimes an exec script) or deny.
fn generated_rules(seed: u64, with_exec: bool) -> Vec<R> {
    let mut rng = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut next = move || rng.next();
    let keys = [
        "uid/0",
        "uid/1",
        "uid/2",
        "uid/65534",
        "uid/self",
        "uid/default",
        "gid/0",
        "gid/1",
        "gid/2",
        "gid/65534",
        "gid/self",
    ];
    let contents: [&[u8]; 7] = [
        b"",
        b"v\n",
        b"two words  \t\n",
        b"a\0b",
        b"\n",
        b"x\ny\n",
        b"=eq",
    ];
    let mut rules = Vec::new();
    for k in keys {
        match next() % 3 {
            0 => {}
            1 => rules.push(deny(k)),
            _ => {
                let mut r = allow(k).env("R_KEY", k.as_bytes());
                for i in 0..next() % 3 {
                    r = r.env(&format!("R_{i}"), contents[(next() % 7) as usize]);
                }
                if with_exec && next() % 4 == 0 {
                    r = r.exec(&format!("echo exec {k}\n"));
                }
                rules.push(r);
            }
        }
    }
    rules
}

/// Our decision, env and log equal s6-ipcserver-access's, for generated rules and
/// (uid, gid) pairs, run as root and as nobody (which changes what `self` means), with
/// the rules as a directory and as a cdb made by s6.
#[test]
fn differential_against_s6() {
    if !have("s6-ipcserver-access") || !have("s6-accessrules-cdb-from-fs") || !have("execlineb") {
        return;
    }
    let nobody_ok = have("setpriv");
    let ids = [0u32, 1, 2, 65534];
    let mut compared = 0;
    for seed in 0..12u64 {
        let d = Dir::new("diff");
        let rules = generated_rules(seed, true);
        make_rules(&d.join("r"), &rules);
        let cdb = d.join("r.cdb");
        run_timeout(
            cmd(&["s6-accessrules-cdb-from-fs", &s(&cdb), &s(&d.join("r"))]),
            10,
        )
        .assert_code(0);
        std::fs::set_permissions(&cdb, std::fs::Permissions::from_mode(0o644)).unwrap();
        for (uid, gid) in ids.iter().flat_map(|&u| ids.iter().map(move |&g| (u, g))) {
            for nobody in [false, true] {
                if nobody && (!nobody_ok || (uid + gid) % 3 != 0) {
                    continue;
                }
                for (opt, path) in [("-i", d.join("r")), ("-x", cdb.clone())] {
                    for e in ["-e", "-E"] {
                        let args = ["-v2", e, "-l", "/L", opt, &s(&path), "env"];
                        let a = outcome(&run_timeout(
                            direct("s6-ipcserver-access", uid, gid, &args, nobody),
                            10,
                        ));
                        let b = without_reason(outcome(&run_timeout(
                            direct(&ours(), uid, gid, &args, nobody),
                            10,
                        )));
                        assert_eq!(
                            b, a,
                            "seed {seed} uid {uid} gid {gid} nobody {nobody} {opt} {e}\nrules: {rules:?}"
                        );
                        compared += 1;
                    }
                }
            }
        }
    }
    assert!(compared > 500, "{compared}");
}

/// A cdb made by s6-accessrules-cdb-from-fs read by ipcserver-access behind ipcserver,
/// and a cdb made by ipcrules-cdb read by s6-ipcserver-access behind s6-ipcserver: the
/// same decisions and env.
#[test]
fn interop_cdb_both_ways() {
    if !have("s6-accessrules-cdb-from-fs")
        || !have("s6-ipcserver-access")
        || !have("s6-ipcclient")
        || !have("s6-ipcserver")
        || !have("setpriv")
    {
        return;
    }
    let d = Dir::new("interop");
    let rules = vec![
        allow("uid/65534").env("R_A", b"nobody\n").env("R_U", b""),
        deny("uid/0"),
        allow("gid/0").env("R_A", b"gid0"),
        allow("uid/default"),
    ];
    make_rules(&d.join("r"), &rules);
    let theirs = d.join("s6.cdb");
    let mine = d.join("our.cdb");
    run_timeout(
        cmd(&["s6-accessrules-cdb-from-fs", &s(&theirs), &s(&d.join("r"))]),
        10,
    )
    .assert_code(0);
    std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o644)).unwrap();
    run_timeout(
        cmd(&[s(&bin("ipcrules-cdb")), s(&mine), s(&d.join("r"))]),
        10,
    )
    .assert_code(0);
    // Same records (cdbs may order them differently).
    assert_eq!(cdb_records(&theirs), cdb_records(&mine));

    // s6's cdb, our tools.
    let args = vec!["-x".to_string(), s(&theirs)];
    let (root_a, nobody_a, _) = serve_and_connect(&ipcserver(), &args, &["env"]);
    // Our cdb, s6's tools.
    let srv_d = Dir::new("s6srv");
    let sock = srv_d.join("s");
    let srv = Server::start(cmd(&[
        "s6-ipcserver",
        "-1",
        &s(&sock),
        "s6-ipcserver-access",
        "-x",
        &s(&mine),
        "env",
    ]));
    let root_b = client(&sock, false).out();
    let nobody_b = client(&sock, true).out();
    drop(srv);
    let keep = ["R_", "PROTO", "IPCREMOTEE"];
    assert_eq!(root_a, "");
    assert_eq!(root_b, "");
    assert_eq!(env_of(&nobody_a, &keep), env_of(&nobody_b, &keep));
    assert_eq!(
        env_of(&nobody_a, &keep),
        [
            "IPCREMOTEEGID=65534",
            "IPCREMOTEEUID=65534",
            "PROTO=IPC",
            "R_A=nobody"
        ]
    );
}

/// The records of a cdb, decoded, each rule's env sorted by name: s6's tool writes
/// the env in readdir order, ours sorted.
fn cdb_records(p: &Path) -> Vec<(Vec<u8>, Option<Rule>)> {
    let db = cdb2::CDB::open(p).unwrap();
    let mut v: Vec<_> = db
        .iter()
        .map(|r| {
            let (k, v) = r.unwrap();
            let mut rule = decode(&v).unwrap();
            if let Some(Rule::Allow { env, .. }) = rule.as_mut() {
                env.sort();
            }
            (k, rule)
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn ipcrules_cdb_matches_s6_tool() {
    let prog = s(&bin("ipcrules-cdb"));
    let d = Dir::new("mk");
    let r = d.join("r");
    for seed in 0..8 {
        make_rules(&r, &generated_rules(seed + 100, true));
        let mine = d.join("our.cdb");
        let o = run_timeout(cmd(&[prog.clone(), s(&mine), s(&r)]), 10);
        o.assert_code(0);
        assert_eq!(o.err(), "");
        assert_eq!(
            std::fs::metadata(&mine).unwrap().permissions().mode() & 0o7777,
            0o600,
            "without -m the cdb is 0600, as s6 leaves it"
        );
        if have("s6-accessrules-cdb-from-fs") {
            let theirs = d.join("s6.cdb");
            run_timeout(
                cmd(&["s6-accessrules-cdb-from-fs", &s(&theirs), &s(&r)]),
                10,
            )
            .assert_code(0);
            assert_eq!(cdb_records(&mine), cdb_records(&theirs), "seed {seed}");
        }
        std::fs::remove_dir_all(&r).unwrap();
    }
    let o = run_timeout(
        cmd(&[
            prog.clone(),
            "-m".into(),
            "600".into(),
            s(&d.join("our.cdb")),
            s(&d.path),
        ]),
        10,
    );
    // A top-level entry that is not a directory is an error, as in s6.
    o.assert_code(111);
    assert!(o.err().contains("unable to open directory"), "{}", o.err());
    // -m sets the mode; no temporary file is left behind.
    let clean = Dir::new("mk2");
    make_rules(&clean.join("r"), &[allow("uid/1")]);
    let o = run_timeout(
        cmd(&[
            prog.clone(),
            "-m".into(),
            "600".into(),
            s(&clean.join("x.cdb")),
            s(&clean.join("r")),
        ]),
        10,
    );
    o.assert_code(0);
    assert_eq!(clean.entries(), ["r", "x.cdb"]);
    assert_eq!(
        std::fs::metadata(clean.join("x.cdb"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o600
    );
}

#[test]
fn ipcrules_cdb_errors() {
    let prog = s(&bin("ipcrules-cdb"));
    let d = Dir::new("mkerr");
    let o = run_timeout(cmd(&[prog.clone(), s(&d.join("x.cdb"))]), 10);
    o.assert_code(100);
    assert_eq!(
        o.err(),
        "ipcrules-cdb: fatal: missing rulesdir\n\
         ipcrules-cdb: usage: ipcrules-cdb [ -m mode ] cdbfile rulesdir\n"
    );
    let o = run_timeout(
        cmd(&[prog.clone(), s(&d.join("x.cdb")), s(&d.join("none"))]),
        10,
    );
    o.assert_code(111);
    assert_eq!(
        o.err(),
        format!(
            "ipcrules-cdb: fatal: unable to open directory {}: No such file or directory\n",
            s(&d.join("none"))
        )
    );
    // Env over 4096 bytes in total cannot be stored: 100, as s6's tool.
    let mut r = allow("uid/1");
    for i in 0..3 {
        r = r.env(&format!("V{i}"), &vec![b'x'; 2000]);
    }
    make_rules(&d.join("r"), &[r]);
    let o = run_timeout(
        cmd(&[prog.clone(), s(&d.join("x.cdb")), s(&d.join("r"))]),
        10,
    );
    o.assert_code(100);
    assert_eq!(
        o.err(),
        format!(
            "ipcrules-cdb: fatal: {}/uid/1: env too big\n",
            s(&d.join("r"))
        )
    );
    // Nothing written, nothing left behind.
    assert_eq!(d.entries(), ["r"]);
}

/// The README's worked example: a service only the members of one group may use
/// (group 65534 here, so that the uid-65534 client is the member).
#[test]
fn readme_example_group_only() {
    if !have("s6-ipcclient") || !have("setpriv") {
        return;
    }
    let d = Dir::new("example");
    let rules = d.join("rules");
    for sub in ["gid/65534", "uid/default"] {
        std::fs::create_dir_all(rules.join(sub)).unwrap();
    }
    std::fs::write(rules.join("gid/65534/allow"), "").unwrap();
    std::fs::write(rules.join("uid/default/deny"), "").unwrap();
    chmod_tree(&rules);
    let cdb = d.join("rules.cdb");
    run_timeout(cmd(&[s(&bin("ipcrules-cdb")), s(&cdb), s(&rules)]), 10).assert_code(0);
    let args = vec!["-v2".to_string(), "-x".into(), s(&cdb)];
    let (root, nobody, log) = serve_and_connect(
        &ipcserver(),
        &args,
        &["sh", "-c", "echo hello $IPCREMOTEEUID"],
    );
    assert_eq!(nobody, "hello 65534\n");
    assert_eq!(root, "");
    assert!(
        // Behind a real socket, -v 2 also names the client's process and groups.
        log.contains(": info: deny pid ")
            && log.contains(" uid 0 gid 0 client pid ")
            && log.contains(": Permission denied"),
        "{log}"
    );
}

/// The s6-envdir reader against s6's own, on random file contents: spaces, tabs, CRs,
/// newlines, NULs, `=` and non-UTF-8 bytes, a few first lines near the 4095-byte limit.
/// Read from the directory (`-i`) and from a cdb made by s6's tool (`-x`).
#[test]
fn envdir_random_contents_against_s6() {
    if !have("s6-ipcserver-access") || !have("s6-accessrules-cdb-from-fs") {
        return;
    }
    let alphabet = b"ab \t\r\n\0=\xff\xc3";
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let mut next = move || rng.next();
    for seed in 0..30 {
        let d = Dir::new("envd");
        let mut r = allow("uid/1");
        for i in 0..5 {
            let len = if next() % 8 == 0 {
                4090 + (next() % 4) as usize
            } else {
                (next() % 40) as usize
            };
            let mut c: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            if len > 4000 {
                // Keep the first line within the limit, where both readers agree.
                c[100] = b'\n';
            }
            r = r.env(&format!("E{i}"), &c);
        }
        make_rules(&d.join("r"), &[r]);
        let cdb = d.join("r.cdb");
        run_timeout(
            cmd(&["s6-accessrules-cdb-from-fs", &s(&cdb), &s(&d.join("r"))]),
            10,
        )
        .assert_code(0);
        std::fs::set_permissions(&cdb, std::fs::Permissions::from_mode(0o644)).unwrap();
        for (opt, path) in [("-i", d.join("r")), ("-x", cdb.clone())] {
            let args = ["-v0", "-l", "L", opt, &s(&path), "env"];
            let a = run_timeout(direct("s6-ipcserver-access", 1, 1, &args, false), 10);
            let b = run_timeout(direct(&ours(), 1, 1, &args, false), 10);
            a.assert_code(0);
            b.assert_code(0);
            let sorted = |o: &std::process::Output| {
                let mut v: Vec<&[u8]> = o.stdout.split(|&c| c == b'\n').collect();
                v.sort();
                v.into_iter().map(<[u8]>::to_vec).collect::<Vec<_>>()
            };
            assert_eq!(sorted(&b), sorted(&a), "seed {seed} {opt}");
        }
    }
}

/// Behind ucspi-unix's unixserver: `PROTO=UNIX`, so the rules follow `UNIXREMOTEEUID`
/// and `-e` keeps the `UNIXLOCALPATH` it set.
#[test]
fn behind_unixserver_proto_unix() {
    if !have("unixserver") || !have("unixclient") || !have("setpriv") {
        return;
    }
    let d = Dir::new("ux");
    make_rules(
        &d.join("r"),
        &[allow("uid/65534").env("R_A", b"ux"), deny("uid/0")],
    );
    let sock = d.join("s");
    let mut c = cmd(&[
        "unixserver".to_string(),
        "--".into(),
        s(&sock),
        ours(),
        "-v2".into(),
        "-i".into(),
        s(&d.join("r")),
        "env".into(),
    ]);
    c.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut srv = c.spawn().unwrap();
    let ready = eventually(10, || {
        std::os::unix::net::UnixStream::connect(&sock).is_ok()
    });
    let argv = [
        "unixclient".to_string(),
        s(&sock),
        "sh".into(),
        "-c".into(),
        "exec cat <&6".into(),
    ];
    let root = ready.then(|| run_timeout(cmd(&argv), 10));
    let nobody = ready.then(|| run_timeout(as_nobody(&argv), 10));
    let _ = srv.kill();
    let log = wait_output(&mut srv, 10, "unixserver").err();
    assert!(ready, "unixserver never listened: {log}");
    let (root, nobody) = (root.unwrap(), nobody.unwrap());
    assert_eq!(root.out(), "", "{log}");
    let env = env_of(
        &nobody.out(),
        &["R_", "PROTO", "UNIXREMOTEE", "UNIXLOCALPATH"],
    );
    assert_eq!(
        env,
        [
            "PROTO=UNIX".to_string(),
            "R_A=ux".into(),
            "UNIXLOCALPATH=".to_string() + &s(&sock),
            "UNIXREMOTEEGID=65534".into(),
            "UNIXREMOTEEUID=65534".into()
        ],
        "{log}"
    );
    assert!(log.contains("ipcserver-access: info: deny pid "), "{log}");
}

/// The pid in the first `pid N` of a log.
fn o_pid(log: &str) -> String {
    log.split("pid ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap_or_default()
        .to_string()
}
