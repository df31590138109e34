//! ipcbench: load client and per-server benchmark round for ipctools (a dev tool, not
//! installed).
//!
//! `ipcbench load PATH` opens connections to a UCSPI echo service (handler `/bin/cat`):
//! each connection writes SIZE bytes, shuts down its write side, reads until EOF and
//! checks it got the same bytes back, so a connection is counted only once the handler
//! has read, echoed and exited.
//!
//! `ipcbench round -- SERVER...` benchmarks one server: it starts SERVER (with `%s` in
//! its arguments replaced by a fresh socket path) several times, timing spawn → `-1`
//! readiness line, keeps the last one running, reads its idle VmRSS, then runs a
//! sequential and a concurrent load and reads the server process's own CPU time
//! (`/proc/PID/schedstat`, which counts that task only, never its children) around each.
//! It prints one `key=value` line; bench/run.sh alternates servers and compares.
#![forbid(unsafe_code)]

use lexopt::prelude::*;
use rustix::event::{PollFd, PollFlags};
use rustix::process::{Pid, Signal};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PROG: &str = "ipcbench";
const USAGE: &str = "ipcbench load [ -n conns ] [ -c clients ] [ -s size ] [ -t secs ] path
       ipcbench round [ -r starts ] [ -n seqconns ] [ -c clients ] [ -m conns ] [ -s size ] [ -t secs ] -d dir -- server... (%s = socket path)";

struct Load {
    clients: usize,
    per_client: usize,
    size: usize,
    timeout: Duration,
}

struct Round {
    starts: usize,
    seq: usize,
    clients: usize,
    per_client: usize,
    size: usize,
    timeout: Duration,
    dir: PathBuf,
    server: Vec<OsString>,
}

enum Cmd {
    Load(Load, PathBuf),
    Round(Round),
}

fn parse() -> Result<Cmd, lexopt::Error> {
    let mut p = lexopt::Parser::from_env();
    p.set_short_equals(false);
    let sub = match p.next()? {
        Some(Value(v)) => v.string()?,
        Some(arg) => return Err(arg.unexpected()),
        None => return Err("missing subcommand".into()),
    };
    let (mut starts, mut seq, mut clients, mut per, mut size, mut secs) =
        (10, 2000, 16, 300, 64, 20);
    let mut dir = None;
    let mut path = None;
    let mut server = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('r') => starts = p.value()?.parse()?,
            Short('n') => seq = p.value()?.parse()?,
            Short('c') => clients = p.value()?.parse()?,
            Short('m') => per = p.value()?.parse()?,
            Short('s') => size = p.value()?.parse()?,
            Short('t') => secs = p.value()?.parse()?,
            Short('d') => dir = Some(PathBuf::from(p.value()?)),
            Value(v) if sub == "load" && path.is_none() => path = Some(PathBuf::from(v)),
            Value(v) if sub == "round" => {
                server.push(v);
                server.extend(p.raw_args()?);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    let timeout = Duration::from_secs(secs);
    match sub.as_str() {
        "load" => {
            let path = path.ok_or("missing path")?;
            let load = Load {
                clients: clients.max(1),
                per_client: seq.max(1),
                size,
                timeout,
            };
            Ok(Cmd::Load(load, path))
        }
        "round" => {
            let dir = dir.ok_or("missing -d dir")?;
            if server.is_empty() {
                return Err("missing server command".into());
            }
            Ok(Cmd::Round(Round {
                starts: starts.max(1),
                seq,
                clients: clients.max(1),
                per_client: per,
                size,
                timeout,
                dir,
                server,
            }))
        }
        _ => Err(format!("unknown subcommand {sub}").into()),
    }
}

fn main() -> ExitCode {
    let cmd = match parse() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PROG}: usage: {USAGE}\n({e})");
            return ExitCode::from(100);
        }
    };
    let res = match cmd {
        Cmd::Load(l, path) => load(&path, &l).map(|r| {
            println!(
                "conns={} errors={} secs={:.4} conn_per_s={:.1}",
                r.conns,
                r.errors,
                r.elapsed.as_secs_f64(),
                r.rate()
            )
        }),
        Cmd::Round(r) => round(&r).map(|line| println!("{line}")),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{PROG}: fatal: {e}");
            ExitCode::from(111)
        }
    }
}

struct LoadResult {
    conns: u64,
    errors: u64,
    elapsed: Duration,
}

impl LoadResult {
    fn rate(&self) -> f64 {
        self.conns as f64 / self.elapsed.as_secs_f64()
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

/// `clients` threads, each making `per_client` connections one after another.
fn load(path: &Path, l: &Load) -> Result<LoadResult, String> {
    let payload: Vec<u8> = (0..l.size).map(|i| b'a' + (i % 26) as u8).collect();
    let errors = AtomicU64::new(0);
    let start = Barrier::new(l.clients + 1);
    let elapsed = std::thread::scope(|sc| {
        for _ in 0..l.clients {
            sc.spawn(|| {
                let mut buf = Vec::with_capacity(l.size);
                start.wait();
                for _ in 0..l.per_client {
                    if !exchange(path, &payload, l.timeout, &mut buf) {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        start.wait();
        let t0 = Instant::now();
        // The scope joins every client before returning; time until then.
        t0
    });
    let elapsed = elapsed.elapsed();
    Ok(LoadResult {
        conns: (l.clients * l.per_client) as u64,
        errors: errors.into_inner(),
        elapsed,
    })
}

/// A server started by `start`, stopped (TERM, then KILL) on drop.
struct Server {
    child: Child,
    pid: Pid,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = rustix::process::kill_process(self.pid, Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start the server on `sock` and wait for its readiness line.
fn start(
    server: &[OsString],
    sock: &Path,
    timeout: Duration,
) -> Result<(Server, Duration), String> {
    let args: Vec<OsString> = server
        .iter()
        .map(|a| {
            if a == "%s" {
                sock.as_os_str().to_owned()
            } else {
                a.clone()
            }
        })
        .collect();
    let (prog, rest) = args.split_first().ok_or("empty server command")?;
    let mut cmd = Command::new(prog);
    cmd.args(rest)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let t0 = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", prog.to_string_lossy()))?;
    let pid = Pid::from_raw(child.id() as i32).ok_or("bad pid")?;
    let mut out = child.stdout.take().ok_or("no stdout pipe")?;
    let srv = Server { child, pid };
    let mut line = Vec::new();
    let mut chunk = [0u8; 256];
    while !line.contains(&b'\n') {
        let left = timeout.saturating_sub(t0.elapsed());
        let ts = rustix::time::Timespec {
            tv_sec: left.as_secs() as i64,
            tv_nsec: left.subsec_nanos() as i64,
        };
        let mut fds = [PollFd::new(&out, PollFlags::IN)];
        match rustix::event::poll(&mut fds, Some(&ts)) {
            Ok(0) => return Err("timed out waiting for the readiness line".into()),
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(format!("poll: {e}")),
        }
        match out.read(&mut chunk) {
            Ok(0) => return Err("server closed stdout without a readiness line".into()),
            Ok(n) => line.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) => return Err(format!("read readiness: {e}")),
        }
    }
    Ok((srv, t0.elapsed()))
}

fn proc_file(pid: Pid, name: &str) -> Result<String, String> {
    let p = format!("/proc/{}/{name}", pid.as_raw_nonzero());
    std::fs::read_to_string(&p).map_err(|e| format!("read {p}: {e}"))
}

/// Nanoseconds this task has run (`/proc/PID/schedstat`, first field): the server's own
/// CPU time, excluding its children and the vfork'ed spawn helper.
fn cpu_ns(pid: Pid) -> Result<u64, String> {
    proc_file(pid, "schedstat")?
        .split_whitespace()
        .next()
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| "bad schedstat".into())
}

/// utime+stime clock ticks from `/proc/PID/stat` (coarser; a cross-check).
fn cpu_ticks(pid: Pid) -> Result<u64, String> {
    let stat = proc_file(pid, "stat")?;
    let after = stat.rsplit_once(')').map(|(_, r)| r).ok_or("bad stat")?;
    // Fields after "(comm)": state is field 3, utime 14, stime 15.
    let f: Vec<&str> = after.split_whitespace().collect();
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    match (get(11), get(12)) {
        (Some(u), Some(s)) => Ok(u + s),
        _ => Err("bad stat".into()),
    }
}

fn rss_kb(pid: Pid) -> Result<u64, String> {
    proc_file(pid, "status")?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS".into())
}

/// Wait until every handler has exited and been reaped, so the server's reaping work is
/// inside the measurement.
fn wait_no_children(pid: Pid) {
    let p = pid.as_raw_nonzero();
    let path = format!("/proc/{p}/task/{p}/children");
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match std::fs::read_to_string(&path) {
            Ok(s) if s.trim().is_empty() => break,
            Ok(_) => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => {
                std::thread::sleep(Duration::from_millis(200));
                break;
            }
        }
    }
    // Zombies are listed until reaped; give the SIGCHLD pass a moment to finish.
    std::thread::sleep(Duration::from_millis(20));
}

/// Run one load against the server, returning (result, server CPU ns, server ticks).
fn measured(srv: &Server, sock: &Path, l: &Load) -> Result<(LoadResult, u64, u64), String> {
    let (c0, t0) = (cpu_ns(srv.pid)?, cpu_ticks(srv.pid)?);
    let r = load(sock, l)?;
    wait_no_children(srv.pid);
    let (c1, t1) = (cpu_ns(srv.pid)?, cpu_ticks(srv.pid)?);
    Ok((r, c1.saturating_sub(c0), t1.saturating_sub(t0)))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn round(r: &Round) -> Result<String, String> {
    let mut ready_us = Vec::new();
    let mut kept = None;
    for i in 0..r.starts {
        let sock = r.dir.join(format!("s{}-{i}", std::process::id()));
        let (srv, t) = start(&r.server, &sock, r.timeout)?;
        ready_us.push(t.as_secs_f64() * 1e6);
        if i + 1 == r.starts {
            kept = Some((srv, sock));
        } else {
            drop(srv);
            let _ = std::fs::remove_file(&sock);
        }
    }
    let (srv, sock) = kept.ok_or("no server")?;
    std::thread::sleep(Duration::from_millis(100));
    let comm = proc_file(srv.pid, "comm")?.trim().to_string();
    let rss_idle = rss_kb(srv.pid)?;
    let children_before = proc_file(
        srv.pid,
        &format!("task/{}/children", srv.pid.as_raw_nonzero()),
    )
    .map(|s| s.split_whitespace().count())
    .unwrap_or(0);

    // Warm-up: page cache, the handler binary, the server's allocator.
    let warm = Load {
        clients: 1,
        per_client: 100,
        size: r.size,
        timeout: r.timeout,
    };
    load(&sock, &warm)?;
    wait_no_children(srv.pid);

    let seq = Load {
        clients: 1,
        per_client: r.seq,
        size: r.size,
        timeout: r.timeout,
    };
    let (sr, s_ns, s_ticks) = measured(&srv, &sock, &seq)?;
    let conc = Load {
        clients: r.clients,
        per_client: r.per_client,
        size: r.size,
        timeout: r.timeout,
    };
    let (cr, c_ns, c_ticks) = measured(&srv, &sock, &conc)?;
    let rss_after = rss_kb(srv.pid)?;
    let conns = (sr.conns + cr.conns) as f64;
    let hz = 100.0; // USER_HZ on Linux
    let line = format!(
        "comm={comm} ready_us={:.0} rss_kb={rss_idle} rss_after_kb={rss_after} \
         seq_cps={:.1} conc_cps={:.1} cpu_us_per_conn={:.2} seq_cpu_us={:.2} conc_cpu_us={:.2} \
         tick_cpu_us_per_conn={:.2} errors={} children_idle={children_before}",
        median(&mut ready_us),
        sr.rate(),
        cr.rate(),
        (s_ns + c_ns) as f64 / 1e3 / conns,
        s_ns as f64 / 1e3 / sr.conns as f64,
        c_ns as f64 / 1e3 / cr.conns as f64,
        (s_ticks + c_ticks) as f64 / hz * 1e6 / conns,
        sr.errors + cr.errors,
    );
    drop(srv);
    let _ = std::fs::remove_file(&sock);
    Ok(line)
}
