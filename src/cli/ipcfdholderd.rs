//! `ipcfdholderd` options (s6-fdholderd's).

use super::fdholder::millis;
use super::{Parsed, parser, uint};
use ipccore::prog::ipcfdholder::ipcfdholderd::{self as daemon, IpcfdholderdConfig, Rules};
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcfdholderd";
/// The usage line: `doc/ipcfdholderd.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcfdholderd [ -v verbosity ] [ -1 ] [ -c maxconn ] [ -n maxfds ] [ -t timeout ] [ -T lameducktimeout ] [ -i rulesdir | -x rulesfile ]";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcfdholderd.1`).
pub const HELP: &str = concat!(
    "  -1                  write a newline to stdout once serving (readiness)\n",
    "  -v verbosity        0 quiet, 1 and 2 warnings (default 1), 3 also clients allowed and denied\n",
    "  -c maxconn          serve at most maxconn clients at once (default 16, at most 256)\n",
    "  -n maxfds           hold at most maxfds fds (default 1000, lowered to fit the fd limit)\n",
    "  -t timeout          disconnect a client idle for timeout ms (frees stuck slots)\n",
    "  -T lameducktimeout  after SIGTERM, exit within lameducktimeout ms\n",
    "  -i rulesdir         access rules in a directory\n",
    "  -x rulesfile        access rules in a cdb file\n",
    "  --help              print this help and exit\n",
    "  --version           print the version and exit\n",
);

/// What `ipcfdholderd` was asked to do.
#[derive(Debug)]
pub struct Opts {
    /// `None`: no rules given (`-i` or `-x`), which s6-fdholderd refuses after parsing,
    /// with its own message rather than the usage line.
    pub cfg: Option<IpcfdholderdConfig>,
    /// `-v N`: diagnostics level (1 the default, 2 the same, as s6-fdholderd; 3 also
    /// logs each client allowed or denied).
    pub verbosity: u32,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let mut verbosity = 1;
    let (mut ready, mut maxconn, mut maxfds) =
        (false, daemon::MAXCONN_DEFAULT, daemon::MAXFDS_DEFAULT);
    let (mut timeout, mut lameduck, mut rules) = (None, None, None);
    while let Some(arg) = p.next()? {
        match arg {
            Short('1') => ready = true,
            Short('v') => verbosity = uint("-v", &p.value()?)?,
            Short('c') => maxconn = uint("-c", &p.value()?)?,
            Short('n') => maxfds = uint("-n", &p.value()?)?,
            Short('t') => timeout = millis("-t", &p.value()?)?,
            Short('T') => lameduck = millis("-T", &p.value()?)?,
            Short('i') => rules = Some(Rules::Dir(p.value()?.into())),
            Short('x') => rules = Some(Rules::Cdb(p.value()?.into())),
            // s6-fdholderd ignores arguments after its options.
            Value(_) => break,
            _ => return Err(arg.unexpected().into()),
        }
    }
    let cfg = rules.map(|rules| IpcfdholderdConfig {
        ready,
        // As s6-fdholderd: 1 to S6_FDHOLDER_MAX (256).
        maxconn: maxconn.clamp(1, daemon::MAXCONN_MAX),
        maxfds,
        timeout,
        lameduck,
        rules,
    });
    Ok(Opts { cfg, verbosity })
}

/// ipcfdholderd's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, mut diag: Diag| {
        diag.verbosity = o.verbosity;
        // As s6-fdholderd: checked after the options, without the usage line.
        let Some(cfg) = o.cfg else {
            diag.fatal_msg("no access rights specified!");
            return ExitCode::from(100);
        };
        super::exit(&diag, daemon::ipcfdholderd(&cfg, &diag))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_values() -> Parsed<()> {
        let e = |a: &[&str]| parse(a.iter().map(OsString::from)).map(|_| ());
        assert_eq!(
            e(&["-c", "+5", "-i", "r"]).unwrap_err().0,
            "-c: +5 is not a number (digits only, no sign)"
        );
        assert_eq!(e(&["-Z"]).unwrap_err().0, "unknown option -Z");
        let o = parse(["-c", "0", "-v2", "-x", "c", "-i", "r"].map(OsString::from))?;
        assert_eq!(o.verbosity, 2);
        let cfg = o.cfg.ok_or(super::super::UsageError("no cfg".into()))?;
        assert_eq!(cfg.maxconn, 1);
        assert!(matches!(cfg.rules, Rules::Dir(_)));
        let o = parse(["-c", "99999", "-1", "-i", "r"].map(OsString::from))?;
        assert_eq!(o.cfg.map(|c| c.maxconn), Some(256));
        assert!(parse(["-1"].map(OsString::from))?.cfg.is_none());
        Ok(())
    }
}
