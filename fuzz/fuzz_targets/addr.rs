//! The small parsers of addresses, ids and environment values that every program
//! reads: socket paths (`@name`), `-G` gid lists, `-o uid:gid`, `UID`/`GID`/`GIDLIST`
//! (`-U`), nosh's strtol numbers, `LISTEN_FDS`/`LISTEN_PID`, `LISTEN_FDNAMES`.
#![no_main]

use ipccore::{prog::local_socket_listen, sys::privs, sys::sock::SockPath};
use libfuzzer_sys::fuzz_target;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |&b| b == 0xff);
    let a = parts.next().unwrap_or_default();
    let b = parts.next().unwrap_or_default();
    let c = parts.next();
    let (oa, ob) = (OsStr::from_bytes(a), OsStr::from_bytes(b));

    // A parsed socket path prints back as it was written.
    if let Ok(p) = SockPath::parse(oa) {
        assert_eq!(p.as_os_string().as_bytes(), a);
    }
    if let Ok(s) = std::str::from_utf8(a) {
        // As s6: any run of `,:;` and white space separates two gids.
        if let Some(g) = privs::parse_gidlist(s) {
            let words = s
                .split(|c: char| ",:; \t\r\n".contains(c))
                .filter(|w| !w.is_empty())
                .count();
            assert_eq!(g.len(), words);
        }
        let _ = privs::parse_owner(s);
        if let Some(n) = local_socket_listen::parse_number(s) {
            let _ = (
                local_socket_listen::uid_from(n),
                local_socket_listen::gid_from(n),
            );
            assert!(local_socket_listen::mode_from(n).is_none_or(|m| m.as_raw_mode() <= 0o7777));
        }
    }
    let _ = privs::from_env(Some(oa), Some(ob), c.map(OsStr::from_bytes));
    let n = local_socket_listen::passed_listeners(Some(oa), Some(ob), 4242);
    // fdnames pads or truncates to n names, then adds ours: n+1 names in all.
    let n = n.min(64);
    if local_socket_listen::fdname_is_valid(ob) {
        let names = local_socket_listen::fdnames(Some(oa), n, ob);
        let count = names.as_bytes().split(|&x| x == b':').count();
        assert_eq!(count, n as usize + 1);
    }
});
