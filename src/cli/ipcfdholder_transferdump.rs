//! `ipcfdholder-transferdump` options (s6-fdholder-transferdump's).

use super::fdholder::{ms, positional};
use super::{Parsed, UsageError, parser, rest, show};
use ipccore::prog::ipcfdholder::ipcfdholder_transferdump::parse_transfer_timeouts;
use lexopt::prelude::*;
use std::ffi::{OsStr, OsString};
use std::time::Duration;

/// What `ipcfdholder-transferdump` was asked to do.
#[derive(Debug)]
pub struct Opts {
    /// `-t FROM:TO`: the time for getting the dump, then for setting it.
    pub timeout_from: Option<Duration>,
    /// The `TO` half of `-t FROM:TO`: the limit on handing the dump to `to`.
    pub timeout_to: Option<Duration>,
    /// The socket of the daemon whose fds are copied (socketfrom).
    pub from: OsString,
    /// The socket of the daemon that receives them, with their expiry dates (socketto).
    pub to: OsString,
}

/// `-t timeoutfrom:timeoutto` ([`parse_transfer_timeouts`]).
fn timeouts(v: &OsStr) -> Parsed<(u32, u32)> {
    v.to_str().and_then(parse_transfer_timeouts).ok_or_else(|| {
        UsageError(format!(
            "-t: {} is not timeoutfrom:timeoutto (milliseconds, either may be empty)",
            show(v)
        ))
    })
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let (mut from, mut to) = (0, 0);
    let mut pos = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') => (from, to) = timeouts(&p.value()?)?,
            // As s6: extra arguments are ignored.
            Value(v) => {
                pos = rest(&mut p, v)?;
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    let ([a, b], _) = positional(pos, ["socketfrom", "socketto"])?;
    Ok(Opts {
        timeout_from: ms(from),
        timeout_to: ms(to),
        from: a,
        to: b,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_values() -> Parsed<()> {
        let e = |a: &[&str]| parse(a.iter().map(OsString::from)).map(|_| ());
        assert_eq!(e(&["a"]).unwrap_err().0, "missing socketto");
        assert_eq!(
            e(&["-t", "5;7", "a", "b"]).unwrap_err().0,
            "-t: 5;7 is not timeoutfrom:timeoutto (milliseconds, either may be empty)"
        );
        let o = parse(["-t", ":7", "a", "b"].map(OsString::from))?;
        assert_eq!(
            (o.timeout_from, o.timeout_to),
            (None, Some(Duration::from_millis(7)))
        );
        Ok(())
    }
}
