//! `ipcbench fdholder SOCK PID`: store+retrieve pairs against the fd holder listening
//! on SOCK (ipcfdholderd or s6-fdholderd, whose process is PID), speaking the
//! s6-fdholder wire protocol with ipccore's codec, so that no process start is measured.
//! One pair: store the write end of a pipe under a fresh identifier `bench:P:N`, then
//! retrieve it with delete (as `s6-fdholder-retrieve -D`) and close it. Each operation
//! is one connection, as s6's clients do it. Prints one line:
//! `pairs=N cpu_us_per_pair=C ops_per_s=R`, where C is the daemon's own CPU time per
//! pair (`/proc/PID/schedstat`) and R the operations per second the client saw. Any
//! refused or failed operation is fatal.

use crate::{opts, proc};
use ipccore::formats::fdholder::{self as wire, Request, Tain};
use lexopt::prelude::*;
use rustix::fd::{AsFd, BorrowedFd};
use rustix::process::Pid;
use std::ffi::OsString;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const USAGE: &str = "ipcbench fdholder [ -n pairs ] [ -t secs ] socket pid";

#[derive(Debug, PartialEq)]
pub struct Config {
    pub pairs: usize,
    /// Deadline of each operation.
    pub timeout: Duration,
    pub sock: PathBuf,
    pub pid: Pid,
}

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Config, lexopt::Error> {
    let mut p = opts::parser(args);
    let (mut pairs, mut timeout) = (2000, Duration::from_secs(10));
    let mut operands = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('n') => pairs = opts::count(&mut p)?,
            Short('t') => timeout = opts::secs(&mut p)?,
            Value(v) if operands.len() < 2 => operands.push(v),
            _ => return Err(arg.unexpected()),
        }
    }
    let mut it = operands.into_iter();
    let sock = opts::operand(it.next(), "socket")?.into();
    let pid = lexopt::ValueExt::parse::<i32>(&opts::operand(it.next(), "pid")?)?;
    let pid = Pid::from_raw(pid).ok_or("pid must be positive")?;
    Ok(Config {
        pairs,
        timeout,
        sock,
        pid,
    })
}

/// One operation on its own connection: the daemon's answer.
fn op(
    sock: &Path,
    req: &Request,
    fds: &[BorrowedFd<'_>],
    timeout: Duration,
) -> Result<wire::Frame, String> {
    let deadline = Some(Instant::now() + timeout);
    let s = UnixStream::connect(sock).map_err(|e| format!("connect {}: {e}", sock.display()))?;
    s.set_nonblocking(true).map_err(|e| format!("fcntl: {e}"))?;
    wire::send_frame(s.as_fd(), &wire::encode_request(req), fds, deadline)
        .map_err(|e| format!("send: {e}"))?;
    let mut rx = wire::Receiver::new(wire::MSG_MAXSIZE);
    wire::recv_frame(s.as_fd(), &mut rx, deadline).map_err(|e| format!("receive: {e}"))
}

pub fn run(c: &Config) -> Result<(), String> {
    let (_r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| format!("pipe: {e}"))?;
    let never = Tain::now().plus(Tain::INFINITE_RELATIVE);
    let me = std::process::id();
    let c0 = proc::cpu_ns(c.pid)?;
    let t0 = Instant::now();
    for n in 0..c.pairs {
        let id = format!("bench:{me}:{n}").into_bytes();
        let store = Request::Store {
            limit: never,
            id: id.clone(),
        };
        let a = op(&c.sock, &store, &[w.as_fd()], c.timeout)?;
        if a.data != [wire::code::OK] || !a.fds.is_empty() {
            return Err(format!("store refused: answer {:?}", a.data));
        }
        let retrieve = Request::Retrieve { delete: true, id };
        let a = op(&c.sock, &retrieve, &[], c.timeout)?;
        if a.data != [wire::code::OK] || a.fds.len() != 1 {
            return Err(format!(
                "retrieve refused: answer {:?}, {} fds",
                a.data,
                a.fds.len()
            ));
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let c1 = proc::cpu_ns(c.pid)?;
    println!(
        "pairs={} cpu_us_per_pair={:.3} ops_per_s={:.1}",
        c.pairs,
        c1.saturating_sub(c0) as f64 / c.pairs as f64 / 1e3,
        2.0 * c.pairs as f64 / secs
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opts::args;

    #[test]
    fn parse_operands() {
        let c = parse(args(&["-n", "3", "/s", "42"])).unwrap();
        assert_eq!((c.pairs, c.pid.as_raw_nonzero().get()), (3, 42));
        assert_eq!(c.sock, PathBuf::from("/s"));
        assert!(parse(args(&["/s"])).is_err());
        assert!(parse(args(&["/s", "0"])).is_err());
        assert!(parse(args(&["/s", "x"])).is_err());
        assert!(parse(args(&["/s", "1", "2"])).is_err());
    }
}
