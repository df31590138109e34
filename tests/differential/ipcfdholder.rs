//! Differential rows for the fd holder: each client and daemon program against its
//! s6-fdholder namesake (usage, bad options, bad environment, messages, exit codes),
//! both clients talking to the same daemon.

use super::{Seen, run};
use crate::ipcfdholder::{ALL, Side, client, daemon, have_s6, rules};
use crate::util::*;
use std::path::Path;

/// Run `ours` and `peer` with the same arguments and environment; every mention of
/// either program name becomes `PROG`.
fn pair(name: &str, args: &[&str], env: &[(&str, &str)], cwd: &Path) -> (Seen, Seen) {
    let ours = format!("ipcfdholder{name}");
    let peer = format!("s6-fdholder{name}");
    let a = run(&ours, args, env, b"", cwd);
    let b = run(&peer, args, env, b"", cwd);
    (
        Seen::from(&a, &ours, &[(&ours, "PROG")]),
        Seen::from(&b, &peer, &[(&peer, "PROG")]),
    )
}

fn same(name: &str, args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Seen {
    let (a, b) = pair(name, args, env, cwd);
    assert_eq!(a, b, "ipcfdholder{name} vs s6-fdholder{name} {args:?}");
    a
}

/// The COMPATIBILITY text of every page about usage errors.
const REASON_FIRST: &str = "reported with its reason before the usage line";

/// A refused command line: both exit 100; s6 prints its usage line alone, we print
/// `PROG: fatal: REASON`, then the same usage line (every page's COMPATIBILITY says so).
fn refused(name: &str, args: &[&str], cwd: &Path, reason: &str) {
    let (ours, peer) = pair(name, args, &[], cwd);
    let what = format!("ipcfdholder{name} {args:?}");
    assert_eq!(peer.code, Some(100), "{what}: peer {peer:?}");
    assert!(
        peer.stderr.starts_with("PROG: usage: PROG [") && peer.stderr.lines().count() == 1,
        "{what}: peer {peer:?}"
    );
    assert_eq!(ours.code, Some(100), "{what}: {ours:?}");
    assert_eq!(
        ours.stderr,
        format!("PROG: fatal: {reason}\n{}", peer.stderr),
        "{what}"
    );
    assert_eq!(ours.stdout, peer.stdout, "{what}");
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("doc/ipcfdholder{name}.1"));
    let page = std::fs::read_to_string(&page).unwrap();
    assert!(
        page.contains(REASON_FIRST),
        "{what}: the page does not say so"
    );
}

row! { [V2_11, V2_15]
fn usage_and_bad_options_as_s6() {
    if !have_s6() {
        return;
    }
    let d = Dir::new("dfh-use");
    for (name, missing) in [
        ("-daemon", "missing path"),
        ("d", ""),
        ("-store", "missing socket"),
        ("-retrieve", "missing socket"),
        ("-delete", "missing socket"),
        ("-list", "missing socket"),
        ("-getdump", "missing socket"),
        ("-setdump", "missing socket"),
        ("-transferdump", "missing socketfrom"),
    ] {
        // s6-fdholderd without arguments complains about rules, not usage.
        if name != "d" {
            refused(name, &[], &d.path, missing);
        }
        let bad_t = if name == "-transferdump" {
            "-t: x is not timeoutfrom:timeoutto (milliseconds, either may be empty)"
        } else {
            "-t: x is not a number"
        };
        refused(name, &["-t", "x", "a", "b", "c"], &d.path, bad_t);
        refused(name, &["-Z", "a", "b", "c"], &d.path, "unknown option -Z");
    }
    // transferdump's -t from:to.
    for bad in ["", "x", "5:x", "5;7"] {
        let shown = if bad.is_empty() { "\"\"" } else { bad };
        refused(
            "-transferdump",
            &["-t", bad, "a", "b"],
            &d.path,
            &format!(
                "-t: {shown} is not timeoutfrom:timeoutto (milliseconds, either may be empty)"
            ),
        );
    }
}
}

row! { [V2_11, V2_15]
fn daemon_refusals_as_s6() {
    if !have_s6() {
        return;
    }
    let d = Dir::new("dfh-dmn");
    let s = same("d", &[], &[], &d.path);
    assert_eq!(
        (s.code, s.stderr.as_str()),
        (Some(100), "PROG: fatal: no access rights specified!\n")
    );
    let s = same("-daemon", &["sock"], &[], &d.path);
    assert_eq!(s.code, Some(100));
    // stdin is a pipe here.
    let s = same("d", &["-i", "rules"], &[], &d.path);
    assert_eq!(
        (s.code, s.stderr.as_str()),
        (Some(100), "PROG: fatal: stdin is not a socket\n")
    );
}
}

row! { [V2_11, V2_15]
fn client_messages_as_s6() {
    if !have_s6() {
        return;
    }
    let d = Dir::new("dfh-cli");
    let none = d.join("none");
    let none = none.to_str().unwrap();
    // No daemon there.
    for name in ["-store", "-delete", "-list", "-setdump"] {
        let s = same(name, &[none, "id"], &[("S6_FD#", "0")], &d.path);
        assert_eq!(s.code, Some(111));
        assert_eq!(
            s.stderr,
            format!(
                "PROG: fatal: unable to connect to a fd-holder daemon at {none}: No such file or directory\n"
            )
        );
    }
    let s = same("-transferdump", &[none, none], &[], &d.path);
    assert_eq!(s.code, Some(111));
    assert!(
        s.stderr
            .contains("unable to connect to a source fd-holder daemon")
    );

    // A live daemon (ours), both clients against it.
    rules(&d.join("rules"), "uid/0", ALL);
    let sock = d.join("s");
    let s6 = sock.to_str().unwrap();
    let _srv = daemon(
        Side::Ours,
        &sock,
        &["-i", d.join("rules").to_str().unwrap()],
    );
    // setdump's environment, read in s6's order.
    let s = same("-setdump", &[s6], &[], &d.path);
    assert_eq!(
        (s.code, s.stderr.as_str()),
        (Some(100), "PROG: fatal: S6_FD# not set\n")
    );
    let s = same("-setdump", &[s6], &[("S6_FD#", "x")], &d.path);
    assert_eq!(
        (s.code, s.stderr.as_str()),
        (Some(100), "PROG: fatal: invalid $S6_FD#\n")
    );
    let s = same("-setdump", &[s6], &[("S6_FD#", "1")], &d.path);
    assert_eq!(
        (s.code, s.stderr.as_str()),
        (Some(100), "PROG: fatal: S6_FD_0 not set\n")
    );
    let env = [("S6_FD#", "1"), ("S6_FD_0", "0"), ("S6_FDID_0", "")];
    let s = same("-setdump", &[s6], &env, &d.path);
    assert_eq!(
        (s.code, s.stderr.as_str()),
        (Some(100), "PROG: fatal: invalid $S6_FDID_0\n")
    );
    let env = [
        ("S6_FD#", "1"),
        ("S6_FD_0", "0"),
        ("S6_FDID_0", "i"),
        ("S6_FDLIMIT_0", "@12"),
    ];
    let s = same("-setdump", &[s6], &env, &d.path);
    assert_eq!(s.code, Some(100));
    let s = same("-setdump", &[s6], &[("S6_FD#", "0")], &d.path);
    assert_eq!(s.code, Some(0));
    // Missing identifier, exec failures, list of nothing.
    let s = same("-retrieve", &[s6, "nope", "true"], &[], &d.path);
    assert_eq!(s.code, Some(1));
    run("ipcfdholder-store", &[s6, "held"], &[], b"", &d.path).assert_code(0);
    let s = same("-store", &[s6, "held"], &[], &d.path);
    assert_eq!(
        (s.code, s.stderr.as_str()),
        (
            Some(1),
            "PROG: fatal: unable to store fd: Device or resource busy\n"
        )
    );
    let s = same(
        "-retrieve",
        &[s6, "held", "/nonexistent/prog"],
        &[],
        &d.path,
    );
    assert_eq!(s.code, Some(127));
    let s = same("-list", &[s6], &[], &d.path);
    assert_eq!((s.code, s.stdout.as_str()), (Some(0), "held\n"));
    let s = same("-getdump", &[s6, "/nonexistent/prog"], &[], &d.path);
    assert_eq!(s.code, Some(127));
}
}

row! { [V2_11, V2_15]
/// s6-fdholder-delete 2.11.3.2 names the socket where the identifier belongs; ours
/// names the identifier, as 2.15 does (fixed upstream). See ipcfdholder-delete(1),
/// COMPATIBILITY.
fn delete_message_names_the_identifier() {
    if !have_s6() {
        return;
    }
    let d = Dir::new("dfh-del");
    rules(&d.join("rules"), "uid/0", ALL);
    let sock = d.join("s");
    let s6 = sock.to_str().unwrap();
    let _srv = daemon(
        Side::Ours,
        &sock,
        &["-i", d.join("rules").to_str().unwrap()],
    );
    let (ours, peer) = pair("-delete", &[s6, "nope"], &[], &d.path);
    assert_eq!((ours.code, peer.code), (Some(1), Some(1)));
    assert_eq!(
        ours.stderr,
        "PROG: fatal: unable to delete fd for id nope: No such file or directory\n"
    );
    if peer_is(S6::V2_15) {
        assert_eq!(ours.stderr, peer.stderr);
    } else {
        assert_eq!(
            peer.stderr,
            format!("PROG: fatal: unable to delete fd for id {s6}: No such file or directory\n")
        );
    }
}
}

row! { [V2_11, V2_15]
/// `-b 0`: ours listens with a backlog of 1 and serves; s6's socket binder does not
/// listen at all, and s6-fdholderd exits 111. See ipcfdholder-daemon(1), COMPATIBILITY.
fn daemon_backlog_0_means_1() {
    if !have_s6() {
        return;
    }
    let d = Dir::new("dfh-b0");
    rules(&d.join("rules"), "uid/0", ALL);
    let r = d.join("rules");
    let r = r.to_str().unwrap();
    let sock = d.join("s");
    let _srv = daemon(Side::Ours, &sock, &["-b", "0", "-i", r]);
    client(Side::Ours, "list", &[&sock], None).assert_code(0);
    let theirs = d.join("s6");
    let out = run(
        "s6-fdholder-daemon",
        &["-1", "-b", "0", "-i", r, theirs.to_str().unwrap()],
        &[],
        b"",
        &d.path,
    );
    out.assert_code(111);
    assert!(
        out.err()
            .contains("s6-fdholderd: fatal: unable to accept: Invalid argument"),
        "{}",
        out.err()
    );
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/ipcfdholder-daemon.1");
    let page = std::fs::read_to_string(page).unwrap();
    assert!(page.contains("s6's socket binder does not listen then"));
}
}

/// The daemon's log, against s6-fdholderd 2.11 (Debian), at verbosity 0, 1 and 2: a
/// store, a list, a refused client and SIGTERM leave both logs the same (empty), and
/// both exit 1 (fds still held). Our extra lines start at `-v 3` (ipcfdholderd(1)).
#[test]
fn daemon_log_as_s6_at_each_verbosity() {
    if !have_s6() {
        return;
    }
    for v in ["0", "1", "2"] {
        let mut logs = Vec::new();
        for side in [Side::Ours, Side::S6] {
            let d = Dir::new("dfh-log");
            rules(&d.join("rules"), "uid/0", ALL);
            let r = d.join("rules");
            let sock = d.join("s");
            let srv = daemon(side, &sock, &["-v", v, "-i", r.to_str().unwrap()]);
            let (_r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
            client(Side::Ours, "store", &[&sock, &"pipe:x"], Some(w)).assert_code(0);
            client(Side::Ours, "list", &[&sock], None).assert_code(0);
            let bin = crate::ipcfdholder::prog(Side::Ours, "list");
            let o = run_timeout(as_nobody(&[bin.as_os_str(), sock.as_os_str()]), 20);
            o.assert_code(1);
            let out = srv.stop_with(libc::SIGTERM);
            logs.push((out.status.code(), out.err()));
        }
        assert_eq!(logs[0], logs[1], "-v {v}: ours, then s6-fdholderd");
        assert_eq!(logs[0], (Some(1), String::new()), "-v {v}");
    }
    // Our addition, -v 3: the clients allowed and SIGTERM.
    let d = Dir::new("dfh-log3");
    rules(&d.join("rules"), "uid/0", ALL);
    let r = d.join("rules");
    let sock = d.join("s");
    let srv = daemon(Side::Ours, &sock, &["-v", "3", "-i", r.to_str().unwrap()]);
    client(Side::Ours, "list", &[&sock], None).assert_code(0);
    assert!(eventually(10, || srv.log().contains("allow")));
    let out = srv.stop_with(libc::SIGTERM);
    assert_eq!(
        out.err(),
        "ipcfdholderd: info: allow uid 0 gid 0\n\
         ipcfdholderd: info: received SIGTERM, finishing pending operations\n"
    );
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/ipcfdholderd.1");
    let page = std::fs::read_to_string(page).unwrap();
    assert!(page.contains("At verbosity 0, 1 and 2 the log is s6-fdholderd's."));
}

/// ipcfdholder-list into a closed pipe dies of SIGPIPE, silently, as s6-fdholder-list
/// 2.11 does (`set -o pipefail` sees 141).
#[test]
fn list_into_a_closed_pipe_dies_of_sigpipe_as_s6() {
    use std::os::unix::process::ExitStatusExt;
    if !have_s6() {
        return;
    }
    let d = Dir::new("dfh-pipe");
    rules(&d.join("rules"), "uid/0", ALL);
    let r = d.join("rules");
    let sock = d.join("s");
    let _srv = daemon(Side::Ours, &sock, &["-i", r.to_str().unwrap()]);
    let (_r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    client(Side::Ours, "store", &[&sock, &"pipe:x"], Some(w)).assert_code(0);
    let mut seen = Vec::new();
    for side in [Side::Ours, Side::S6] {
        let (rd, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
        drop(rd);
        let mut c = std::process::Command::new(crate::ipcfdholder::prog(side, "list"));
        c.arg(&sock)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::from(w))
            .stderr(std::process::Stdio::piped());
        let o = c.output().unwrap();
        seen.push((o.status.signal(), o.status.code(), o.stderr));
    }
    assert_eq!(seen[0], seen[1], "ours, then s6-fdholder-list");
    assert_eq!(seen[0], (Some(libc::SIGPIPE), None, Vec::new()));
}
