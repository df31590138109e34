//! ipcrules-fs against s6-accessrules-fs-from-cdb: arguments, messages, exit codes, the
//! tree made from the same cdb, and the documented differences.

use super::probe::assert_documented;
use super::*;
use crate::ipcrules_fs::{sample_rules, tree, write_cdb};

const PEER: &str = "s6-accessrules-fs-from-cdb";

/// Ours then the peer on the same arguments; a DIR that ours made (it did not exist
/// before) is removed before the peer runs.
fn pair(args: &[&str], cwd: &Path) -> (Seen, Seen) {
    let made = args.first().map(|a| cwd.join(a)).filter(|p| !p.exists());
    let ours = Seen::from(&run("ipcrules-fs", args, &[], b"", cwd), "ipcrules-fs", &[]);
    if let Some(p) = made {
        let _ = std::fs::remove_dir_all(p);
    }
    let peer = Seen::from(&run(PEER, args, &[], b"", cwd), PEER, &[]);
    let peer = Seen {
        stderr: peer.stderr.replace(PEER, "ipcrules-fs"),
        ..peer
    };
    (ours, peer)
}

row! { [V2_11, V2_15]
fn arguments_and_errors_as_s6() {
    if !have(PEER) {
        return;
    }
    let d = Dir::new("drfs");
    write_cdb(&d.join("r.cdb"), &[(b"uid/0", b"D")]);
    std::fs::create_dir(d.join("exists")).unwrap();
    for args in [
        &[][..],
        &["only"],
        &["exists", "r.cdb"],
        &["-x", "r.cdb", "extra"],
    ] {
        let (ours, peer) = pair(args, &d.path);
        assert_eq!(without_reason(ours), peer, "args {args:?}");
    }
}
}

row! { [V2_11, V2_15]
fn trees_from_the_same_cdbs_are_identical() {
    if !have(PEER) || !have("s6-accessrules-cdb-from-fs") {
        return;
    }
    let d = Dir::new("drfstree");
    let r = sample_rules(&d);
    run_timeout(
        cmd(&[
            s6("s6-accessrules-cdb-from-fs").as_os_str(),
            d.join("s6.cdb").as_os_str(),
            r.as_os_str(),
        ]),
        20,
    )
    .assert_code(0);
    run_timeout(
        cmd(&[
            bin("ipcrules-cdb").as_os_str(),
            d.join("ours.cdb").as_os_str(),
            r.as_os_str(),
        ]),
        20,
    )
    .assert_code(0);
    // Odd but valid records: neither A nor D, duplicates, both allow and deny.
    write_cdb(
        &d.join("odd.cdb"),
        &[
            (b"uid/0", b"X"),
            (b"uid/5", b"A"),
            (b"uid/7", b"D"),
            (b"uid/7", b"A\0\0\0\0"),
        ],
    );
    for c in ["s6.cdb", "ours.cdb", "odd.cdb"] {
        let a = format!("a-{c}");
        let b = format!("b-{c}");
        let ours = run("ipcrules-fs", &[&b, c], &[], b"", &d.path);
        let peer = run(PEER, &[&a, c], &[], b"", &d.path);
        ours.assert_code(0);
        peer.assert_code(0);
        assert_eq!(tree(&d.join(&a)), tree(&d.join(&b)), "{c}");
    }
}
}

row! { [V2_11, V2_15]
fn invalid_data_same_code_cleaner_message() {
    // ipcrules-fs(1) COMPATIBILITY: s6 2.11 prints "fatal: : unable to …" (an empty
    // field), 2.15 our line; same exit code, no tree left by either.
    if !have(PEER) {
        return;
    }
    let d = Dir::new("drfsbad");
    write_cdb(
        &d.join("bad.cdb"),
        &[(b"uid/0", b"A"), (b"uid/1", b"A\0\xff")],
    );
    let (ours, peer) = pair(&["t", "bad.cdb"], &d.path);
    assert_eq!(ours.code, Some(111));
    assert_eq!(peer.code, Some(111));
    assert_eq!(
        ours.stderr,
        "PROG: fatal: unable to handle cdb record: bad.cdb does not contain valid accessrules data\n"
    );
    if peer_is(S6::V2_15) {
        assert_eq!(peer.stderr, ours.stderr);
    } else {
        assert_eq!(
            peer.stderr,
            "PROG: fatal: : unable to handle cdb record: bad.cdb does not contain valid accessrules data\n"
        );
    }
    assert!(!d.join("t").exists());
}
}

row! { [V2_11, V2_15]
fn dotdot_keys_differ() {
    // ipcrules-fs(1) COMPATIBILITY: s6 follows `..` in a key out of DIR; we refuse.
    if !have(PEER) {
        return;
    }
    let d = Dir::new("drfsdots");
    std::fs::create_dir(d.join("s6")).unwrap();
    std::fs::create_dir(d.join("ours")).unwrap();
    write_cdb(&d.join("k.cdb"), &[(b"../esc", b"D")]);
    let s6 = run(PEER, &["s6/t", "k.cdb"], &[], b"", &d.path);
    assert_eq!(s6.status.code(), Some(0));
    assert!(d.join("s6/esc/deny").exists());
    let ours = run("ipcrules-fs", &["ours/t", "k.cdb"], &[], b"", &d.path);
    assert_eq!(ours.status.code(), Some(111));
    assert_eq!(std::fs::read_dir(d.join("ours")).unwrap().count(), 0);
}
}

row! { [V2_11, V2_15]
fn missing_cdb_message_names_the_file() {
    // ipcrules-fs(1) COMPATIBILITY: s6 says "unable to cdb_init: …".
    if !have(PEER) {
        return;
    }
    let d = Dir::new("drfsnone");
    let (ours, peer) = pair(&["t", "none.cdb"], &d.path);
    assert_eq!(ours.code, peer.code);
    assert_eq!(
        ours.stderr,
        "PROG: fatal: unable to open cdb ruleset none.cdb: No such file or directory\n"
    );
    assert_eq!(
        peer.stderr,
        "PROG: fatal: unable to cdb_init: No such file or directory\n"
    );
}
}

row! { [V2_11, V2_15]
/// A missing parent of dir: same exit code; ours names the parent it could not open,
/// s6 the mkdir (ipcrules-fs(1) COMPATIBILITY).
fn missing_parent_names_the_parent() {
    if !have(PEER) {
        return;
    }
    assert_documented("ipcrules-fs", "is reported at the step that meets it");
    let d = Dir::new("drfsparent");
    write_cdb(&d.join("r.cdb"), &[(b"uid/0", b"A")]);
    let (ours, peer) = pair(&["no/t", "r.cdb"], &d.path);
    assert_eq!((ours.code, peer.code), (Some(111), Some(111)));
    assert_eq!(
        ours.stderr,
        "PROG: fatal: unable to open directory no: No such file or directory\n"
    );
    assert_eq!(
        peer.stderr,
        "PROG: fatal: unable to mkdir no/t: No such file or directory\n"
    );
}
}
