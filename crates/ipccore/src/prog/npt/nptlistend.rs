//! nptlistend: serve one wait request, for npt-wait (child mode, on two pipes) or as a
//! service under a super-server (on a socket).
//!
//! Over a socket (service mode) the caller is whoever the kernel says is at the other
//! end (`SO_PEERCRED`), never what the environment claims: see `identify`.

use super::proto::{
    Outcome, REFUSED, REQUEST_MAX, TRAPPED, check_service_regex, compile, read_request, wait,
};
use crate::base::error::{Error, ResultExt};
use crate::base::ucspi;
use crate::fs::fifodir::Listener;
use crate::sys::diag::Diag;
use crate::sys::privs::{self, Ids};
use crate::sys::sig::SelfPipe;
use crate::sys::time;
use rustix::fd::{AsFd, BorrowedFd};
use rustix::process::{Gid, Uid};
use std::ffi::OsStr;
use std::time::Duration;

/// The caller's identity under a super-server: `IPCREMOTEEUID` and `IPCREMOTEEGID`,
/// when both are set. The supplementary groups are reduced to the caller's gid: the
/// kernel reports no others, and the caller must not get more rights than it has.
///
/// # Errors
/// `Usage` for an invalid number or for one variable without the other (exit 100).
pub fn caller_ids(euid: Option<&OsStr>, egid: Option<&OsStr>) -> Result<Option<Ids>, Error> {
    let num = |name: &str, v: &OsStr| -> Result<u32, Error> {
        v.to_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::Usage(format!("invalid ${name}")))
    };
    match (euid, egid) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::Usage(format!("{} not set", ucspi::IPCREMOTEEGID))),
        (None, Some(_)) => Err(Error::Usage(format!("{} not set", ucspi::IPCREMOTEEUID))),
        (Some(u), Some(g)) => {
            let uid = Uid::from_raw(num(ucspi::IPCREMOTEEUID, u)?);
            let gid = Gid::from_raw(num(ucspi::IPCREMOTEEGID, g)?);
            Ok(Some(Ids {
                uid: Some(uid),
                gid: Some(gid),
                groups: Some(vec![gid]),
            }))
        }
    }
}

/// Who nptlistend works for, and as whom.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Caller {
    /// Stdin is a socket: a super-server handed us a connection (service mode).
    pub service: bool,
    /// The peer's credentials, from the kernel (service mode only).
    pub peer: Option<(Uid, Gid, i32)>,
    /// What to drop to before the request is read (`None`: stay as we are).
    pub drop: Option<Ids>,
    /// Things the log should hear about (the environment disagreeing with the kernel).
    pub warnings: Vec<String>,
}

/// Work out who nptlistend serves, from `stdin` and the `IPCREMOTEEUID`/`IPCREMOTEEGID`
/// values.
///
/// - Stdin not a socket (a pipe from npt-wait): child mode, as before. The caller
///   already chose our identity; when we are root and both variables are set, we drop
///   to them.
/// - Stdin a Unix socket (ipcserver, s6-ipcserver, socat `nofork`, systemd `Accept=yes`,
///   inetd): service mode. The caller is the peer the kernel reports (`SO_PEERCRED`),
///   whatever the environment says (a disagreeing environment is a warning). As root we
///   drop to the peer's uid and gid (its supplementary groups are not known, so none are
///   kept); as another user we serve only a peer with our own uid.
///
/// # Errors
/// `Usage` (exit 100), and nothing is served: stdin is a socket and the peer cannot be
/// identified (not a Unix socket, `SO_PEERCRED` fails, or the peer is our own parent,
/// that is, a relay such as socat's `EXEC` without `nofork`, which hides the real
/// client); we are not root and the peer is another uid; in child mode, the variables
/// are invalid or only one is set.
fn identify(
    stdin: BorrowedFd<'_>,
    env_euid: Option<&OsStr>,
    env_egid: Option<&OsStr>,
) -> Result<Caller, Error> {
    let st = rustix::fs::fstat(stdin).op("stat stdin")?;
    let euid = rustix::process::geteuid();
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::Socket {
        let drop = caller_ids(env_euid, env_egid)?.filter(|_| euid.is_root());
        return Ok(Caller {
            service: false,
            peer: None,
            drop,
            warnings: Vec::new(),
        });
    }
    let refuse =
        |why: String| Error::Usage(format!("refusing to serve: stdin is a socket and {why}"));
    match rustix::net::sockopt::socket_domain(stdin) {
        Ok(rustix::net::AddressFamily::UNIX) => {}
        Ok(_) => return Err(refuse("not a Unix socket: no peer credentials".into())),
        Err(e) => {
            return Err(refuse(format!(
                "its domain is unknown: {}",
                crate::base::text::strerror(e)
            )));
        }
    }
    let cred = crate::sys::cred::peer_creds(stdin).map_err(|e| {
        refuse(format!(
            "its peer credentials are unavailable: {}",
            crate::base::text::strerror(e)
        ))
    })?;
    if cred.uid == u32::MAX {
        return Err(refuse("its peer has no credentials".into()));
    }
    let pid = i32::try_from(cred.pid).unwrap_or(0); // 0: outside our pid namespace
    let (uid, gid) = (Uid::from_raw(cred.uid), Gid::from_raw(cred.gid));
    let ppid = rustix::process::getppid().map_or(0, |p| p.as_raw_nonzero().get());
    if pid != 0 && pid == ppid {
        return Err(refuse(format!(
            "its peer is our parent (pid {pid}), a relay that hides the real client \
             (socat: use EXEC:...,nofork)"
        )));
    }
    let mut warnings = Vec::new();
    match caller_ids(env_euid, env_egid) {
        Ok(Some(ids)) if ids.uid == Some(uid) && ids.gid == Some(gid) => {}
        Ok(None) => {}
        _ => warnings.push(format!(
            "{}/{} disagree with the kernel's peer credentials {}:{}: using the kernel's",
            ucspi::IPCREMOTEEUID,
            ucspi::IPCREMOTEEGID,
            uid.as_raw(),
            gid.as_raw()
        )),
    }
    let drop = if euid.is_root() {
        (!uid.is_root()).then(|| Ids {
            uid: Some(uid),
            gid: Some(gid),
            groups: Some(vec![gid]),
        })
    } else if uid == euid {
        None
    } else {
        return Err(Error::Usage(format!(
            "refusing to serve uid {}: not root, and not running as that uid ({})",
            uid.as_raw(),
            euid.as_raw()
        )));
    };
    Ok(Caller {
        service: true,
        peer: Some((uid, gid, pid)),
        drop,
        warnings,
    })
}

/// Tell the client on `output` that its request is refused, and why (`REFUSED` and the
/// escaped reason), when `output` is a socket (service mode; a child's caller shares our
/// stderr and reads the reason there). Best effort: the client may be gone.
fn refuse(output: BorrowedFd<'_>, err: &Error) {
    let is_socket = rustix::fs::fstat(output).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Socket
    });
    if !is_socket {
        return;
    }
    let mut msg = vec![REFUSED];
    msg.extend_from_slice(crate::base::text::escape_line(err.to_string().as_bytes()).as_bytes());
    let _ = crate::sys::fd::write_all(output, &msg);
    // Closing a Unix socket with unread input resets the connection, and the reset can
    // overtake the reason on its way through a relay. Read what already came (bounded:
    // a request is at most REQUEST_MAX bytes) so the close is an orderly one.
    let _ = rustix::net::shutdown(output, rustix::net::Shutdown::Write);
    let mut junk = [0u8; 4096];
    for _ in 0..=REQUEST_MAX / junk.len() {
        match rustix::net::recv(output, &mut junk, rustix::net::RecvFlags::DONTWAIT) {
            Ok((0, _)) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// nptlistend: drop to `caller.drop`, read the request on `input` (complete within
/// `request_timeout`, `None`: no limit), subscribe, send the NUL on `output`, wait, and
/// write the matching events on `output`.
///
/// The drop comes first, before the request is even read: the fifodir is only ever
/// touched with the caller's rights, so a service run as root lets nobody listen where
/// they could not themselves. In service mode, a failure before the NUL is also told to
/// the client (`REFUSED` and the reason), and a relative FIFODIR is refused: it would
/// be resolved in our working directory, not the client's.
///
/// # Errors
/// Those of `privs::drop_to`, `read_request`, `compile`, `Listener::subscribe`, `wait`;
/// `write to client`; `Timeout` at the deadline; `Usage` for a relative FIFODIR in
/// service mode. `Failure::refusable` says the NUL was not sent yet: the caller logs
/// the error, then tells the client with `refuse` (in that order: a relay such as
/// socat may kill us as soon as the client has its answer).
fn listend(
    input: BorrowedFd<'_>,
    output: BorrowedFd<'_>,
    caller: &Caller,
    request_timeout: Option<Duration>,
) -> Result<Outcome, Failure> {
    let set_up = || -> Result<_, Error> {
        if let Some(ids) = &caller.drop {
            privs::drop_to(ids)?;
        }
        let req = read_request(input, time::deadline(request_timeout)).map_err(|e| match e {
            Error::Timeout(why) => Error::Timeout(format!(
                "{why}{} within {} ms: dropping the connection",
                peer_text(caller),
                request_timeout.map_or(0, |d| d.as_millis())
            )),
            e => e,
        })?;
        if caller.service && !req.fifodir.is_absolute() {
            return Err(Error::Usage(format!(
                "fifodir {} is not an absolute path",
                crate::base::text::path(&req.fifodir)
            )));
        }
        if caller.service {
            check_service_regex(&req.regex)?;
        }
        let re = compile(&req.regex)?;
        let sigs = SelfPipe::new(&TRAPPED)?;
        let listener = Listener::subscribe(&req.fifodir)?;
        Ok((req, re, sigs, listener))
    };
    let (req, re, mut sigs, listener) = set_up().map_err(|err| Failure {
        err,
        refusable: true,
    })?;
    let after = |err| Failure {
        err,
        refusable: false,
    };
    let deadline = time::deadline(req.timeout);
    crate::sys::fd::write_all(output, b"\0")
        .map_err(|e| after(Error::sys("write to client", e)))?;
    let out = wait(
        &listener,
        &re,
        &req.regex,
        deadline,
        Some(input),
        Some(&mut sigs),
    )
    .map_err(after)?;
    drop(listener);
    if let Outcome::Matched(ev) = &out {
        crate::sys::fd::write_all(output, ev)
            .map_err(|e| after(Error::sys("write to client", e)))?;
    }
    Ok(out)
}

/// How `listend` failed.
#[derive(Debug)]
struct Failure {
    err: Error,
    /// Before the NUL: the client may still be told why (`refuse`).
    refusable: bool,
}

fn peer_text(caller: &Caller) -> String {
    match caller.peer {
        Some((u, g, p)) => format!(" from {}:{} pid {p}", u.as_raw(), g.as_raw()),
        None => String::new(),
    }
}

/// What nptlistend was asked to do.
#[derive(Clone, Debug, Default)]
pub struct NptlistendConfig {
    /// `-t`: how long a client has to send its whole request (`None`: no limit).
    pub request_timeout: Option<Duration>,
}

/// nptlistend: identify the caller on stdin, then serve one request (stdin, stdout).
/// Returns the exit code.
///
/// The one entry point that logs its own fatal error: a failure before the listening
/// NUL is logged first, then told to a service client (`refuse`), in that order
/// because a relay such as socat may kill us as soon as the client has its answer.
/// Such a failure is `Ok` with its exit code; a later one is returned as usual.
///
/// # Errors
/// A failure after the NUL: those of the wait, `write to client`, `Timeout`.
pub fn nptlistend(cfg: &NptlistendConfig, diag: &Diag) -> Result<u8, Error> {
    let (stdin, stdout) = (std::io::stdin(), std::io::stdout());
    let caller = match identify(
        stdin.as_fd(),
        std::env::var_os(ucspi::IPCREMOTEEUID).as_deref(),
        std::env::var_os(ucspi::IPCREMOTEEGID).as_deref(),
    ) {
        Ok(c) => c,
        Err(e) => {
            let code = diag.fatal(&e);
            refuse(stdout.as_fd(), &e);
            return Ok(code);
        }
    };
    for w in &caller.warnings {
        diag.warn(w);
    }
    match listend(stdin.as_fd(), stdout.as_fd(), &caller, cfg.request_timeout) {
        Ok(_) => Ok(0),
        Err(Failure {
            err,
            refusable: true,
        }) => {
            let code = diag.fatal(&err);
            refuse(stdout.as_fd(), &err);
            Ok(code)
        }
        Err(Failure { err, .. }) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::net::SocketType;

    #[test]
    fn identify_pipe_and_socket() -> Result<(), Box<dyn std::error::Error>> {
        // A pipe: child mode, the environment decides (only as root).
        let (r, _w) = rustix::pipe::pipe()?;
        let c = identify(r.as_fd(), None, None)?;
        assert!(!c.service && c.peer.is_none() && c.drop.is_none());
        assert_eq!(
            identify(r.as_fd(), Some(OsStr::new("1")), None)
                .unwrap_err()
                .exit_code(),
            100
        );
        // A socketpair: service mode; the peer is this process (not our parent), so
        // it is served as us, and an environment claiming otherwise is only a warning.
        let (a, _b) = rustix::net::socketpair(
            rustix::net::AddressFamily::UNIX,
            SocketType::STREAM,
            rustix::net::SocketFlags::CLOEXEC,
            None,
        )?;
        let c = identify(
            a.as_fd(),
            Some(OsStr::new("4242")),
            Some(OsStr::new("4242")),
        )?;
        let me = rustix::process::geteuid();
        assert!(c.service);
        assert_eq!(c.peer.map(|p| p.0), Some(me));
        assert_eq!(c.drop, None, "the peer is ourselves: nothing to drop");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].ends_with(": using the kernel's"));
        // A socket that is not a Unix socket: no peer credentials, refused.
        let udp = rustix::net::socket(rustix::net::AddressFamily::INET, SocketType::DGRAM, None)?;
        let e = identify(udp.as_fd(), None, None).unwrap_err();
        assert_eq!(e.exit_code(), 100);
        assert_eq!(
            e.to_string(),
            "refusing to serve: stdin is a socket and not a Unix socket: no peer credentials"
        );
        Ok(())
    }

    #[test]
    fn caller() -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(caller_ids(None, None)?, None);
        let ids = caller_ids(Some(OsStr::new("65534")), Some(OsStr::new("65534")))?
            .ok_or("caller_ids gave no ids for uid/gid 65534")?;
        assert_eq!(ids.uid, Some(Uid::from_raw(65534)));
        assert_eq!(ids.groups, Some(vec![Gid::from_raw(65534)]));
        assert_eq!(
            caller_ids(Some(OsStr::new("1")), None)
                .unwrap_err()
                .exit_code(),
            100
        );
        assert_eq!(
            caller_ids(Some(OsStr::new("x")), Some(OsStr::new("1")))
                .unwrap_err()
                .exit_code(),
            100
        );
        Ok(())
    }
}
