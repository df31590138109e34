//! `ipcsudo` options (s6-sudo's): they become an `ipcclient … ipcsudoc …` command line.

use super::{Parsed, parser, uint};
use ipccore::prog::binprefix::sibling;
use ipccore::prog::ipcsudo::ipcsudo::IpcsudoConfig;
use ipccore::sys::diag::Diag;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;

/// The program's name, in every diagnostic.
pub const PROG: &str = "ipcsudo";
/// The usage line: `doc/ipcsudo.1`'s SYNOPSIS (`tests/docs.rs` checks it).
pub const USAGE: &str = "ipcsudo [ -q | -Q | -v ] [ -p bindpath ] [ -l localname ] [ -e ] [ -t timeoutconn ] [ -T timeoutrun ] path [ args... ]";
/// `--help`: one line per option (from the OPTIONS of `doc/ipcsudo.1`).
pub const HELP: &str = concat!(
    "  -q, -Q, -v      verbosity, passed to ipcclient\n",
    "  -p bindpath     passed to ipcclient: bind the client socket to bindpath\n",
    "  -l localname    passed to ipcclient: set IPCLOCALPATH\n",
    "  -e              passed to ipcsudoc: send no environment variables\n",
    "  -t timeoutconn  passed to ipcsudoc: limit in ms on the banner, request and confirmation\n",
    "  -T timeoutrun   passed to ipcsudoc: limit in ms on the command's run\n",
    "  --help          print this help and exit\n",
    "  --version       print the version and exit\n",
);

/// What `ipcsudo` was asked to do.
pub struct Opts {
    /// The configuration `ipcsudo` runs with.
    pub cfg: IpcsudoConfig,
}

/// Options from `args` (argv without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed<Opts> {
    let mut p = parser(args);
    let mut client: Vec<OsString> = vec![sibling("ipcclient")];
    let mut sudoc: Vec<OsString> = vec![sibling("ipcsudoc")];
    let mut path = None;
    let mut args = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            // Passed on in order: ipcclient counts them as s6-ipcclient does.
            Short(c @ ('q' | 'Q' | 'v')) => client.push(format!("-{c}").into()),
            Short(c @ ('p' | 'l')) => {
                client.push(format!("-{c}").into());
                client.push(p.value()?);
            }
            Short('e') => sudoc.push("-e".into()),
            Short(c @ ('t' | 'T')) => {
                let ms = uint(&format!("-{c}"), &p.value()?)?;
                sudoc.push(format!("-{c}").into());
                sudoc.push(ms.to_string().into());
            }
            Value(v) => {
                path = Some(v);
                args = p.raw_args()?.collect();
                break;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    let path = path.ok_or("missing path")?;
    client.push("--".into());
    client.push(path);
    client.extend(sudoc);
    client.push("--".into());
    client.extend(args);
    Ok(Opts {
        cfg: IpcsudoConfig { argv: client },
    })
}

/// ipcsudo's `main`: parse, run, exit.
pub fn main() -> ExitCode {
    super::run(PROG, USAGE, HELP, parse, |o: Opts, diag: Diag| {
        super::exit(
            &diag,
            ipccore::prog::ipcsudo::ipcsudo::ipcsudo(&o.cfg, &diag),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_then_sudoc() -> Parsed<()> {
        let o = parse(["-vq", "-t", "007", "-e", "/s", "-x"].map(OsString::from))?;
        let argv: Vec<String> = o
            .cfg
            .argv
            .iter()
            .map(|a| {
                a.to_string_lossy()
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        assert_eq!(
            argv,
            [
                "ipcclient",
                "-v",
                "-q",
                "--",
                "s",
                "ipcsudoc",
                "-t",
                "7",
                "-e",
                "--",
                "-x"
            ]
        );
        Ok(())
    }
}
