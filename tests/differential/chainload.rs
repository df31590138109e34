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
    c.arg("-1").arg(d.join("srv")).arg("true");
    let _srv = Server::start(c);
    let mut r = Report::default();
    for (i, caller) in CALLERS.iter().enumerate() {
        let direct = exec_case(
            &caller.wrap(&probe(&d.path)),
            &[],
            &[],
            Stdin::Null,
            &d.path,
        );
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
