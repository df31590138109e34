//! `ipcbench round -- SERVER...`: one benchmark round of one server. It starts SERVER
//! (with `%s` in its arguments replaced by a fresh socket path) several times, timing
//! spawn → `-1` readiness line, keeps the last one running, reads its idle VmRSS, then
//! runs a sequential and a concurrent load and reads the server process's own CPU time
//! (`/proc/PID/schedstat`, which counts that task only, never its children) around
//! each. It prints one `key=value` line; bench/run.sh alternates servers and compares.

use crate::load::{Load, LoadResult, load};
use crate::{io, opts, proc, stats};
use lexopt::prelude::*;
use rustix::process::{Pid, Signal};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USAGE: &str = "ipcbench round [ -r starts ] [ -n seqconns ] [ -c clients ] [ -m conns ] [ -s size ] [ -t secs ] -d dir -- server... (%s = socket path)";

#[derive(Debug, PartialEq)]
pub struct Config {
    pub starts: usize,
    pub seq: usize,
    pub clients: usize,
    pub per_client: usize,
    pub size: usize,
    pub timeout: Duration,
    pub dir: PathBuf,
    pub server: Vec<OsString>,
}

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Config, lexopt::Error> {
    let mut p = opts::parser(args);
    let mut c = Config {
        starts: 10,
        seq: 2000,
        clients: 16,
        per_client: 300,
        size: 64,
        timeout: Duration::from_secs(20),
        dir: PathBuf::new(),
        server: Vec::new(),
    };
    let mut dir = None;
    while let Some(arg) = p.next()? {
        match arg {
            Short('r') => c.starts = opts::count(&mut p)?,
            Short('n') => c.seq = opts::count(&mut p)?,
            Short('c') => c.clients = opts::count(&mut p)?,
            Short('m') => c.per_client = opts::count(&mut p)?,
            Short('s') => c.size = opts::num(&mut p)?,
            Short('t') => c.timeout = opts::secs(&mut p)?,
            Short('d') => dir = Some(p.value()?),
            Value(v) => {
                c.server.push(v);
                c.server.extend(p.raw_args()?);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    c.dir = opts::operand(dir, "-d dir")?.into();
    if c.server.is_empty() {
        return Err("missing server command".into());
    }
    Ok(c)
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
    match io::read_line_by(&mut out, t0 + timeout, &mut line) {
        Ok(true) => Ok((srv, t0.elapsed())),
        Ok(false) => Err("server closed stdout without a readiness line".into()),
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            Err("timed out waiting for the readiness line".into())
        }
        Err(e) => Err(format!("read readiness: {e}")),
    }
}

/// Wait until every handler has exited and been reaped, so the server's reaping work is
/// inside the measurement.
fn wait_no_children(pid: Pid) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match proc::children(pid) {
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
    let (c0, t0) = (proc::cpu_ns(srv.pid)?, proc::cpu_ticks(srv.pid)?);
    let r = load(sock, l);
    wait_no_children(srv.pid);
    let (c1, t1) = (proc::cpu_ns(srv.pid)?, proc::cpu_ticks(srv.pid)?);
    Ok((r, c1.saturating_sub(c0), t1.saturating_sub(t0)))
}

pub fn run(r: &Config) -> Result<(), String> {
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
    let comm = proc::file(srv.pid, "comm")?.trim().to_string();
    let rss_idle = proc::rss_kb(srv.pid)?;
    let children_before = proc::children(srv.pid)
        .map(|s| s.split_whitespace().count())
        .unwrap_or(0);

    // Warm-up: page cache, the handler binary, the server's allocator.
    let load_of = |clients, per_client| Load {
        clients,
        per_client,
        size: r.size,
        timeout: r.timeout,
    };
    load(&sock, &load_of(1, 100));
    wait_no_children(srv.pid);

    let (sr, s_ns, s_ticks) = measured(&srv, &sock, &load_of(1, r.seq))?;
    let (cr, c_ns, c_ticks) = measured(&srv, &sock, &load_of(r.clients, r.per_client))?;
    let rss_after = proc::rss_kb(srv.pid)?;
    let conns = (sr.conns + cr.conns) as f64;
    let hz = 100.0; // USER_HZ on Linux
    println!(
        "comm={comm} ready_us={:.0} rss_kb={rss_idle} rss_after_kb={rss_after} \
         seq_cps={:.1} conc_cps={:.1} cpu_us_per_conn={:.2} seq_cpu_us={:.2} conc_cpu_us={:.2} \
         tick_cpu_us_per_conn={:.2} seq_p99_us={:.0} conc_p50_us={:.0} conc_p99_us={:.0} \
         errors={} children_idle={children_before}",
        stats::median(&ready_us),
        sr.rate(),
        cr.rate(),
        (s_ns + c_ns) as f64 / 1e3 / conns,
        s_ns as f64 / 1e3 / sr.conns as f64,
        c_ns as f64 / 1e3 / cr.conns as f64,
        (s_ticks + c_ticks) as f64 / hz * 1e6 / conns,
        sr.latency_us(0.99),
        cr.latency_us(0.5),
        cr.latency_us(0.99),
        sr.errors + cr.errors,
    );
    drop(srv);
    let _ = std::fs::remove_file(&sock);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opts::args;

    #[test]
    fn parse_server_after_options() {
        let c = parse(args(&[
            "-r", "3", "-d", "/tmp/x", "--", "srv", "-1", "%s", "-c", "cat",
        ]))
        .unwrap();
        assert_eq!(c.starts, 3);
        assert_eq!(c.dir, PathBuf::from("/tmp/x"));
        assert_eq!(c.server, args(&["srv", "-1", "%s", "-c", "cat"]));
        assert!(parse(args(&["-d", "/tmp/x"])).is_err());
        assert!(parse(args(&["--", "srv"])).is_err());
        assert!(parse(args(&["-r", "0", "-d", "/d", "--", "srv"])).is_err());
    }
}
