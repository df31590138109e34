//! The check of `ipcconnlimit` (s6-connlimit's job): refuse a client that already has
//! more connections than `${PROTO}CONNMAX` allows, counting with `${PROTO}CONNNUM` as
//! the super-server set it (ipcserver: `IPCCONNNUM`, this connection included).
//!
//! [`check`] is pure logic over the values given; [`ipcconnlimit`] reads the
//! environment and chain-loads. Follows the s6 binary (2.11 and 2.15 alike), not its
//! manual: a client is refused only when CONNNUM is *above* CONNMAX (the manual says
//! "superior or equal"). That admits exactly CONNMAX clients behind a server whose count
//! includes the new connection (ipcserverd, s6-ipcserverd 2.11), and CONNMAX + 1 behind
//! s6-ipcserverd 2.15, which counts the earlier ones only: `${PROTO}CONNNUMBASE=0` says
//! so, and then the new connection is added before the test.

use crate::base::error::Error;
use crate::base::ucspi;
use crate::sys::diag::Diag;
use crate::sys::exec;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// Refuse a client that is over its limit: `${PROTO}CONNNUM` above
/// `${PROTO}CONNMAX` (an unset CONNMAX is no limit). `get` looks a variable up (the
/// environment).
///
/// # Errors
/// `Usage` (exit 100): `PROTO not set`, `empty PROTO`, `IPCCONNNUM not set`,
/// `invalid IPCCONNNUM`, `invalid IPCCONNMAX`; `Denied` (exit 1): `number of
/// connections from this client limited to MAX`.
pub fn check(get: impl Fn(&OsStr) -> Option<OsString>) -> Result<(), Error> {
    let proto =
        get(OsStr::new(ucspi::PROTO)).ok_or_else(|| Error::Usage("PROTO not set".into()))?;
    if proto.is_empty() {
        return Err(Error::Usage("empty PROTO".into()));
    }
    let name = |suffix: &str| {
        let mut n = proto.clone();
        n.push(suffix);
        n
    };
    // PROTO may be any bytes: names in messages are escaped.
    let shown = |n: &OsStr| crate::base::text::escape(n.as_bytes());
    let num_name = name("CONNNUM");
    let num =
        get(&num_name).ok_or_else(|| Error::Usage(format!("{} not set", shown(&num_name))))?;
    let num = ucspi::uint0_scan(num.as_bytes())
        .ok_or_else(|| Error::Usage(format!("invalid {}", shown(&num_name))))?;
    let base_name = name("CONNNUMBASE");
    let num = match get(&base_name).as_deref().map(OsStr::as_bytes) {
        None | Some(b"1") => u64::from(num),
        // The server counted the earlier connections only: add this one.
        Some(b"0") => u64::from(num) + 1,
        Some(_) => return Err(Error::Usage(format!("invalid {}", shown(&base_name)))),
    };
    let max_name = name("CONNMAX");
    if let Some(max) = get(&max_name) {
        let m = ucspi::uint0_scan(max.as_bytes())
            .ok_or_else(|| Error::Usage(format!("invalid {}", shown(&max_name))))?;
        // s6-connlimit 2.11 compares with `>`: CONNNUM == CONNMAX is still served.
        if num > u64::from(m) {
            return Err(Error::Denied(format!(
                "number of connections from this client limited to {}",
                String::from_utf8_lossy(max.as_bytes())
            )));
        }
    }
    Ok(())
}

/// What ipcconnlimit was asked to do.
#[derive(Clone, Debug, Default)]
pub struct IpcconnlimitConfig {
    /// The program to exec once the count is checked; empty: the check alone.
    pub prog: Vec<OsString>,
}

/// ipcconnlimit: check the count in the environment, then exec `cfg.prog`. Returns
/// `Ok` only when there is no program (as s6-connlimit: the check alone, exit 0).
///
/// # Errors
/// Those of [`check`]; the exec error.
pub fn ipcconnlimit(cfg: &IpcconnlimitConfig, _diag: &Diag) -> Result<(), Error> {
    check(|k| std::env::var_os(k))?;
    if cfg.prog.is_empty() {
        return Ok(());
    }
    Err(exec::exec(&cfg.prog, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Result<(), Error> {
        let m: HashMap<OsString, OsString> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        check(|k| m.get(k).cloned())
    }

    #[test]
    fn equal_is_served_above_is_refused() {
        assert!(with(&[("PROTO", "IPC"), ("IPCCONNNUM", "3"), ("IPCCONNMAX", "3")]).is_ok());
        let e = with(&[("PROTO", "IPC"), ("IPCCONNNUM", "4"), ("IPCCONNMAX", "3")]).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert_eq!(
            e.to_string(),
            "number of connections from this client limited to 3"
        );
        assert!(with(&[("PROTO", "TCP"), ("TCPCONNNUM", "400")]).is_ok());
    }

    #[test]
    fn base_0_counts_the_new_connection() {
        let v = |num, base| {
            with(&[
                ("PROTO", "IPC"),
                ("IPCCONNNUM", num),
                ("IPCCONNMAX", "3"),
                ("IPCCONNNUMBASE", base),
            ])
            .map_err(|e| e.exit_code())
        };
        assert_eq!(v("2", "0"), Ok(()));
        assert_eq!(v("3", "0"), Err(1));
        assert_eq!(v("3", "1"), Ok(()));
        assert_eq!(v("4", "1"), Err(1));
        assert_eq!(v("4294967295", "0"), Err(1));
        assert_eq!(v("1", "2"), Err(100));
        assert_eq!(v("1", ""), Err(100));
    }

    #[test]
    fn bad_values() {
        for (vars, msg) in [
            (&[][..], "PROTO not set"),
            (&[("PROTO", "")][..], "empty PROTO"),
            (&[("PROTO", "IPC")][..], "IPCCONNNUM not set"),
            (
                &[("PROTO", "IPC"), ("IPCCONNNUM", "")][..],
                "invalid IPCCONNNUM",
            ),
            (
                &[("PROTO", "IPC"), ("IPCCONNNUM", "+1")][..],
                "invalid IPCCONNNUM",
            ),
            (
                &[("PROTO", "IPC"), ("IPCCONNNUM", " 1")][..],
                "invalid IPCCONNNUM",
            ),
            (
                &[("PROTO", "IPC"), ("IPCCONNNUM", "99999999999")][..],
                "invalid IPCCONNNUM",
            ),
            (
                &[("PROTO", "IPC"), ("IPCCONNNUM", "1"), ("IPCCONNMAX", "x")][..],
                "invalid IPCCONNMAX",
            ),
            (
                &[("PROTO", "I\nP"), ("I\nPCONNNUM", "x")][..],
                "invalid I\\nPCONNNUM",
            ),
        ] {
            let e = with(vars).unwrap_err();
            assert_eq!(e.exit_code(), 100, "{vars:?}");
            assert_eq!(e.to_string(), msg);
        }
    }
}
