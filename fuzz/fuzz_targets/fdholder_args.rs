//! Option parsing of the fd-holder programs, as each bin does it (`parse(args)`), on
//! argv made of the input split at NUL bytes. The first byte picks the program.
//! Besides "never panics": ipcfdholderd's maxconn stays within 1..=256, and the
//! program argv of retrieve and getdump is passed on untouched.
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
    daemon = "../../src/bin/ipcfdholder-daemon.rs";
    fdholderd = "../../src/bin/ipcfdholderd.rs";
    store = "../../src/bin/ipcfdholder-store.rs";
    retrieve = "../../src/bin/ipcfdholder-retrieve.rs";
    delete = "../../src/bin/ipcfdholder-delete.rs";
    list = "../../src/bin/ipcfdholder-list.rs";
    getdump = "../../src/bin/ipcfdholder-getdump.rs";
    setdump = "../../src/bin/ipcfdholder-setdump.rs";
    transferdump = "../../src/bin/ipcfdholder-transferdump.rs";
}

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
            if let Ok((Some(cfg), _)) = fdholderd::parse(a) {
                assert!((1..=256).contains(&cfg.maxconn));
            }
        }
        2 => {
            let _ = store::parse(a);
        }
        3 => {
            let _ = retrieve::parse(a);
        }
        4 => {
            let _ = delete::parse(a);
        }
        5 => {
            let _ = list::parse(a);
        }
        6 => {
            if let Ok((_, _, argv)) = getdump::parse(a) {
                assert!(!argv.is_empty() && args.ends_with(&argv));
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
