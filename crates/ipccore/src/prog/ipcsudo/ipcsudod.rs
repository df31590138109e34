//! ipcsudod: the server side of the s6-sudo protocol (s6-sudod).

use crate::base::error::{Error, ResultExt};
use crate::formats::sudo::{
    BANNER_SERVER, HEADER_LEN, MAX_MESSAGE, NFDS, decode_request, parse_header,
};
use crate::sys::diag::Diag;
use crate::sys::fd;
use crate::sys::fdpass;
use crate::sys::sig::{SIGCHLD, SelfPipe};
use crate::sys::spawn::Spawner;
use crate::sys::time;
use rustix::event::{PollFd, PollFlags};
use rustix::fd::AsRawFd;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::{Pid, Signal};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::time::{Duration, Instant};

/// What ipcsudod was asked to do.
#[derive(Clone, Debug, Default)]
pub struct IpcsudodConfig {
    /// `-0`: the command's stdin is /dev/null.
    pub null_stdin: bool,
    /// `-1`: the command's stdout is /dev/null.
    pub null_stdout: bool,
    /// `-2`: the command's stderr is ours.
    pub server_stderr: bool,
    /// `-d`: all three of the above, and a client hang-up does not kill the command.
    pub detach: bool,
    /// `-t`: for the banner, the request and the confirmation.
    pub timeout: Option<Duration>,
    /// `sargv`: the fixed part of the command line.
    pub argv: Vec<OsString>,
}

/// Send the errno byte that tells the client why nothing runs, then fail with `err`.
fn refuse(wr: BorrowedFd<'_>, errno: Errno, dl: Option<Instant>, err: Error) -> Error {
    let b = u8::try_from(errno.raw_os_error()).unwrap_or(libc::EINVAL as u8);
    let _ = fdpass::send_all(wr, &[b], dl);
    err
}

/// Read one request (header, payload, 3 fds) from `rd`.
fn receive_request(
    rd: BorrowedFd<'_>,
    dl: Option<Instant>,
) -> Result<(Vec<u8>, Vec<OwnedFd>), Error> {
    let mut fds = Vec::new();
    let mut h = [0u8; HEADER_LEN];
    let n = fdpass::recv_exact_with_fds(rd, &mut h, &mut fds, fdpass::MAX_FDS, dl)
        .op("read message from client")?;
    if n < HEADER_LEN {
        return Err(Error::Closed {
            op: "read message from client",
        });
    }
    let (len, nfds) = parse_header(&h);
    if len > MAX_MESSAGE {
        return Err(Error::Usage("client message too big".into()));
    }
    let mut payload = vec![0u8; len as usize];
    let n = fdpass::recv_exact_with_fds(rd, &mut payload, &mut fds, fdpass::MAX_FDS, dl)
        .op("read message from client")?;
    if n < payload.len() {
        return Err(Error::Closed {
            op: "read message from client",
        });
    }
    if usize::from(nfds) != NFDS || fds.len() != NFDS {
        return Err(Error::Usage(format!("client did not send {NFDS} fds")));
    }
    Ok((payload, fds))
}

/// The server side, on fds 0 (read) and 1 (write) as ipcserver leaves them: run
/// `sargv cargv` with the client's fds and relay its wait status. Returns the exit
/// code: 0 once the status went out (or, with `-d`, the command ended), 1 when the
/// client hung up first and the command was sent SIGTERM and SIGCONT.
///
/// # Errors
/// `Usage` (100) for a malformed request, `Sys`/`Closed` (111) for I/O failures and
/// timeouts, `Exec` (126/127) when the command cannot be started; in the last two
/// cases the client is told the errno first.
pub fn ipcsudod(cfg: &IpcsudodConfig, diag: &Diag) -> Result<u8, Error> {
    // fds 0 and 1 are the connection, given to us by ipcserver; a closed one shows up
    // as EBADF from the first call.
    let (rd, wr) = (rustix::stdio::stdin(), rustix::stdio::stdout());
    let dl = time::deadline(cfg.timeout);
    fdpass::send_all(wr, BANNER_SERVER, dl).op("write banner to client")?;
    let (payload, fds) = receive_request(rd, dl)?;
    let spawner = command(cfg, &payload, wr, dl)?;
    let [infd, outfd, errfd] = command_stdio(cfg, fds)?;
    // Trapped before the spawn, so that an exit right away is not missed.
    let mut sigs = SelfPipe::new(&[SIGCHLD])?;
    // A SIGCHLD blocked by our caller would hide the command's end.
    crate::sys::spawn::unblock(&[SIGCHLD]);
    let spawned = spawner.spawn(
        [
            infd.as_ref().map(|f| f.as_fd()),
            outfd.as_ref().map(|f| f.as_fd()),
            errfd.as_ref().map(|f| f.as_fd()),
        ],
        &[],
    );
    let pid = match spawned {
        Ok(pid) => pid,
        Err(errno) => {
            exec_failed(&spawner, errno, errfd.as_ref());
            let _ = refuse(wr, errno, dl, Error::sys("spawn", errno));
            return Ok(111);
        }
    };
    // Our copies of the client's fds must go, or its pipes would never see EOF.
    drop((infd, outfd, errfd));
    diag.info(format!("started pid {}", pid.as_raw_nonzero()));
    if let Err(e) = fdpass::send_all(wr, &[0], dl) {
        // The client is gone already (killed, timed out): a hang-up, so unless detached
        // the command must not run on for nobody. s6-sudod exits here and leaves it
        // running either way.
        if !cfg.detach {
            terminate(Some(pid));
        }
        return Err(Error::sys("send confirmation to client", e));
    }
    match wait_command(cfg, diag, pid, rd, &mut sigs)? {
        Some(status) => {
            let raw = status.as_raw() as u32;
            fdpass::send_all(wr, &raw.to_be_bytes(), None).op("write status to client")?;
            Ok(0)
        }
        None if cfg.detach => Ok(0),
        None => Ok(1),
    }
}

/// The command of a request: `sargv cargv`, with the server's environment merged with
/// the client's (`merge_env`), ready to spawn. A request that cannot make one is
/// refused (the client gets `EINVAL`).
fn command(
    cfg: &IpcsudodConfig,
    payload: &[u8],
    wr: BorrowedFd<'_>,
    dl: Option<Instant>,
) -> Result<Spawner, Error> {
    let req = match decode_request(payload) {
        Ok(r) => r,
        Err(e) => return Err(refuse(wr, Errno::INVAL, dl, e)),
    };
    let mut argv = cfg.argv.clone();
    argv.extend(req.args);
    if argv.is_empty() {
        return Err(refuse(
            wr,
            Errno::INVAL,
            dl,
            Error::Usage("empty command line".into()),
        ));
    }
    let server_env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let env = merge_env(&server_env, &req.env)
        .into_iter()
        .filter_map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            std::ffi::CString::new(kv).ok()
        })
        .collect();
    Spawner::with_env(&argv, env).ok_or_else(|| {
        refuse(
            wr,
            Errno::INVAL,
            dl,
            Error::Usage("client sent an argument with a NUL byte".into()),
        )
    })
}

/// The command's fds 0, 1 and 2 from the client's three (`None`: ours): /dev/null for
/// `-0`/`-1` (and `-d`), our stderr for `-2` (and `-d`), each moved above fd 2.
fn command_stdio(
    cfg: &IpcsudodConfig,
    mut fds: Vec<OwnedFd>,
) -> Result<[Option<OwnedFd>; 3], Error> {
    let errfd = fds.pop();
    let outfd = fds.pop();
    let infd = fds.pop();
    let null = |f: Option<OwnedFd>, null: bool| -> Result<Option<OwnedFd>, Error> {
        if null || f.is_none() {
            // CLOEXEC, above fd 2 (the spawner places it).
            return rustix::fs::open(
                "/dev/null",
                rustix::fs::OFlags::RDWR | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .map(Some)
            .op_at("open", "/dev/null");
        }
        Ok(f)
    };
    let infd = null(infd, cfg.null_stdin || cfg.detach)?;
    let outfd = null(outfd, cfg.null_stdout || cfg.detach)?;
    let errfd = if cfg.server_stderr || cfg.detach {
        None
    } else {
        errfd
    };
    let low = |f: Option<OwnedFd>| -> Result<Option<OwnedFd>, Error> {
        // The spawner copies onto 0, 1, 2 in order: no source may sit below 3.
        match f {
            Some(f) if f.as_raw_fd() < 3 => rustix::io::fcntl_dupfd_cloexec(&f, 3)
                .map(Some)
                .op("dup client fd"),
            f => Ok(f),
        }
    };
    Ok([low(infd)?, low(outfd)?, low(errfd)?])
}

/// As s6-sudod, whose forked child reports the failed exec on the command's stderr
/// (`errfd`, the client's, unless `-2`; `None`: ours): the message is for the one who
/// asked. The server itself exits 111 without a word.
fn exec_failed(spawner: &Spawner, errno: Errno, errfd: Option<&OwnedFd>) {
    let mut msg = b"ipcsudod: fatal: unable to exec ".to_vec();
    msg.extend_from_slice(spawner.prog());
    msg.extend_from_slice(b": ");
    msg.extend_from_slice(crate::base::text::strerror(errno).as_bytes());
    msg.push(b'\n');
    let _ = match errfd {
        Some(f) => fd::write_all(f.as_fd(), &msg),
        None => fd::write_all(rustix::stdio::stderr(), &msg),
    };
}

/// Wait for the command `pid` to end, watching the client on `rd`. Its wait status, or
/// `None` when the client hung up first: then the command is sent SIGTERM and SIGCONT
/// at once, or, with `-d`, waited for all the same.
fn wait_command(
    cfg: &IpcsudodConfig,
    diag: &Diag,
    pid: Pid,
    rd: BorrowedFd<'_>,
    sigs: &mut SelfPipe,
) -> Result<Option<rustix::process::WaitStatus>, Error> {
    let mut hung_up = false;
    loop {
        match rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::NOHANG) {
            Ok(Some((_, st))) => return Ok((!hung_up).then_some(st)),
            Ok(None) | Err(Errno::INTR) => {}
            Err(e) => return Err(Error::sys("wait for command", e)),
        }
        let mut pfds = vec![PollFd::from_borrowed_fd(sigs.fd(), PollFlags::IN)];
        if !hung_up {
            // No events asked: POLLHUP/POLLERR alone say the client has gone.
            pfds.push(PollFd::from_borrowed_fd(rd, PollFlags::empty()));
        }
        match rustix::event::poll(&mut pfds, None) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => return Err(Error::sys("poll", e)),
        }
        let gone = pfds.get(1).is_some_and(|p| !p.revents().is_empty());
        if pfds.first().is_some_and(|p| !p.revents().is_empty()) {
            sigs.pending();
        }
        if gone {
            hung_up = true;
            if !cfg.detach {
                terminate(Some(pid));
                diag.info("client hung up, sent SIGTERM and SIGCONT to the command");
                return Ok(None);
            }
        }
    }
}

/// SIGTERM then SIGCONT (a stopped command must wake up to die), as s6-sudod.
fn terminate(pid: Option<Pid>) {
    if let Some(pid) = pid {
        let _ = rustix::process::kill_process(pid, Signal::TERM);
        let _ = rustix::process::kill_process(pid, Signal::CONT);
    }
}

/// The command's environment: the server's, where a client variable replaces a server
/// variable only if the server has it set and empty (s6-sudod's rule: the server
/// decides which variables a client may fill in, by setting them empty).
///
/// Unlike s6-sudod, the super-server's own variables (`PROTO`, `IPC*`, `UNIX*`) are
/// never filled by the client: ipcserver sets `IPCREMOTEPATH` empty for an unbound
/// client, and a privileged command must not see a value the client chose there.
pub fn merge_env(
    server: &[(OsString, OsString)],
    client: &[OsString],
) -> Vec<(OsString, OsString)> {
    let mut out = server.to_vec();
    for kv in client {
        let b = kv.as_bytes();
        let Some(eq) = b.iter().position(|&c| c == b'=') else {
            continue;
        };
        let (name, value) = (&b[..eq], &b[eq + 1..]);
        if name == b"PROTO" || name.starts_with(b"IPC") || name.starts_with(b"UNIX") {
            continue;
        }
        if let Some(slot) = out.iter_mut().find(|(k, _)| k.as_bytes() == name)
            && slot.1.is_empty()
        {
            slot.1 = OsStr::from_bytes(value).to_owned();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }
    #[test]
    fn env_rule() {
        let server = vec![
            (OsString::from("SET"), OsString::from("server")),
            (OsString::from("EMPTY"), OsString::new()),
        ];
        let out = merge_env(&server, &os(&["SET=client", "EMPTY=filled", "NEW=x"]));
        assert_eq!(
            out,
            vec![
                (OsString::from("SET"), OsString::from("server")),
                (OsString::from("EMPTY"), OsString::from("filled")),
            ]
        );
        // The super-server's variables stay as the server has them, empty or not.
        let server = vec![
            (OsString::from("IPCREMOTEPATH"), OsString::new()),
            (OsString::from("PROTO"), OsString::new()),
            (OsString::from("UNIXX"), OsString::new()),
        ];
        let out = merge_env(
            &server,
            &os(&["IPCREMOTEPATH=/run/admin.sock", "PROTO=x", "UNIXX=y"]),
        );
        assert_eq!(out, server);
    }
}
