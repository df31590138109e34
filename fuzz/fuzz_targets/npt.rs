//! nptlistend's requests, as a client sends them on its stdin: three NUL-ended fields
//! (fifodir, regex, timeout), then the regex weighed as the service weighs it, compiled
//! (by the C library) and run over the bytes that follow (as event bytes); and the caller's identity from IPCREMOTEEUID/IPCREMOTEEGID.
#![no_main]

use ipccore::prog::npt::nptlistend::caller_ids;
use ipccore::prog::npt::proto::{self as npt, Request};
use libfuzzer_sys::fuzz_target;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = Request::parse(data) {
        let wire = req.encode().expect("encode a parsed request");
        assert_eq!(Request::parse(&wire).expect("reparse"), req);
        // As the service does: glibc's regcomp takes gigabytes on `a{0,32767}`, and
        // back-references match in exponential time.
        if npt::check_service_regex(&req.regex).is_ok()
            && let Ok(re) = npt::compile(&req.regex)
        {
            let events = data.splitn(4, |&b| b == 0).nth(3).unwrap_or_default();
            let _ = re.is_match(events);
        }
    }
    let mut ids = data.splitn(2, |&b| b == b':');
    let (u, g) = (
        ids.next().map(OsStr::from_bytes),
        ids.next().map(OsStr::from_bytes),
    );
    if let Ok(Some(i)) = caller_ids(u, g) {
        assert_eq!(
            i.groups.as_deref(),
            i.gid.as_ref().map(std::slice::from_ref)
        );
    }
});
