//! ipcserver-access's inputs: cdb rule values, whole cdb files (as ipcrules-cdb or
//! s6-accessrules-cdb-from-fs would leave them, or corrupted), s6-envdir directories and
//! env files, and the client's ids from the environment. The first byte picks the parser.
#![no_main]

use ipccore::{formats::rulescdb, prog::ipcserver_access as access};
use libfuzzer_sys::fuzz_target;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

fn scratch(what: &str) -> PathBuf {
    PathBuf::from(format!("/tmp/ipcfuzz-{}-{what}", std::process::id()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, data)) = data.split_first() else {
        return;
    };
    match sel % 4 {
        // A value as found in a cdb: decode, and a decoded rule encodes to a value
        // that decodes to the same rule.
        0 => {
            if let Ok(Some(rule)) = rulescdb::decode(data) {
                if let Ok(v) = rulescdb::encode(&rule) {
                    assert_eq!(rulescdb::decode(&v), Ok(Some(rule)));
                }
            }
        }
        // A whole cdb file: open it and look up the keys ipcserver-access asks for.
        1 => {
            let f = scratch("cdb");
            if std::fs::write(&f, data).is_err() {
                return;
            }
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
