//! `npt-wait` options (s6-ftrig-wait's, or s6-ftrig-listen1's with prog, plus `-s`).

use super::{Parsed, UsageError, parser, show, uint};
use ipccore::prog::npt::proto::Request;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::time::Duration;

/// What `npt-wait` was asked to do.
pub struct Opts {
    /// The fifodir, the regex the events must match and the `-t` timeout.
    pub req: Request,
    /// `-s`: wait through the nptlistend service (at `$NPT_IPCPATH`, or its default
    /// path) instead of in this process.
    pub service: bool,
    /// The program to spawn once subscribed (s6-ftrig-listen1's form); empty: just
    /// wait (s6-ftrig-wait's).
    pub prog: Vec<OsString>,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let (mut timeout, mut service, mut dir) = (0, false, None);
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') => timeout = uint("-t", &p.value()?)?,
            Short('s') => service = true,
            Value(v) => {
                dir = Some(v);
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    let dir = dir.ok_or("missing fifodir")?;
    let mut rest = p.raw_args()?;
    let regex = rest.next().ok_or("missing regex")?;
    let regex = regex
        .into_string()
        .map_err(|r| UsageError(format!("regex {} is not valid UTF-8", show(&r))))?;
    Ok(Opts {
        req: Request {
            fifodir: dir.into(),
            regex,
            timeout: (timeout != 0).then(|| Duration::from_millis(timeout.into())),
        },
        service,
        prog: rest.collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prog_is_not_parsed() -> Parsed<()> {
        let o = parse(["-t", "5", "d", "-t", "x", "-t"].map(OsString::from))?;
        assert_eq!(o.req.regex, "-t");
        assert_eq!(o.req.timeout, Some(Duration::from_millis(5)));
        assert_eq!(o.prog, ["x", "-t"]);
        let o = parse(["-t0", "d", "re"].map(OsString::from))?;
        assert_eq!(o.req.timeout, None);
        Ok(())
    }
}
