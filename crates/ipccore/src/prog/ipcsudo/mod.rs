//! The s6-sudo v1.0 protocol: privilege gain by fd-passing, both sides.
//!
//! The wire format (banner, request, answers) is [`crate::formats::sudo`]; this module
//! does the I/O, the fd plumbing and the policy (environment merge, exit code).
//! Left out: the fd plumbing of the command (see `fdpass`) and option parsing.

use crate::base::error::{Error, ResultExt};
use crate::base::ucspi;
use crate::formats::sudo::{
    BANNER_SERVER, HEADER_LEN, MAX_MESSAGE, NFDS, decode_request, encode_request, header,
    parse_header,
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
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

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

/// The exit code a client reports for the command's raw wait status: its exit code (at
/// most 128, as s6-sudoc), or 128 + the signal that killed it.
pub fn exit_code(wstatus: u32) -> u8 {
    let st = std::process::ExitStatus::from_raw(wstatus as i32);
    match (st.code(), st.signal()) {
        (Some(c), _) => c.clamp(0, 128) as u8,
        (None, Some(s)) => (128 + s.clamp(0, 127)) as u8,
        _ => 128,
    }
}

/// What ipcsudo was asked to do: the `ipcclient … path ipcsudoc … args` command
/// line its options became.
#[derive(Clone, Debug, Default)]
pub struct IpcsudoConfig {
    /// The whole command line to exec, ipcclient first.
    pub argv: Vec<OsString>,
}

/// ipcsudo: exec `cfg.argv` (ipcclient, which runs ipcsudoc). Returns only on failure.
///
/// # Errors
/// The exec error.
pub fn ipcsudo(cfg: &IpcsudoConfig, _diag: &Diag) -> Result<std::convert::Infallible, Error> {
    Err(crate::sys::exec::exec(&cfg.argv, &[]))
}

/// What ipcsudoc was asked to do.
#[derive(Clone, Debug, Default)]
pub struct IpcsudocConfig {
    /// Send our environment (not with `-e`).
    pub send_env: bool,
    /// `-t`: for the banner, the request and the confirmation.
    pub conn_timeout: Option<Duration>,
    /// `-T`: for the command's exit status.
    pub run_timeout: Option<Duration>,
    /// The arguments sent to the server (appended to its own).
    pub args: Vec<OsString>,
}

/// The client side, on fds 6 (read) and 7 (write) as ipcclient leaves them: send our
/// fds 0, 1, 2, args and environment, and return the exit code to leave with.
///
/// # Errors
/// `Usage` for a missing connection or a wrong banner; `RefusedByServer`, `ShortRead`,
/// `Closed` or `Sys` (111) for a closed connection, a refusal by the server, a timeout.
pub fn ipcsudoc(cfg: &IpcsudocConfig, _diag: &Diag) -> Result<u8, Error> {
    let conn = |n| {
        fd::claim(n).map_err(|_| {
            Error::Usage(
                "fds 6 and 7 must be the connection to the server (run under ipcclient)".into(),
            )
        })
    };
    let (rd, wr) = (conn(ucspi::FD_READ)?, conn(ucspi::FD_WRITE)?);
    let (rd, wr) = (rd.as_fd(), wr.as_fd());
    fd::ensure_std_fds()?;

    let dl = time::deadline(cfg.conn_timeout);
    let mut banner = [0u8; 15];
    match fdpass::recv_exact(rd, &mut banner, dl).op("read banner from server")? {
        // The connection was made (ipcclient did that); the server hung up before
        // saying anything, which is what an access check that says no looks like.
        // s6-sudoc calls this "unable to connect"; say what happened instead.
        0 => {
            return Err(Error::RefusedByServer);
        }
        15 => {}
        _ => {
            return Err(Error::ShortRead {
                op: "read banner from server",
            });
        }
    }
    if &banner != BANNER_SERVER {
        return Err(Error::Usage(
            "wrong banner - check that you are connecting to an ipcsudod or s6-sudod server".into(),
        ));
    }

    let env: Vec<OsString> = if cfg.send_env {
        std::env::vars_os()
            .map(|(k, v)| {
                let mut s = k;
                s.push("=");
                s.push(v);
                s
            })
            .collect()
    } else {
        Vec::new()
    };
    let payload = encode_request(&cfg.args, &env)?;
    let hdr = header(payload.len(), NFDS).ok_or_else(|| Error::Usage("request too big".into()))?;
    let mut msg = Vec::with_capacity(HEADER_LEN + payload.len());
    msg.extend_from_slice(&hdr);
    msg.extend_from_slice(&payload);
    {
        // fds 0, 1, 2 are open (ensure_std_fds).
        use rustix::stdio::{stderr, stdin, stdout};
        let std_fds = [stdin(), stdout(), stderr()];
        fdpass::send_with_fds(wr, &msg, &std_fds, dl).op("send request to server")?;
    }
    // As s6-sudoc: our stdin and stdout now belong to the command; holding them would
    // keep a pipe open after the command closed it. stderr stays for our messages.
    fd::null_stdin_stdout()?;

    let mut c = [0u8; 1];
    if fdpass::recv_exact(rd, &mut c, dl).op("get confirmation from server")? == 0 {
        return Err(Error::Closed {
            op: "get confirmation from server",
        });
    }
    if c[0] != 0 {
        return Err(Error::sys(
            "start privileged program: server answered",
            Errno::from_raw_os_error(i32::from(c[0])),
        ));
    }
    let mut st = [0u8; 4];
    let n = fdpass::recv_exact(rd, &mut st, time::deadline(cfg.run_timeout))
        .op("get exit status from server")?;
    if n < 4 {
        return Err(Error::Closed {
            op: "get exit status from server",
        });
    }
    Ok(exit_code(u32::from_be_bytes(st)))
}

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
    let (payload, mut fds) = receive_request(rd, dl)?;
    let req = match decode_request(&payload) {
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
    let Some(spawner) = Spawner::with_env(&argv, env) else {
        return Err(refuse(
            wr,
            Errno::INVAL,
            dl,
            Error::Usage("client sent an argument with a NUL byte".into()),
        ));
    };

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
    let (infd, outfd, errfd) = (low(infd)?, low(outfd)?, low(errfd)?);
    // Trapped before the spawn, so that an exit right away is not missed.
    let mut sigs = SelfPipe::new(&[SIGCHLD])?;
    // A SIGCHLD blocked by our caller would hide the command's end.
    crate::sys::spawn::unblock(&[SIGCHLD]);
    let spawned = spawner.spawn_stdio([
        infd.as_ref().map(|f| f.as_fd()),
        outfd.as_ref().map(|f| f.as_fd()),
        errfd.as_ref().map(|f| f.as_fd()),
    ]);
    let pid = match spawned {
        Ok(pid) => pid,
        Err(errno) => {
            // As s6-sudod, whose forked child reports the failed exec on the command's
            // stderr (the client's, unless -2): the message is for the one who asked.
            // The server itself exits 111 without a word.
            let mut msg = b"ipcsudod: fatal: unable to exec ".to_vec();
            msg.extend_from_slice(spawner.prog());
            msg.extend_from_slice(b": ");
            msg.extend_from_slice(crate::base::text::strerror(errno).as_bytes());
            msg.push(b'\n');
            let to = errfd
                .as_ref()
                .map_or_else(|| rustix::stdio::stderr(), |f| f.as_fd());
            let _ = fd::write_all(to, &msg);
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

    let mut hung_up = false;
    let status = loop {
        match rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::NOHANG) {
            Ok(Some((_, st))) => break st,
            Ok(None) | Err(Errno::INTR) => {}
            Err(e) => return Err(Error::sys("wait for command", e)),
        }
        let mut pfds = vec![PollFd::from_borrowed_fd(sigs.fd(), PollFlags::IN)];
        if !hung_up {
            // No events asked: POLLHUP/POLLERR alone say the client has gone.
            pfds.push(PollFd::from_borrowed_fd(rd.as_fd(), PollFlags::empty()));
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
                return Ok(1);
            }
        }
    };
    if !hung_up {
        let raw = status.as_raw() as u32;
        fdpass::send_all(wr, &raw.to_be_bytes(), None).op("write status to client")?;
    }
    Ok(0)
}

/// SIGTERM then SIGCONT (a stopped command must wake up to die), as s6-sudod.
fn terminate(pid: Option<Pid>) {
    if let Some(pid) = pid {
        let _ = rustix::process::kill_process(pid, Signal::TERM);
        let _ = rustix::process::kill_process(pid, Signal::CONT);
    }
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

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(0), 0);
        assert_eq!(exit_code(3 << 8), 3);
        assert_eq!(exit_code(200 << 8), 128);
        assert_eq!(exit_code(15), 143);
        assert_eq!(exit_code(9), 137);
    }
}
