//! npt-listen against s6-ftrig-listen: argument and block forms, exit codes, messages,
//! -a/-o behaviour, through execlineb too.

use super::probe::assert_documented;
use super::*;

/// Run `script` in `cwd` with `$L` set to ours, then to the peer.
fn both(script: &str, cwd: &Path) -> (Seen, Seen) {
    (
        sh("npt-listen", script, cwd),
        sh("s6-ftrig-listen", script, cwd),
    )
}

/// Run `script` with `$L` set to ours or the peer, in `cwd`.
fn sh(prog: &str, script: &str, cwd: &Path) -> Seen {
    let path: OsString = if prog.starts_with("s6-") {
        s6(prog)
    } else {
        bin(prog).into_os_string()
    };
    let ours_dir = bin("ipcserver").parent().unwrap().display().to_string();
    let mut c = Command::new("sh");
    c.args(["-c", script])
        .env("L", path)
        .env(
            "PATH",
            format!("{ours_dir}:{}", peer_path().to_string_lossy()),
        )
        .current_dir(cwd);
    let out = run_timeout(c, 30);
    let s = Seen::from(&out, prog, &[]);
    Seen {
        stderr: s.stderr.replace("s6-ftrig-listen", "npt-listen"),
        ..s
    }
}

fn fifodirs(d: &Dir) {
    for f in ["f1", "f2"] {
        run_timeout(
            cmd(&[s6("s6-mkfifodir").as_os_str(), d.join(f).as_os_str()]),
            10,
        )
        .assert_code(0);
    }
}

row! { [V2_11, V2_15]
fn arguments_codes_and_messages_as_s6() {
    if !have("s6-ftrig-listen") {
        return;
    }
    let d = Dir::new("dnl");
    fifodirs(&d);
    for args in [
        r#""#,
        r#"-t 300 f1 a "" true x"#,
        r#"-t 300 " f1" " a" "" true"#,
        r#"-t 300 " f1" " a" f2 "" true"#,
        r#"-t 300 f1 a f2 b true"#,
        r#"-t 300 f1 a f2 true"#,
        r#"-t 300 f1 a """#,
        r#"-t x f1 a "" true"#,
        r#"-t -1 f1 a "" true"#,
        r#"-x f1 a "" true"#,
        r#"-t 300 nonexist a "" true"#,
        r#"-t 300 f1 '(' "" true"#,
        r#"-t 300 f1 a "" /nonexistent"#,
        r#"-o -t 5000 f1 a f2 b "" s6-ftrig-notify f2 b"#,
        r#"-a -t 500 f1 a f2 b "" s6-ftrig-notify f2 b"#,
        r#"-a -t 5000 f1 a f2 b "" sh -c 's6-ftrig-notify f2 b; s6-ftrig-notify f1 xa'"#,
        r#"-o -a -t 500 f1 a f2 b "" s6-ftrig-notify f2 b"#,
        r#"-a -o -t 5000 f1 a f2 b "" s6-ftrig-notify f2 b"#,
        r#"-t 5000 -- f1 a "" s6-ftrig-notify f1 a"#,
    ] {
        let (ours, peer) = both(&format!(r#""$L" {args}; echo rc=$?"#), &d.path);
        if same_refusal_2_15(&ours, &peer) {
            continue;
        }
        assert_eq!(without_reason(ours), peer, "args: {args}");
    }
}
}

row! { [V2_11, V2_15]
/// s6 2.15's long options (`--timeout=`, `--and`, `--or`): taken as 2.15 takes them;
/// 2.11 refuses them (usage, 100), ours does not (npt-listen(1) COMPATIBILITY).
fn long_options_as_2_15() {
    if !have("s6-ftrig-listen") {
        return;
    }
    assert_documented("npt-listen", "accepted as by s6 2.15");
    let d = Dir::new("dnllong");
    fifodirs(&d);
    for args in [
        r#"--timeout=300 f1 a "" true"#,
        r#"--or --timeout=5000 f1 a f2 b "" s6-ftrig-notify f2 b"#,
        r#"--and --timeout=500 f1 a f2 b "" s6-ftrig-notify f2 b"#,
        r#"--or --and --timeout=500 f1 a f2 b "" s6-ftrig-notify f2 b"#,
    ] {
        let (ours, peer) = both(&format!(r#""$L" {args}; echo rc=$?"#), &d.path);
        if peer_is(S6::V2_15) {
            assert_eq!(ours, peer, "args: {args}");
        } else {
            assert_eq!(peer.stdout, "rc=100\n", "args: {args}");
            assert_ne!(ours.stdout, "rc=100\n", "args: {args}");
        }
    }
}
}

row! { [V2_11, V2_15]
fn execlineb_blocks_as_s6() {
    if !have("s6-ftrig-listen") || !have("execlineb") {
        return;
    }
    let d = Dir::new("dnlexec");
    fifodirs(&d);
    for block in [
        r#"-o -t 5000 { f1 a f2 b } s6-ftrig-notify f1 a"#,
        r#"-t 5000 { f1 "a b" f2 c } foreground { s6-ftrig-notify f1 "a b" } s6-ftrig-notify f2 c"#,
        r#"-t 300 { f1 a f2 } true"#,
        r#"-t 300 { } true"#,
    ] {
        let script = format!(
            r#"execlineb -Pc "\"$L\" {}"; echo rc=$?"#,
            block.replace('"', "\\\"")
        );
        let (ours, peer) = both(&script, &d.path);
        assert_eq!(without_reason(ours), peer, "block: {block}");
    }
}
}

row! { [V2_11, V2_15]
/// prog's ignored signals: npt-listen hands on its caller's (what the probe shows run
/// directly); s6-ftrig-listen spawns prog with posix_spawn, which also leaves glibc's
/// signals 32 and 33 ignored (npt-listen(1) COMPATIBILITY).
fn prog_signal_state() {
    if !have("s6-ftrig-listen") || !have("perl") {
        return;
    }
    assert_documented("npt-listen", "leaves glibc's internal signals 32 and 33 ignored");
    let d = Dir::new("dnlsig");
    fifodirs(&d);
    let caller = super::probe::Caller {
        ignore: &["INT", "USR2"],
        block: &[],
    };
    let probe = super::probe::probe(&d.path);
    let sig_ign = |s: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix("SigIgn:\t"))
            .and_then(|v| u64::from_str_radix(v, 16).ok())
    };
    let direct = super::probe::exec_case(
        &caller.wrap(&probe),
        &[],
        &[],
        super::probe::Stdin::Null,
        &d.path,
    );
    let direct = sig_ign(&String::from_utf8_lossy(&direct.stdout)).unwrap();
    assert_eq!(direct & 0x1_8000_0000, 0, "the caller resets 32 and 33: {direct:x}");
    for (prog, want) in [
        ("npt-listen", direct),
        ("s6-ftrig-listen", direct | 0x1_8000_0000),
    ] {
        let mut argv = vec![prog.to_string(), "-t".into(), "300".into(), "f1".into(), "x".into(), "".into()];
        argv.extend(probe.iter().cloned());
        let out = super::probe::exec_case(
            &caller.wrap(&argv),
            &[],
            &[],
            super::probe::Stdin::Null,
            &d.path,
        );
        assert_eq!(sig_ign(&String::from_utf8_lossy(&out.stdout)), Some(want), "{prog}: {out:?}");
    }
}
}
