//! Tests: npt-listen, subscribing to several fifodirs, through execlineb's block syntax
//! and the internal argv form, woken by npt-notify and s6-ftrig-notify.

use crate::util::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fifodirs(d: &Dir, n: usize) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let f = d.join(format!("f{i}"));
            run_timeout(cmd(&[bin("npt-mkfifodir").as_os_str(), f.as_os_str()]), 10).assert_code(0);
            f
        })
        .collect()
}

fn sh(dir: &Path, script: &str) -> std::process::Output {
    let mut c = Command::new("sh");
    c.args(["-c", script])
        .current_dir(dir)
        .env("PATH", path_with_our_bins());
    run_timeout(c, 30)
}

fn fifo_count(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

#[test]
fn all_by_default_one_with_o() {
    let d = Dir::new("nlao");
    fifodirs(&d, 2);
    // -a (default): the first notification alone is not enough; the prog sends both.
    let out = sh(
        &d.path,
        r#"npt-listen -t 10000 " f0" " ^a" " f1" " b" "" sh -c 'npt-notify f1 b; npt-notify f0 a'; echo rc=$?"#,
    );
    assert_eq!(out.assert_code(0).out(), "rc=0\n");
    let out = sh(
        &d.path,
        r#"npt-listen -a -t 500 f0 a f1 b "" npt-notify f1 b; echo rc=$?"#,
    );
    assert_eq!(out.out(), "rc=1\n");
    assert_eq!(
        out.err(),
        "npt-listen: fatal: unable to get expected event: Connection timed out\n"
    );
    let out = sh(
        &d.path,
        r#"npt-listen -o -t 10000 f0 a f1 b "" npt-notify f1 b; echo rc=$?"#,
    );
    assert_eq!(out.out(), "rc=0\n");
    // Every fifo of ours is gone afterwards.
    assert_eq!(fifo_count(&d.join("f0")) + fifo_count(&d.join("f1")), 0);
}

#[test]
fn through_execlineb_blocks() {
    if !have("execlineb") {
        return;
    }
    let d = Dir::new("nlexec");
    fifodirs(&d, 3);
    let out = sh(
        &d.path,
        r#"execlineb -Pc 'npt-listen -t 10000 { f0 "x y" f1 b f2 c } foreground { npt-notify f0 "x y" } foreground { s6-ftrig-notify f1 b } npt-notify f2 c'; echo rc=$?"#,
    );
    assert_eq!(out.out(), "rc=0\n", "{}", out.err());
    let out = sh(
        &d.path,
        r#"execlineb -Pc 'npt-listen -o -t 10000 { f0 never f1 b } s6-ftrig-notify f1 b'; echo rc=$?"#,
    );
    assert_eq!(out.out(), "rc=0\n", "{}", out.err());
}

#[test]
fn prog_runs_after_subscribing_and_is_not_waited_for() {
    let d = Dir::new("nlprog");
    fifodirs(&d, 1);
    // The prog notifies at once: it only works if we listen before it runs. It then
    // lingers; npt-listen exits on the match without waiting for it.
    let out = sh(
        &d.path,
        r#"npt-listen -t 10000 f0 go "" sh -c 'npt-notify f0 go; exec sleep 3' >/dev/null; echo rc=$?"#,
    );
    assert_eq!(out.out(), "rc=0\n");
}

#[test]
fn sigterm_removes_our_fifos() {
    let d = Dir::new("nlterm");
    let f = fifodirs(&d, 2);
    let mut c = Command::new(bin("npt-listen"));
    c.args([
        f[0].as_os_str(),
        "a".as_ref(),
        f[1].as_os_str(),
        "b".as_ref(),
        "".as_ref(),
    ])
    .args(["sh", "-c", "echo ready"]);
    let srv = Server::start(c);
    assert!(eventually(10, || fifo_count(&f[0]) == 1 && fifo_count(&f[1]) == 1));
    let out = srv.stop_with(15);
    assert_eq!(out.status.code(), Some(111));
    assert_eq!(out.err(), "npt-listen: fatal: interrupted by SIGTERM\n");
    assert_eq!(fifo_count(&f[0]) + fifo_count(&f[1]), 0);
}

#[test]
fn bad_input() {
    let d = Dir::new("nlbad");
    fifodirs(&d, 1);
    let usage = |why: &str| {
        format!(
            "npt-listen: fatal: {why}\nnpt-listen: usage: npt-listen [ -a | -o ] [ -t timeout ] fifodir1 regexp1 ... \"\" prog...\n"
        )
    };
    for (args, code, err) in [
        (&[][..], 100, usage("too few arguments")),
        (&["f0", "a", ""][..], 100, usage("too few arguments")),
        (
            &["f0", "a", "f1", "", "p"][..],
            100,
            usage("the block is not fifodir regexp pairs"),
        ),
        (
            &["-t", "x", "f0", "a", "", "true"][..],
            100,
            usage("-t: x is not a number"),
        ),
        (
            &["-z", "f0", "a", "", "true"][..],
            100,
            usage("unknown option -z"),
        ),
        (
            &["f0", "a", "f1", "b", "true"][..],
            100,
            "npt-listen: fatal: unterminated fifodir+regex block\n".into(),
        ),
        (
            &["-t", "300", "none", "a", "", "true"][..],
            111,
            "npt-listen: fatal: unable to subscribe to none with regexp a: No such file or directory\n".into(),
        ),
        (
            &["-t", "300", "f0", "(", "", "true"][..],
            111,
            "npt-listen: fatal: unable to subscribe to f0 with regexp (: Invalid argument\n".into(),
        ),
        (
            &["-t", "300", "f0\x1b[2J", "a", "", "true"][..],
            111,
            "npt-listen: fatal: unable to subscribe to f0\\x1b[2J with regexp a: No such file or directory\n".into(),
        ),
        (
            &["-t", "300", "f0", "a", "", "/nonexistent"][..],
            111,
            "npt-listen: fatal: unable to spawn /nonexistent: No such file or directory\n".into(),
        ),
    ] {
        let mut c = Command::new(bin("npt-listen"));
        c.args(args).current_dir(&d.path);
        let out = run_timeout(c, 20);
        out.assert_code(code);
        assert_eq!(out.err(), err, "{args:?}");
    }
    assert_eq!(fifo_count(&d.join("f0")), 0);
}
