//! npt-cleanfifodir against s6-cleanfifodir: arguments, messages, exit codes, and the
//! one documented difference (Debian's s6 2.11 binary removes no 39-byte fifo).

use super::*;

row! { [V2_11, V2_15]
fn arguments_and_errors_as_s6() {
    if !have("s6-cleanfifodir") {
        return;
    }
    let d = Dir::new("dclean");
    std::fs::write(d.join("file"), b"").unwrap();
    std::fs::create_dir(d.join("empty")).unwrap();
    for args in [
        &[][..],
        &["none"],
        &["file"],
        &["empty"],
        &["empty", "extra"],
        &["-x"],
        &["--"],
        &[""],
    ] {
        let (ours, peer) = both("npt-cleanfifodir", "s6-cleanfifodir", args, &[], &d.path);
        let peer = Seen {
            stderr: peer.stderr.replace("s6-cleanfifodir", "npt-cleanfifodir"),
            ..peer
        };
        assert_eq!(without_reason(ours), peer, "args {args:?}");
    }
}
}

row! { [V2_11, V2_15]
fn stale_fifo_removed_by_us_kept_by_debian_s6() {
    // npt-cleanfifodir(1) COMPATIBILITY: s6 2.11 as packaged skips today's 39-byte
    // listener names and removes nothing; we do what its manual says, as 2.15 does.
    if !have("s6-cleanfifodir") {
        return;
    }
    let d = Dir::new("dcleanstale");
    let s6_removes = peer_is(S6::V2_15);
    for (prog, removed) in [("s6-cleanfifodir", s6_removes), ("npt-cleanfifodir", true)] {
        let f = d.join(prog);
        run_timeout(cmd(&[s6("s6-mkfifodir").as_os_str(), f.as_os_str()]), 10).assert_code(0);
        let stale = f.join("ftrig1:@400000006566778899aabbcc:stale1");
        run_timeout(cmd(&["mkfifo".as_ref(), stale.as_os_str()]), 10).assert_code(0);
        let out = run(prog, &[f.to_str().unwrap()], &[], b"", &d.path);
        assert_eq!(out.status.code(), Some(0));
        assert!(out.stderr.is_empty());
        assert_eq!(!stale.exists(), removed, "{prog}");
    }
}
}
