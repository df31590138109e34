//! ipcsudo: run a command through an ipcsudod service (drop-in s6-sudo): chain-loads
//! `ipcclient … path ipcsudoc … args`.
#![forbid(unsafe_code)]

use ipccore::binprefix::sibling;
use ipccore::diag::Diag;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;

const PROG: &str = "ipcsudo";
const USAGE: &str = "ipcsudo [ -q | -Q | -v ] [ -p bindpath ] [ -l localname ] [ -e ] [ -t timeoutconn ] [ -T timeoutrun ] path [ args... ]";

/// The ipcclient command line, then ipcsudoc's, each ending its options with `--`.
/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Vec<OsString>, lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let mut client: Vec<OsString> = vec![sibling("ipcclient")];
    let mut sudoc: Vec<OsString> = vec![sibling("ipcsudoc")];
    let mut path = None;
    let mut args = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short(c @ ('q' | 'Q' | 'v')) => client.push(format!("-{c}").into()),
            Short(c @ ('p' | 'l')) => {
                client.push(format!("-{c}").into());
                client.push(p.value()?);
            }
            Short('e') => sudoc.push("-e".into()),
            Short(c @ ('t' | 'T')) => {
                let ms: u32 = p.value()?.parse()?;
                sudoc.push(format!("-{c}").into());
                sudoc.push(ms.to_string().into());
            }
            Value(v) => {
                path = Some(v);
                args = p.raw_args()?.collect();
                break;
            }
            _ => return Err(arg.unexpected()),
        }
    }
    let path = path.ok_or("missing path")?;
    client.push("--".into());
    client.push(path);
    client.extend(sudoc);
    client.push("--".into());
    client.extend(args);
    Ok(client)
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    let argv = match parse(std::env::args_os().skip(1)) {
        Ok(a) => a,
        Err(_) => return ExitCode::from(diag.usage(USAGE)),
    };
    let err = ipccore::exec::exec(&argv, &[]);
    ExitCode::from(diag.fatal(&err))
}
