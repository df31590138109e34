//! Differential tests: the same case run against the s6 (or nosh-role) peer and against
//! our program, comparing exit code, stdout, stderr (program name normalised) and, where
//! a case asks for it, the environment, fds and signal state the next program sees.
//!
//! A row either asserts *equality* with the peer, or asserts *our documented* behaviour
//! and names the COMPATIBILITY line of our man page that explains the difference
//! (`Case::differs`). There is nothing in between: see the rule in doc/compat.md (and
//! each page's COMPATIBILITY).
//!
//! Every row names the s6 version(s) it compares with (`row!`): Debian's 2.11, upstream's
//! 2.15, or both. A row for both runs as two tests (`NAME::V2_11`, `NAME::V2_15`), so
//! the suite stays parallel. Where the versions differ, the row asserts each version's
//! behaviour and which one ours follows, and the man page's COMPATIBILITY says why;
//! doc/compat.md "s6 2.11 and 2.15" collects those decisions.
//!
//! One child module per program family; every program in `src/bin` has a row in
//! `PAIRS` (checked by `every_program_has_a_peer_row`).
#![allow(dead_code)]

/// A differential row: `row! { [V2_11, V2_15] fn name() { … } }` makes a module `name`
/// with one test per listed version, each running the body inside `with_peer`.
macro_rules! row {
    ([$($v:ident),+] $(#[$m:meta])* fn $name:ident() $body:block) => {
        $(#[$m])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                #[allow(non_snake_case)]
                fn $v() {
                    $crate::util::with_peer($crate::util::S6::$v, || $body)
                }
            )+
        }
    };
}

mod chainload;
mod ipcclient;
mod ipcconnlimit;
mod ipcfdholder;
mod ipcioconnect;
mod ipcnotify;
mod ipcrules_cdb;
mod ipcrules_fs;
mod ipcserver;
mod ipcserver_access;
mod ipcserver_socketbinder;
mod ipcserverd;
mod ipcsudo;
mod npt;
mod npt_cleanfifodir;
mod npt_listen;
mod options;
mod probe;
mod regex_dialect;
mod security;

use crate::util::*;
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Every program of ours and the peer it is compared with. A program with no peer
/// binary in Debian names its role model in parentheses and is compared with it by
/// documentation only.
pub const PAIRS: &[(&str, &str)] = &[
    ("ipcserver", "s6-ipcserver"),
    ("ipcserverd", "s6-ipcserverd"),
    ("ipcclient", "s6-ipcclient"),
    ("ipcserver-socketbinder", "s6-ipcserver-socketbinder"),
    ("ipcserver-access", "s6-ipcserver-access"),
    ("ipcrules-cdb", "s6-accessrules-cdb-from-fs"),
    ("ipcsudo", "s6-sudo"),
    ("ipcsudoc", "s6-sudoc"),
    ("ipcsudod", "s6-sudod"),
    ("ipcfdholder-daemon", "s6-fdholder-daemon"),
    ("ipcfdholderd", "s6-fdholderd"),
    ("ipcfdholder-store", "s6-fdholder-store"),
    ("ipcfdholder-retrieve", "s6-fdholder-retrieve"),
    ("ipcfdholder-delete", "s6-fdholder-delete"),
    ("ipcfdholder-list", "s6-fdholder-list"),
    ("ipcfdholder-getdump", "s6-fdholder-getdump"),
    ("ipcfdholder-setdump", "s6-fdholder-setdump"),
    ("ipcfdholder-transferdump", "s6-fdholder-transferdump"),
    ("npt-mkfifodir", "s6-mkfifodir"),
    ("npt-notify", "s6-ftrig-notify"),
    ("npt-wait", "s6-ftrig-wait"),
    ("nptlistend", "(pipe-tools nptlistend)"),
    ("ipcioconnect", "s6-ioconnect"),
    ("ipchttpgate", "(HAProxy path ACL)"),
    ("ipcconnlimit", "s6-connlimit"),
    ("npt-cleanfifodir", "s6-cleanfifodir"),
    ("ipcrules-fs", "s6-accessrules-fs-from-cdb"),
    ("npt-listen", "s6-ftrig-listen"),
    (
        "ipcnotify-socket-from-fd",
        "target/s6-upstream/bin/s6-notify-socket-from-fd",
    ),
    (
        "ipcnotify-fd-from-socket",
        "target/s6-upstream/bin/s6-notify-fd-from-socket",
    ),
    (
        "local-stream-socket-listen",
        "(nosh local-stream-socket-listen)",
    ),
    (
        "local-seqpacket-socket-listen",
        "(nosh local-seqpacket-socket-listen)",
    ),
    (
        "local-datagram-socket-listen",
        "(nosh local-datagram-socket-listen)",
    ),
];

/// What one run of a program produced, normalised for comparison.
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct Seen {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Seen {
    /// Normalise `out`: in stdout and stderr, the program's own name (`prog`, as it
    /// prefixes its messages) becomes `PROG`, and `extra` replacements are applied.
    pub fn from(out: &Output, prog: &str, extra: &[(&str, &str)]) -> Seen {
        let norm = |b: &[u8]| {
            let mut s = String::from_utf8_lossy(b).into_owned();
            for (from, to) in extra {
                s = s.replace(from, to);
            }
            s.replace(&format!("{prog}: "), "PROG: ")
        };
        Seen {
            code: out.status.code(),
            stdout: norm(&out.stdout),
            stderr: norm(&out.stderr),
        }
    }
}

/// `s` with our reason line (`PROG: fatal: …` just before `PROG: usage: …`) left out:
/// the peer prints its usage line alone, and the reasons themselves are rows of
/// `options.rs` (every page says so: "reported with its reason before the usage line").
pub fn without_reason(s: Seen) -> Seen {
    let lines: Vec<&str> = s.stderr.split_inclusive('\n').collect();
    let mut kept = String::new();
    for (i, l) in lines.iter().enumerate() {
        let before_usage = lines
            .get(i + 1)
            .is_some_and(|n| n.starts_with("PROG: usage: "));
        if !(before_usage && l.starts_with("PROG: fatal: ")) {
            kept.push_str(l);
        }
    }
    Seen { stderr: kept, ..s }
}

/// Run `prog args…` (ours when `prog` has no `s6-` prefix: resolved with `bin`) with
/// `env` added, `stdin` as input, in `cwd`, killed after 10 s.
pub fn run(prog: &str, args: &[&str], env: &[(&str, &str)], stdin: &[u8], cwd: &Path) -> Output {
    let path: OsString = if prog.starts_with("s6-") || !bin(prog).exists() {
        probe::in_path(&s6(prog))
    } else {
        bin(prog).into_os_string()
    };
    let mut c = Command::new(path);
    c.args(args).current_dir(cwd).env("PATH", peer_path());
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let desc = format!("{c:?}");
    let mut child = c.spawn().unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
    {
        use std::io::Write;
        let mut i = child.stdin.take().unwrap();
        let _ = i.write_all(stdin);
    }
    wait_output(&mut child, 10, &desc)
}

/// Whether `ours` and `peer` refuse a command line alike in s6 2.15's wording: its
/// option parser (skalibs gol) prints its own reason alone (`PROG: fatal: timeout must
/// be an unsigned integer`, exit 100) where 2.11 printed the usage line; ours prints
/// its reason and then the usage line (every page: "reported with its reason before
/// the usage line"). The exit code (or a script's `rc=` on stdout) must be the same.
pub fn same_refusal_2_15(ours: &Seen, peer: &Seen) -> bool {
    let one_fatal = peer.stderr.lines().count() == 1 && peer.stderr.starts_with("PROG: fatal: ");
    let reason_usage = ours.stderr.lines().count() == 2
        && ours.stderr.starts_with("PROG: fatal: ")
        && ours
            .stderr
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("PROG: usage: "));
    peer_is(S6::V2_15)
        && one_fatal
        && reason_usage
        && ours.code == peer.code
        && ours.stdout == peer.stdout
}

/// Run the same arguments through `ours` and `peer`; return both, normalised.
pub fn both(
    ours: &str,
    peer: &str,
    args: &[&str],
    env: &[(&str, &str)],
    cwd: &Path,
) -> (Seen, Seen) {
    let a = run(ours, args, env, b"", cwd);
    let b = run(peer, args, env, b"", cwd);
    (Seen::from(&a, ours, &[]), Seen::from(&b, peer, &[]))
}

#[test]
fn every_program_has_a_peer_row() {
    let bins = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin");
    for e in std::fs::read_dir(bins).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            PAIRS.iter().any(|(ours, _)| *ours == name),
            "{name} has no row in tests/differential.rs PAIRS"
        );
    }
}
