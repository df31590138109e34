//! `ipcbench load PATH`: connections to a UCSPI echo service (handler `/bin/cat`).
//! Each connection writes SIZE bytes, shuts down its write side, reads until end of
//! file and checks it got the same bytes back, so a connection is counted only once the
//! handler has read, echoed and exited. CLIENTS threads make CONNS connections each,
//! one after another. Prints one line:
//! `conns=N errors=E secs=S conn_per_s=R us_per_conn=U p50_us=A p99_us=B` (U: wall
//! time per connection of one client, secs × clients / conns; A and B: the latency of
//! one exchange, connect to end of file, by rank over every client's exchanges).

use crate::{opts, stats};
use lexopt::prelude::*;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

pub const USAGE: &str = "ipcbench load [ -n conns ] [ -c clients ] [ -s size ] [ -t secs ] path";

/// One load: `clients` threads of `per_client` connections each.
#[derive(Debug, PartialEq)]
pub struct Load {
    pub clients: usize,
    pub per_client: usize,
    pub size: usize,
    /// Deadline of each read and write.
    pub timeout: Duration,
}

#[derive(Debug, PartialEq)]
pub struct Config {
    pub load: Load,
    pub path: PathBuf,
}

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Config, lexopt::Error> {
    let mut p = opts::parser(args);
    let mut load = Load {
        clients: 16,
        per_client: 2000,
        size: 64,
        timeout: Duration::from_secs(20),
    };
    let mut path = None;
    while let Some(arg) = p.next()? {
        match arg {
            Short('n') => load.per_client = opts::count(&mut p)?,
            Short('c') => load.clients = opts::count(&mut p)?,
            Short('s') => load.size = opts::num(&mut p)?,
            Short('t') => load.timeout = opts::secs(&mut p)?,
            Value(v) if path.is_none() => path = Some(v),
            _ => return Err(arg.unexpected()),
        }
    }
    let path = opts::operand(path, "path")?.into();
    Ok(Config { load, path })
}

pub fn run(c: &Config) -> Result<(), String> {
    let r = load(&c.path, &c.load);
    println!(
        "conns={} errors={} secs={:.4} conn_per_s={:.1} us_per_conn={:.1} p50_us={:.0} p99_us={:.0}",
        r.conns,
        r.errors,
        r.elapsed.as_secs_f64(),
        r.rate(),
        r.elapsed.as_secs_f64() * 1e6 * c.load.clients as f64 / r.conns as f64,
        r.latency_us(0.5),
        r.latency_us(0.99),
    );
    Ok(())
}

pub struct LoadResult {
    pub conns: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// The duration of every successful exchange, in microseconds.
    pub latencies_us: Vec<f64>,
}

impl LoadResult {
    /// Connections per second.
    pub fn rate(&self) -> f64 {
        self.conns as f64 / self.elapsed.as_secs_f64()
    }

    /// The `p`-th quantile of one exchange's latency, in microseconds (NaN if none
    /// succeeded).
    pub fn latency_us(&self, p: f64) -> f64 {
        stats::percentile(&self.latencies_us, p)
    }
}

/// One echo exchange; `false` if anything failed or the echo differs.
fn exchange(path: &Path, payload: &[u8], timeout: Duration, buf: &mut Vec<u8>) -> bool {
    let Ok(mut s) = UnixStream::connect(path) else {
        return false;
    };
    buf.clear();
    s.set_read_timeout(Some(timeout)).is_ok()
        && s.set_write_timeout(Some(timeout)).is_ok()
        && s.write_all(payload).is_ok()
        && s.shutdown(std::net::Shutdown::Write).is_ok()
        && s.read_to_end(buf).is_ok()
        && buf.as_slice() == payload
}

/// Run the load against the service at `path`; the time runs from the moment every
/// client thread is ready until the last has finished.
pub fn load(path: &Path, l: &Load) -> LoadResult {
    let payload: Vec<u8> = (0..l.size).map(|i| b'a' + (i % 26) as u8).collect();
    let errors = AtomicU64::new(0);
    let latencies = Mutex::new(Vec::with_capacity(l.clients * l.per_client));
    let start = Barrier::new(l.clients + 1);
    let t0 = std::thread::scope(|sc| {
        for _ in 0..l.clients {
            sc.spawn(|| {
                let mut buf = Vec::with_capacity(l.size);
                // Kept per thread and merged at the end: no lock on the measured path.
                let mut mine = Vec::with_capacity(l.per_client);
                start.wait();
                for _ in 0..l.per_client {
                    let t = Instant::now();
                    if exchange(path, &payload, l.timeout, &mut buf) {
                        mine.push(t.elapsed().as_secs_f64() * 1e6);
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if let Ok(mut all) = latencies.lock() {
                    all.extend(mine);
                }
            });
        }
        start.wait();
        // The scope joins every client before returning; time until then.
        Instant::now()
    });
    let elapsed = t0.elapsed();
    LoadResult {
        conns: (l.clients * l.per_client) as u64,
        errors: errors.into_inner(),
        elapsed,
        latencies_us: latencies.into_inner().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opts::args;

    #[test]
    fn parse_defaults_and_options() {
        let c = parse(args(&["/s"])).unwrap();
        assert_eq!(c.load.clients, 16);
        assert_eq!(c.load.per_client, 2000);
        assert_eq!(c.path, PathBuf::from("/s"));
        let c = parse(args(&["-n", "5", "-c1", "-s", "0", "-t", "2", "/s"])).unwrap();
        assert_eq!(
            c.load,
            Load {
                clients: 1,
                per_client: 5,
                size: 0,
                timeout: Duration::from_secs(2)
            }
        );
        assert!(parse(args(&[])).is_err());
        assert!(parse(args(&["/a", "/b"])).is_err());
        assert!(parse(args(&["-c", "0", "/s"])).is_err());
        assert!(parse(args(&["-x", "/s"])).is_err());
    }

    #[test]
    fn counts_refused_connections_as_errors() {
        let dir = std::env::temp_dir().join(format!("ipcbench-load-{}", std::process::id()));
        let l = Load {
            clients: 2,
            per_client: 3,
            size: 8,
            timeout: Duration::from_secs(5),
        };
        let r = load(&dir.join("none"), &l);
        assert_eq!((r.conns, r.errors), (6, 6));
        assert!(
            r.latency_us(0.99).is_nan(),
            "no exchange succeeded, so no latency"
        );
    }
}
