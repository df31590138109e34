//! `ipcsudo` options (s6-sudo's): they become an `ipcclient … ipcsudoc …` command line.

use super::{Parsed, parser, uint};
use ipccore::prog::binprefix::sibling;
use lexopt::prelude::*;
use std::ffi::OsString;

/// The command line to execute: ipcclient's options, `--`, path, ipcsudoc and its
/// options, `--`, args.
pub struct Opts {
    /// That command line, ipcclient first, exec'd as it is.
    pub argv: Vec<OsString>,
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
    Ok(Opts { argv: client })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_then_sudoc() -> Parsed<()> {
        let o = parse(["-vq", "-t", "007", "-e", "/s", "-x"].map(OsString::from))?;
        let argv: Vec<String> = o
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
