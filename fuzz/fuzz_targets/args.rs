//! Option parsing of each program, as its bin calls it (`ipctools::cli::NAME::parse`), on argv made of
//! the input split at NUL bytes (so arguments may be any bytes, invalid UTF-8 included).
//! The first byte picks the program. Besides "never panics", it checks what the
//! programs promise where the parsed options are visible: limits are clamped, and the
//! next program's argv is passed on untouched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use ipccore::prog::local_socket_listen::Kind;
use ipctools::cli::{
    ipcclient, ipcconnlimit, ipchttpgate, ipcioconnect, ipcnotify_fd_from_socket,
    ipcnotify_socket_from_fd, ipcrules_cdb, ipcrules_fs, ipcserver, ipcserver_access,
    ipcserver_socketbinder, ipcserverd, ipcsudo, ipcsudoc, ipcsudod, local_socket_listen,
    npt_cleanfifodir, npt_listen, npt_mkfifodir, npt_notify, npt_wait, nptlistend,
};

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
    match sel % 24 {
        0 => {
            if let Ok(o) = ipcserver::parse(a) {
                let l = o.cfg.serve.limits;
                assert!(l.maxconn >= 1 && l.maxconn <= 16384);
                assert!(l.localmaxconn >= 1 && l.localmaxconn <= l.maxconn);
                assert!(is_tail(&args, &o.cfg.serve.argv));
            }
        }
        1 => {
            if let Ok(o) = ipcserverd::parse(a) {
                let l = o.cfg.limits;
                assert!(l.maxconn >= 1 && l.maxconn <= 16384);
                // localmaxconn 0 denies every connection, as in s6-ipcserverd.
                assert!(l.localmaxconn <= l.maxconn);
                assert!(!o.cfg.argv.is_empty() && is_tail(&args, &o.cfg.argv));
            }
        }
        k @ 2..=4 => {
            let kind = [Kind::Stream, Kind::Seqpacket, Kind::Datagram][usize::from(k - 2)];
            if let Ok(cfg) = local_socket_listen::parse(kind, a) {
                assert!(!cfg.argv.is_empty() && is_tail(&args, &cfg.argv));
                // A socket mode is permission bits only (`--mode 660` is refused).
                assert!(cfg.mode.is_none_or(|m| m.as_raw_mode() <= 0o777));
            }
        }
        5 => {
            let _ = ipcclient::parse(a);
        }
        6 => {
            let _ = ipcsudo::parse(a);
        }
        7 => {
            if let Ok(o) = ipcsudoc::parse(a) {
                assert!(is_tail(&args, &o.cfg.args));
            }
        }
        8 => {
            if let Ok(o) = ipcsudod::parse(a) {
                assert!(is_tail(&args, &o.cfg.argv));
            }
        }
        9 => {
            let _ = npt_mkfifodir::parse(a);
        }
        10 => {
            // No options at all, as s6-ftrig-notify: the first two arguments, whatever they are.
            if let Ok(o) = npt_notify::parse(a) {
                assert_eq!(o.cfg.dir.as_os_str(), args[0]);
                assert_eq!(o.cfg.message, args[1]);
            }
        }
        11 => {
            let _ = npt_wait::parse(a);
        }
        12 => {
            let _ = nptlistend::parse(a);
        }
        13 => {
            if let Ok(o) = ipcserver_access::parse(a) {
                assert!(is_tail(&args, &o.cfg.argv));
            }
        }
        14 => {
            let _ = ipcrules_cdb::parse(a);
        }
        15 => {
            if let Ok(o) = ipcioconnect::parse(a) {
                // fds 0 to 2 are never the remote side.
                assert!(o.cfg.remote_read >= 3 && o.cfg.remote_write >= 3);
            }
        }
        16 => {
            // No options at all, as s6-connlimit: argv is prog, untouched.
            if let Ok(o) = ipcconnlimit::parse(a) {
                assert_eq!(o.cfg.prog, args);
            }
        }
        17 => {
            if let Ok(o) = ipcrules_fs::parse(a) {
                assert_eq!(o.cfg.dir.as_os_str(), args[0]);
                assert_eq!(o.cfg.cdbfile.as_os_str(), args[1]);
            }
        }
        18 => {
            if let Ok(o) = npt_cleanfifodir::parse(a) {
                assert_eq!(o.cfg.dir.as_os_str(), args[0]);
            }
        }
        19 => {
            if let Ok(o) = ipcserver_socketbinder::parse(a) {
                assert!(!o.cfg.argv.is_empty() && is_tail(&args, &o.cfg.argv));
                // Permission bits only; -b 0 means "does not listen", never listen(0).
                assert!(o.cfg.listen.mode.as_raw_mode() <= 0o777);
                assert!(o.cfg.listen.backlog.is_none_or(|b| b > 0));
            }
        }
        20 => {
            if let Ok(npt_listen::Opts::Run(c)) = npt_listen::parse(a) {
                assert!(!c.subs.is_empty() && !c.prog.is_empty() && is_tail(&args, &c.prog));
            }
        }
        21 => {
            if let Ok(o) = ipchttpgate::parse(a) {
                // 0 means no limit: never a zero timeout that expires at once.
                assert!(o.cfg.header_timeout.is_none_or(|t| !t.is_zero()));
                assert!(o.cfg.idle_timeout.is_none_or(|t| !t.is_zero()));
            }
        }
        22 => {
            if let Ok(o) = ipcnotify_fd_from_socket::parse(a) {
                assert!(!o.cfg.prog.is_empty() && is_tail(&args, &o.cfg.prog));
            }
        }
        _ => {
            if let Ok(o) = ipcnotify_socket_from_fd::parse(a) {
                assert!(!o.cfg.prog.is_empty() && is_tail(&args, &o.cfg.prog));
            }
        }
    }
});
