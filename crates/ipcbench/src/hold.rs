//! `ipcbench hold PATH`: the maxconn saturation check of bench/reliability.sh. Open
//! HOLD connections to the echo service at PATH, send a line `hI` on each and keep them
//! open; once each has its echo, open EXTRA more (line `eI`), which must get no answer
//! within WAITMS while the first are held; then close the first and expect every extra
//! one echoed. Prints two lines:
//! `held S/HOLD, extra answered early: N` and `extra served after release K/EXTRA`.
//! A refused connection is fatal.

use crate::{io, opts};
use lexopt::prelude::*;
use rustix::fd::{AsFd, BorrowedFd};
use std::ffi::OsString;
use std::io::Write;
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub const USAGE: &str = "ipcbench hold [ -n hold ] [ -e extra ] [ -w waitms ] [ -t secs ] path";

#[derive(Debug, PartialEq)]
pub struct Config {
    pub hold: usize,
    pub extra: usize,
    /// How long the extra connections must stay unanswered.
    pub wait: Duration,
    /// Deadline of each phase's reads.
    pub timeout: Duration,
    pub path: PathBuf,
}

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Config, lexopt::Error> {
    let mut p = opts::parser(args);
    let mut c = Config {
        hold: 1000,
        extra: 200,
        wait: Duration::from_secs(2),
        timeout: Duration::from_secs(60),
        path: PathBuf::new(),
    };
    let mut path = None;
    while let Some(arg) = p.next()? {
        match arg {
            Short('n') => c.hold = opts::count(&mut p)?,
            Short('e') => c.extra = opts::count(&mut p)?,
            Short('w') => c.wait = opts::millis(&mut p)?,
            Short('t') => c.timeout = opts::secs(&mut p)?,
            Value(v) if path.is_none() => path = Some(v),
            _ => return Err(arg.unexpected()),
        }
    }
    c.path = opts::operand(path, "path")?.into();
    Ok(c)
}

/// Connection `tag``i`, its line sent.
fn open(c: &Config, tag: char, i: usize) -> Result<UnixStream, String> {
    let mut s = UnixStream::connect(&c.path).map_err(|e| format!("connect {tag}{i}: {e}"))?;
    s.set_write_timeout(Some(c.timeout))
        .and_then(|()| s.write_all(format!("{tag}{i}\n").as_bytes()))
        .map_err(|e| format!("write {tag}{i}: {e}"))?;
    Ok(s)
}

pub fn run(c: &Config) -> Result<(), String> {
    let held: Vec<UnixStream> = (1..=c.hold)
        .map(|i| open(c, 'h', i))
        .collect::<Result<_, _>>()?;
    // Wait until every held connection has its handler (its echo came back).
    let deadline = Instant::now() + c.timeout;
    let served = held
        .iter()
        .filter(|s| {
            let mut line = Vec::new();
            let mut s: &UnixStream = s;
            io::read_line_by(&mut s, deadline, &mut line).is_ok() && !line.is_empty()
        })
        .count();
    let more: Vec<UnixStream> = (1..=c.extra)
        .map(|i| open(c, 'e', i))
        .collect::<Result<_, _>>()?;
    let fds: Vec<BorrowedFd<'_>> = more.iter().map(AsFd::as_fd).collect();
    let early = io::poll_in(&fds, Instant::now() + c.wait).map_err(|e| format!("poll: {e}"))?;
    println!("held {served}/{}, extra answered early: {early}", c.hold);
    for s in &held {
        let _ = s.shutdown(Shutdown::Write);
    }
    drop(held);
    let deadline = Instant::now() + c.timeout;
    let ok = more
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            let mut got = Vec::new();
            let mut s: &UnixStream = s;
            s.shutdown(Shutdown::Write).is_ok()
                && io::read_to_end_by(&mut s, deadline, &mut got).is_ok()
                && got == format!("e{}\n", i + 1).as_bytes()
        })
        .count();
    println!("extra served after release {ok}/{}", c.extra);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opts::args;

    #[test]
    fn parse_options() {
        let c = parse(args(&["-n", "1000", "-e", "200", "/s"])).unwrap();
        assert_eq!(
            (c.hold, c.extra, c.wait),
            (1000, 200, Duration::from_secs(2))
        );
        let c = parse(args(&["-w", "500", "-t", "5", "/s"])).unwrap();
        assert_eq!(
            (c.wait, c.timeout),
            (Duration::from_millis(500), Duration::from_secs(5))
        );
        assert!(parse(args(&["-e", "0", "/s"])).is_err());
        assert!(parse(args(&[])).is_err());
    }
}
