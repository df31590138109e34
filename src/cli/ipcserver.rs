//! `ipcserver` options (s6-ipcserver's, plus `-o`).

use super::{Parsed, UsageError, id, octal, parser, show, uint};
use ipccore::fs::listen::ListenOpts;
use ipccore::prog::ipcserver::{IdSource, IpcserverConfig};
use ipccore::prog::ipcserverd::{IpcserverdConfig, Limits};
use ipccore::sys::diag::Diag;
use ipccore::sys::privs::{Ids, nonzero_gid, nonzero_uid, parse_gidlist};
use ipccore::sys::sock::SockPath;
use lexopt::prelude::*;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcserver";
/// The usage line: `doc/ipcserver.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcserver [ -1 ] [ -q | -Q | -v ] [ -d | -D ] [ -P | -p ] [ -c maxconn ] [ -C localmaxconn ] [ -b backlog ] [ -a perms ] [ -o uid:gid ] [ -G gidlist ] [ -g gid ] [ -u uid ] [ -U ] path prog...";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcserver.1`).
pub const HELP: &str = concat!(
    "  -1               once listening, write path and a newline to stdout, then close it\n",
    "  -q               quiet: no warnings, no deny lines\n",
    "  -Q               warnings and deny lines (the default)\n",
    "  -v               verbose: also every connection, every end and the status\n",
    "  -d               replace path if it is a stale socket\n",
    "  -D               refuse to start if path exists\n",
    "  -P               do not look up client credentials\n",
    "  -p               look up client credentials with SO_PEERCRED (the default)\n",
    "  -c maxconn       at most maxconn handlers at once (default 40, at most 16384)\n",
    "  -C localmaxconn  at most localmaxconn handlers per client uid (default 40)\n",
    "  -b backlog       the listen(2) backlog\n",
    "  -a perms         octal permissions of the socket file (default 0777)\n",
    "  -o uid:gid       numeric owner and group of the socket file\n",
    "  -G gidlist       after binding, set the supplementary groups (numeric, comma-separated)\n",
    "  -g gid           after binding, set the gid\n",
    "  -u uid           after binding, set the uid\n",
    "  -U               after binding, take uid, gid and groups from UID, GID and GIDLIST\n",
    "  --help           print this help and exit\n",
    "  --version        print the version and exit\n",
);

/// What `ipcserver` was asked to do.
pub struct Opts {
    /// The socket to create, the identity to run as, and the accept loop's limits and
    /// program to spawn per connection, for the core.
    pub cfg: IpcserverConfig,
    /// `-q` 0 (fatal errors only), `-Q` 1 (warnings, the default), `-v` 2 (info too).
    pub verbosity: u32,
    /// A command line that is valid but most likely not what was meant (`-v 2 PATH`).
    pub warnings: Vec<String>,
}

/// `ipcserver -v 2 PATH prog` binds a socket named `2` and runs PATH, as s6-ipcserver
/// does: `-v` takes no value here, unlike ipcserverd's and ipcserver-access's.
fn verbosity_value_warning(path: &OsStr) -> Option<String> {
    let b = path.as_bytes();
    (!b.is_empty() && b.iter().all(u8::is_ascii_digit)).then(|| {
        format!(
            "-v takes no value (unlike ipcserverd's and ipcserver-access's -v): {0} is the \
             socket path, ./{0}, and the next argument the program; write -v PATH prog",
            show(path)
        )
    })
}

/// `-G LIST`: gids as s6 reads them ([`parse_gidlist`]); or, an addition, a
/// comma-separated list in which some are group names (looked up in `/etc/group`).
pub(crate) fn gidlist(v: &OsStr) -> Parsed<Vec<rustix::process::Gid>> {
    if let Some(list) = v.to_str().and_then(parse_gidlist) {
        return Ok(list);
    }
    let b = v.as_bytes();
    if b.split(|&c| c == b',').any(ipccore::base::idnames::is_name) {
        return b
            .split(|&c| c == b',')
            .map(|g| {
                let g = OsStr::from_bytes(g);
                if ipccore::base::idnames::is_name(g.as_bytes()) {
                    super::name_to_id(super::etc(), "-G", g, false, Some(PROG))
                } else {
                    super::uint("-G", g)
                }
                .map(rustix::process::Gid::from_raw)
            })
            .collect();
    }
    Err(UsageError(format!(
        "-G: {} is not a list of gids or group names separated by commas",
        show(v)
    )))
}

/// `-a PERMS`: any octal number (s6 `uint0_oscan`), of which only the permission bits
/// count, as in s6-ipcserver and s6-ipcserver-socketbinder.
pub(crate) fn perms(v: &OsStr) -> Parsed<rustix::fs::Mode> {
    Ok(ipccore::fs::listen::mode(octal("-a", v)? & 0o777))
}

/// `-o UID:GID`: owner and group of the socket file, numbers or names (looked up in
/// `/etc/passwd` and `/etc/group`); either may be empty.
fn owner(v: &OsStr) -> Parsed<(Option<rustix::process::Uid>, Option<rustix::process::Gid>)> {
    let b = v.as_bytes();
    let Some(colon) = b.iter().position(|&c| c == b':') else {
        return Err(UsageError(format!(
            "-o: {} is not UID:GID (numbers or names, either may be empty)",
            show(v)
        )));
    };
    let side = |s: &[u8], user: bool| -> Parsed<Option<u32>> {
        if s.is_empty() {
            return Ok(None);
        }
        id("-o", OsStr::from_bytes(s), user, PROG).map(Some)
    };
    Ok((
        side(&b[..colon], true)?.map(rustix::process::Uid::from_raw),
        side(&b[colon + 1..], false)?.map(rustix::process::Gid::from_raw),
    ))
}

/// What the options said, before it becomes the core's config.
struct Given {
    verbosity: u32,
    ready: bool,
    peercred: bool,
    maxconn: Option<u32>,
    local: Option<u32>,
    listen: ListenOpts,
    ids: Ids,
    from_env: bool,
    /// A command line that is valid but most likely not what was meant.
    warnings: Vec<String>,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let mut g = Given {
        verbosity: 1,
        ready: false,
        peercred: true,
        maxconn: None,
        local: None,
        listen: ListenOpts::default(),
        ids: Ids::default(),
        from_env: false,
        warnings: Vec::new(),
    };
    let (lo, ids) = (&mut g.listen, &mut g.ids);
    let mut path = None;
    let mut argv: Vec<OsString> = Vec::new();
    let mut after_v = false;
    while let Some(arg) = p.next()? {
        let was_after_v = std::mem::replace(&mut after_v, matches!(arg, Short('v')));
        match arg {
            Short('1') => g.ready = true,
            Short('q') => g.verbosity = 0,
            Short('Q') => g.verbosity = 1,
            Short('v') => g.verbosity = 2,
            Short('d') => lo.replace_stale = true,
            Short('D') => lo.replace_stale = false,
            Short('P') => g.peercred = false,
            Short('p') => g.peercred = true,
            // s6-ipcserver bumps -c0 and -C0 to 1 (s6-ipcserverd -C0 would deny all).
            Short('c') => g.maxconn = Some(uint("-c", &p.value()?)?.max(1)),
            Short('C') => g.local = Some(uint("-C", &p.value()?)?.max(1)),
            // s6-ipcserver bumps -b0 to 1: a socket that never listens serves nobody.
            Short('b') => {
                lo.backlog = Some(uint("-b", &p.value()?)?.clamp(1, i32::MAX as u32) as i32)
            }
            Short('a') => lo.mode = perms(&p.value()?)?,
            Short('o') => (lo.uid, lo.gid) = owner(&p.value()?)?,
            // As s6-ipcserver: an id of 0 means "not set".
            Short('u') => ids.uid = nonzero_uid(id("-u", &p.value()?, true, "ipcserver")?),
            Short('g') => ids.gid = nonzero_gid(id("-g", &p.value()?, false, "ipcserver")?),
            Short('G') => ids.groups = Some(gidlist(&p.value()?)?),
            // As s6-ipcserver: -U forgets earlier -u, -g and -G; later ones still apply.
            Short('U') => {
                g.from_env = true;
                *ids = Ids::default();
            }
            Value(v) => {
                if was_after_v {
                    g.warnings.extend(verbosity_value_warning(&v));
                }
                path = Some(v);
                argv = p.raw_args()?.collect();
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    config(g, path, argv)
}

/// The core's config from what the options said, PATH and prog.
fn config(g: Given, path: Option<OsString>, argv: Vec<OsString>) -> Parsed<Opts> {
    let path = path.ok_or("missing path")?;
    match argv.first() {
        None => return Err("missing prog".into()),
        // s6-ipcserverd refuses an empty prog with its usage line.
        Some(p) if p.is_empty() => return Err("prog is empty".into()),
        _ => {}
    }
    let sp = SockPath::parse(&path).map_err(|e| UsageError(e.to_string()))?;
    let limits = Limits::new(g.maxconn, g.local, g.peercred);
    let mut line = path.as_bytes().to_vec();
    line.push(b'\n');
    let ids = if g.from_env {
        IdSource::Env(g.ids)
    } else if g.ids.is_empty() {
        IdSource::Keep
    } else {
        IdSource::Given(g.ids)
    };
    let serve = IpcserverdConfig {
        limits,
        peercred: g.peercred,
        local_path: Some(path),
        readiness: g.ready.then_some(line),
        argv,
        remove_env: Vec::new(),
    };
    Ok(Opts {
        cfg: IpcserverConfig {
            path: sp,
            listen: g.listen,
            ids,
            serve,
        },
        verbosity: g.verbosity,
        warnings: g.warnings,
    })
}

/// ipcserver's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, mut diag: Diag| {
        diag.verbosity = o.verbosity;
        for w in &o.warnings {
            diag.warn(w);
        }
        super::exit(&diag, ipccore::prog::ipcserver::ipcserver(&o.cfg, &diag))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn try_parse(args: &[&str]) -> Parsed<Opts> {
        parse(args.iter().map(OsString::from))
    }

    fn err(args: &[&str]) -> String {
        match try_parse(args) {
            Ok(_) => format!("{args:?} accepted"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn a_number_after_v_is_warned_about() -> Parsed<()> {
        let o = try_parse(&["-v", "2", "/run/s", "cat"])?;
        assert_eq!(o.cfg.serve.argv, ["/run/s", "cat"]);
        assert_eq!(
            o.warnings,
            [
                "-v takes no value (unlike ipcserverd's and ipcserver-access's -v): 2 is the \
              socket path, ./2, and the next argument the program; write -v PATH prog"
            ]
        );
        assert_eq!(try_parse(&["-1v", "2", "/s", "cat"])?.warnings.len(), 1);
        for quiet in [
            &["-v", "/run/s", "cat"][..],
            &["-v", "-1", "2", "cat"],
            &["2", "cat"],
            &["-v", "s2", "cat"],
        ] {
            assert_eq!(
                try_parse(quiet)?.warnings,
                Vec::<String>::new(),
                "{quiet:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn reasons() {
        assert_eq!(
            err(&["-u", "ipct-no-such-user", "/s", "true"]),
            "-u: no user ipct-no-such-user in /etc/passwd (it is read directly, without NSS: \
             for an LDAP or sssd user, use s6-envuidgid ipct-no-such-user ipcserver -U …)"
        );
        assert_eq!(err(&["-c", "x", "/s", "true"]), "-c: x is not a number");
        assert_eq!(
            err(&["-o", "root:ipct-no-such-group", "/s", "true"]),
            "-o: no group ipct-no-such-group in /etc/group (it is read directly, without NSS: \
             for an LDAP or sssd group, give the number: getent group ipct-no-such-group)"
        );
        assert_eq!(
            err(&["-o", "33", "/s", "true"]),
            "-o: 33 is not UID:GID (numbers or names, either may be empty)"
        );
        assert_eq!(
            err(&["-G", "1,+2", "/s", "true"]),
            "-G: 1,+2 is not a list of gids or group names separated by commas"
        );
        assert_eq!(err(&["-c"]), "-c: missing argument");
        assert_eq!(err(&["-Z", "/s", "true"]), "unknown option -Z");
        assert_eq!(err(&["/s"]), "missing prog");
        assert_eq!(err(&[]), "missing path");
        assert_eq!(err(&["/s", ""]), "prog is empty");
        assert_eq!(
            err(&["-a", "8", "/s", "true"]),
            "-a: 8 is not an octal number"
        );
    }

    /// Names from /etc/passwd and /etc/group (root is uid and gid 0 everywhere), and
    /// numbers as before, alone or mixed in a -G list.
    #[test]
    fn names() -> Result<(), UsageError> {
        let o = try_parse(&["-o", "root:root", "-G", "root,7", "/s", "true"])?;
        assert_eq!(o.cfg.listen.uid.map(|u| u.as_raw()), Some(0));
        assert_eq!(o.cfg.listen.gid.map(|g| g.as_raw()), Some(0));
        let IdSource::Given(ids) = o.cfg.ids else {
            panic!("no ids")
        };
        assert_eq!(
            ids.groups
                .map(|g| g.iter().map(|g| g.as_raw()).collect::<Vec<_>>()),
            Some(vec![0, 7])
        );
        let o = try_parse(&["-o", "5:", "/s", "true"])?;
        assert_eq!(o.cfg.listen.uid.map(|u| u.as_raw()), Some(5));
        Ok(())
    }

    #[test]
    fn values() -> Result<(), UsageError> {
        let o = try_parse(&["-a", "7777", "-G", "1,,2", "-g", "0", "/s", "true"])?;
        assert_eq!(o.cfg.listen.mode.as_raw_mode(), 0o777);
        match o.cfg.ids {
            IdSource::Given(ids) => {
                assert_eq!(ids.gid, None);
                assert_eq!(ids.groups.map(|g| g.len()), Some(2));
            }
            other => panic!("{other:?}"),
        }
        let o = try_parse(&["-u", "5", "-U", "-g", "7", "/s", "true"])?;
        match o.cfg.ids {
            IdSource::Env(ids) => {
                assert_eq!(ids.uid, None);
                assert_eq!(ids.gid.map(|g| g.as_raw()), Some(7));
            }
            other => panic!("{other:?}"),
        }
        let o = try_parse(&["-C", "0", "/s", "true"])?;
        assert_eq!(o.cfg.serve.limits.localmaxconn, 1);
        let o = try_parse(&["-o", ":5", "-b", "0", "/s", "true", "-c", "x"])?;
        assert_eq!(o.cfg.listen.uid, None);
        assert_eq!(o.cfg.listen.backlog, Some(1));
        assert_eq!(o.cfg.serve.argv.len(), 3);
        Ok(())
    }
}
