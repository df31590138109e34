//! What the `ipcfdholder-*` parsers share (s6-fdholder-*'s conventions): timeouts in
//! milliseconds with 0 meaning none, and the positional arguments each client needs.

use super::{Parsed, UsageError, parser, rest, uint};
use lexopt::prelude::*;
use std::ffi::{OsStr, OsString};
use std::time::Duration;

/// `--help` of the clients whose one option is `-t` (delete, getdump, list, setdump).
pub const HELP_T: &str = concat!(
    "  -t timeout  fail if the whole exchange takes over timeout ms (0: no limit)\n",
    "  --help      print this help and exit\n",
    "  --version   print the version and exit\n",
);

/// The command line of a client whose one option is `-t timeout` (s6-fdholder-delete,
/// -getdump, -list, -setdump): the timeout, then the first `names.len()` positional
/// arguments and the rest (`positional`). As in s6, options end at the first argument.
pub fn timeout_then<const N: usize>(
    args: impl IntoIterator<Item = OsString>,
    names: [&str; N],
) -> Parsed<(Option<Duration>, [OsString; N], Vec<OsString>)> {
    let mut p = parser(args);
    let mut timeout = None;
    let mut pos = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') => timeout = millis("-t", &p.value()?)?,
            Value(v) => {
                pos = rest(&mut p, v)?;
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    let (first, more) = positional(pos, names)?;
    Ok((timeout, first, more))
}

/// `-t`/`-T`: milliseconds as s6 reads them (`uint0_scan`), 0 meaning no limit.
pub fn millis(opt: &str, v: &OsStr) -> Parsed<Option<Duration>> {
    Ok(ms(uint(opt, v)?))
}

/// `n` milliseconds, 0 meaning no limit (as s6).
pub fn ms(n: u32) -> Option<Duration> {
    (n != 0).then(|| Duration::from_millis(n.into()))
}

/// The first `names.len()` positional arguments, refused with `missing NAME` for the
/// first one absent; the rest is returned as is (extra arguments, or the next
/// program's command line).
pub fn positional<const N: usize>(
    pos: Vec<OsString>,
    names: [&str; N],
) -> Parsed<([OsString; N], Vec<OsString>)> {
    if let Some(missing) = names.get(pos.len()) {
        return Err(UsageError(format!("missing {missing}")));
    }
    let mut it = pos.into_iter();
    let first: [OsString; N] = std::array::from_fn(|_| it.next().unwrap_or_default());
    Ok((first, it.collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positional_names_the_first_missing_one() {
        let v = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            positional(v(&["s"]), ["socket", "id"]).unwrap_err().0,
            "missing id"
        );
        assert_eq!(
            positional(v(&[]), ["socket", "id"]).unwrap_err().0,
            "missing socket"
        );
        let ([s, i], rest) = positional(v(&["s", "i", "x"]), ["socket", "id"]).unwrap();
        assert_eq!((s, i, rest), ("s".into(), "i".into(), v(&["x"])));
    }

    #[test]
    fn millis_as_s6() {
        assert_eq!(millis("-t", OsStr::new("0")), Ok(None));
        assert_eq!(
            millis("-t", OsStr::new("1500")),
            Ok(Some(Duration::from_millis(1500)))
        );
        assert!(millis("-t", OsStr::new("+5")).is_err());
    }
}
