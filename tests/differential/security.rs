//! Differential rows for the link handling of the fifodir tools: where s6 follows a symlink
//! planted in a fifodir or at a fifodir's path, we refuse it. Each row runs the peer
//! and ours on the same planted link and asserts both behaviours, naming the
//! COMPATIBILITY line that documents the difference.

use super::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

fn victim(d: &Dir) -> std::path::PathBuf {
    let v = d.join("victim");
    std::fs::write(&v, "root-only secret\n").unwrap();
    std::fs::set_permissions(&v, std::fs::Permissions::from_mode(0o600)).unwrap();
    v
}

row! { [V2_11, V2_15]
/// npt-notify(1) COMPATIBILITY: "Unlike it, npt-notify does not write through a
/// symlink (or to a regular file) found under a listener's name."
fn notify_through_a_planted_symlink() {
    if !have("s6-ftrig-notify") || !have("s6-mkfifodir") {
        return;
    }
    for (prog, mk, written) in [
        ("npt-notify", "npt-mkfifodir", false),
        ("s6-ftrig-notify", "s6-mkfifodir", true),
    ] {
        let d = Dir::new("dnotify");
        let v = victim(&d);
        let fd = d.join("fd");
        run(mk, &[fd.to_str().unwrap()], &[], b"", &d.path).assert_code(0);
        std::os::unix::fs::symlink(&v, fd.join("ftrig1:@400000006b02655f38659883:AAAAAA")).unwrap();
        let o = run(prog, &[fd.to_str().unwrap(), "X"], &[], b"", &d.path);
        o.assert_code(0);
        let content = std::fs::read_to_string(&v).unwrap();
        assert_eq!(
            content != "root-only secret\n",
            written,
            "{prog}: victim now {content:?}"
        );
    }
}
}

row! { [V2_11, V2_15]
/// npt-mkfifodir(1) COMPATIBILITY: "Unlike it, npt-mkfifodir refuses a symlink with -f
/// and never changes the mode or group of anything but the directory it checked."
fn mkfifodir_force_on_a_symlink() {
    if !have("s6-mkfifodir") {
        return;
    }
    for (prog, code, mode) in [("npt-mkfifodir", 111, 0o755), ("s6-mkfifodir", 0, 0o1733)] {
        let d = Dir::new("dmkf");
        let target = d.join("target");
        std::fs::create_dir(&target).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
        let link = d.join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let o = run(prog, &["-f", link.to_str().unwrap()], &[], b"", &d.path);
        let seen = Seen::from(&o, prog, &[(link.to_str().unwrap(), "LINK")]);
        assert_eq!(seen.code, Some(code), "{prog}: {seen:?}");
        if code != 0 {
            assert_eq!(
                seen.stderr,
                "PROG: fatal: unable to create fifodir at LINK: Too many levels of symbolic links\n"
            );
        }
        assert_eq!(
            std::fs::metadata(&target).unwrap().mode() & 0o7777,
            mode,
            "{prog}"
        );
    }
}
}
