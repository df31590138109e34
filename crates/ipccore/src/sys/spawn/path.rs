//! The PATH search of `execvp`, shared by the spawn child and `sys::exec`: which paths
//! to try for a program name, and which failures let the search go on.
//!
//! Left out: the exec itself. The spawn child runs the search with the parent's memory
//! and no allocation (`Search` is plain integers); `sys::exec` runs it in-process.

use std::ffi::{CString, c_int};

/// execvp's search path when PATH is unset (glibc's `CS_PATH`).
const DEFAULT_PATH: &[u8] = b"/bin:/usr/bin";

/// execvp's candidate paths for `file`: `file` itself if it has a slash, else
/// `dir/file` for each element of `path` (an empty element meaning the current
/// directory), `DEFAULT_PATH` if there is none. Empty for an empty `file`, and an
/// element with a NUL byte is skipped.
pub(crate) fn candidates(file: &[u8], path: Option<&[u8]>) -> Vec<CString> {
    if file.is_empty() {
        return Vec::new();
    }
    if file.contains(&b'/') {
        return CString::new(file).ok().into_iter().collect();
    }
    path.unwrap_or(DEFAULT_PATH)
        .split(|&b| b == b':')
        .filter_map(|dir| {
            let mut v = dir.to_vec();
            if !v.is_empty() {
                v.push(b'/');
            }
            v.extend_from_slice(file);
            CString::new(v).ok()
        })
        .collect()
}

/// Where a search over the candidates stands, as glibc's `__execvpex` keeps it: EACCES
/// is remembered and the search goes on, as do the "not here" errors; any other error
/// stops it and is the one reported. Plain integers, so the spawn child may keep one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Search {
    err: c_int,
    eacces: bool,
    stopped: bool,
}

impl Search {
    /// A search that has tried nothing yet.
    pub(crate) const fn new() -> Search {
        Search {
            err: libc::ENOENT,
            eacces: false,
            stopped: false,
        }
    }

    /// Record that one candidate's execve failed with `errno`; true if the search goes
    /// on to the next candidate.
    pub(crate) fn failed(&mut self, errno: c_int) -> bool {
        self.err = errno;
        match errno {
            libc::EACCES => {
                self.eacces = true;
                true
            }
            libc::ENOENT | libc::ESTALE | libc::ENOTDIR | libc::ENODEV | libc::ETIMEDOUT => true,
            _ => {
                self.stopped = true;
                false
            }
        }
    }

    /// The errno to report once the search is over: EACCES if a candidate was found but
    /// not runnable and nothing stopped the search, else the last error (ENOENT when
    /// there was no candidate at all).
    pub(crate) fn errno(&self) -> c_int {
        if self.eacces && !self.stopped {
            libc::EACCES
        } else if self.err == 0 {
            libc::ENOENT
        } else {
            self.err
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: Vec<CString>) -> Vec<String> {
        v.into_iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn candidates_follow_execvp() {
        assert_eq!(strs(candidates(b"/bin/cat", Some(b"/x"))), ["/bin/cat"]);
        assert_eq!(strs(candidates(b"./cat", Some(b"/x"))), ["./cat"]);
        assert_eq!(
            strs(candidates(b"cat", Some(b"/a::/b"))),
            ["/a/cat", "cat", "/b/cat"]
        );
        assert_eq!(strs(candidates(b"cat", None)), ["/bin/cat", "/usr/bin/cat"]);
        assert!(candidates(b"", Some(b"/a")).is_empty());
    }

    #[test]
    fn search_reports_as_execvp() {
        let mut s = Search::new();
        assert_eq!(s.errno(), libc::ENOENT);
        assert!(s.failed(libc::ENOENT) && s.failed(libc::EACCES) && s.failed(libc::ENOTDIR));
        assert_eq!(s.errno(), libc::EACCES);
        assert!(!s.failed(libc::ENOEXEC));
        assert_eq!(s.errno(), libc::ENOEXEC);
        let mut s = Search::new();
        assert!(s.failed(libc::ESTALE));
        assert_eq!(s.errno(), libc::ESTALE);
    }
}
