//! `ipcfdholder-daemon` options (s6-fdholder-daemon's).

use super::ipcserver::gidlist;
use super::{Parsed, UsageError, id, parser, uint};
use ipccore::fs::listen::ListenOpts;
use ipccore::prog::binprefix::sibling;
use ipccore::prog::ipcfdholder::ipcfdholder_daemon::{self, IpcfdholderDaemonConfig};
use ipccore::sys::diag::Diag;
use ipccore::sys::privs::{Ids, nonzero_gid, nonzero_uid};
use ipccore::sys::sock::SockPath;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcfdholder-daemon";
/// The usage line: `doc/ipcfdholder-daemon.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcfdholder-daemon [ -v verbosity ] [ -d | -D ] [ -1 ] [ -c maxconn ] [ -n maxfds ] [ -b backlog ] [ -G gid,gid,... ] [ -g gid ] [ -u uid ] [ -U ] [ -t timeout ] [ -T lameducktimeout ] [ -i rulesdir | -x rulesfile ] path";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcfdholder-daemon.1`).
pub const HELP: &str = concat!(
    "  -d                  replace a stale socket at path (the default)\n",
    "  -D                  refuse to start if path exists\n",
    "  -b backlog          listen backlog (default: the system's maximum)\n",
    "  -u uid              after binding, become uid\n",
    "  -g gid              after binding, become gid\n",
    "  -G gid,gid,...      after binding, set the supplementary groups\n",
    "  -U                  take uid, gid and groups from UID, GID and GIDLIST\n",
    "  -1                  passed to ipcfdholderd: write a newline to stdout once serving\n",
    "  -v verbosity        passed to ipcfdholderd: 0 quiet, 1 warnings, 2 clients too\n",
    "  -c maxconn          passed to ipcfdholderd: most clients at once (default 16)\n",
    "  -n maxfds           passed to ipcfdholderd: most fds held (default 1000)\n",
    "  -t timeout          passed to ipcfdholderd: drop an idle client after timeout ms\n",
    "  -T lameducktimeout  passed to ipcfdholderd: after SIGTERM, exit within this many ms\n",
    "  -i rulesdir         passed to ipcfdholderd: access rules in a directory\n",
    "  -x rulesfile        passed to ipcfdholderd: access rules in a cdb file\n",
    "  --help              print this help and exit\n",
    "  --version           print the version and exit\n",
);

/// What `ipcfdholder-daemon` was asked to do.
pub struct Opts {
    /// `None`: no rules given (`-i` or `-x`), which s6-fdholder-daemon refuses after
    /// parsing, with its own message rather than the usage line.
    pub cfg: Option<IpcfdholderDaemonConfig>,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let mut lo = ListenOpts::default();
    let mut ids = Ids::default();
    let mut from_env = false;
    // ipcfdholderd's command line, built as s6-fdholder-daemon builds s6-fdholderd's.
    let mut d: Vec<OsString> = vec![sibling("ipcfdholderd")];
    let mut rules: Option<(char, OsString)> = None;
    let mut path = None;
    while let Some(arg) = p.next()? {
        match arg {
            Short('d') => lo.replace_stale = true,
            Short('D') => lo.replace_stale = false,
            Short('1') => d.push("-1".into()),
            Short(c @ ('v' | 't' | 'T')) => {
                let n = uint(&format!("-{c}"), &p.value()?)?;
                d.extend([format!("-{c}").into(), n.to_string().into()]);
            }
            // As s6-fdholder-daemon: 0 means 1.
            Short(c @ ('c' | 'n')) => {
                let n = uint(&format!("-{c}"), &p.value()?)?;
                d.extend([format!("-{c}").into(), n.max(1).to_string().into()]);
            }
            // s6's socket binder would not listen at all with 0.
            Short('b') => {
                lo.backlog = Some(uint("-b", &p.value()?)?.clamp(1, i32::MAX as u32) as i32)
            }
            // As s6: an id of 0 means "not set".
            Short('u') => ids.uid = nonzero_uid(id("-u", &p.value()?, true, PROG)?),
            Short('g') => ids.gid = nonzero_gid(id("-g", &p.value()?, false, PROG)?),
            Short('G') => ids.groups = Some(gidlist(&p.value()?)?),
            // As s6: -U forgets earlier -u, -g and -G; later ones still apply.
            Short('U') => {
                from_env = true;
                ids = Ids::default();
            }
            Short(c @ ('i' | 'x')) => rules = Some((c, p.value()?)),
            // As s6: the arguments after path are ignored.
            Value(v) => {
                path = Some(v);
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    let path = path.ok_or("missing path")?;
    let Some((c, r)) = rules else {
        return Ok(Opts { cfg: None });
    };
    d.extend([format!("-{c}").into(), r]);
    let sp = SockPath::parse(&path).map_err(|e| UsageError(e.to_string()))?;
    Ok(Opts {
        cfg: Some(IpcfdholderDaemonConfig {
            path: sp,
            listen: lo,
            ids,
            ids_from_env: from_env,
            argv: d,
        }),
    })
}

/// ipcfdholder-daemon's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        // As s6-fdholder-daemon: checked after the options, without the usage line.
        let Some(cfg) = o.cfg else {
            diag.fatal_msg("no access rights specified!");
            return ExitCode::from(100);
        };
        super::exit(&diag, ipcfdholder_daemon::ipcfdholder_daemon(&cfg, &diag))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(args: &[&str]) -> String {
        match parse(args.iter().map(OsString::from)) {
            Ok(_) => format!("{args:?} accepted"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn reasons() {
        assert_eq!(err(&[]), "missing path");
        assert_eq!(err(&["-i", "r", ""]), "empty socket path");
        assert_eq!(
            err(&["-u", "ipct-no-such-user", "s"]),
            "-u: no user ipct-no-such-user in /etc/passwd (it is read directly, without NSS: \
             for an LDAP or sssd user, use s6-envuidgid ipct-no-such-user ipcfdholder-daemon -U …)"
        );
        assert_eq!(
            err(&["-G", "1;+2", "s"]),
            "-G: 1;+2 is not a list of gids or group names separated by commas"
        );
        assert_eq!(err(&["-T", "", "s"]), "-T: \"\" is not a number");
    }

    #[test]
    fn ipcfdholderd_argv() -> Parsed<()> {
        let args = [
            "-c0", "-n", "7", "-v", "2", "-1", "-x", "c", "-i", "r", "s", "extra",
        ];
        let o = parse(args.map(OsString::from))?;
        let cfg = o.cfg.ok_or(UsageError("no cfg".into()))?;
        let argv: Vec<String> = cfg.argv[1..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(argv, ["-c", "1", "-n", "7", "-v", "2", "-1", "-i", "r"]);
        assert!(parse(["s"].map(OsString::from))?.cfg.is_none());
        Ok(())
    }
}
