//! `ipcbench soak PATH`: the load of bench/reliability.sh. CLIENTS threads make CONNS
//! connections each, one after another, to the echo service at PATH. Each sends a line
//! `wC-I`, holds the connection LONGMS milliseconds for LONGPCT percent of them (drawn
//! at random), shuts down its write side and expects its line echoed before end of
//! file. Prints `connections N errors E`; a refused connection, a failed write or read,
//! a missed deadline or a wrong echo is one error.

use crate::{io, opts};
use lexopt::prelude::*;
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const USAGE: &str =
    "ipcbench soak [ -c clients ] [ -n conns ] [ -p longpct ] [ -l longms ] [ -t secs ] path";

#[derive(Debug, PartialEq)]
pub struct Config {
    pub clients: usize,
    pub per_client: usize,
    /// Percentage of connections held open `long` before the half-close.
    pub long_pct: u64,
    pub long: Duration,
    /// Deadline of one connection's exchange.
    pub timeout: Duration,
    pub path: PathBuf,
}

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Config, lexopt::Error> {
    let mut p = opts::parser(args);
    let mut c = Config {
        clients: 50,
        per_client: 100,
        long_pct: 0,
        long: Duration::from_millis(20),
        timeout: Duration::from_secs(60),
        path: PathBuf::new(),
    };
    let mut path = None;
    while let Some(arg) = p.next()? {
        match arg {
            Short('c') => c.clients = opts::count(&mut p)?,
            Short('n') => c.per_client = opts::count(&mut p)?,
            Short('p') => c.long_pct = opts::num(&mut p)?,
            Short('l') => c.long = opts::millis(&mut p)?,
            Short('t') => c.timeout = opts::secs(&mut p)?,
            Value(v) if path.is_none() => path = Some(v),
            _ => return Err(arg.unexpected()),
        }
    }
    if c.long_pct > 100 {
        return Err("longpct is a percentage, 0 to 100".into());
    }
    c.path = opts::operand(path, "path")?.into();
    Ok(c)
}

/// xorshift64*: enough to pick which connections are held.
struct Rng(u64);

impl Rng {
    fn new(stream: u64) -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Rng((t ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// One connection: send `msg`, maybe hold, half-close, expect `msg` back.
fn one(path: &Path, msg: &[u8], hold: Option<Duration>, timeout: Duration) -> bool {
    let Ok(mut s) = UnixStream::connect(path) else {
        return false;
    };
    let deadline = Instant::now() + timeout;
    if s.set_write_timeout(Some(timeout)).is_err() || s.write_all(msg).is_err() {
        return false;
    }
    if let Some(d) = hold {
        std::thread::sleep(d);
    }
    let mut got = Vec::with_capacity(msg.len());
    s.shutdown(std::net::Shutdown::Write).is_ok()
        && io::read_to_end_by(&mut s, deadline + hold.unwrap_or_default(), &mut got).is_ok()
        && got == msg
}

pub fn run(c: &Config) -> Result<(), String> {
    let errors = AtomicU64::new(0);
    std::thread::scope(|sc| {
        for w in 1..=c.clients {
            let errors = &errors;
            sc.spawn(move || {
                let mut rng = Rng::new(w as u64);
                for i in 1..=c.per_client {
                    let msg = format!("w{w}-{i}\n");
                    let hold = (rng.below(100) < c.long_pct).then_some(c.long);
                    if !one(&c.path, msg.as_bytes(), hold, c.timeout) {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    println!(
        "connections {} errors {}",
        c.clients * c.per_client,
        errors.into_inner()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opts::args;

    #[test]
    fn parse_options() {
        let c = parse(args(&[
            "-c", "20", "-n", "500", "-p", "10", "-l", "20", "/s",
        ]))
        .unwrap();
        assert_eq!((c.clients, c.per_client, c.long_pct), (20, 500, 10));
        assert_eq!(c.long, Duration::from_millis(20));
        assert_eq!(c.path, PathBuf::from("/s"));
        assert!(parse(args(&["-p", "101", "/s"])).is_err());
        assert!(parse(args(&["-n", "0", "/s"])).is_err());
        assert!(parse(args(&["-c", "2"])).is_err());
    }

    /// An echo service on a fresh socket that answers `reply(line)` to each connection.
    fn service(name: &str, reply: fn(Vec<u8>) -> Vec<u8>) -> PathBuf {
        use std::io::Read;
        let path = std::env::temp_dir().join(format!("ipcbench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
        std::thread::spawn(move || {
            for mut s in l.incoming().flatten() {
                let mut got = Vec::new();
                let _ = s.read_to_end(&mut got);
                let _ = s.write_all(&reply(got));
            }
        });
        path
    }

    #[test]
    fn one_connection_checks_its_echo() {
        let t = Duration::from_secs(10);
        let echo = service("echo", |v| v);
        assert!(one(&echo, b"w1-1\n", None, t));
        assert!(one(&echo, b"w1-2\n", Some(Duration::from_millis(5)), t));
        let wrong = service("wrong", |_| b"nope\n".to_vec());
        assert!(!one(&wrong, b"w1-1\n", None, t));
        let _ = std::fs::remove_file(&echo);
        let _ = std::fs::remove_file(&wrong);
        assert!(!one(&echo, b"w1-1\n", None, t));
    }

    #[test]
    fn rng_stays_below_its_bound() {
        let mut r = Rng::new(7);
        let v: Vec<u64> = (0..1000).map(|_| r.below(100)).collect();
        assert!(v.iter().all(|&x| x < 100));
        assert!(v.iter().any(|&x| x < 10) && v.iter().any(|&x| x >= 90));
    }
}
