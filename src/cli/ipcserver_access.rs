//! `ipcserver-access` options (s6-ipcserver-access's).

use super::{Parsed, parser, uint};
use ipccore::prog::ipcserver_access::{IpcserverAccessConfig, Ruleset};
use lexopt::prelude::*;
use std::ffi::OsString;

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
