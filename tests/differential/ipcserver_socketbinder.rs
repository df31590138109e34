//! ipcserver-socketbinder against s6-ipcserver-socketbinder: options, bad input, exit
//! codes, and the socket each hands to prog (mode, type, listening, blocking, name).

use super::*;

const OURS: &str = "ipcserver-socketbinder";
const PEER: &str = "s6-ipcserver-socketbinder";

/// Run `prog args…` in a fresh directory; normalise the program name everywhere
/// (its usage line repeats it).
fn seen(prog: &str, args: &[&str]) -> Seen {
    let d = Dir::new("sbdiff");
    let out = run(prog, args, &[], b"", &d.path);
    let name = if prog == OURS { OURS } else { PEER };
    Seen::from(&out, prog, &[(name, "PROG")])
}

/// What prog sees on fd 0, printed by Python: type, SO_ACCEPTCONN, blocking, the name
/// the kernel recorded, and the file's mode and type.
const SHOW: &str = "import socket,os,stat\n\
    s=socket.socket(fileno=0)\n\
    n=s.getsockname()\n\
    st=os.lstat('s')\n\
    print(s.type, s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN), s.getblocking(), n, oct(stat.S_IMODE(st.st_mode)), stat.S_ISSOCK(st.st_mode))\n\
    s.detach()\n";

row! { [V2_11, V2_15]
fn same_socket_for_prog_as_s6() {
    if !have(PEER) {
        return;
    }
    for opts in [
        &[][..],
        &["-a", "0600"],
        &["-a", "0640", "-B"],
        &["-a", "77777"], // only the permission bits are kept, as s6
        &["-b", "0"],
        &["-m", "-b0"],
        &["-M", "-b", "3", "-d"],
        &["-D"],
    ] {
        let mut args: Vec<&str> = opts.to_vec();
        args.extend(["s", "/usr/bin/python3", "-c", SHOW]);
        let (a, b) = (seen(OURS, &args), seen(PEER, &args));
        assert_eq!(a, b, "{opts:?}");
        assert_eq!(a.code, Some(0), "{opts:?}: {a:?}");
    }
}
}

row! { [V2_11, V2_15]
fn same_usage_errors_and_exec_failures_as_s6() {
    if !have(PEER) {
        return;
    }
    // A refused command line: the same usage line and 100; we print the reason first
    // (ipcserver-socketbinder(1) COMPATIBILITY: "reported with its reason before the
    // usage line").
    for (args, reason) in [
        (&[][..], "missing path"),
        (&["s"], "missing prog"),
        (&["-Z", "s", "true"], "unknown option -Z"),
        (
            &["-a", "999", "s", "true"],
            "-a: 999 is not an octal number",
        ),
        (
            &["-a", "40000000000", "s", "true"],
            "-a: 40000000000 is too large (at most 037777777777)",
        ),
        (&["-b", "x", "s", "true"], "-b: x is not a number"),
        (
            &["-b", "-1", "s", "true"],
            "-b: -1 is not a number (digits only, no sign)",
        ),
        (
            &["-b", "99999999999", "s", "true"],
            "-b: 99999999999 is too large (at most 4294967295)",
        ),
    ] {
        let (a, b) = (seen(OURS, args), seen(PEER, args));
        assert_eq!((a.code, b.code), (Some(100), Some(100)), "{args:?}");
        assert!(b.stderr.starts_with("PROG: usage: "), "{args:?}: {b:?}");
        assert_eq!(
            a.stderr,
            format!("PROG: fatal: {reason}\n{}", b.stderr),
            "{args:?}"
        );
        assert_eq!((a.stdout.as_str(), b.stdout.as_str()), ("", ""));
    }
    let args = &["s", "./no-such-prog"];
    let (a, b) = (seen(OURS, args), seen(PEER, args));
    assert_eq!(a, b, "{args:?}");
    assert_eq!(a.code, Some(127), "{a:?}");
    // A missing directory: both 111; we name the step that failed (opening the
    // directory), s6 the bind (ipcserver-socketbinder(1) COMPATIBILITY).
    let (a, b) = (
        seen(OURS, &["nodir/s", "true"]),
        seen(PEER, &["nodir/s", "true"]),
    );
    assert_eq!((a.code, b.code), (Some(111), Some(111)));
    assert_eq!(
        a.stderr,
        "PROG: fatal: unable to open directory nodir: No such file or directory\n"
    );
}
}

row! { [V2_11, V2_15]
/// -D on an existing PATH: both refuse with the same message. -d on a regular file:
/// s6 removes it, we refuse and leave it (ipcserver-socketbinder(1) COMPATIBILITY:
/// "an existing PATH is replaced only when it is a stale socket").
fn existing_path() {
    if !have(PEER) {
        return;
    }
    for prog in [OURS, PEER] {
        let d = Dir::new("sbexist");
        drop(std::os::unix::net::UnixListener::bind(d.join("s")).unwrap());
        let out = run(prog, &["-D", "s", "true"], &[], b"", &d.path);
        let s = Seen::from(&out, prog, &[]);
        assert_eq!(s.code, Some(111));
        assert_eq!(
            s.stderr,
            "PROG: fatal: unable to bind to s: Address already in use\n"
        );
    }
    let d = Dir::new("sbfile");
    std::fs::write(d.join("s"), b"keep").unwrap();
    let ours = run(OURS, &["s", "true"], &[], b"", &d.path);
    assert_eq!(ours.status.code(), Some(111));
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        "ipcserver-socketbinder: fatal: s exists and is a regular file: refusing to replace it\n"
    );
    assert_eq!(std::fs::read(d.join("s")).unwrap(), b"keep");
    let peer = run(PEER, &["s", "true"], &[], b"", &d.path);
    assert_eq!(peer.status.code(), Some(0));
}
}

row! { [V2_11, V2_15]
/// `-m` without `-b 0`: both fail to listen (111), with their own wording, and we
/// remove the socket we made (COMPATIBILITY: "a failed start leaves nothing behind").
fn datagram_without_b0_fails_to_listen() {
    if !have(PEER) {
        return;
    }
    let d = Dir::new("sbdgram");
    let ours = run(OURS, &["-m", "s", "true"], &[], b"", &d.path);
    assert_eq!(ours.status.code(), Some(111));
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        "ipcserver-socketbinder: fatal: unable to listen on s: Operation not supported\n"
    );
    assert!(d.entries().is_empty(), "{:?}", d.entries());
    let peer = run(PEER, &["-m", "s", "true"], &[], b"", &d.path);
    assert_eq!(peer.status.code(), Some(111));
    assert_eq!(
        String::from_utf8_lossy(&peer.stderr),
        "s6-ipcserver-socketbinder: fatal: unable to listen to s: Operation not supported\n"
    );
}
}

row! { [V2_11, V2_15]
/// `BINDER S s6-ipcserverd -1 prog >&-`: the binder hands the closed stdout on, so the
/// server's readiness check refuses it (100), with s6's binder and with ours.
fn closed_stdout_reaches_the_server() {
    if !have(PEER) || !have("s6-ipcserverd") {
        return;
    }
    let mut seen = Vec::new();
    for prog in [OURS, PEER] {
        let d = Dir::new("sbclosed");
        let binder = if prog == OURS {
            bin(OURS).into_os_string()
        } else {
            s6(PEER)
        };
        let mut c = Command::new("sh");
        c.env("PATH", peer_path())
            .args(["-c", "exec \"$@\" >&-", "sh"])
            .arg(binder)
            .arg(d.join("s"))
            .arg(s6("s6-ipcserverd"))
            .args(["-1", "true"]);
        let out = run_timeout(c, 10);
        seen.push((out.status.code(), out.err()));
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0].0, Some(100), "{seen:?}");
}
}
