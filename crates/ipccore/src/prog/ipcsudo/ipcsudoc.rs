//! ipcsudoc: the client side of the s6-sudo protocol (s6-sudoc).

use crate::base::error::{Error, ResultExt};
use crate::base::ucspi;
use crate::formats::sudo::{BANNER_SERVER, HEADER_LEN, NFDS, encode_request, header};
use crate::sys::diag::Diag;
use crate::sys::fd;
use crate::sys::fdpass;
use crate::sys::time;
use rustix::fd::{AsFd, BorrowedFd};
use rustix::io::Errno;
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

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
    read_banner(rd, dl)?;
    send_request(cfg, wr, dl)?;
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

/// Read the server's banner, within `dl`.
fn read_banner(rd: BorrowedFd<'_>, dl: Option<Instant>) -> Result<(), Error> {
    let mut banner = [0u8; 15];
    match fdpass::recv_exact(rd, &mut banner, dl).op("read banner from server")? {
        // The connection was made (ipcclient did that); the server hung up before
        // saying anything, which is what an access check that says no looks like.
        // s6-sudoc calls this "unable to connect"; say what happened instead.
        0 => return Err(Error::RefusedByServer),
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
    Ok(())
}

/// Send the request (args, our environment unless `-e`) with our fds 0, 1 and 2.
fn send_request(
    cfg: &IpcsudocConfig,
    wr: BorrowedFd<'_>,
    dl: Option<Instant>,
) -> Result<(), Error> {
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
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(0), 0);
        assert_eq!(exit_code(3 << 8), 3);
        assert_eq!(exit_code(200 << 8), 128);
        assert_eq!(exit_code(15), 143);
        assert_eq!(exit_code(9), 137);
    }
}
