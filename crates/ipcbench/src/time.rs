//! `ipcbench time -- LABEL PROG ARGS... [-- LABEL PROG ARGS...]...`: wall time of
//! whole program runs, spawn to exit. The commands run one after another in the given
//! order, RUNS times over (after WARMUP untimed passes), so that all see the same
//! machine; each must exit 0 (stdin and stdout are /dev/null). With `-f FIFODIR` before
//! its label, a command is a waiter on that fifodir: once its fifo (`ftrig1:@…`) appears,
//! ipcbench writes EVENT to every fifo there itself, as s6-ftrig-notify would but with
//! no process of its own, so only the waiter is measured.
//!
//! Prints one tab-separated line per command:
//! `LABEL runs median_ms mean_ms p50_ms p90_ms p99_ms` (percentiles by rank, see
//! [`crate::stats::percentile`]).

use crate::{opts, stats};
use lexopt::prelude::*;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USAGE: &str = "ipcbench time [ -n runs ] [ -w warmup ] [ -e event ] -- [ -f fifodir ] label prog [ arg... ] [ -- ... ]";

#[derive(Debug, PartialEq)]
pub struct Cmd {
    pub label: String,
    pub argv: Vec<OsString>,
    pub fifodir: Option<PathBuf>,
}

#[derive(Debug, PartialEq)]
pub struct Config {
    pub runs: usize,
    pub warmup: usize,
    pub event: Vec<u8>,
    pub cmds: Vec<Cmd>,
}

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Config, lexopt::Error> {
    let mut p = opts::parser(args);
    let mut c = Config {
        runs: 100,
        warmup: 10,
        event: b"x".to_vec(),
        cmds: Vec::new(),
    };
    let mut rest = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('n') => c.runs = opts::count(&mut p)?,
            Short('w') => c.warmup = opts::num(&mut p)?,
            Short('e') => c.event = p.value()?.string()?.into_bytes(),
            Value(v) => {
                rest.push(v);
                rest.extend(p.raw_args()?);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    for group in opts::split_at(rest, "--") {
        let mut it = group.into_iter().peekable();
        let fifodir = match it.next_if(|a| a == "-f") {
            Some(_) => Some(opts::operand(it.next(), "fifodir after -f")?.into()),
            None => None,
        };
        let label = opts::operand(it.next(), "label")?.string()?;
        let argv: Vec<OsString> = it.collect();
        if argv.is_empty() {
            return Err(format!("missing program for {label}").into());
        }
        c.cmds.push(Cmd {
            label,
            argv,
            fifodir,
        });
    }
    Ok(c)
}

fn spawn(argv: &[OsString]) -> Result<Child, String> {
    let (prog, args) = argv.split_first().ok_or("empty command")?;
    Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", prog.to_string_lossy()))
}

/// The fifos of the fifodir `dir` (its listeners' subscriptions).
fn fifos(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("read {}: {e}", dir.display()))?;
    Ok(rd
        .filter_map(Result::ok)
        .filter(|e| e.file_name().as_encoded_bytes().starts_with(b"ftrig1:@"))
        .map(|e| e.path())
        .collect())
}

/// Spin until `child` has subscribed to `dir`, then write `event` to its fifos.
fn notify_when_subscribed(child: &mut Child, dir: &Path, event: &[u8]) -> Result<(), String> {
    use rustix::fs::{Mode, OFlags};
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut spins = 0u32;
    let names = loop {
        let names = fifos(dir)?;
        if !names.is_empty() {
            break names;
        }
        spins = spins.wrapping_add(1);
        if spins.is_multiple_of(256) {
            if let Ok(Some(st)) = child.try_wait() {
                return Err(format!("waiter exited before subscribing: {st}"));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(format!("waiter never subscribed to {}", dir.display()));
            }
        }
        std::thread::yield_now();
    };
    for n in names {
        let fd = rustix::fs::open(
            &n,
            OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| format!("open {}: {e}", n.display()))?;
        rustix::io::write(&fd, event).map_err(|e| format!("write {}: {e}", n.display()))?;
    }
    Ok(())
}

/// One run of `cmd`, in nanoseconds.
fn once(cmd: &Cmd, event: &[u8]) -> Result<f64, String> {
    let t0 = Instant::now();
    let mut child = spawn(&cmd.argv)?;
    if let Some(dir) = &cmd.fifodir {
        notify_when_subscribed(&mut child, dir, event)?;
    }
    let st = child.wait().map_err(|e| format!("wait: {e}"))?;
    let ns = t0.elapsed().as_nanos() as f64;
    if !st.success() {
        return Err(format!("{} failed: {st}", cmd.label));
    }
    Ok(ns)
}

pub fn run(c: &Config) -> Result<(), String> {
    for _ in 0..c.warmup {
        for cmd in &c.cmds {
            once(cmd, &c.event)?;
        }
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(c.runs); c.cmds.len()];
    for _ in 0..c.runs {
        for (cmd, t) in c.cmds.iter().zip(times.iter_mut()) {
            t.push(once(cmd, &c.event)? / 1e6);
        }
    }
    for (cmd, t) in c.cmds.iter().zip(&times) {
        println!(
            "{}\t{}\t{:.6}\t{:.6}\t{:.6}\t{:.6}\t{:.6}",
            cmd.label,
            t.len(),
            stats::median(t),
            stats::mean(t),
            stats::percentile(t, 0.5),
            stats::percentile(t, 0.9),
            stats::percentile(t, 0.99)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opts::args;

    #[test]
    fn parse_command_groups() {
        let c = parse(args(&[
            "-n",
            "3",
            "--",
            "-f",
            "/ev",
            "wait",
            "w",
            "-t",
            "5",
            "--",
            "plain true",
            "true",
        ]))
        .unwrap();
        assert_eq!((c.runs, c.warmup, c.event.as_slice()), (3, 10, &b"x"[..]));
        assert_eq!(
            c.cmds,
            vec![
                Cmd {
                    label: "wait".into(),
                    argv: args(&["w", "-t", "5"]),
                    fifodir: Some("/ev".into())
                },
                Cmd {
                    label: "plain true".into(),
                    argv: args(&["true"]),
                    fifodir: None
                },
            ]
        );
        assert!(parse(args(&["--", "label"])).is_err());
        assert!(parse(args(&["--", "-f"])).is_err());
        assert!(parse(args(&["--", "a", "true", "--"])).is_err());
        assert!(parse(args(&["-f", "/ev", "--", "a", "true"])).is_err());
    }

    #[test]
    fn times_a_real_program_and_reports_failure() {
        let ok = Cmd {
            label: "true".into(),
            argv: args(&["true"]),
            fifodir: None,
        };
        assert!(once(&ok, b"x").unwrap() > 0.0);
        let bad = Cmd {
            label: "false".into(),
            argv: args(&["false"]),
            fifodir: None,
        };
        assert!(once(&bad, b"x").unwrap_err().contains("false failed"));
    }
}
