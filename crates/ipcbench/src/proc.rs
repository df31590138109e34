//! What `/proc` says about a server process: its own CPU time, memory, children.

use rustix::process::Pid;

/// The text of `/proc/PID/NAME`.
pub fn file(pid: Pid, name: &str) -> Result<String, String> {
    let p = format!("/proc/{}/{name}", pid.as_raw_nonzero());
    std::fs::read_to_string(&p).map_err(|e| format!("read {p}: {e}"))
}

/// Nanoseconds this task has run (`/proc/PID/schedstat`, first field): the process's
/// own CPU time, excluding its children and the vfork'ed spawn helper.
pub fn cpu_ns(pid: Pid) -> Result<u64, String> {
    file(pid, "schedstat")?
        .split_whitespace()
        .next()
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| "bad schedstat".into())
}

/// utime+stime clock ticks from `/proc/PID/stat` (coarser; a cross-check).
pub fn cpu_ticks(pid: Pid) -> Result<u64, String> {
    let stat = file(pid, "stat")?;
    let after = stat.rsplit_once(')').map(|(_, r)| r).ok_or("bad stat")?;
    // Fields after "(comm)": state is field 3, utime 14, stime 15.
    let f: Vec<&str> = after.split_whitespace().collect();
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    match (get(11), get(12)) {
        (Some(u), Some(s)) => Ok(u + s),
        _ => Err("bad stat".into()),
    }
}

/// Resident memory in kB (`VmRSS` of `/proc/PID/status`).
pub fn rss_kb(pid: Pid) -> Result<u64, String> {
    file(pid, "status")?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS".into())
}

/// The pids listed in `/proc/PID/task/PID/children` (zombies included until reaped).
pub fn children(pid: Pid) -> Result<String, String> {
    let p = pid.as_raw_nonzero();
    file(pid, &format!("task/{p}/children"))
}
