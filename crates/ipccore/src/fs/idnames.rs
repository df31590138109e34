//! User and group names to numbers, from `/etc/passwd` and `/etc/group` read directly
//! (`base::idnames` parses them). No NSS: a static build cannot load NSS modules, so
//! LDAP or sssd accounts are not found; s6-envuidgid finds them.

use crate::base::error::{Error, ResultExt};
use crate::base::idnames;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Where users are looked up.
pub const PASSWD: &str = "/etc/passwd";
/// Where groups are looked up.
pub const GROUP: &str = "/etc/group";

/// The uid and primary gid of the user `name` in the passwd file `passwd` (normally
/// [`PASSWD`]; tests pass their own). `None`: no such user there.
///
/// # Errors
/// `read` of the file, with its path.
pub fn user(name: &OsStr, passwd: &Path) -> Result<Option<(u32, u32)>, Error> {
    let text = std::fs::read(passwd).op_at("read", passwd)?;
    Ok(idnames::user(&text, name.as_bytes()))
}

/// The gid of the group `name` in the group file `group` (normally [`GROUP`]).
///
/// # Errors
/// `read` of the file, with its path.
pub fn group(name: &OsStr, group: &Path) -> Result<Option<u32>, Error> {
    let text = std::fs::read(group).op_at("read", group)?;
    Ok(idnames::group(&text, name.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_given_files() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("ipct-idnames-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let (p, g) = (dir.join("passwd"), dir.join("group"));
        std::fs::write(&p, "alice:x:1000:50::/home/alice:/bin/sh\n")?;
        std::fs::write(&g, "staff:x:50:alice\n")?;
        assert_eq!(user(OsStr::new("alice"), &p)?, Some((1000, 50)));
        assert_eq!(user(OsStr::new("bob"), &p)?, None);
        assert_eq!(group(OsStr::new("staff"), &g)?, Some(50));
        let e = group(OsStr::new("staff"), &dir.join("none"))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e,
            Some(format!(
                "unable to read {}/none: No such file or directory",
                dir.display()
            ))
        );
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
