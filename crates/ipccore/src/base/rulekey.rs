//! The names under which access rules on a path are filed: `cgroup/NAME` for a cgroup
//! v2 path, `exe/NAME` for an executable, NAME being the path escaped as
//! `systemd-escape --path` does it, so that a whole path is one file name in a rules
//! directory and one component of a cdb key (which ipcrules-fs makes into one).
//!
//! The escape: `.` and `..`-free, slashes collapsed, leading and trailing slashes
//! dropped; `/` becomes `-`; ASCII letters, digits, `:`, `_` and `.` (except a leading
//! `.`) stay; every other byte becomes `\xNN` (lower-case hex). The root is `-`.
//! `/usr/bin/curl` is `usr-bin-curl`; `/user.slice/user-1000.slice` is
//! `user.slice-user\x2d1000.slice`.

use std::fmt::Write as _;

/// The escaped name of `path` (absolute or not), or `None` for a path with a `..`
/// component (systemd refuses those too: they do not name one place).
pub fn escape_path(path: &[u8]) -> Option<String> {
    let mut comps = Vec::new();
    for c in path.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return None,
            c => comps.push(c),
        }
    }
    if comps.is_empty() {
        return Some("-".into());
    }
    let mut out = String::with_capacity(path.len() + 8);
    for (i, comp) in comps.iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        for (j, &b) in comp.iter().enumerate() {
            let keep = b.is_ascii_alphanumeric() || b == b':' || b == b'_' || b == b'.';
            if keep && !(i == 0 && j == 0 && b == b'.') {
                out.push(char::from(b));
            } else {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    Some(out)
}

/// The `cgroup/` keys for a cgroup v2 path, most specific first: the cgroup itself,
/// then each ancestor up to the root (`cgroup/-`).
/// A path with a `..` component gets none.
pub fn cgroup_keys(path: &[u8]) -> Vec<String> {
    let mut keys = Vec::new();
    if escape_path(path).is_none() {
        return keys;
    }
    let mut p: &[u8] = path;
    loop {
        if let Some(name) = escape_path(p) {
            keys.push(format!("cgroup/{name}"));
        }
        let trimmed = p.strip_suffix(b"/").unwrap_or(p);
        match trimmed.iter().rposition(|&b| b == b'/') {
            Some(i) if !trimmed.is_empty() => p = trimmed.get(..i).unwrap_or_default(),
            _ => break,
        }
    }
    if keys.last().map(String::as_str) != Some("cgroup/-") {
        keys.push("cgroup/-".into());
    }
    keys.dedup();
    keys
}

/// The `exe/` key for an executable path.
pub fn exe_key(path: &[u8]) -> Option<String> {
    escape_path(path).map(|n| format!("exe/{n}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_systemd() {
        for (p, want) in [
            ("/", "-"),
            ("", "-"),
            ("/a/b", "a-b"),
            ("/a-b", "a\\x2db"),
            ("//a//b/", "a-b"),
            ("/.hidden", "\\x2ehidden"),
            ("/a/.b", "a-.b"),
            ("/a b", "a\\x20b"),
            ("/ä", "\\xc3\\xa4"),
            ("/a\\b", "a\\x5cb"),
            ("/a@b", "a\\x40b"),
            ("/a:b_c.d", "a:b_c.d"),
            ("/a/./b", "a-b"),
            ("/usr/bin/curl", "usr-bin-curl"),
            (
                "/user.slice/user-1000.slice/session-2.scope",
                "user.slice-user\\x2d1000.slice-session\\x2d2.scope",
            ),
        ] {
            assert_eq!(escape_path(p.as_bytes()).as_deref(), Some(want), "{p:?}");
        }
        assert_eq!(escape_path(b"/a/../b"), None);
        assert_eq!(escape_path(b"/a\nb").as_deref(), Some("a\\x0ab"));
    }

    /// Whatever the path, the name is one safe file name: no `/`, no NUL, no leading
    /// dot, only the kept characters and `\xNN`; and two different normalized paths
    /// never share a name.
    #[test]
    fn property_names_are_single_components_and_distinct() {
        let mut seen = std::collections::HashMap::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 9) as usize;
            let alphabet = b"/a.-\\x\0\xff:_ ";
            let path: Vec<u8> = (0..len)
                .map(|i| alphabet[((x >> (i * 4)) % alphabet.len() as u64) as usize])
                .collect();
            let Some(name) = escape_path(&path) else {
                continue;
            };
            assert!(!name.is_empty() && !name.contains('/') && !name.contains('\0'));
            assert!(!name.starts_with('.'), "{path:?}");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b":_.-\\".contains(&b))
            );
            let norm: Vec<Vec<u8>> = path
                .split(|&b| b == b'/')
                .filter(|c| !c.is_empty() && *c != b".")
                .map(<[u8]>::to_vec)
                .collect();
            if let Some(other) = seen.insert(name.clone(), norm.clone()) {
                assert_eq!(other, norm, "{name}");
            }
        }
    }

    #[test]
    fn cgroup_ancestry() {
        assert_eq!(
            cgroup_keys(b"/a.slice/b-c.scope"),
            ["cgroup/a.slice-b\\x2dc.scope", "cgroup/a.slice", "cgroup/-"]
        );
        assert_eq!(cgroup_keys(b"/"), ["cgroup/-"]);
        assert!(cgroup_keys(b"/a/../b").is_empty());
        assert_eq!(cgroup_keys(b"/x/"), ["cgroup/x", "cgroup/-"]);
        assert_eq!(
            exe_key(b"/usr/bin/curl").as_deref(),
            Some("exe/usr-bin-curl")
        );
    }
}
