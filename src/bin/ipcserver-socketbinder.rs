//! ipcserver-socketbinder: bind a Unix socket safely under its real name, put it on
//! fd 0 and chain-load (drop-in s6-ipcserver-socketbinder).
#![forbid(unsafe_code)]

use ipccore::fs::listen::{self, ListenOpts, SocketType};
use ipccore::sys::diag::Diag;
use ipccore::sys::sock::SockPath;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::process::ExitCode;

const PROG: &str = "ipcserver-socketbinder";
const USAGE: &str = "ipcserver-socketbinder [ -d | -D ] [ -b backlog ] [ -M | -m ] [ -a perms ] [ -B ] path prog...";

/// Options from `args` (argv without the program name), so a fuzz target can call it.
pub(crate) fn parse(
    args: impl IntoIterator<Item = OsString>,
) -> Result<(SockPath, ListenOpts, Vec<OsString>), lexopt::Error> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let mut o = ListenOpts {
        // s6-ipcserver-socketbinder's default: non-blocking (-B makes it blocking).
        nonblocking: true,
        ..ListenOpts::default()
    };
    let mut backlog: Option<u32> = None;
    let mut path = None;
    let mut argv: Vec<OsString> = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('d') => o.replace_stale = true,
            Short('D') => o.replace_stale = false,
            Short('b') => backlog = Some(p.value()?.parse()?),
            Short('M') => o.ty = SocketType::STREAM,
            Short('m') => o.ty = SocketType::DGRAM,
            // Octal; as s6, only the permission bits of any value are kept.
            Short('a') => {
                let m = p.value()?.parse_with(|s| u32::from_str_radix(s, 8))?;
                o.mode = listen::mode(m & 0o777);
            }
            Short('B') => o.nonblocking = false,
            Value(v) => {
                path = Some(v);
                argv = p.raw_args()?.collect();
                break;
            }
            _ => return Err(arg.unexpected()),
        }
    }
    let path = path.ok_or("missing path")?;
    if argv.is_empty() {
        return Err("missing prog".into());
    }
    let path = SockPath::parse(&path).map_err(|e| e.to_string())?;
    // -b 0: bound but not listening. A larger backlog than the kernel's is clamped by it.
    o.backlog = match backlog {
        Some(0) => None,
        Some(b) => Some(i32::try_from(b).unwrap_or(i32::MAX)),
        None => ListenOpts::default().backlog,
    };
    Ok((path, o, argv))
}

fn main() -> ExitCode {
    let diag = Diag::new(PROG);
    let (path, opts, argv) = match parse(std::env::args_os().skip(1)) {
        Ok(o) => o,
        Err(_) => return ExitCode::from(diag.usage(USAGE)),
    };
    let sock = match listen::create(&path, &opts) {
        Ok(s) => s,
        Err(e) => return ExitCode::from(diag.fatal(&e)),
    };
    if let Err(e) = ipccore::sys::fd::move_to(sock, 0) {
        return ExitCode::from(diag.fatal(&e));
    }
    ExitCode::from(diag.fatal(&ipccore::sys::exec::exec(&argv, &[])))
}
