//! ipcconnlimit against s6-connlimit: environment cases, exit codes, messages, exec.

use super::*;

#[test]
fn environment_cases_as_s6() {
    if !have("s6-connlimit") {
        return;
    }
    let d = Dir::new("dconnl");
    for (env, args) in [
        (&[][..], &["echo", "x"][..]),
        (&[("PROTO", "")][..], &["echo", "x"][..]),
        (&[("PROTO", "IPC")][..], &["echo", "x"][..]),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "x")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", " 3")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "3 ")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "4294967296")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "3")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "3"), ("IPCCONNMAX", "3")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "4"), ("IPCCONNMAX", "3")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "0"), ("IPCCONNMAX", "0")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "1"), ("IPCCONNMAX", "0")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "1"), ("IPCCONNMAX", "")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "1"), ("IPCCONNMAX", "x")][..],
            &["echo", "x"][..],
        ),
        (
            &[("PROTO", "TCP"), ("TCPCONNNUM", "9"), ("IPCCONNMAX", "1")][..],
            &["echo", "x"][..],
        ),
        (&[("PROTO", "IPC"), ("IPCCONNNUM", "1")][..], &[][..]),
        (&[("PROTO", "IPC"), ("IPCCONNNUM", "1")][..], &["-x"][..]),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "1")][..],
            &["--", "echo"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "1")][..],
            &["/nonexistent"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "1")][..],
            &["/etc/passwd"][..],
        ),
        (
            &[("PROTO", "IPC"), ("IPCCONNNUM", "1")][..],
            &["sh", "-c", "echo $PROTO $IPCCONNNUM $#", "a", "b"][..],
        ),
    ] {
        let a = run("ipcconnlimit", args, env, b"", &d.path);
        let b = run("s6-connlimit", args, env, b"", &d.path);
        let ours = Seen::from(&a, "ipcconnlimit", &[]);
        let peer = Seen::from(&b, "s6-connlimit", &[]);
        assert_eq!(ours, peer, "env {env:?} args {args:?}");
    }
}
