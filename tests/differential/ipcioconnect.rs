//! ipcioconnect against s6-ioconnect: options, exit codes, messages and behaviour.

use super::*;

/// Run `PROG ARGS…` through `sh -c SCRIPT` where the script says `"$P"` for the program
/// (ours or the peer) and `"$@"` for `args`, in `cwd`; normalised.
fn sh(prog: &str, script: &str, args: &[&str], cwd: &Path) -> Seen {
    let path: OsString = if prog.starts_with("s6-") {
        s6(prog)
    } else {
        bin(prog).into_os_string()
    };
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(script)
        .arg("sh")
        .args(args)
        .env("P", path)
        .env("PATH", peer_path())
        .current_dir(cwd);
    let out = run_timeout(c, 20);
    Seen::from(&out, prog, &[])
}

fn pair(script: &str, args: &[&str], cwd: &Path) -> (Seen, Seen) {
    (
        sh("ipcioconnect", script, args, cwd),
        sh("s6-ioconnect", script, args, cwd),
    )
}

row! { [V2_11, V2_15]
fn options_valid_edge_invalid() {
    if !have("s6-ioconnect") {
        return;
    }
    let d = Dir::new("dioc");
    let script = r#"exec "$P" "$@" 6</dev/null 7>/dev/null </dev/null"#;
    for args in [
        &[][..],
        &["-t", "0"],
        &["-t", "1000"],
        &["-t1000"],
        &["-0", "-1", "-6", "-7"],
        &["-0167"],
        &["-r", "6", "-w", "7"],
        &["--", "extra"],
        &["extra", "-x"],
        &["-t", "x"],
        &["-t", "-1"],
        &["-t"],
        &["-t", ""],
        &["-r", "2"],
        &["-w", "0"],
        &["-w", "-1"],
        &["-r", "abc"],
        &["-r", "9"],
        &["-w", "9"],
        &["-x"],
        &["-h"],
    ] {
        let (ours, peer) = pair(script, args, &d.path);
        let peer_norm = Seen {
            stderr: peer.stderr.replace("s6-ioconnect", "ipcioconnect"),
            ..peer
        };
        assert_eq!(without_reason(ours), peer_norm, "args {args:?}");
    }
}
}

row! { [V2_11, V2_15]
fn relays_files_and_fds_the_same() {
    if !have("s6-ioconnect") {
        return;
    }
    let d = Dir::new("diocf");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(d.join("a"), &data).unwrap();
    std::fs::write(d.join("b"), b"the other way\n").unwrap();
    let script = r#""$P" "$@" <a >outb 8<b 9>outa && cat outa outb"#;
    let (ours, peer) = pair(script, &["-r", "8", "-w", "9"], &d.path);
    assert_eq!(ours, peer);
    assert_eq!(ours.code, Some(0));
    assert!(ours.stdout.ends_with("the other way\n"));
}
}

row! { [V2_11, V2_15]
fn idle_timeout_is_exit_1_silently() {
    if !have("s6-ioconnect") {
        return;
    }
    let d = Dir::new("diocto");
    let script = r#"sleep 1 | { exec "$P" -t 200 6<&0 7>/dev/null; }"#;
    let (ours, peer) = pair(script, &[], &d.path);
    assert_eq!(ours, peer);
    assert_eq!(ours.code, Some(1));
}
}

row! { [V2_11, V2_15]
fn gone_reader_and_sigterm_as_s6() {
    if !have("s6-ioconnect") {
        return;
    }
    let d = Dir::new("diocsig");
    // SIGTERM: s6-ioconnect traps it and carries on, so do we.
    let script = r#"sleep 2 | { exec 3<&0; "$P" 6</dev/null 7>/dev/null <&3 & p=$!; sleep 0.5; kill -TERM $p; sleep 0.3; kill -0 $p && echo alive; wait $p; echo rc=$?; }"#;
    let (ours, peer) = pair(script, &[], &d.path);
    assert_eq!(ours, peer);
    assert_eq!(ours.stdout, "alive\nrc=0\n");
    // Downstream reader gone: that direction ends, exit 0 (warning or not, by timing).
    let script = r#"{ "$P" 6</dev/zero 7>/dev/null </dev/null 2>/dev/null; echo rc=$? >&2; } | head -c 1000 | wc -c"#;
    let (ours, peer) = pair(script, &[], &d.path);
    assert_eq!(ours, peer);
    assert_eq!(ours.stderr, "rc=0\n");
}
}

row! { [V2_11, V2_15]
fn one_fd_for_both_remote_ways_differs() {
    // ipcioconnect(1) COMPATIBILITY: with -r N -w N, s6-ioconnect closes N twice and
    // warns "unable to read from fd N: Bad file descriptor"; we relay through both.
    if !have("s6-ioconnect") {
        return;
    }
    let d = Dir::new("diocsame");
    let script = r#"exec "$P" -r 6 -w 6 6<>/dev/null </dev/null"#;
    let (ours, peer) = pair(script, &[], &d.path);
    assert_eq!(ours.code, Some(0));
    assert_eq!(ours.stderr, "");
    assert_eq!(peer.code, Some(0));
    assert_eq!(
        peer.stderr,
        "PROG: warning: unable to read from fd 6: Bad file descriptor\n"
    );
}
}

row! { [V2_11, V2_15]
/// fd 0 or 1 closed at start: the same refusal as s6-ioconnect (`unable to fstat fd N:
/// Bad file descriptor`, 111), not a relay to the Rust runtime's /dev/null.
fn closed_stdio_is_refused_as_s6() {
    if !have("s6-ioconnect") {
        return;
    }
    let d = Dir::new("dioclosed");
    for redir in ["<&-", ">&-"] {
        let script = format!("exec 6</dev/null 7>/dev/null; exec \"$P\" {redir}");
        let (ours, peer) = pair(&script, &[], &d.path);
        assert_eq!(ours, peer, "{redir}");
        assert_eq!(ours.code, Some(111), "{redir}: {ours:?}");
    }
}
}
