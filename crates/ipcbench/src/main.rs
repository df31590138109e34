//! ipcbench: the one load and timing client of ipctools' benchmarks and stress runs
//! (a dev tool, never installed). One subcommand per job, each in its own module:
//!
//! | subcommand | job | used by |
//! |---|---|---|
//! | `load` | echo connections, timed | bench/access.sh |
//! | `round` | one benchmark round of one server | bench/run.sh |
//! | `soak` | many clients × connections, some held | bench/reliability.sh |
//! | `hold` | hold connections to saturate a server | bench/reliability.sh |
//! | `fdholder` | store+retrieve pairs against an fd holder | bench/fdholder.sh |
//! | `time` | wall time of programs run alternately | bench/ipcclient.sh, bench/npt.sh |
//! | `http` | HTTP/1.1 requests, kept-alive or one per connection | bench/httpgate.sh |
//!
//! Shared pieces: `opts` (option parsing), `stats` (median, mean, percentiles), `io`
//! (reads with a deadline), `proc` (what /proc says about a server).
#![forbid(unsafe_code)]

mod fdholder;
mod hold;
mod http;
mod io;
mod load;
mod opts;
mod proc;
mod round;
mod soak;
mod stats;
mod time;

use std::process::ExitCode;

const PROG: &str = "ipcbench";

/// Parse the subcommand's arguments, then run it: 100 for a usage error (the reason,
/// then the usage), 111 when the run fails.
fn go<C>(
    usage: &str,
    args: std::env::ArgsOs,
    parse: fn(std::env::ArgsOs) -> Result<C, lexopt::Error>,
    run: fn(&C) -> Result<(), String>,
) -> ExitCode {
    let c = match parse(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PROG}: {e}\n{PROG}: usage: {usage}");
            return ExitCode::from(100);
        }
    };
    match run(&c) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{PROG}: fatal: {e}");
            ExitCode::from(111)
        }
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    args.next();
    let sub = args.next();
    match sub.as_ref().and_then(|s| s.to_str()) {
        Some("load") => go(load::USAGE, args, load::parse, load::run),
        Some("round") => go(round::USAGE, args, round::parse, round::run),
        Some("soak") => go(soak::USAGE, args, soak::parse, soak::run),
        Some("hold") => go(hold::USAGE, args, hold::parse, hold::run),
        Some("fdholder") => go(fdholder::USAGE, args, fdholder::parse, fdholder::run),
        Some("time") => go(time::USAGE, args, time::parse, time::run),
        Some("http") => go(http::USAGE, args, http::parse, http::run),
        _ => {
            let why = match &sub {
                Some(s) => format!("unknown subcommand {}", s.to_string_lossy()),
                None => "missing subcommand".into(),
            };
            eprintln!(
                "{PROG}: {why}\n{PROG}: usage: {PROG} load|round|soak|hold|fdholder|time|http ..."
            );
            ExitCode::from(100)
        }
    }
}
