//! Signals as events: a self-pipe (signal-hook's), polled by the accept loop with
//! everything else. The handlers only write a byte; all work happens in the loop.

use crate::base::error::{Error, ResultExt};
use rustix::fd::{AsFd, BorrowedFd};
use signal_hook::iterator::backend::SignalDelivery;
use signal_hook::iterator::exfiltrator::SignalOnly;
use std::os::unix::net::UnixStream;

pub use signal_hook::consts::signal::{SIGABRT, SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM};

/// The signals a program asked for, waiting to be read.
pub struct SelfPipe {
    delivery: SignalDelivery<UnixStream, SignalOnly>,
}

impl SelfPipe {
    /// Trap `signals`: from now on they are delivered through `fd()`.
    pub fn new(signals: &[i32]) -> Result<SelfPipe, Error> {
        let (read, write) = UnixStream::pair().op("create selfpipe")?;
        let delivery =
            SignalDelivery::with_pipe(read, write, SignalOnly, signals).op("trap signals")?;
        Ok(SelfPipe { delivery })
    }

    /// The fd to poll with the loop's other fds: readable when a signal is pending.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.delivery.get_read().as_fd()
    }

    /// The signals received since the last call (each at most once).
    pub fn pending(&mut self) -> Vec<i32> {
        self.delivery.pending().collect()
    }
}

/// The short name of a signal, for log lines (`SIGTERM`).
pub fn name(sig: i32) -> String {
    match signal_hook::low_level::signal_name(sig) {
        Some(n) => n.to_string(),
        None => format!("signal {sig}"),
    }
}
