//! `ipcbench http PATH`: HTTP/1.1 requests through a Unix socket (an HTTP proxy or
//! gate in front of a backend), for bench/httpgate.sh. CLIENTS threads send REQUESTS
//! `GET URL` requests each: with `-k` all on one kept-alive connection, one after
//! another (each response read whole before the next request); without, one
//! connection per request (`Connection: close`). Each response must have status
//! STATUS (`-e`, default 200) and a `Content-Length` body, read whole. Prints one
//! line: `requests=N errors=E secs=S req_per_s=R`.

use crate::opts;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const USAGE: &str =
    "ipcbench http [ -c clients ] [ -n requests ] [ -k ] [ -u url ] [ -e status ] [ -t secs ] path";

#[derive(Debug, PartialEq)]
pub struct Config {
    pub clients: usize,
    /// Requests per client.
    pub requests: usize,
    pub keep_alive: bool,
    /// The request target.
    pub url: String,
    /// The status every response must have.
    pub expect: u16,
    /// Deadline of each read and write.
    pub timeout: Duration,
    pub path: PathBuf,
}

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Config, lexopt::Error> {
    let mut p = opts::parser(args);
    let mut c = Config {
        clients: 1,
        requests: 1000,
        keep_alive: false,
        url: "/v1.40/containers/json".into(),
        expect: 200,
        timeout: Duration::from_secs(20),
        path: PathBuf::new(),
    };
    let mut path = None;
    while let Some(arg) = p.next()? {
        match arg {
            Short('c') => c.clients = opts::count(&mut p)?,
            Short('n') => c.requests = opts::count(&mut p)?,
            Short('k') => c.keep_alive = true,
            Short('u') => c.url = p.value()?.string()?,
            Short('e') => c.expect = opts::num(&mut p)?,
            Short('t') => c.timeout = opts::secs(&mut p)?,
            Value(v) if path.is_none() => path = Some(v),
            _ => return Err(arg.unexpected()),
        }
    }
    if !c.url.starts_with('/') || c.url.bytes().any(|b| b <= b' ') {
        return Err("-u: the url must be a path starting with / and without blanks".into());
    }
    c.path = opts::operand(path, "path")?.into();
    Ok(c)
}

pub fn run(c: &Config) -> Result<(), String> {
    let (errors, elapsed) = bench(c);
    let n = (c.clients * c.requests) as f64;
    println!(
        "requests={} errors={errors} secs={:.4} req_per_s={:.1}",
        c.clients * c.requests,
        elapsed.as_secs_f64(),
        n / elapsed.as_secs_f64()
    );
    Ok(())
}

/// The request bytes for `url`.
fn request(url: &str, close: bool) -> Vec<u8> {
    let conn = if close { "Connection: close\r\n" } else { "" };
    format!("GET {url} HTTP/1.1\r\nHost: bench\r\nUser-Agent: ipcbench\r\n{conn}\r\n").into_bytes()
}

/// The status code and `Content-Length` of a response head (everything before the
/// empty line), if it has both.
fn status_and_length(head: &[u8]) -> Option<(u16, usize)> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let status = lines.next()?;
    let code = status.strip_prefix("HTTP/1.")?.get(2..5)?.parse().ok()?;
    let len = lines.find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())
            .flatten()
    })?;
    Some((code, len))
}

/// Read one whole response from `s`; `buf` keeps what arrived past it. Its status.
fn read_response(s: &mut UnixStream, buf: &mut Vec<u8>) -> io::Result<u16> {
    let mut chunk = [0u8; 16384];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let bad = || io::Error::new(io::ErrorKind::InvalidData, "no status or length");
            let (code, len) = status_and_length(&buf[..end]).ok_or_else(bad)?;
            let total = end + 4 + len;
            while buf.len() < total {
                match s.read(&mut chunk)? {
                    0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                    n => buf.extend_from_slice(&chunk[..n]),
                }
            }
            buf.drain(..total);
            return Ok(code);
        }
        match s.read(&mut chunk)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn connect(path: &Path, timeout: Duration) -> io::Result<UnixStream> {
    let s = UnixStream::connect(path)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    Ok(s)
}

/// One client's requests; the number that failed.
fn client(c: &Config) -> u64 {
    let req = request(&c.url, !c.keep_alive);
    let mut buf = Vec::with_capacity(16384);
    let mut errors = 0;
    let mut conn: Option<UnixStream> = None;
    for _ in 0..c.requests {
        let s = match conn.take() {
            Some(s) => s,
            None => match connect(&c.path, c.timeout) {
                Ok(s) => s,
                Err(_) => {
                    errors += 1;
                    continue;
                }
            },
        };
        let mut s = s;
        buf.clear();
        let ok = s.write_all(&req).is_ok()
            && read_response(&mut s, &mut buf).is_ok_and(|code| code == c.expect);
        if !ok {
            errors += 1;
        } else if c.keep_alive {
            conn = Some(s);
        }
    }
    errors
}

/// Run every client; the errors and the time from the moment all were ready until the
/// last finished.
fn bench(c: &Config) -> (u64, Duration) {
    let errors = AtomicU64::new(0);
    let start = Barrier::new(c.clients + 1);
    let t0 = std::thread::scope(|sc| {
        for _ in 0..c.clients {
            sc.spawn(|| {
                start.wait();
                errors.fetch_add(client(c), Ordering::Relaxed);
            });
        }
        start.wait();
        Instant::now()
    });
    (errors.into_inner(), t0.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opts::args;

    #[test]
    fn parse_defaults_and_options() {
        let c = parse(args(&["/s"])).unwrap();
        assert_eq!(
            (c.clients, c.requests, c.keep_alive, c.expect),
            (1, 1000, false, 200)
        );
        assert_eq!(c.url, "/v1.40/containers/json");
        let c = parse(args(&[
            "-c", "16", "-n5", "-k", "-u", "/x", "-e", "403", "/s",
        ]))
        .unwrap();
        assert_eq!(
            (c.clients, c.requests, c.keep_alive, c.expect),
            (16, 5, true, 403)
        );
        assert_eq!((c.url.as_str(), c.path.as_path()), ("/x", Path::new("/s")));
        assert!(parse(args(&["-u", "x", "/s"])).is_err());
        assert!(parse(args(&["-u", "/a b", "/s"])).is_err());
        assert!(parse(args(&[])).is_err());
    }

    #[test]
    fn heads() {
        assert_eq!(
            status_and_length(b"HTTP/1.1 200 OK\r\nServer: x\r\ncontent-length: 12"),
            Some((200, 12))
        );
        assert_eq!(
            status_and_length(b"HTTP/1.0 403 Forbidden\r\nContent-Length:0"),
            Some((403, 0))
        );
        assert_eq!(
            status_and_length(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"),
            None
        );
        assert_eq!(status_and_length(b"SSH-2.0"), None);
        assert_eq!(
            request("/a", true),
            b"GET /a HTTP/1.1\r\nHost: bench\r\nUser-Agent: ipcbench\r\nConnection: close\r\n\r\n"
        );
    }

    /// Responses split across reads and pipelined in one write are each read whole.
    #[test]
    fn responses_in_pieces() {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let t = std::thread::spawn(move || {
            b.write_all(b"HTTP/1.1 200 OK\r\nContent-").unwrap();
            std::thread::sleep(Duration::from_millis(20));
            b.write_all(b"Length: 3\r\n\r\nab").unwrap();
            std::thread::sleep(Duration::from_millis(20));
            b.write_all(b"cHTTP/1.1 403 No\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
        });
        a.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        assert_eq!(read_response(&mut a, &mut buf).unwrap(), 200);
        assert_eq!(read_response(&mut a, &mut buf).unwrap(), 403);
        assert!(buf.is_empty());
        t.join().unwrap();
        assert_eq!(
            read_response(&mut a, &mut buf).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
    }
}
