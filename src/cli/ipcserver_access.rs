//! `ipcserver-access` options (s6-ipcserver-access's).

use super::{Parsed, parser, uint};
use ipccore::base::error::Error;
use ipccore::prog::ipcserver_access::{IpcserverAccessConfig, Ruleset};
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcserver-access";
/// The usage line: `doc/ipcserver-access.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcserver-access [ -v verbosity ] [ -E | -e ] [ -l localname ] [ -i rulesdir | -x rulesfile ] prog...";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcserver-access.1`).
pub const HELP: &str = concat!(
    "  -v verbosity  0 fatal errors only, 1 allowed clients (default), 2 denied too\n",
    "  -e            set ${PROTO}LOCALPATH for prog (the default)\n",
    "  -E            unset PROTO and the protocol's UCSPI variables\n",
    "  -l localname  the value of ${PROTO}LOCALPATH with -e\n",
    "  -i rulesdir   look the client up in the rules directory rulesdir\n",
    "  -x rulesfile  look the client up in the cdb file rulesfile\n",
    "  --help        print this help and exit\n",
    "  --version     print the version and exit\n",
);

/// What `ipcserver-access` was asked to do.
pub struct Opts {
    /// The rules, the environment to set and the program to exec, for the core.
    pub cfg: IpcserverAccessConfig,
    /// `-v`: diagnostics level, as s6-ipcserver-access: 0 fatal errors only; 1 (the
    /// default) also logs each allowed client; 2 denied ones too.
    pub verbosity: u32,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let mut verbosity = 1;
    let mut cfg = IpcserverAccessConfig {
        rules: Ruleset::None,
        doenv: true,
        localname: None,
        argv: Vec::new(),
    };
    while let Some(arg) = p.next()? {
        match arg {
            Short('v') => verbosity = uint("-v", &p.value()?)?,
            Short('E') => cfg.doenv = false,
            Short('e') => cfg.doenv = true,
            Short('l') => cfg.localname = Some(p.value()?),
            // As s6: the last of -i and -x wins.
            Short('i') => cfg.rules = Ruleset::Dir(p.value()?.into()),
            Short('x') => cfg.rules = Ruleset::Cdb(p.value()?.into()),
            Value(v) => {
                cfg.argv = super::rest(&mut p, v)?;
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    match cfg.argv.first() {
        None => Err("missing prog".into()),
        Some(prog) if prog.is_empty() => Err("prog is empty".into()),
        Some(_) => Ok(Opts { cfg, verbosity }),
    }
}

/// ipcserver-access's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, mut diag: Diag| {
        diag.verbosity = o.verbosity;
        match ipccore::prog::ipcserver_access::ipcserver_access(&o.cfg, &diag) {
            // Already logged as s6 does (at -v2): a denial is not a fatal error.
            Err(e @ Error::Denied(_)) => ExitCode::from(e.exit_code()),
            r => super::exit(&diag, r),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_ruleset_wins_and_prog_is_kept() -> Parsed<()> {
        let o = parse(["-i", "d", "-x", "c", "-v0", "p", "-v", "x"].map(OsString::from))?;
        assert!(matches!(o.cfg.rules, Ruleset::Cdb(ref p) if p.as_os_str() == "c"));
        assert_eq!(o.verbosity, 0);
        assert_eq!(o.cfg.argv, ["p", "-v", "x"]);
        Ok(())
    }
}
