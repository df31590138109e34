//! `ipchttpgate` options: `-v` verbosity, `-t` header timeout and `-T` idle timeout in
//! milliseconds (0: none), `-c` and `-C` the connection limits (used only when the gate
//! serves a listening socket itself), `-r` the rules file (required), then the
//! backend's socket.

use super::{Parsed, UsageError, parser, show, uint};
use ipccore::prog::ipchttpgate::{
    self as core, HEADER_TIMEOUT_DEFAULT, IDLE_TIMEOUT_DEFAULT, IpchttpgateConfig,
};
use ipccore::prog::ipcserverd::Limits;
use ipccore::sys::diag::Diag;
use ipccore::sys::sock::SockPath;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The program's name in every message.
pub const PROG: &str = "ipchttpgate";
/// The usage line: `doc/ipchttpgate.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipchttpgate [ -v verbosity ] [ -t headertimeout ] [ -T idletimeout ] [ -c maxconn ] [ -C localmaxconn ] -r rulesfile backend";
/// `--help`: one line per option (from the OPTIONS of `doc/ipchttpgate.1`).
pub const HELP: &str = concat!(
    "  -v verbosity      0: fatal errors only; 1 (default): refused requests too; 2: every request\n",
    "  -t headertimeout  ms a request's header section may take (default 10000; 0: no limit)\n",
    "  -T idletimeout    ms the gate waits on the client (default 60000; 0: no limit)\n",
    "  -c maxconn        listening mode: at most maxconn connections at once (default 40, at most 16384)\n",
    "  -C localmaxconn   listening mode: at most localmaxconn connections per client uid (default 40)\n",
    "  -r rulesfile      the rules: ACTION METHODS PATH WHO per line (required)\n",
    "  backend           the API's Unix stream socket\n",
    "  --help            print this help and exit\n",
    "  --version         print the version and exit\n",
);

/// What `ipchttpgate` was asked to do.
#[derive(Debug)]
pub struct Opts {
    /// The rules file, the backend and the timeouts, for the core.
    pub cfg: IpchttpgateConfig,
    /// `-v`: 0 fatal errors only, 1 refused requests, 2 every request.
    pub verbosity: u32,
}

fn ms(v: u32) -> Option<Duration> {
    (v > 0).then(|| Duration::from_millis(v.into()))
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let mut verbosity = 1;
    let mut header = HEADER_TIMEOUT_DEFAULT;
    let mut idle = IDLE_TIMEOUT_DEFAULT;
    let (mut maxconn, mut local) = (None, None);
    let mut rules: Option<PathBuf> = None;
    let mut backend: Option<OsString> = None;
    while let Some(arg) = p.next()? {
        match arg {
            Short('v') => verbosity = uint("-v", &p.value()?)?,
            Short('t') => header = uint("-t", &p.value()?)?,
            Short('T') => idle = uint("-T", &p.value()?)?,
            // As ipcserver (and s6-ipcserver): -c0 and -C0 are 1.
            Short('c') => maxconn = Some(uint("-c", &p.value()?)?.max(1)),
            Short('C') => local = Some(uint("-C", &p.value()?)?.max(1)),
            Short('r') => rules = Some(p.value()?.into()),
            Value(v) if backend.is_none() => backend = Some(v),
            Value(v) => return Err(UsageError(format!("unexpected argument {}", show(&v)))),
            _ => return Err(arg.unexpected().into()),
        }
    }
    let rules = rules.ok_or("-r rulesfile is required")?;
    let backend = backend.ok_or("no backend socket given")?;
    let backend = SockPath::parse(&backend).map_err(|e| UsageError(e.to_string()))?;
    Ok(Opts {
        cfg: IpchttpgateConfig {
            rules,
            backend,
            header_timeout: ms(header),
            idle_timeout: ms(idle),
            limits: Limits::new(maxconn, local, true),
        },
        verbosity,
    })
}

/// The program: parse, then serve the connection on fds 0 and 1, or every connection
/// to the listening socket on fd 0.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, mut diag: Diag| {
        diag.verbosity = o.verbosity;
        super::exit(&diag, core::ipchttpgate(&o.cfg, &diag))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(a: &[&str]) -> Option<String> {
        parse(a.iter().map(OsString::from)).err().map(|e| e.0)
    }

    #[test]
    fn options() -> Parsed<()> {
        let o = parse(["-r", "/r", "/b.sock"].map(OsString::from))?;
        assert_eq!(o.verbosity, 1);
        assert_eq!(o.cfg.rules, PathBuf::from("/r"));
        assert_eq!(o.cfg.backend, SockPath::Fs("/b.sock".into()));
        assert_eq!(o.cfg.header_timeout, Some(Duration::from_millis(10_000)));
        assert_eq!(o.cfg.idle_timeout, Some(Duration::from_millis(60_000)));
        assert_eq!(o.cfg.limits, Limits::new(Some(40), Some(40), true));
        let o = parse(["-c", "0", "-C0", "-r", "/r", "/b"].map(OsString::from))?;
        assert_eq!((o.cfg.limits.maxconn, o.cfg.limits.localmaxconn), (1, 1));
        let o = parse(["-c", "99999", "-C", "500", "-r", "/r", "/b"].map(OsString::from))?;
        assert_eq!(
            (o.cfg.limits.maxconn, o.cfg.limits.localmaxconn),
            (16384, 500)
        );
        let o = parse(["-c", "10", "-C", "20", "-r", "/r", "/b"].map(OsString::from))?;
        assert_eq!((o.cfg.limits.maxconn, o.cfg.limits.localmaxconn), (10, 10));
        let o = parse(["-v2", "-t", "0", "-T5", "-r/r", "@api"].map(OsString::from))?;
        assert_eq!(o.verbosity, 2);
        assert_eq!(o.cfg.header_timeout, None);
        assert_eq!(o.cfg.idle_timeout, Some(Duration::from_millis(5)));
        assert_eq!(o.cfg.backend, SockPath::Abstract(b"api".to_vec()));
        assert_eq!(err(&["/b"]).as_deref(), Some("-r rulesfile is required"));
        assert_eq!(
            err(&["-r", "/r"]).as_deref(),
            Some("no backend socket given")
        );
        assert_eq!(
            err(&["-r", "/r", "/b", "x"]).as_deref(),
            Some("unexpected argument x")
        );
        assert_eq!(
            err(&["-t", "1s", "-r", "/r", "/b"]).as_deref(),
            Some("-t: 1s is not a number")
        );
        assert_eq!(err(&["-x"]).as_deref(), Some("unknown option -x"));
        assert_eq!(err(&["-r", "/r", ""]).as_deref(), Some("empty socket path"));
        Ok(())
    }
}
