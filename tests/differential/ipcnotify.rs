//! The ipcnotify pair against s6 2.15.1.0's s6-notify-socket-from-fd and
//! s6-notify-fd-from-socket (`target/s6-upstream/bin`; Debian's 2.11 has neither):
//! options, messages and exit codes, the protocol on a filesystem socket, and the
//! differences each man page lists under COMPATIBILITY: a refused command line gets
//! our usage line after s6's reason; an abstract `NOTIFY_SOCKET` is reached (s6 pads
//! the name and is refused); the fd-from-socket watcher polls the socket, so it works
//! under s6-supervise and honours `-t` with a regular file (s6's does neither).

use super::*;
use crate::ipcnotify::{
    Case as Run, FFS, Listener, SFD, expect_notification, seen, supervised_wait, upstream,
};
use std::time::Duration;

const S6_SFD: &str = "s6-notify-socket-from-fd";
const S6_FFS: &str = "s6-notify-fd-from-socket";

/// Run `args` through ours and s6's, in `cwd` with `env`; both normalised, the program
/// names replaced by NAME.
fn pair(ours: &str, peer: &Path, args: &[&str], env: &[(&str, &str)], cwd: &Path) -> (Seen, Seen) {
    let peer_name = peer.file_name().unwrap().to_str().unwrap();
    let a = run(ours, args, env, b"", cwd);
    let b = run(peer.to_str().unwrap(), args, env, b"", cwd);
    (
        Seen::from(&a, ours, &[(ours, "NAME")]),
        Seen::from(&b, peer_name, &[(peer_name, "NAME")]),
    )
}

/// Our usage line, normalised as `pair` does.
fn usage_line(ours: &str, usage: &str) -> String {
    format!("NAME: usage: {}\n", usage.replace(ours, "NAME"))
}

/// Refused command lines: the same code and reason; ours then prints its usage line
/// (s6's gol prints the reason alone). No prog at all: both print the usage line (ours
/// after a reason).
fn refusals(ours: &str, peer: &Path, usage: &str, cases: &[&[&str]]) {
    let d = Dir::new("dnopt");
    for args in cases {
        let (o, p) = pair(
            ours,
            peer,
            args,
            &[("NOTIFY_SOCKET", "/nonexistent")],
            &d.path,
        );
        assert_eq!(p.code, Some(100), "{args:?}: {p:?}");
        if p.stderr.contains(": usage: ") {
            let o = Seen {
                stderr: o.stderr.replace("NAME: ", "PROG: "),
                ..o
            };
            let o = without_reason(o);
            let o = Seen {
                stderr: o.stderr.replace("PROG: ", "NAME: "),
                ..o
            };
            assert_eq!(o, p, "{args:?}");
        } else {
            let want = Seen {
                stderr: format!("{}{}", p.stderr, usage_line(ours, usage)),
                ..p
            };
            assert_eq!(o, want, "{args:?}");
        }
    }
}

#[test]
fn socket_from_fd_refusals_as_s6() {
    let Some(peer) = upstream(S6_SFD) else { return };
    if !have("python3") {
        return;
    }
    let usage = ipctools::cli::ipcnotify_socket_from_fd::USAGE;
    refusals(
        SFD,
        &peer,
        usage,
        &[
            &[],
            &["-d", "3"],
            &["-t", "x", "true"],
            &["-t", "-1", "true"],
            &["-d", "x", "-t", "y", "true"],
            &["--timeout=4294967296", "true"],
            &["-x", "true"],
            &["--foo", "true"],
            &["--foo=1", "true"],
            &["--doublefork=1", "true"],
            &["--keep-environment=yes", "true"],
            &["--=3", "true"],
        ],
    );
}

#[test]
fn fd_from_socket_refusals_as_s6() {
    let Some(peer) = upstream(S6_FFS) else { return };
    if !have("python3") {
        return;
    }
    let usage = ipctools::cli::ipcnotify_fd_from_socket::USAGE;
    refusals(
        FFS,
        &peer,
        usage,
        &[
            &[],
            &["-3", "3"],
            &["-3", "x", "true"],
            &["-3", "x", "-t", "y", "true"],
            &["-t", "1x", "true"],
            &["-k", "true"],
            &["--no-doublefork=1", "true"],
            &["--bar", "true"],
        ],
    );
}

/// Failures after the command line: the same code, the same message.
#[test]
fn socket_from_fd_errors_as_s6() {
    let Some(peer) = upstream(S6_SFD) else { return };
    if !have("python3") {
        return;
    }
    let d = Dir::new("dnsfd");
    let none = d.join("none");
    let none = none.to_str().unwrap();
    let sh_ready = ["-d", "3", "-t", "20000", "sh", "-c", "echo >&3"];
    for (args, env) in [
        (&["-d", "99999", "true"][..], &[("NOTIFY_SOCKET", none)][..]),
        (&["nonexistent-prog"], &[]),
        (&["-k", "nonexistent-prog"], &[("NOTIFY_SOCKET", none)]),
        (&sh_ready, &[("NOTIFY_SOCKET", none)]),
        (&["sh", "-c", "exit 3"], &[]),
    ] {
        let (o, p) = pair(SFD, &peer, args, env, &d.path);
        assert_eq!(o, p, "{args:?} {env:?}");
    }
}

#[test]
fn fd_from_socket_errors_as_s6() {
    let Some(peer) = upstream(S6_FFS) else { return };
    if !have("python3") {
        return;
    }
    let d = Dir::new("dnffs");
    let sub = d.join("sub");
    std::fs::create_dir(&sub).unwrap();
    for (file, args) in [
        (None, &["true"][..]),
        (Some("x\n"), &["true"]),
        (Some(""), &["true"]),
        (Some("3 \n"), &["true"]),
        (Some("99\n"), &["true"]),
        (None, &["-3", "99", "true"]),
        (None, &["-3", "4294967295", "true"]),
    ] {
        let _ = std::fs::remove_file(sub.join("notification-fd"));
        if let Some(f) = file {
            std::fs::write(sub.join("notification-fd"), f).unwrap();
        }
        let (o, p) = pair(FFS, &peer, args, &[], &sub);
        assert_eq!(o, p, "{file:?} {args:?}");
    }
}

/// The protocol on a filesystem socket: the same two datagrams from both (prog's own
/// pid; one fd with the barrier), and both watchers exit 0 once it is closed.
#[test]
fn socket_from_fd_protocol_as_s6() {
    let Some(peer) = upstream(S6_SFD) else { return };
    if !have("python3") {
        return;
    }
    let peer = peer.to_str().unwrap().to_owned();
    for program in [SFD, peer.as_str()] {
        let d = Dir::new("dnproto");
        let l = Listener::at_path(&d.join("notify"));
        let mut case = Run::new(program, &["-d", "3", "-t", "30000"], &["write:3"]);
        case.notify = Some(&l.value);
        let mut child = case.spawn(&d);
        let (pid, barrier) = expect_notification(&l);
        drop(barrier);
        let s = seen(&wait_output(&mut child, 60, program));
        assert_eq!(pid, s.pid, "{program}: MAINPID");
        assert_eq!(
            (s.watcher, s.env.as_str()),
            (Some(0), "-"),
            "{program}: {s:?}"
        );
    }
}

/// ipcnotify-socket-from-fd(1) COMPATIBILITY: an abstract NOTIFY_SOCKET. s6 sends to
/// the name padded with NULs to 108 bytes, another address than the one systemd (or
/// this test) bound: refused. Ours sends to the exact name.
#[test]
fn abstract_notify_socket_reached_by_us_refused_to_s6() {
    let Some(peer) = upstream(S6_SFD) else { return };
    if !have("python3") {
        return;
    }
    let d = Dir::new("dnabs");
    let l = Listener::at_abstract();
    let peer = peer.to_str().unwrap().to_owned();
    let mut case = Run::new(&peer, &["-d", "3", "-t", "30000"], &["write:3"]);
    case.notify = Some(&l.value);
    let s = seen(&case.run(&d));
    assert_eq!(s.watcher, Some(111), "{s:?}");
    assert_eq!(
        s.stderr,
        format!(
            "{S6_SFD} (child): fatal: unable to send notification message to {}: Connection refused\n",
            l.value
        )
    );
    l.assert_silent(0);
    let mut case = Run::new(SFD, &["-d", "3", "-t", "30000"], &["write:3"]);
    case.notify = Some(&l.value);
    let mut child = case.spawn(&d);
    drop(expect_notification(&l).1);
    assert_eq!(seen(&wait_output(&mut child, 60, SFD)).watcher, Some(0));
}

/// ipcnotify-fd-from-socket(1) COMPATIBILITY: under s6-supervise the notification fd
/// is a pipe. Our watcher polls the socket and `s6-svwait -U` returns; s6 2.15.1.0's
/// polls the pipe's write end, which never becomes readable, so the READY=1 datagram
/// (newline-terminated, as s6 wants it) is never read and s6-svwait times out.
#[test]
fn supervised_readiness_ours_works_s6_does_not() {
    let Some(peer) = upstream(S6_FFS) else { return };
    if !have("python3") {
        return;
    }
    if !have("s6-supervise") {
        return;
    }
    let d = Dir::new("dnsup");
    let ours = supervised_wait(&d, &bin(FFS), &["-t", "60000"], "READY=1\\n", 20000);
    assert_eq!(ours.status.code(), Some(0), "ours: {ours:?}");
    let d = Dir::new("dnsup6");
    // s6's watcher gives up by itself after -t: nothing is left running.
    let theirs = supervised_wait(&d, &peer, &["-t", "5000"], "READY=1\\n", 3000);
    assert_eq!(theirs.status.code(), Some(99), "s6: {theirs:?}");
    assert_eq!(theirs.err(), "s6-svwait: fatal: timed out\n");
}

/// ipcnotify-fd-from-socket(1) COMPATIBILITY: a regular file as the notification fd
/// and no READY=1. Ours exits 99 at `-t`; s6's watcher finds the file always
/// readable and spins, past `-t 300`, until killed (here, by its pid).
#[test]
fn regular_file_timeout_honoured_by_us_spun_past_by_s6() {
    let Some(peer) = upstream(S6_FFS) else { return };
    if !have("python3") {
        return;
    }
    let d = Dir::new("dnspin");
    let f = d.join("fd3");
    let mut case = Run::new(FFS, &["-3", "3", "-t", "300"], &[]);
    case.fd3 = Some(&f);
    let s = seen(&case.run(&d));
    assert_eq!(s.watcher, Some(99), "{s:?}");

    // s6: -f, so that the watcher is prog's child and its pid is known.
    let (_, prog) = crate::ipcnotify::scripts(&d);
    let mut child = Command::new("sh")
        .args(["-c", "exec \"$@\" 3>>\"$F\"", "sh"])
        .arg(&peer)
        .args(["-f", "-3", "3", "-t", "300", "python3"])
        .arg(&prog)
        .env("F", &f)
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let prog_pid = child.id() as i32;
    let mut watcher = None;
    assert!(
        eventually(30, || {
            watcher = children_of(prog_pid).first().copied();
            watcher.is_some()
        }),
        "no watcher under {prog_pid}"
    );
    let w = watcher.unwrap();
    let start = cpu_ticks(w);
    std::thread::sleep(Duration::from_secs(3));
    let state = proc_state(w);
    let used = cpu_ticks(w).saturating_sub(start);
    unsafe_kill(w, libc::SIGKILL);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        state.is_some_and(|c| c != 'Z'),
        "s6's watcher ended by itself: {state:?}"
    );
    // A watcher asleep in poll uses no CPU; s6's spins (measured: a whole core).
    assert!(used >= 20, "s6's watcher used only {used} ticks in 3 s");
}
