//! Dropping privileges: supplementary groups, then gid, then uid.
//!
//! The order matters: once the uid is not 0, setgroups and setgid are no longer allowed.
//! rustix's calls are per-thread; every ipctools program is single-threaded when it
//! drops privileges, so per-thread is per-process here.

use crate::base::error::{Error, ResultExt};
use rustix::process::{Gid, Uid};
use std::ffi::OsStr;

/// What to become. `None` fields are left as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ids {
    /// The uid to run as (`-u`, `$UID` with `-U`).
    pub uid: Option<Uid>,
    /// The primary gid to run as (`-g`, `$GID` with `-U`).
    pub gid: Option<Gid>,
    /// The supplementary groups (`-G`, `$GIDLIST` with `-U`); the primary gid is
    /// added to them. `None`: see `drop_to`.
    pub groups: Option<Vec<Gid>>,
}

impl Ids {
    /// Whether nothing is to change.
    pub fn is_empty(&self) -> bool {
        self.uid.is_none() && self.gid.is_none() && self.groups.is_none()
    }
}

/// Parse a list of numeric gids as s6 does (skalibs `gid_scanlist`: `-G 1,2,3`,
/// `GIDLIST=1,2`): numbers separated by runs of `,:; \t\r\n`, so `1,,2` and `1,` are
/// fine; the empty string means no groups. Unlike s6, which keeps the numbers before
/// any junk (`1,x` is `[1]`, an overlong number splits), anything else is refused.
pub fn parse_gidlist(s: &str) -> Option<Vec<Gid>> {
    const SEP: &[char] = &[',', ':', ';', ' ', '\t', '\r', '\n'];
    if !s.starts_with(|c: char| c.is_ascii_digit()) {
        return s.is_empty().then(Vec::new);
    }
    let groups = s
        .split(SEP)
        .filter(|g| !g.is_empty())
        .map(|g| {
            g.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| g.parse::<u32>().ok())
                .flatten()
                .map(Gid::from_raw)
        })
        .collect::<Option<Vec<_>>>()?;
    // NGROUPS_MAX on Linux.
    (groups.len() <= 65536).then_some(groups)
}

/// `-o UID:GID`: numeric owner and group of a socket file; either side may be empty.
pub fn parse_owner(s: &str) -> Result<(Option<Uid>, Option<Gid>), String> {
    let (u, g) = s.split_once(':').ok_or("owner must be UID:GID")?;
    let num = |x: &str| -> Result<Option<u32>, String> {
        if x.is_empty() {
            Ok(None)
        } else {
            x.parse().map(Some).map_err(|_| format!("invalid id: {x}"))
        }
    };
    Ok((num(u)?.map(Uid::from_raw), num(g)?.map(Gid::from_raw)))
}

/// A uid from the command line; 0 means "not set", as in s6-ipcserver.
pub fn nonzero_uid(n: u32) -> Option<Uid> {
    (n != 0).then(|| Uid::from_raw(n))
}

/// A gid from the command line; 0 means "not set", as in s6-ipcserver.
pub fn nonzero_gid(n: u32) -> Option<Gid> {
    (n != 0).then(|| Gid::from_raw(n))
}

/// Read `UID`, `GID` and `GIDLIST` from the environment (s6-applyuidgid `-U`). All
/// three must be set, as s6 requires (`GIDLIST not set`, exit 100); an empty `GIDLIST`
/// means "no supplementary groups besides GID".
pub fn from_env(
    uid: Option<&OsStr>,
    gid: Option<&OsStr>,
    gidlist: Option<&OsStr>,
) -> Result<Ids, Error> {
    let num = |name: &str, v: Option<&OsStr>| -> Result<u32, Error> {
        let v = v.ok_or_else(|| Error::Usage(format!("{name} not set")))?;
        // Digits only, as s6's uid0_scan: str::parse would take a leading `+`.
        v.to_str()
            .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::Usage(format!("invalid ${name}")))
    };
    let uid = Uid::from_raw(num("UID", uid)?);
    let gid = Gid::from_raw(num("GID", gid)?);
    let groups = gidlist
        .ok_or_else(|| Error::Usage("GIDLIST not set".into()))?
        .to_str()
        .and_then(parse_gidlist)
        .ok_or_else(|| Error::Usage("invalid $GIDLIST".into()))?;
    Ok(Ids {
        uid: Some(uid),
        gid: Some(gid),
        groups: Some(groups),
    })
}

/// The supplementary groups to set: a given list gets the primary gid added (the new
/// one, else our current egid), as s6-applyuidgid does (skalibs `setgroups_and_gid`),
/// so `-G 1,2 -g 5` gives `1 2 5`.
fn with_primary(list: &[Gid], gid: Option<Gid>) -> Vec<Gid> {
    let primary = gid.unwrap_or_else(rustix::process::getegid);
    let mut g = list.to_vec();
    if !g.contains(&primary) {
        g.push(primary);
    }
    g
}

/// `setgroups`, `setresgid`, `setresuid`, in that order—become `ids` for good (real,
/// effective and saved ids alike). A group list gets the primary gid added
/// (`with_primary`). When a uid or gid is set without a group list, the supplementary
/// groups are reset to the new gid alone (emptied when only the uid changes), so no
/// group of the old identity (root's, typically) survives the drop.
///
/// # Errors
/// `setgroups`, `setgid`, `setuid`.
///
/// # References
/// - [setgroups(2)](https://man7.org/linux/man-pages/man2/setgroups.2.html)
/// - [setresuid(2), setresgid(2)](https://man7.org/linux/man-pages/man2/setresuid.2.html)
#[doc(alias = "setgroups")]
#[doc(alias = "setresuid")]
pub(crate) fn drop_to(ids: &Ids) -> Result<(), Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let groups = match (&ids.groups, ids.gid) {
        (Some(g), gid) => Some(with_primary(g, gid)),
        (None, Some(g)) => Some(vec![g]),
        (None, None) => Some(Vec::new()),
    };
    if let Some(g) = groups {
        rustix::thread::set_thread_groups(&g).op("setgroups")?;
    }
    if let Some(g) = ids.gid {
        rustix::thread::set_thread_res_gid(g, g, g).op("setgid")?;
    }
    if let Some(u) = ids.uid {
        rustix::thread::set_thread_res_uid(u, u, u).op("setuid")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner() -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(parse_owner(":5")?, (None, Some(Gid::from_raw(5))));
        assert_eq!(parse_owner("7:")?, (Some(Uid::from_raw(7)), None));
        assert!(parse_owner("7").is_err());
        assert!(parse_owner("x:1").is_err());
        Ok(())
    }

    #[test]
    fn gidlist() -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(
            parse_gidlist("1,2").ok_or("\"1,2\" refused")?,
            vec![Gid::from_raw(1), Gid::from_raw(2)]
        );
        assert_eq!(parse_gidlist("").ok_or("\"\" refused")?, vec![]);
        // As s6: runs of separators, a trailing one.
        for ok in ["1,,2", "1,2,", "1:2", "1 2", "1;\t2\n"] {
            assert_eq!(
                parse_gidlist(ok).ok_or(format!("{ok:?} refused"))?,
                vec![Gid::from_raw(1), Gid::from_raw(2)]
            );
        }
        // s6 refuses these too (nothing scanned).
        for bad in ["x", ",1", " 1", "+1"] {
            assert!(parse_gidlist(bad).is_none(), "{bad:?} accepted");
        }
        // s6 keeps a prefix of these; we refuse them.
        for bad in ["1,x", "1,+2", "4294967296", "1,-2"] {
            assert!(parse_gidlist(bad).is_none(), "{bad:?} accepted");
        }
        Ok(())
    }

    #[test]
    fn primary_gid_joins_the_list() {
        let g = |v: &[u32]| v.iter().map(|&n| Gid::from_raw(n)).collect::<Vec<_>>();
        assert_eq!(
            with_primary(&g(&[1, 2, 3]), Some(Gid::from_raw(65534))),
            g(&[1, 2, 3, 65534])
        );
        assert_eq!(
            with_primary(&g(&[5, 1]), Some(Gid::from_raw(5))),
            g(&[5, 1])
        );
        assert_eq!(with_primary(&[], None), vec![rustix::process::getegid()]);
    }

    #[test]
    fn env_ids() -> Result<(), Box<dyn std::error::Error>> {
        let e = from_env(None, Some(OsStr::new("1")), None).unwrap_err();
        assert_eq!(e.to_string(), "UID not set");
        let e = from_env(Some(OsStr::new("1")), Some(OsStr::new("1")), None).unwrap_err();
        assert_eq!(e.to_string(), "GIDLIST not set");
        assert_eq!(e.exit_code(), 100);
        let ids = from_env(
            Some(OsStr::new("5")),
            Some(OsStr::new("6")),
            Some(OsStr::new("7,8")),
        )?;
        assert_eq!(ids.uid, Some(Uid::from_raw(5)));
        assert_eq!(ids.groups.ok_or("groups not set")?.len(), 2);
        Ok(())
    }
}
