//! Option parsing of the fd-holder programs, as each bin calls it
//! (`ipctools::cli::NAME::parse`), on argv made of the input split at NUL bytes. The
//! first byte picks the program. Besides "never panics": ipcfdholderd's maxconn stays
//! within 1..=256, and the program argv of retrieve and getdump is passed on untouched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use ipctools::cli::{
    ipcfdholder_daemon as daemon, ipcfdholder_delete as delete, ipcfdholder_getdump as getdump,
    ipcfdholder_list as list, ipcfdholder_retrieve as retrieve, ipcfdholder_setdump as setdump,
    ipcfdholder_store as store, ipcfdholder_transferdump as transferdump,
    ipcfdholderd as fdholderd,
};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let args: Vec<OsString> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split(|&b| b == 0)
            .map(|a| OsString::from_vec(a.to_vec()))
            .collect()
    };
    let a = args.clone();
    match sel % 9 {
        0 => {
            let _ = daemon::parse(a);
        }
        1 => {
            if let Ok(o) = fdholderd::parse(a)
                && let Some(cfg) = o.cfg
            {
                assert!((1..=256).contains(&cfg.maxconn));
            }
        }
        2 => {
            let _ = store::parse(a);
        }
        3 => {
            if let Ok(o) = retrieve::parse(a) {
                assert!(!o.cfg.argv.is_empty() && args.ends_with(&o.cfg.argv));
            }
        }
        4 => {
            let _ = delete::parse(a);
        }
        5 => {
            let _ = list::parse(a);
        }
        6 => {
            if let Ok(o) = getdump::parse(a) {
                assert!(!o.cfg.argv.is_empty() && args.ends_with(&o.cfg.argv));
            }
        }
        7 => {
            let _ = setdump::parse(a);
        }
        _ => {
            let _ = transferdump::parse(a);
        }
    }
});
