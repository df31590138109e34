//! Option parsing of each program, as its bin does it (`parse(args)`), on argv made of
//! the input split at NUL bytes (so arguments may be any bytes, invalid UTF-8 included).
//! The first byte picks the program. Besides "never panics", it checks what the
//! programs promise: limits are clamped, and the next program's argv is passed on
//! untouched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

#[allow(dead_code)]
#[path = "../../src/bin/ipcserver.rs"]
mod ipcserver;
#[allow(dead_code)]
#[path = "../../src/bin/ipcserverd.rs"]
mod ipcserverd;
#[allow(dead_code)]
#[path = "../../src/socket_listen.rs"]
mod socket_listen;

use ipccore::activation::Kind;

fn argv(data: &[u8]) -> Vec<OsString> {
    if data.is_empty() {
        return Vec::new();
    }
    data.split(|&b| b == 0)
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect()
}

/// The next program's argv must be a suffix of ours, byte for byte.
fn is_tail(args: &[OsString], tail: &[OsString]) -> bool {
    !tail.is_empty() && args.ends_with(tail)
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let args = argv(rest);
    match sel % 5 {
        0 => {
            let _ = ipcserver::parse(args.clone());
        }
        1 => {
            if let Ok((cfg, _)) = ipcserverd::parse(args.clone()) {
                let l = cfg.limits;
                assert!(l.maxconn >= 1 && l.maxconn <= 1000);
                assert!(l.localmaxconn >= 1 && l.localmaxconn <= l.maxconn);
                assert!(is_tail(&args, &cfg.argv));
            }
        }
        k => {
            let kind = [Kind::Stream, Kind::Seqpacket, Kind::Datagram][usize::from(k - 2)];
            if let Ok(cfg) = socket_listen::parse(kind, args.clone()) {
                assert!(is_tail(&args, &cfg.argv));
                assert!(cfg.mode.is_none_or(|m| m.as_raw_mode() <= 0o7777));
            }
        }
    }
});
