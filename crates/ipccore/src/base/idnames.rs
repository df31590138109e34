//! The `/etc/passwd` and `/etc/group` line formats, read to turn a user or group name
//! given on a command line (`-u www-data`, `-o :staff`) into its number. Parsing only:
//! `fs::idnames` reads the files. This is not NSS: a static build cannot load NSS
//! modules, so users and groups that live only in LDAP or sssd are not found here
//! (s6-envuidgid, which the system's libc links dynamically, finds them).

/// The fields of the first entry named `name` in passwd- or group-format `text`:
/// `name:password:ID:...`. Blank lines, `#` comments and NIS `+`/`-` lines are skipped.
fn entry<'a>(text: &'a [u8], name: &[u8]) -> Option<Vec<&'a [u8]>> {
    if name.is_empty() || name.contains(&b':') || name.contains(&b'\n') {
        return None;
    }
    text.split(|&c| c == b'\n')
        .filter(|l| !l.is_empty() && !matches!(l.first(), Some(b'#' | b'+' | b'-')))
        .map(|l| l.split(|&c| c == b':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&name))
}

/// A decimal id field, as libc's parsers read them (digits only).
fn id(field: Option<&&[u8]>) -> Option<u32> {
    let f = *field?;
    if f.is_empty() || !f.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(f).ok()?.parse().ok()
}

/// The uid and primary gid of the user `name` in passwd-format `text`
/// (`name:x:UID:GID:gecos:home:shell`). `None` when there is no such user, or its
/// entry is malformed.
pub fn user(text: &[u8], name: &[u8]) -> Option<(u32, u32)> {
    let f = entry(text, name)?;
    Some((id(f.get(2))?, id(f.get(3))?))
}

/// The gid of the group `name` in group-format `text` (`name:x:GID:members`).
pub fn group(text: &[u8], name: &[u8]) -> Option<u32> {
    id(entry(text, name)?.get(2))
}

/// Whether `s` is to be looked up as a name: it starts with a letter or `_`, as
/// useradd's names do. Anything else (digits included) is read as a number, so a
/// number is always a number, as in s6.
pub fn is_name(s: &[u8]) -> bool {
    s.first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/bash\n\
        # a comment\n\
        \n\
        +nisuser::::::\n\
        www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n\
        bad:x:notanumber:1::/:/bin/sh\n\
        short:x:5\n\
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
        www-data:x:999:999:second entry:/:/bin/sh";

    #[test]
    fn users() {
        assert_eq!(user(PASSWD, b"root"), Some((0, 0)));
        assert_eq!(
            user(PASSWD, b"www-data"),
            Some((33, 33)),
            "first entry wins"
        );
        assert_eq!(user(PASSWD, b"nobody"), Some((65534, 65534)));
        for missing in [
            &b"bad"[..],
            b"short",
            b"nisuser",
            b"+nisuser",
            b"www",
            b"",
            b"root:x",
        ] {
            assert_eq!(user(PASSWD, missing), None, "{missing:?}");
        }
    }

    #[test]
    fn groups() {
        let g = b"root:x:0:\nstaff:x:50:alice,bob\nnogroup:x:65534:\nbig:x:4294967296:\n";
        assert_eq!(group(g, b"staff"), Some(50));
        assert_eq!(group(g, b"nogroup"), Some(65534));
        assert_eq!(group(g, b"big"), None);
        assert_eq!(group(g, b"wheel"), None);
        assert_eq!(
            group(b"staff:x:50", b"staff"),
            Some(50),
            "no trailing newline"
        );
    }

    #[test]
    fn names_and_numbers() {
        assert!(is_name(b"www-data"));
        assert!(is_name(b"_apt"));
        for number in [&b"0"[..], b"1000", b"+5", b"-1", b"", b" x"] {
            assert!(!is_name(number), "{number:?}");
        }
    }
}
