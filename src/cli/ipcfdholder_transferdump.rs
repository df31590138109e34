//! `ipcfdholder-transferdump` options (s6-fdholder-transferdump's).

use super::fdholder::{ms, positional};
use super::{Parsed, UsageError, parser, rest, show};
use ipccore::prog::ipcfdholder::ipcfdholder_transferdump::IpcfdholderTransferdumpConfig;
use ipccore::prog::ipcfdholder::ipcfdholder_transferdump::parse_transfer_timeouts;
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::{OsStr, OsString};
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcfdholder-transferdump";
/// The usage line: `doc/ipcfdholder-transferdump.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcfdholder-transferdump [ -t timeoutfrom:timeoutto ] socketfrom socketto";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcfdholder-transferdump.1`).
pub const HELP: &str = concat!(
    "  -t timeoutfrom:timeoutto  time limits in ms for the source and the destination (0: none)\n",
    "  --help                    print this help and exit\n",
    "  --version                 print the version and exit\n",
);

/// What `ipcfdholder-transferdump` was asked to do.
#[derive(Debug)]
pub struct Opts {
    /// The configuration `ipcfdholder_transferdump` runs with.
    pub cfg: IpcfdholderTransferdumpConfig,
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
        cfg: IpcfdholderTransferdumpConfig {
            timeout_from: ms(from),
            timeout_to: ms(to),
            from: a,
            to: b,
        },
    })
}

/// ipcfdholder-transferdump's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::ipcfdholder::ipcfdholder_transferdump::ipcfdholder_transferdump(
                &o.cfg, &diag,
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
            (o.cfg.timeout_from, o.cfg.timeout_to),
            (None, Some(Duration::from_millis(7)))
        );
        Ok(())
    }
}
