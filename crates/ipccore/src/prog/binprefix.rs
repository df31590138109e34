//! Where a program finds its sibling programs (ipcsudo runs ipcclient and ipcsudoc),
//! like s6's `S6_BINPREFIX`: one build-time prefix, `IPCTOOLS_BINPREFIX` (for example
//! `/usr/bin/`), or, when the build did not set it, the directory of the running
//! executable, so that a build tree or an unpacked tarball works without installing.

use std::ffi::OsString;

/// The prefix fixed at build time, if any.
const BUILD_PREFIX: Option<&str> = option_env!("IPCTOOLS_BINPREFIX");

/// The path of sibling program `name`. Falls back to the bare name (searched in
/// `$PATH` by exec) if the running executable's path cannot be read.
pub fn sibling(name: &str) -> OsString {
    if let Some(p) = BUILD_PREFIX {
        let mut s = OsString::from(p);
        s.push(name);
        return s;
    }
    match std::env::current_exe() {
        Ok(exe) => match exe.parent() {
            Some(dir) => dir.join(name).into_os_string(),
            None => OsString::from(name),
        },
        Err(_) => OsString::from(name),
    }
}
