//! Tests: ipcrules-fs decompiles rules cdbs (ours and s6's) into the tree s6 makes,
//! atomically.

use crate::util::*;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A rules directory with every kind of entry.
pub fn sample_rules(d: &Dir) -> PathBuf {
    let r = d.join("rules");
    for (p, content) in [
        ("uid/0/allow", ""),
        ("uid/0/env/IPCCONNMAX", "3\n"),
        ("uid/0/env/UNSETME", ""),
        ("uid/0/env/SPACE", "a b  \n"),
        ("uid/1000/deny", ""),
        ("uid/default/deny", ""),
        ("gid/50/allow", ""),
        ("gid/50/exec", "fdmove 0 3 prog\n"),
        ("gid/50/env/G", "v\n"),
        ("gid/self/allow", ""),
    ] {
        let f = r.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, content).unwrap();
    }
    r
}

/// Every entry under `root`: relative path, type and mode, size, content of files.
pub fn tree(root: &Path) -> Vec<String> {
    let mut v = Vec::new();
    fn walk(root: &Path, p: &Path, v: &mut Vec<String>) {
        for e in std::fs::read_dir(p).unwrap() {
            let e = e.unwrap();
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            let rel = e.path().strip_prefix(root).unwrap().display().to_string();
            if m.is_dir() {
                v.push(format!("{rel} dir {:o}", m.mode()));
                walk(root, &e.path(), v);
            } else {
                let c = std::fs::read(e.path()).unwrap();
                v.push(format!(
                    "{rel} {:o} {:?}",
                    m.mode(),
                    String::from_utf8_lossy(&c)
                ));
            }
        }
    }
    walk(root, root, &mut v);
    v.sort();
    v
}

fn decompile(prog: &str, dir: &Path, cdb: &Path) -> std::process::Output {
    let p = if prog.starts_with("s6-") {
        PathBuf::from(prog)
    } else {
        bin(prog)
    };
    run_timeout(cmd(&[p.as_os_str(), dir.as_os_str(), cdb.as_os_str()]), 20)
}

/// A cdb with exactly these records (in this order).
pub fn write_cdb(path: &Path, records: &[(&[u8], &[u8])]) {
    let mut w = cdb2::CDBWriter::create(path).unwrap();
    for (k, v) in records {
        w.add(k, v).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn round_trip_through_our_cdb() {
    let d = Dir::new("rfsrt");
    let r = sample_rules(&d);
    let cdb = d.join("rules.cdb");
    run_timeout(
        cmd(&[
            bin("ipcrules-cdb").as_os_str(),
            cdb.as_os_str(),
            r.as_os_str(),
        ]),
        20,
    )
    .assert_code(0);
    let out = d.join("out");
    decompile("ipcrules-fs", &out, &cdb).assert_code(0);
    let t = tree(&out);
    assert!(
        t.contains(&"uid/0/env/IPCCONNMAX 100644 \"3\\n\"".to_string()),
        "{t:#?}"
    );
    assert!(
        t.contains(&"gid/50/exec 100644 \"fdmove 0 3 prog\\n\"".to_string()),
        "{t:#?}"
    );
    assert!(
        t.contains(&"uid/0/env/UNSETME 100644 \"\"".to_string()),
        "{t:#?}"
    );
    // The decompiled tree compiles to the same rules.
    let cdb2 = d.join("again.cdb");
    run_timeout(
        cmd(&[
            bin("ipcrules-cdb").as_os_str(),
            cdb2.as_os_str(),
            out.as_os_str(),
        ]),
        20,
    )
    .assert_code(0);
    let out2 = d.join("out2");
    decompile("ipcrules-fs", &out2, &cdb2).assert_code(0);
    assert_eq!(tree(&out), tree(&out2));
    assert_eq!(
        d.entries(),
        ["again.cdb", "out", "out2", "rules", "rules.cdb"]
    );
}

#[test]
fn same_tree_as_s6_from_the_same_cdb() {
    if !have("s6-accessrules-fs-from-cdb") || !have("s6-accessrules-cdb-from-fs") {
        return;
    }
    let d = Dir::new("rfss6");
    let r = sample_rules(&d);
    let cdb = d.join("s6.cdb");
    run_timeout(
        cmd(&[
            "s6-accessrules-cdb-from-fs".as_ref(),
            cdb.as_os_str(),
            r.as_os_str(),
        ]),
        20,
    )
    .assert_code(0);
    decompile("s6-accessrules-fs-from-cdb", &d.join("a"), &cdb).assert_code(0);
    decompile("ipcrules-fs", &d.join("b"), &cdb).assert_code(0);
    assert_eq!(tree(&d.join("a")), tree(&d.join("b")));
    // Top directory's mode too.
    let ma = std::fs::metadata(d.join("a")).unwrap().mode();
    let mb = std::fs::metadata(d.join("b")).unwrap().mode();
    assert_eq!(ma, mb);
}

#[test]
fn failure_mid_way_leaves_nothing() {
    // The first record is good, the second is not: s6 had begun the tree and removes
    // it; we never had DIR at all, and our temporary tree is gone too.
    let d = Dir::new("rfsmid");
    let cdb = d.join("bad.cdb");
    write_cdb(
        &cdb,
        &[(b"uid/0", b"A\0\x05X=1\0Y\0\0\0"), (b"uid/1", b"A\0\xff")],
    );
    let out = decompile("ipcrules-fs", &d.join("t"), &cdb);
    out.assert_code(111);
    assert_eq!(
        out.err(),
        format!(
            "ipcrules-fs: fatal: unable to handle cdb record: {} does not contain valid accessrules data\n",
            cdb.display()
        )
    );
    assert_eq!(d.entries(), ["bad.cdb"]);
    // A truncated cdb (cut inside its records): refused whole, nothing made.
    let good = d.join("good.cdb");
    write_cdb(&good, &[(b"uid/0", b"A\0\0\0\0"), (b"uid/1", b"D")]);
    let bytes = std::fs::read(&good).unwrap();
    let cut = d.join("cut.cdb");
    std::fs::write(&cut, &bytes[..2048 + 10]).unwrap();
    let out = decompile("ipcrules-fs", &d.join("t"), &cut);
    out.assert_code(111);
    assert!(
        out.err().starts_with("ipcrules-fs: fatal: "),
        "{}",
        out.err()
    );
    assert_eq!(d.entries(), ["bad.cdb", "cut.cdb", "good.cdb"]);
}

#[test]
fn keys_that_leave_dir_are_refused() {
    // s6 follows `..` in a key out of DIR (a crafted cdb writes anywhere it can).
    let d = Dir::new("rfsdots");
    for key in [&b"../esc"[..], b"uid/../../esc", b"/abs", b"uid//0"] {
        let cdb = d.join("k.cdb");
        write_cdb(&cdb, &[(key, b"D")]);
        let out = decompile("ipcrules-fs", &d.join("sub/t"), &cdb);
        assert!(out.status.code().is_some_and(|c| c == 111), "{key:?}");
        assert!(!d.join("esc").exists() && !d.join("sub/esc").exists());
    }
    // Env names with a slash would write outside env/.
    let cdb = d.join("e.cdb");
    write_cdb(&cdb, &[(b"uid/0", b"A\0\x07../x=1\0\0\0")]);
    decompile("ipcrules-fs", &d.join("t2"), &cdb).assert_code(111);
    assert!(!d.join("t2").exists());
}

#[test]
fn existing_dir_is_refused_and_untouched() {
    let d = Dir::new("rfsexist");
    let cdb = d.join("r.cdb");
    write_cdb(&cdb, &[(b"uid/0", b"D")]);
    for make in ["dir", "file", "link"] {
        let t = d.join(format!("t-{make}"));
        match make {
            "dir" => std::fs::create_dir(&t).unwrap(),
            "file" => std::fs::write(&t, b"mine").unwrap(),
            _ => std::os::unix::fs::symlink("/nonexistent-target", &t).unwrap(),
        }
        let out = decompile("ipcrules-fs", &t, &cdb);
        out.assert_code(111);
        assert_eq!(
            out.err(),
            format!(
                "ipcrules-fs: fatal: unable to mkdir {}: File exists\n",
                t.display()
            )
        );
    }
    assert!(std::fs::read_dir(d.join("t-dir")).unwrap().next().is_none());
    assert_eq!(std::fs::read(d.join("t-file")).unwrap(), b"mine");
    assert!(!Path::new("/nonexistent-target").exists());
}

#[test]
fn bad_input() {
    let d = Dir::new("rfsbad");
    let p = bin("ipcrules-fs");
    for (args, why) in [(&[][..], "missing dir"), (&["x"][..], "missing cdbfile")] {
        let mut c = cmd(&[p.as_os_str()]);
        c.args(args);
        let out = run_timeout(c, 10);
        out.assert_code(100);
        assert_eq!(
            out.err(),
            format!("ipcrules-fs: fatal: {why}\nipcrules-fs: usage: ipcrules-fs dir cdbfile\n")
        );
    }
    let out = decompile("ipcrules-fs", &d.join("t"), &d.join("none.cdb"));
    out.assert_code(111);
    assert_eq!(
        out.err(),
        format!(
            "ipcrules-fs: fatal: unable to open cdb ruleset {}: No such file or directory\n",
            d.join("none.cdb").display()
        )
    );
    std::fs::write(d.join("g.cdb"), b"garbage").unwrap();
    decompile("ipcrules-fs", &d.join("t"), &d.join("g.cdb")).assert_code(111);
    // Parent missing.
    decompile("ipcrules-fs", &d.join("no/t"), &d.join("g.cdb")).assert_code(111);
    assert_eq!(d.entries(), ["g.cdb"]);
}
