//! ipcserver-access's inputs: cdb rule values, whole cdb files (as ipcrules-cdb or
//! s6-accessrules-cdb-from-fs would leave them, or corrupted), s6-envdir directories and
//! env files, the client's ids from the environment, the `cgroup/` and `exe/` key
//! escaping (base/rulekey), and whole rules directories with `group/`, `cgroup/` and
//! `exe/` rules judged against a client's facts, from the directory and from the cdb
//! compiled from it. The first byte picks the parser.
#![no_main]

use ipccore::base::rulekey;
use ipccore::prog::ipcserver_access::{self as access, Ruleset, Verdict};
use ipccore::{formats::rulescdb, prog::peer::Facts};
use libfuzzer_sys::fuzz_target;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A scratch path on a tmpfs when there is one: on a disk file system, creating and
/// removing the files of one input cost milliseconds, most of the target's time.
fn scratch(what: &str) -> PathBuf {
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    base.join(format!("ipcfuzz-{}-{what}", std::process::id()))
}

/// The components a `rulekey` name stands for (`-` is the root: none).
fn unescape(name: &str) -> Vec<Vec<u8>> {
    if name == "-" {
        return Vec::new();
    }
    name.split('-')
        .map(|comp| {
            let b = comp.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while let Some(&c) = b.get(i) {
                if c == b'\\' {
                    assert_eq!(b.get(i + 1), Some(&b'x'), "{name:?}");
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).unwrap();
                    assert_eq!(hex, hex.to_ascii_lowercase(), "{name:?}");
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 4;
                } else {
                    assert!(c.is_ascii_alphanumeric() || b":_.".contains(&c), "{name:?}");
                    out.push(c);
                    i += 1;
                }
            }
            out
        })
        .collect()
}

/// The escaped name is one file name that gives the path's components back, and the
/// cgroup keys go from the path up to the root.
fn rulekey_checks(path: &[u8]) {
    let comps: Vec<Vec<u8>> = path
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(<[u8]>::to_vec)
        .collect();
    let dotdot = comps.iter().any(|c| c == b"..");
    let Some(name) = rulekey::escape_path(path) else {
        assert!(dotdot);
        assert!(rulekey::cgroup_keys(path).is_empty() && rulekey::exe_key(path).is_none());
        return;
    };
    assert!(!dotdot);
    assert!(
        !name.is_empty() && !name.starts_with('.') && !name.contains('/'),
        "{name:?}"
    );
    assert_eq!(unescape(&name), comps, "{path:?} -> {name:?}");
    assert_eq!(rulekey::exe_key(path), Some(format!("exe/{name}")));
    // The keys of a path of n components hold O(n²) bytes: 2 KiB of `/a` took 2 ms an
    // input, most of the target's time. Real cgroup paths are far shorter.
    if path.len() > 256 {
        return;
    }
    let keys = rulekey::cgroup_keys(path);
    assert_eq!(keys.first(), Some(&format!("cgroup/{name}")));
    assert_eq!(keys.last().map(String::as_str), Some("cgroup/-"));
    let mut prev = comps.len() + 1;
    for k in &keys {
        let c = unescape(k.strip_prefix("cgroup/").unwrap());
        assert!(
            c.len() < prev && comps.starts_with(&c),
            "{path:?}: {keys:?}"
        );
        prev = c.len();
    }
}

/// A client's facts as the kernel would give them, or why not.
struct Given {
    groups: Result<Vec<u32>, String>,
    cgroup: Result<Vec<u8>, String>,
    exe: Result<Vec<u8>, String>,
}

impl Facts for Given {
    fn groups(&mut self) -> Result<Vec<u32>, String> {
        self.groups.clone()
    }
    fn cgroup(&mut self) -> Result<Vec<u8>, String> {
        self.cgroup.clone()
    }
    fn exe(&mut self) -> Result<Vec<u8>, String> {
        self.exe.clone()
    }
    fn log_suffix(&mut self) -> String {
        String::new()
    }
}

/// FLAGS UID GID GROUPS 0xfe CGROUP 0xfe EXE; FLAGS bits 0-2 make a fact unknown.
fn facts(data: &[u8]) -> (u32, u32, Given) {
    let b = |i: usize| data.get(i).copied().unwrap_or(0);
    let flags = b(0);
    let mut f = data.get(3..).unwrap_or_default().splitn(3, |&c| c == 0xfe);
    let (g, c, e) = (
        f.next().unwrap_or_default(),
        f.next().unwrap_or_default(),
        f.next().unwrap_or_default(),
    );
    let known = |bit: u8| {
        (flags & bit == 0)
            .then_some(())
            .ok_or("unknown".to_string())
    };
    let given = Given {
        groups: known(1).map(|()| g.iter().map(|&x| u32::from(x)).collect()),
        cgroup: known(2).map(|()| c.to_vec()),
        exe: known(4).map(|()| e.to_vec()),
    };
    (u32::from(b(1)), u32::from(b(2)), given)
}

/// Entries KIND NAME 0xfe RULE CONTENT, separated by 0xff, written as a rules directory:
/// KIND 0 uid, 1 gid, 2 group, 3 cgroup and 4 exe (NAME a path, escaped), RULE 0 allow,
/// 1 deny, 2 allow with `env/V` = CONTENT, 3 allow with `exec` = CONTENT.
fn write_rules(dir: &Path, data: &[u8]) {
    for entry in data.split(|&b| b == 0xff).take(8) {
        let Some((&kind, rest)) = entry.split_first() else {
            continue;
        };
        let mut parts = rest.splitn(2, |&b| b == 0xfe);
        let name = parts.next().unwrap_or_default();
        let (rule, content) = parts
            .next()
            .unwrap_or_default()
            .split_first()
            .unwrap_or((&0, &[]));
        let (kind, name) = match kind % 5 {
            k @ 0..=2 => (["uid", "gid", "group"][usize::from(k)], name.to_vec()),
            k => {
                let Some(n) = rulekey::escape_path(name) else {
                    continue;
                };
                (if k == 3 { "cgroup" } else { "exe" }, n.into_bytes())
            }
        };
        if name.is_empty() || name.contains(&b'/') || name.contains(&0) || name.starts_with(b".") {
            continue;
        }
        let base = dir.join(kind).join(OsStr::from_bytes(&name));
        let _ = std::fs::create_dir_all(&base);
        let _ = match rule % 4 {
            0 => std::fs::write(base.join("allow"), ""),
            1 => std::fs::write(base.join("deny"), ""),
            2 => std::fs::create_dir_all(base.join("env"))
                .and_then(|()| std::fs::write(base.join("env/V"), content))
                .and_then(|()| std::fs::write(base.join("allow"), "")),
            _ => std::fs::write(base.join("exec"), content)
                .and_then(|()| std::fs::write(base.join("allow"), "")),
        };
    }
}

/// The keys a verdict may name for this client (we run as root: `uid/self` is uid 0's).
fn may_decide(uid: u32, gid: u32, f: &Given) -> Vec<String> {
    let (euid, egid) = (
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
    );
    let mut k = access::keys(uid, gid, euid, egid);
    k.push(format!("group/{gid}"));
    k.extend(f.groups.iter().flatten().map(|g| format!("group/{g}")));
    k.extend(f.cgroup.iter().flat_map(|c| rulekey::cgroup_keys(c)));
    k.extend(f.exe.iter().filter_map(|e| rulekey::exe_key(e)));
    k
}

/// Sorted env edits, so that two readers' verdicts compare whatever their order.
fn canonical(v: Verdict) -> Verdict {
    match v {
        Verdict::Allow { key, mut env, exec } => {
            env.sort();
            Verdict::Allow { key, env, exec }
        }
        v => v,
    }
}

/// RULES 0xfd FACTS: the directory's verdict names a key of the client's; with every
/// fact known, the cdb compiled from the directory gives the same verdict.
fn dir_and_cdb(data: &[u8]) {
    let mut parts = data.splitn(2, |&b| b == 0xfd);
    let rules = parts.next().unwrap_or_default();
    let (uid, gid, mut given) = facts(parts.next().unwrap_or_default());
    let d = scratch("rules");
    let _ = std::fs::remove_dir_all(&d);
    if std::fs::create_dir(&d).is_err() {
        return;
    }
    write_rules(&d, rules);
    let from_dir = access::check_client(&Ruleset::Dir(d.clone()), uid, gid, Some(&mut given));
    let allowed = may_decide(uid, gid, &given);
    if let Ok(Verdict::Allow { key: Some(k), .. } | Verdict::Deny { key: k }) = &from_dir {
        assert!(allowed.contains(k), "{k:?} not in {allowed:?}");
    }
    let all_known = given.groups.is_ok() && given.cgroup.is_ok() && given.exe.is_ok();
    if let (Ok(v), true, Ok(recs)) = (&from_dir, all_known, access::compile(&d)) {
        let f = scratch("compiled.cdb");
        if rulescdb::write_cdb(&f, &recs, 0o600).is_ok() {
            let from_cdb =
                access::check_client(&Ruleset::Cdb(f.clone()), uid, gid, Some(&mut given));
            match from_cdb {
                Ok(c) => assert_eq!(canonical(c), canonical(v.clone())),
                Err(e) => panic!("the compiled cdb fails where the directory did not: {e}"),
            }
        }
        let _ = std::fs::remove_file(&f);
    }
    let _ = std::fs::remove_dir_all(&d);
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, data)) = data.split_first() else {
        return;
    };
    match sel % 6 {
        // A value as found in a cdb: decode, and a decoded rule encodes to a value
        // that decodes to the same rule.
        0 => {
            if let Ok(Some(rule)) = rulescdb::decode(data)
                && let Ok(v) = rulescdb::encode(&rule)
            {
                assert_eq!(rulescdb::decode(&v), Ok(Some(rule)));
            }
        }
        // A whole cdb file: open it and look up the keys ipcserver-access asks for.
        1 => {
            let f = scratch("cdb");
            if std::fs::write(&f, data).is_err() {
                return;
            }
            let (uid, gid, mut given) = facts(data.get(2056..).unwrap_or_default());
            let _ = access::check_client(&Ruleset::Cdb(f.clone()), uid, gid, Some(&mut given));
            if let Ok(db) = rulescdb::open(&f) {
                for k in access::keys(0, 0, 1, 1)
                    .iter()
                    .map(|k| k.as_bytes().to_vec())
                    .chain([data.get(2048..2056).unwrap_or_default().to_vec()])
                {
                    if let Some(Ok(v)) = db.get(&k) {
                        let _ = rulescdb::decode(&v);
                    }
                }
            }
            let _ = std::fs::remove_file(&f);
        }
        // An env directory: entries NAME 0xfe CONTENT, separated by 0xff.
        2 => {
            let d = scratch("env");
            let _ = std::fs::remove_dir_all(&d);
            if std::fs::create_dir(&d).is_err() {
                return;
            }
            // Names written to the directory that the reader must refuse.
            let mut refused_names = Vec::new();
            for entry in data.split(|&b| b == 0xff).take(8) {
                let mut parts = entry.splitn(2, |&b| b == 0xfe);
                let name = parts.next().unwrap_or_default();
                let content = parts.next().unwrap_or_default();
                let _ = access::envfile_value(content);
                if !name.is_empty()
                    && !name.contains(&b'/')
                    && !name.contains(&0)
                    && name != b"."
                    && name != b".."
                    && std::fs::write(d.join(OsStr::from_bytes(name)), content).is_ok()
                    && !access::envfile_name_ok(name)
                {
                    refused_names.push(name.to_vec());
                }
            }
            if let Ok(env) = access::read_envdir(&d) {
                for (name, value) in env {
                    assert!(access::envfile_name_ok(name.as_bytes()));
                    assert!(!refused_names.iter().any(|n| n == name.as_bytes()));
                    if let Some(v) = value {
                        assert!(v.len() <= access::MAX_ENV_FILE);
                        assert!(!v.as_bytes().ends_with(b" "));
                    }
                }
            }
            let _ = std::fs::remove_dir_all(&d);
        }
        // A path escaped into a `cgroup/` or `exe/` key.
        4 => rulekey_checks(data),
        // A rules directory with the new keys, judged from it and from its cdb.
        5 => dir_and_cdb(data),
        // PROTO, ${PROTO}REMOTEEUID, ${PROTO}REMOTEEGID from the environment.
        _ => {
            let mut f = data.splitn(3, |&b| b == 0xff);
            let (p, u, g) = (
                f.next().unwrap_or_default(),
                f.next().unwrap_or_default(),
                f.next().unwrap_or_default(),
            );
            let _ = ipccore::base::ucspi::uint0_scan(u);
            let get = |name: &OsStr| -> Option<OsString> {
                let n = name.as_bytes();
                if n == b"PROTO" {
                    Some(OsStr::from_bytes(p).to_owned())
                } else if n.ends_with(b"REMOTEEUID") {
                    Some(OsStr::from_bytes(u).to_owned())
                } else if n.ends_with(b"REMOTEEGID") {
                    Some(OsStr::from_bytes(g).to_owned())
                } else {
                    None
                }
            };
            let _ = access::client_from(get);
        }
    }
});
