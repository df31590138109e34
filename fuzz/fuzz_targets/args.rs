//! Option parsing of each program, as its bin does it (`parse(args)`), on argv made of
//! the input split at NUL bytes (so arguments may be any bytes, invalid UTF-8 included).
//! The first byte picks the program. Besides "never panics", it checks what the
//! programs promise where the parsed options are visible: limits are clamped, and the
//! next program's argv is passed on untouched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

macro_rules! bins {
    ($($name:ident = $file:literal;)*) => {
        $(
            #[allow(dead_code)]
            #[path = $file]
            mod $name;
        )*
    };
}

bins! {
    ipcserver = "../../src/bin/ipcserver.rs";
    ipcserverd = "../../src/bin/ipcserverd.rs";
    socket_listen = "../../src/socket_listen.rs";
    ipcclient = "../../src/bin/ipcclient.rs";
    ipcsudo = "../../src/bin/ipcsudo.rs";
    ipcsudoc = "../../src/bin/ipcsudoc.rs";
    ipcsudod = "../../src/bin/ipcsudod.rs";
    npt_mkfifodir = "../../src/bin/npt-mkfifodir.rs";
    npt_notify = "../../src/bin/npt-notify.rs";
    npt_wait = "../../src/bin/npt-wait.rs";
    nptlistend = "../../src/bin/nptlistend.rs";
    ipcserver_access = "../../src/bin/ipcserver-access.rs";
    ipcrules_cdb = "../../src/bin/ipcrules-cdb.rs";
}

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
    args.ends_with(tail)
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let args = argv(rest);
    let a = args.clone();
    match sel % 15 {
        0 => {
            let _ = ipcserver::parse(a);
        }
        1 => {
            if let Ok((cfg, _)) = ipcserverd::parse(a) {
                let l = cfg.limits;
                assert!(l.maxconn >= 1 && l.maxconn <= 1000);
                assert!(l.localmaxconn >= 1 && l.localmaxconn <= l.maxconn);
                assert!(!cfg.argv.is_empty() && is_tail(&args, &cfg.argv));
            }
        }
        k @ 2..=4 => {
            let kind = [Kind::Stream, Kind::Seqpacket, Kind::Datagram][usize::from(k - 2)];
            if let Ok(cfg) = socket_listen::parse(kind, a) {
                assert!(!cfg.argv.is_empty() && is_tail(&args, &cfg.argv));
                assert!(cfg.mode.is_none_or(|m| m.as_raw_mode() <= 0o7777));
            }
        }
        5 => {
            let _ = ipcclient::parse(a);
        }
        6 => {
            let _ = ipcsudo::parse(a);
        }
        7 => {
            if let Ok(cfg) = ipcsudoc::parse(a) {
                assert!(is_tail(&args, &cfg.args));
            }
        }
        8 => {
            if let Ok((cfg, _)) = ipcsudod::parse(a) {
                assert!(is_tail(&args, &cfg.argv));
            }
        }
        9 => {
            let _ = npt_mkfifodir::parse(a);
        }
        10 => {
            let _ = npt_notify::parse(a);
        }
        11 => {
            let _ = npt_wait::parse(a);
        }
        12 => {
            let _ = nptlistend::parse(a);
        }
        13 => {
            if let Ok((cfg, _)) = ipcserver_access::parse(a) {
                assert!(is_tail(&args, &cfg.argv));
            }
        }
        _ => {
            let _ = ipcrules_cdb::parse(a);
        }
    }
});
