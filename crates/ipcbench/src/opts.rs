//! Option parsing helpers shared by the subcommands: each subcommand's `parse` takes
//! the arguments after its name, so tests can call it with any list.

use lexopt::Parser;
use std::ffi::OsString;
use std::str::FromStr;
use std::time::Duration;

/// A parser over `args`, in which `-n5` is the value `5` but `-n=5` is not.
pub fn parser(args: impl IntoIterator<Item = OsString>) -> Parser {
    let mut p = Parser::from_args(args);
    p.set_short_equals(false);
    p
}

/// The value of the current option, as a number (or anything else `FromStr`).
pub fn num<T>(p: &mut Parser) -> Result<T, lexopt::Error>
where
    T: FromStr,
    T::Err: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
{
    lexopt::ValueExt::parse(&p.value()?)
}

/// The value of the current option, a count of at least 1.
pub fn count(p: &mut Parser) -> Result<usize, lexopt::Error> {
    match num(p)? {
        0 => Err("a count must be at least 1".into()),
        n => Ok(n),
    }
}

/// The value of the current option, in seconds.
pub fn secs(p: &mut Parser) -> Result<Duration, lexopt::Error> {
    Ok(Duration::from_secs(num(p)?))
}

/// The value of the current option, in milliseconds.
pub fn millis(p: &mut Parser) -> Result<Duration, lexopt::Error> {
    Ok(Duration::from_millis(num(p)?))
}

/// The one required operand, once the options are parsed.
pub fn operand(v: Option<OsString>, what: &str) -> Result<OsString, lexopt::Error> {
    v.ok_or_else(|| format!("missing {what}").into())
}

/// `args` cut at every `sep` (the separators dropped; empty pieces kept).
pub fn split_at(args: Vec<OsString>, sep: &str) -> Vec<Vec<OsString>> {
    let mut out = vec![Vec::new()];
    for a in args {
        if a == sep {
            out.push(Vec::new());
        } else if let Some(last) = out.last_mut() {
            last.push(a);
        }
    }
    out
}

#[cfg(test)]
pub fn args(s: &[&str]) -> Vec<OsString> {
    s.iter().map(OsString::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_counts_and_durations() {
        let mut p = parser(args(&[
            "-n", "12", "-c0", "-t", "3", "-l", "20", "-x", "zz",
        ]));
        p.next().unwrap();
        assert_eq!(num::<u32>(&mut p).unwrap(), 12);
        p.next().unwrap();
        assert!(count(&mut p).is_err());
        p.next().unwrap();
        assert_eq!(secs(&mut p).unwrap(), Duration::from_secs(3));
        p.next().unwrap();
        assert_eq!(millis(&mut p).unwrap(), Duration::from_millis(20));
        p.next().unwrap();
        assert!(num::<u32>(&mut p).is_err());
    }

    #[test]
    fn short_equals_is_not_a_value_separator() {
        let mut p = parser(args(&["-n=5"]));
        p.next().unwrap();
        assert!(num::<u32>(&mut p).is_err());
    }

    #[test]
    fn split_keeps_empty_pieces() {
        let g = split_at(args(&["a", "b", "--", "c", "--"]), "--");
        assert_eq!(g, vec![args(&["a", "b"]), args(&["c"]), args(&[])]);
        assert_eq!(split_at(args(&[]), "--"), vec![args(&[])]);
    }
}
