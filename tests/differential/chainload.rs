//! Every chain-loader is as transparent as exec(2): the program it runs sees the signal
//! mask and dispositions of the caller, SIGPIPE included, exactly as the program would
//! if the caller had executed it directly. The reference is the probe run straight
//! from the same caller; s6-ipcclient and s6-ipcserver-access (C programs) meet it too.

use super::probe::*;
use crate::util::*;
use std::path::Path;

const CALLERS: &[Caller] = &[
    Caller::PLAIN,
    Caller::HOSTILE,
    Caller {
        ignore: &["PIPE"],
        block: &[],
    },
    Caller {
        ignore: &["HUP", "QUIT", "TERM", "USR2", "ALRM", "CHLD", "TSTP"],
        block: &["INT", "PIPE", "HUP", "CHLD"],
    },
    Caller {
        ignore: &[],
        block: &["PIPE"],
    },
];

/// A chain-loader: its name, its argv before the next program, its environment.
type Loader = (&'static str, Vec<String>, Vec<(&'static str, &'static str)>);

/// The chain-loaders to check.
fn loaders(d: &Path) -> Vec<Loader> {
    let srv = d.join("srv").to_string_lossy().into_owned();
    let ucspi = vec![
        ("PROTO", "IPC"),
        ("IPCREMOTEEUID", "0"),
        ("IPCREMOTEEGID", "0"),
    ];
    let mut v = vec![
        ("ipcclient", vec!["ipcclient".into(), srv.clone()], vec![]),
        ("s6-ipcclient", vec!["s6-ipcclient".into(), srv], vec![]),
        (
            "ipcserver-access",
            vec!["ipcserver-access".into(), "-l".into(), "x".into()],
            ucspi.clone(),
        ),
        (
            "s6-ipcserver-access",
            vec!["s6-ipcserver-access".into(), "-l".into(), "x".into()],
            ucspi,
        ),
    ];
    // The ipcnotify pair forks its watcher first (NOTIFY_SOCKET set: the fork path).
    v.push((
        "ipcnotify-socket-from-fd",
        vec!["ipcnotify-socket-from-fd".into(), "-d".into(), "5".into()],
        vec![("NOTIFY_SOCKET", "/nonexistent/ipct-notify")],
    ));
    v.push((
        "ipcnotify-fd-from-socket",
        vec!["ipcnotify-fd-from-socket".into(), "-3".into(), "2".into()],
        vec![],
    ));
    for (i, kind) in ["stream", "seqpacket", "datagram"].iter().enumerate() {
        let name: &'static str = match i {
            0 => "local-stream-socket-listen",
            1 => "local-seqpacket-socket-listen",
            _ => "local-datagram-socket-listen",
        };
        v.push((
            name,
            vec![
                name.into(),
                d.join(format!("l-{kind}")).to_string_lossy().into_owned(),
            ],
            vec![],
        ));
    }
    v
}

fn sig_lines(out: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| l.starts_with("Sig"))
        .map(str::to_string)
        .collect()
}

row! { [V2_11, V2_15]
fn chain_loaders_pass_the_callers_signal_state() {
    if !have("s6-ipcserver") || !have("perl") {
        return;
    }
    let d = Dir::new("dch");
    let mut c = std::process::Command::new(s6("s6-ipcserver"));
    c.env("PATH", peer_path());
    c.arg("-1").arg(d.join("srv")).arg("true");
    let _srv = Server::start(c);
    let mut r = Report::default();
    for (i, caller) in CALLERS.iter().enumerate() {
        let direct = caller.probe_directly(&d.path);
        let want = sig_lines(&direct.stdout);
        assert_eq!(want.len(), 3, "probe output: {direct:?}");
        for (name, pre, env) in loaders(&d.path) {
            if name.starts_with("s6-") && !have(name) {
                continue;
            }
            let _ = std::fs::remove_file(d.join("l-stream"));
            let _ = std::fs::remove_file(d.join("l-seqpacket"));
            let _ = std::fs::remove_file(d.join("l-datagram"));
            let mut argv = pre.clone();
            argv.extend(probe(&d.path));
            let out = exec_case(&caller.wrap(&argv), &env, &[], Stdin::Socket, &d.path);
            r.check(
                &format!("{name} caller {i}"),
                "exit code",
                &out.status.code(),
                &Some(0),
            );
            r.check(
                &format!("{name} caller {i}"),
                "next program's Sig lines",
                &sig_lines(&out.stdout),
                &want,
            );
        }
    }
    r.finish("chain-loaders");
}
}

/// The fd lines (`fd N …`) of a probe's report.
fn fd_lines(report: &str) -> Vec<String> {
    report
        .lines()
        .filter(|l| l.starts_with("fd "))
        .map(str::to_string)
        .collect()
}

/// The `fd 0`, `fd 1`, `fd 2` lines of a probe's report.
fn stdio_lines(report: &str) -> Vec<String> {
    fd_lines(report)
        .into_iter()
        .filter(|l| ["fd 0 ", "fd 1 ", "fd 2 "].iter().any(|p| l.starts_with(p)))
        .collect()
}

/// Run `argv` with `redir` (`>&-`, `<&-`, `2>&-`) applied by the shell that execs it,
/// the probe at its end reporting into `out`; return the exit code and the report.
fn closed_case(
    argv: &[String],
    env: &[(&str, &str)],
    redir: &str,
    d: &Path,
    out: &Path,
) -> (Option<i32>, String) {
    let _ = std::fs::remove_file(out);
    let mut sh = vec![
        "sh".to_string(),
        "-c".into(),
        format!("exec \"$@\" {redir}"),
        "sh".into(),
    ];
    sh.push(resolve(&argv[0]).to_string_lossy().into_owned());
    sh.extend(argv[1..].iter().cloned());
    let mut env = env.to_vec();
    let o = out.to_string_lossy().into_owned();
    env.push(("PROBE_OUT", &o));
    let got = exec_case(&sh, &env, &[], Stdin::Socket, d);
    (
        got.status.code(),
        std::fs::read_to_string(out).unwrap_or_default(),
    )
}

row! { [V2_11, V2_15]
/// A chain-loader started with fd 0, 1 or 2 closed hands it on closed, as s6's do (and
/// as an exec would): the Rust runtime's /dev/null there is closed again before the
/// exec. Each of ours is compared with its s6 counterpart, or (the nosh-style
/// listeners) with the probe run directly.
fn closed_stdio_stays_closed() {
    if !have("s6-ipcserver")
        || !have("s6-ftrig-listen1")
        || !have("s6-fdholder-retrieve")
        || !have("perl")
    {
        return;
    }
    let d = Dir::new("dclosed");
    // An fd held by ipcfdholderd, for the ipcfdholder-retrieve pair.
    crate::ipcfdholder::rules(&d.join("rules"), "uid/0", crate::ipcfdholder::ALL);
    let holder = d.join("fdh");
    let _fdh = crate::ipcfdholder::daemon(
        crate::ipcfdholder::Side::Ours,
        &holder,
        &["-i", d.join("rules").to_str().unwrap()],
    );
    let holder = holder.to_string_lossy().into_owned();
    crate::differential::run("ipcfdholder-store", &[&holder, "held"], &[], b"x", &d.path).assert_code(0);
    let mut c = std::process::Command::new(s6("s6-ipcserver"));
    c.env("PATH", peer_path());
    c.arg("-1").arg(d.join("srv")).arg("true");
    let _srv = Server::start(c);
    let fifo = d.join("f");
    let out = d.join("report");
    std::process::Command::new(s6("s6-mkfifodir")).arg(&fifo).status().unwrap();
    let f = fifo.to_string_lossy().into_owned();
    let connlimit_env = vec![("PROTO", "IPC"), ("IPCCONNNUM", "1")];
    let mut pairs: Vec<(Loader, Option<Loader>)> = Vec::new();
    let mut ls = loaders(&d.path).into_iter();
    while let Some(l) = ls.next() {
        if l.0.starts_with("local-") {
            pairs.push((l, None));
        } else if l.0 == "ipcnotify-socket-from-fd" {
            // s6 2.15.1.0 makes its pipe on the lowest free fds, so prog loses its
            // notification fd when one of 0-2 was closed: ours is held to the probe run
            // directly (ipcnotify-socket-from-fd(1) COMPATIBILITY).
            assert_documented("ipcnotify-socket-from-fd", "prog starts without the notification fd");
            ls.next();
            pairs.push((l, None));
        } else {
            let peer = ls.next().unwrap();
            pairs.push((l, Some(peer)));
        }
    }
    pairs.push((
        ("ipcconnlimit", vec!["ipcconnlimit".into()], connlimit_env.clone()),
        Some(("s6-connlimit", vec!["s6-connlimit".into()], connlimit_env)),
    ));
    let sb = d.join("sb").to_string_lossy().into_owned();
    pairs.push((
        (
            "ipcserver-socketbinder",
            vec!["ipcserver-socketbinder".into(), sb.clone()],
            vec![],
        ),
        Some((
            "s6-ipcserver-socketbinder",
            vec!["s6-ipcserver-socketbinder".into(), sb],
            vec![],
        )),
    ));
    pairs.push((
        ("npt-wait", vec!["npt-wait".into(), "-t".into(), "300".into(), f.clone(), "x".into()], vec![]),
        Some(("s6-ftrig-listen1", vec!["s6-ftrig-listen1".into(), "-t".into(), "300".into(), f, "x".into()], vec![])),
    ));
    pairs.push((
        (
            "ipcfdholder-retrieve",
            vec!["ipcfdholder-retrieve".into(), holder.clone(), "held".into()],
            vec![],
        ),
        Some((
            "s6-fdholder-retrieve",
            vec!["s6-fdholder-retrieve".into(), holder, "held".into()],
            vec![],
        )),
    ));
    let mut r = Report::default();
    for redir in [">&-", "<&-", "2>&-"] {
        let direct = closed_case(&probe(&d.path), &[], redir, &d.path, &out);
        assert_eq!(direct.0, Some(0), "{redir}: {direct:?}");
        let want = stdio_lines(&direct.1);
        for (ours, peer) in &pairs {
            let run = |l: &Loader| {
                for p in ["l-stream", "l-seqpacket", "l-datagram", "sb"] {
                    let _ = std::fs::remove_file(d.join(p));
                }
                let mut argv = l.1.clone();
                argv.extend(probe(&d.path));
                closed_case(&argv, &l.2, redir, &d.path, &out)
            };
            let a = run(ours);
            let case = format!("{} {redir}", ours.0);
            r.check(&case, "the probe ran", &!a.1.is_empty(), &true);
            match peer {
                Some(p) => {
                    let b = run(p);
                    r.check(&case, "exit code", &a.0, &b.0);
                    r.check(&case, "next program's fds", &fd_lines(&a.1), &fd_lines(&b.1));
                }
                None => {
                    r.check(&case, "exit code", &a.0, &Some(0));
                    r.check(&case, "next program's fds 0-2", &stdio_lines(&a.1), &want);
                }
            }
        }
    }
    r.finish("closed stdio");
}
}
