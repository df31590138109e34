//! The connection loop of ipchttpgate: one client, one backend connection (made at the
//! first allowed request), one request at a time.
//!
//! Each step moves what it can between four bounded buffers (client input, backend
//! output, backend input, client output) and writes without blocking; then one `poll`
//! waits for whatever the step could not finish. A wait on the client is bounded (`-t`
//! for a header section, `-T` otherwise); a wait on the backend alone is not, since a
//! response may legitimately stream for hours (`docker logs -f`), but a client that
//! hangs up ends it.

use super::body::Body;
use super::request::{self, Framing, MAX_HEAD, Refusal, Request, Status};
use super::{CONNECT_TIMEOUT, Identity, IpchttpgateConfig, shown};
use crate::base::error::{Error, ResultExt};
use crate::base::text::{escape, path as show_path};
use crate::formats::httprules::{Rules, Verdict};
use crate::sys::diag::Diag;
use crate::sys::time::{deadline, poll_timeout};
use rustix::event::{PollFd, PollFlags};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::OFlags;
use rustix::io::Errno;
use rustix::net::{Shutdown, SocketType};
use std::time::{Duration, Instant};

/// Bytes read ahead from a peer: one whole header section, and a byte more to tell
/// that it is too long.
const IN_CAP: usize = MAX_HEAD + 1;
/// Bytes of body queued for a peer before the gate stops taking more from the other.
const OUT_CAP: usize = 64 * 1024;

/// A byte queue: `data[start..]` is live.
struct Buf {
    data: Vec<u8>,
    start: usize,
}

impl Buf {
    fn new(cap: usize) -> Buf {
        Buf {
            data: Vec::with_capacity(cap),
            start: 0,
        }
    }

    fn live(&self) -> &[u8] {
        self.data.get(self.start..).unwrap_or_default()
    }

    fn len(&self) -> usize {
        self.data.len().saturating_sub(self.start)
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.data.len());
        if self.start == self.data.len() {
            self.data.clear();
            self.start = 0;
        }
    }

    fn extend(&mut self, b: &[u8]) {
        self.data.extend_from_slice(b);
    }

    /// The queue to append body bytes to, and the length it may grow to.
    fn body_sink(&mut self) -> (&mut Vec<u8>, usize) {
        let cap = self.start + OUT_CAP;
        (&mut self.data, cap)
    }

    /// Everything live, leaving the queue empty.
    fn take(&mut self) -> Vec<u8> {
        let v = self.live().to_vec();
        self.data.clear();
        self.start = 0;
        v
    }
}

/// One side: its fds, what was read from it and not used yet, what waits to be written.
struct Peer {
    rd: OwnedFd,
    /// The fd written to, when it is not `rd` (the client's fd 1).
    wr: Option<OwnedFd>,
    input: Buf,
    output: Buf,
    /// End of input seen.
    eof: bool,
    /// The last write would have blocked.
    blocked: bool,
    /// A write failed: nobody reads any more.
    broken: bool,
}

impl Peer {
    /// A side on fds that may be blocking: they are made non-blocking.
    fn new(rd: OwnedFd, wr: Option<OwnedFd>) -> Result<Peer, Error> {
        for fd in std::iter::once(&rd).chain(wr.as_ref()) {
            // The flag is on the open file description, which only this process uses.
            let fl = rustix::fs::fcntl_getfl(fd).op("set fd non-blocking")?;
            rustix::fs::fcntl_setfl(fd, fl | OFlags::NONBLOCK).op("set fd non-blocking")?;
        }
        Ok(Peer::nonblocking(rd, wr))
    }

    /// A side on fds that are non-blocking already.
    fn nonblocking(rd: OwnedFd, wr: Option<OwnedFd>) -> Peer {
        Peer {
            rd,
            wr,
            input: Buf::new(IN_CAP),
            output: Buf::new(OUT_CAP),
            eof: false,
            blocked: false,
            broken: false,
        }
    }

    fn wfd(&self) -> BorrowedFd<'_> {
        self.wr.as_ref().unwrap_or(&self.rd).as_fd()
    }

    /// Read what is there while fewer than [`IN_CAP`] bytes wait; the bytes read (0 at
    /// end of input, which sets `eof`, or when nothing was there).
    fn read(&mut self) -> Result<usize, Errno> {
        if self.eof {
            return Ok(0);
        }
        if self.input.start > 0 {
            self.input.data.drain(..self.input.start);
            self.input.start = 0;
        }
        let room = IN_CAP.saturating_sub(self.input.data.len());
        if room == 0 {
            return Ok(0);
        }
        self.input.data.reserve(room);
        match rustix::io::read(
            &self.rd,
            rustix::buffer::spare_capacity(&mut self.input.data),
        ) {
            Ok(0) | Err(Errno::CONNRESET) => {
                self.eof = true;
                Ok(0)
            }
            Ok(n) => Ok(n),
            Err(Errno::AGAIN | Errno::INTR) => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Write what is queued until it is all gone or the fd would block.
    fn flush(&mut self) -> Result<(), Errno> {
        while !self.output.is_empty() && !self.broken {
            match rustix::io::write(self.wfd(), self.output.live()) {
                Ok(0) => return Err(self.fail(Errno::PIPE)),
                Ok(n) => self.output.consume(n),
                Err(Errno::AGAIN) => {
                    self.blocked = true;
                    return Ok(());
                }
                Err(Errno::INTR) => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
        Ok(())
    }

    fn fail(&mut self, e: Errno) -> Errno {
        self.broken = true;
        self.output.take();
        e
    }

    /// Whether a write is waiting for room.
    fn wants_out(&self) -> bool {
        self.blocked && !self.output.is_empty() && !self.broken
    }
}

/// What a served request leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum After {
    /// Read the next request.
    KeepAlive,
    /// Flush, close, exit.
    Close,
    /// Relay raw bytes both ways (101 Switching Protocols).
    Upgrade,
}

/// What one `poll` waits for, and then what it found.
#[derive(Debug, Default, Clone, Copy)]
struct Events {
    client_in: bool,
    /// The client hung up (waited for while its input is not wanted).
    client_hup: bool,
    client_out: bool,
    backend_in: bool,
    backend_out: bool,
}

/// Where a response is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resp {
    /// Waiting for a (final) head.
    Head,
    /// Passing its body on.
    Body(Body),
    /// Complete.
    Done,
}

/// One forwarded request and its response.
struct Exchange {
    req_body: Body,
    resp: Resp,
    /// Bytes of the backend's input already searched for the end of a head.
    scanned: usize,
    /// A final response head went to the client: a 502 can no longer replace it.
    started: bool,
    /// The response lets the connection go on.
    keep: bool,
}

/// One client connection.
pub(super) struct Gate<'a> {
    cfg: &'a IpchttpgateConfig,
    diag: &'a Diag,
    rules: &'a Rules,
    id: &'a Identity,
    /// The `X-Remote-*` lines added to every forwarded request.
    fields: Vec<u8>,
    client: Peer,
    backend: Option<Peer>,
}

impl<'a> Gate<'a> {
    /// The gate for the client read on `rd` and written on `wr` (fds 0 and 1, made
    /// non-blocking here), or on `rd` alone when `wr` is `None`: a connection the gate
    /// accepted itself, non-blocking already. Both are closed when the gate ends.
    ///
    /// # Errors
    /// `set fd non-blocking`.
    pub(super) fn new(
        cfg: &'a IpchttpgateConfig,
        diag: &'a Diag,
        rules: &'a Rules,
        id: &'a Identity,
        rd: OwnedFd,
        wr: Option<OwnedFd>,
    ) -> Result<Gate<'a>, Error> {
        Ok(Gate {
            cfg,
            diag,
            rules,
            id,
            fields: id.fields(),
            client: match wr {
                Some(wr) => Peer::new(rd, Some(wr))?,
                None => Peer::nonblocking(rd, None),
            },
            backend: None,
        })
    }

    /// Serve requests until the connection ends.
    pub(super) fn serve(mut self) -> Result<u8, Error> {
        loop {
            let Some(req) = self.next_request()? else {
                return self.finish();
            };
            let verdict = self
                .rules
                .judge(req.method.as_bytes(), &req.path, &self.id.client);
            let after = match verdict {
                Verdict::Allow(line) => {
                    // Formatted only when printed: this is every request's path.
                    if self.diag.verbosity >= 2 {
                        self.info(format!("allow {}: rule {line}", self.who(&req)));
                    }
                    self.exchange(&req)?
                }
                Verdict::Deny(line) => {
                    let rule = line.map_or("no rule".to_string(), |l| format!("rule {l}"));
                    self.notice(format!("deny {}: {rule}", self.who(&req)));
                    self.deny(&req)?
                }
            };
            match after {
                After::KeepAlive => {}
                After::Close => return self.finish(),
                After::Upgrade => return self.upgrade(&req),
            }
        }
    }

    fn uid(&self) -> u32 {
        self.id.client.uid
    }

    /// `uid U METHOD PATH`, for a log line.
    fn who(&self, req: &Request) -> String {
        format!("uid {} {}", self.uid(), shown(&req.method, &req.path))
    }

    /// A line at `-v 1` and up.
    fn notice(&self, msg: String) {
        self.diag.notice(msg);
    }

    /// A line at `-v 2`.
    fn info(&self, msg: String) {
        self.diag.info(msg);
    }

    fn ms(t: Option<Duration>) -> u128 {
        t.map_or(0, |t| t.as_millis())
    }

    /// Wait for the next request head and check it. `None`: the connection ends (the
    /// client closed it, idled out, or was refused; a refusal is queued and logged).
    fn next_request(&mut self) -> Result<Option<Request>, Error> {
        // Both deadlines are taken when first needed: nothing blocks before the first
        // wait, and a head that is all there needs neither (no clock read per request).
        let mut idle: Option<Option<Instant>> = None;
        let mut header: Option<Option<Instant>> = None;
        let mut scanned = 0;
        loop {
            let skip = request::leading_empty_lines(self.client.input.live());
            self.client.input.consume(skip);
            scanned = usize::saturating_sub(scanned, skip);
            let live = self.client.input.live();
            if let Some(end) = request::head_end(live, scanned) {
                return self.take_head(end);
            }
            if !live.is_empty() && header.is_none() {
                header = Some(deadline(self.cfg.header_timeout));
            }
            scanned = live.len();
            if live.len() > MAX_HEAD {
                let line = request_line(live);
                self.refuse(
                    &line,
                    Status::FieldsTooLarge,
                    "a header section over 64 KiB",
                );
                return Ok(None);
            }
            if self.client.eof || self.client.broken {
                return Ok(None);
            }
            let _ = self.client.flush();
            let until = match header {
                Some(h) => h,
                None => *idle.get_or_insert_with(|| deadline(self.cfg.idle_timeout)),
            };
            if !self.wait_for_request(until, header.is_some())? {
                return Ok(None);
            }
        }
    }

    /// Parse the head of `end` bytes at the start of the client's input.
    fn take_head(&mut self, end: usize) -> Result<Option<Request>, Error> {
        let head = self.client.input.live().get(..end).unwrap_or_default();
        match request::parse_request(head, &self.fields) {
            Ok(r) => {
                self.client.input.consume(end);
                Ok(Some(r))
            }
            Err(Refusal { status, why }) => {
                // Built only for a refusal: escaping every head costs more than the rest
                // of its parsing.
                let line = request_line(head);
                self.client.input.consume(end);
                self.refuse(&line, status, why);
                Ok(None)
            }
        }
    }

    /// Log a request refused for its form, and queue the answer that ends the
    /// connection. `line` is what is known of it (`METHOD PATH`, escaped).
    fn refuse(&mut self, line: &str, status: Status, why: &str) {
        let sep = if line.is_empty() { "" } else { " " };
        self.notice(format!(
            "refuse uid {} {}{sep}{line}: {why}",
            self.uid(),
            status.code()
        ));
        let head_request = line.starts_with("HEAD ");
        self.client
            .output
            .extend(&request::refusal(status, why, head_request, true));
    }

    /// Wait for more of a request until `until`; false when the connection ends.
    fn wait_for_request(&mut self, until: Option<Instant>, in_head: bool) -> Result<bool, Error> {
        let want = Events {
            client_in: true,
            client_out: self.client.wants_out(),
            backend_in: self.backend.as_ref().is_some_and(|b| !b.eof),
            ..Events::default()
        };
        let Some(ready) = self.poll(want, None, until)? else {
            if in_head {
                let why = format!(
                    "no complete header section in {} ms",
                    Self::ms(self.cfg.header_timeout)
                );
                self.refuse("", Status::RequestTimeout, &why);
            } else {
                self.info(format!(
                    "close uid {}: no request in {} ms",
                    self.uid(),
                    Self::ms(self.cfg.idle_timeout)
                ));
            }
            return Ok(false);
        };
        if ready.client_out {
            self.client.blocked = false;
        }
        if ready.backend_in && !self.backend_between_requests()? {
            return Ok(false);
        }
        if ready.client_in && self.client.read().is_err() {
            self.client.eof = true;
        }
        Ok(true)
    }

    /// The backend spoke while no request was out: a close (its idle timeout) ends the
    /// client's connection too; bytes are a protocol error.
    fn backend_between_requests(&mut self) -> Result<bool, Error> {
        let Some(b) = self.backend.as_mut() else {
            return Ok(true);
        };
        let n = b.read().op("read from backend")?;
        if n > 0 {
            return Err(self.backend_error("sent data outside a response"));
        }
        if b.eof {
            self.info(format!(
                "close uid {}: the backend closed its connection",
                self.uid()
            ));
            return Ok(false);
        }
        Ok(true)
    }

    fn backend_error(&self, why: &str) -> Error {
        Error::Protocol {
            peer: format!("backend {}", show_path(&self.cfg.backend.display_path())),
            why: why.to_string(),
        }
    }

    /// Answer a denied request with 403 in its place. Its body, if any, is read and
    /// dropped so that the next request can be found; a body the client sends only
    /// after a 100 Continue may or may not come now, so that case ends the connection,
    /// as do HTTP/1.0 and `Connection: close`.
    fn deny(&mut self, req: &Request) -> Result<After, Error> {
        let ends = !req.keep_alive || (req.expect_continue && req.framing != Framing::Empty);
        self.client.output.extend(&request::refusal(
            Status::Forbidden,
            "not allowed by the gate's rules",
            req.is_head(),
            ends,
        ));
        if ends {
            return Ok(After::Close);
        }
        let mut body = Body::new(req.framing);
        loop {
            match body.transfer(self.client.input.live(), None, 0) {
                Ok(n) => self.client.input.consume(n),
                Err(e) => {
                    self.notice(format!("refuse {}: {}", self.who(req), e.why()));
                    return Ok(After::Close);
                }
            }
            if body.done() {
                return Ok(After::KeepAlive);
            }
            if self.client.eof || self.client.broken {
                return Ok(After::Close);
            }
            let _ = self.client.flush();
            let want = Events {
                client_in: true,
                client_out: self.client.wants_out(),
                ..Events::default()
            };
            let Some(ready) = self.poll(want, None, deadline(self.cfg.idle_timeout))? else {
                self.client_idle(req);
                return Ok(After::Close);
            };
            self.client.blocked &= !ready.client_out;
            if ready.client_in && self.client.read().is_err() {
                self.client.eof = true;
            }
        }
    }

    fn client_idle(&self, req: &Request) {
        self.notice(format!(
            "close {}: client idle for {} ms",
            self.who(req),
            Self::ms(self.cfg.idle_timeout)
        ));
    }

    /// Forward an allowed request with its body, and relay its response.
    fn exchange(&mut self, req: &Request) -> Result<After, Error> {
        let mut b = match self.backend.take() {
            Some(b) => b,
            None => self.connect(req)?,
        };
        b.output.extend(&req.forward);
        let r = self.relay_exchange(req, &mut b);
        if matches!(r, Ok(After::KeepAlive | After::Upgrade)) {
            self.backend = Some(b);
        }
        r
    }

    /// Connect to the backend, bounded by [`CONNECT_TIMEOUT`]. The socket is made
    /// non-blocking, and a connect to a Unix socket with room in its backlog succeeds
    /// at once; when the backlog is full (EAGAIN), the connect is made again blocking,
    /// where it waits for room for at most the send timeout.
    fn connect(&mut self, req: &Request) -> Result<Peer, Error> {
        let fd = crate::sys::sock::socket_nonblocking(SocketType::STREAM)?;
        let r = match crate::sys::sock::connect(&fd, &self.cfg.backend) {
            Err(Errno::AGAIN) => connect_waiting(&fd, &self.cfg.backend),
            r => r,
        };
        if let Err(e) = r {
            self.client.output.extend(&request::refusal(
                Status::BadGateway,
                "the backend is unreachable",
                req.is_head(),
                true,
            ));
            let _ = self.finish();
            return Err(Error::sys_at(
                "connect to",
                self.cfg.backend.display_path(),
                e,
            ));
        }
        Ok(Peer::nonblocking(fd, None))
    }

    /// The loop of one exchange: step, then wait for what the step could not do.
    fn relay_exchange(&mut self, req: &Request, b: &mut Peer) -> Result<After, Error> {
        let mut x = Exchange {
            req_body: Body::new(req.framing),
            resp: Resp::Head,
            scanned: 0,
            started: false,
            keep: false,
        };
        let mut last_client = Instant::now();
        loop {
            if let Some(after) = self.step(req, b, &mut x)? {
                return Ok(after);
            }
            let want = Events {
                client_in: !x.req_body.done()
                    && !b.broken
                    && !self.client.eof
                    && self.client.input.len() < IN_CAP,
                client_hup: true,
                client_out: self.client.wants_out(),
                backend_in: x.resp != Resp::Done && !b.eof && b.input.len() < IN_CAP,
                backend_out: b.wants_out(),
            };
            let until = if want.client_in || want.client_out {
                self.cfg
                    .idle_timeout
                    .and_then(|t| last_client.checked_add(t))
            } else {
                None
            };
            let Some(ready) = self.poll(want, Some(b), until)? else {
                self.client_idle(req);
                if !x.started {
                    let why = "request body not received in time";
                    let r = request::refusal(Status::RequestTimeout, why, req.is_head(), true);
                    self.client.output.extend(&r);
                }
                return Ok(After::Close);
            };
            if self.on_ready(ready, b)? {
                last_client = Instant::now();
            }
        }
    }

    /// Take in what `poll` found; whether anything moved on the client's side.
    fn on_ready(&mut self, r: Events, b: &mut Peer) -> Result<bool, Error> {
        let mut client_moved = false;
        if r.client_hup && !r.client_in {
            // Gone: nobody will read the response.
            self.client.eof = true;
            self.client.broken = true;
        }
        if r.client_out {
            self.client.blocked = false;
            client_moved = true;
        }
        if r.backend_out {
            b.blocked = false;
        }
        if r.client_in {
            match self.client.read() {
                Ok(n) => client_moved |= n > 0 || self.client.eof,
                Err(_) => self.client.eof = true,
            }
        }
        if r.backend_in {
            b.read().op("read from backend")?;
        }
        Ok(client_moved)
    }

    /// Move what can be moved now; `Some` when the exchange is over.
    fn step(
        &mut self,
        req: &Request,
        b: &mut Peer,
        x: &mut Exchange,
    ) -> Result<Option<After>, Error> {
        if let Some(after) = self.pump_request(req, b, x) {
            return Ok(Some(after));
        }
        if let Some(after) = self.pump_response(req, b, x)? {
            return Ok(Some(after));
        }
        if self.client.broken {
            return Ok(Some(After::Close));
        }
        let sent = (x.req_body.done() && b.output.is_empty()) || b.broken;
        if x.resp == Resp::Done && self.client.output.is_empty() && sent {
            let keep = req.keep_alive && x.keep && !b.broken && x.req_body.done();
            return Ok(Some(if keep { After::KeepAlive } else { After::Close }));
        }
        if (self.client.eof || (x.resp == Resp::Done && self.client.output.is_empty()))
            && !x.req_body.done()
        {
            // The client left in the middle of its request; or the backend answered
            // before the whole body came (a refusal, an Expect the client may now drop
            // its body for): whether the rest of the body follows is unknown, so close.
            return Ok(Some(After::Close));
        }
        if b.eof && x.resp != Resp::Done && self.client.output.is_empty() {
            return self.fail(x, "closed the connection before the end of its response");
        }
        Ok(None)
    }

    /// Move the request body from the client's input to the backend while both sides
    /// allow: each write makes room for more. `Some(Close)` on a framing error.
    fn pump_request(&mut self, req: &Request, b: &mut Peer, x: &mut Exchange) -> Option<After> {
        let _ = b.flush();
        while !x.req_body.done() && !b.broken {
            let (sink, cap) = b.output.body_sink();
            match x
                .req_body
                .transfer(self.client.input.live(), Some(sink), cap)
            {
                Ok(n) => {
                    self.client.input.consume(n);
                    let _ = b.flush();
                    if n == 0 || b.blocked {
                        break;
                    }
                }
                Err(e) => {
                    // The backend may have had part of the body: its connection goes, so
                    // that nothing after the bad chunk can reach it as a request.
                    self.notice(format!("refuse {}: {}", self.who(req), e.why()));
                    if !x.started {
                        let r = request::refusal(Status::BadRequest, e.why(), req.is_head(), true);
                        self.client.output.extend(&r);
                    }
                    return Some(After::Close);
                }
            }
        }
        None
    }

    /// Move the response from the backend's input to the client while both allow.
    fn pump_response(
        &mut self,
        req: &Request,
        b: &mut Peer,
        x: &mut Exchange,
    ) -> Result<Option<After>, Error> {
        loop {
            let _ = self.client.flush();
            let before = b.input.len();
            if let Some(after) = self.take_response(req, b, x)? {
                return Ok(Some(after));
            }
            let _ = self.client.flush();
            if b.input.len() == before || self.client.blocked || self.client.broken {
                return Ok(None);
            }
        }
    }

    /// A broken backend: a 502 in place of the response if none was sent, then close.
    fn fail(&mut self, x: &Exchange, why: &str) -> Result<Option<After>, Error> {
        if !x.started {
            self.client.output.extend(&request::refusal(
                Status::BadGateway,
                "the backend failed",
                false,
                true,
            ));
        }
        let _ = self.finish();
        Err(self.backend_error(why))
    }

    /// Pass on what the backend sent of its response: heads as they are (interim 1xx
    /// ones too), the body reframed. `Some(Upgrade)` at a 101.
    fn take_response(
        &mut self,
        req: &Request,
        b: &mut Peer,
        x: &mut Exchange,
    ) -> Result<Option<After>, Error> {
        loop {
            match &mut x.resp {
                Resp::Done => return Ok(None),
                Resp::Body(body) => {
                    let (sink, cap) = self.client.output.body_sink();
                    match body.transfer(b.input.live(), Some(sink), cap) {
                        Ok(n) => b.input.consume(n),
                        Err(e) => return self.fail(x, e.why()),
                    }
                    if body.done() || (*body == Body::Close && b.eof && b.input.is_empty()) {
                        x.resp = Resp::Done;
                    }
                    return Ok(None);
                }
                Resp::Head => {
                    let live = b.input.live();
                    let Some(end) = request::head_end(live, x.scanned) else {
                        x.scanned = live.len();
                        if live.len() > MAX_HEAD {
                            return self.fail(x, "sent a response head over 64 KiB");
                        }
                        return Ok(None);
                    };
                    let head = live.get(..end).unwrap_or_default();
                    let resp = match request::parse_response(head, req.is_head()) {
                        Ok(r) => r,
                        Err(why) => return self.fail(x, &format!("sent {why}")),
                    };
                    self.client.output.extend(head);
                    b.input.consume(end);
                    x.scanned = 0;
                    if resp.code == 101 {
                        if !req.upgrade {
                            return self.fail(x, "switched protocols without an Upgrade request");
                        }
                        return Ok(Some(After::Upgrade));
                    }
                    if resp.code >= 200 {
                        x.started = true;
                        x.keep = resp.keep_alive && resp.framing != Framing::Close;
                        x.resp = Resp::Body(Body::new(resp.framing));
                    }
                }
            }
        }
    }

    /// After a 101: hand over what each side already sent past the heads, then relay
    /// raw bytes both ways until both are closed (ipcioconnect's relay).
    fn upgrade(mut self, req: &Request) -> Result<u8, Error> {
        let Some(mut b) = self.backend.take() else {
            return Err(Error::Internal("upgrade without a backend".into()));
        };
        self.info(format!("upgrade {}", self.who(req)));
        b.output.extend(&self.client.input.take());
        self.client.output.extend(&b.input.take());
        let until = deadline(self.cfg.idle_timeout);
        loop {
            if self.client.flush().is_err() {
                return Ok(0);
            }
            b.flush().op("write to backend")?;
            if self.client.output.is_empty() && b.output.is_empty() {
                break;
            }
            let want = Events {
                client_out: self.client.wants_out(),
                backend_out: b.wants_out(),
                ..Events::default()
            };
            let Some(r) = self.poll(want, Some(&b), until)? else {
                self.client_idle(req);
                return Ok(0);
            };
            self.client.blocked &= !r.client_out;
            b.blocked &= !r.backend_out;
        }
        let Peer { rd, wr, .. } = self.client;
        let out = match wr {
            Some(w) => w,
            None => rustix::io::fcntl_dupfd_cloexec(&rd, 3).op("dup fd")?,
        };
        crate::prog::ipcioconnect::relay_fds(rd, out, b.rd, None, self.diag)?;
        Ok(0)
    }

    /// Send what is queued for the client (bounded by `-T`), tell it the connection is
    /// over, and end.
    fn finish(&mut self) -> Result<u8, Error> {
        let until = deadline(self.cfg.idle_timeout);
        while self.client.flush().is_ok() && self.client.wants_out() {
            let want = Events {
                client_out: true,
                ..Events::default()
            };
            match self.poll(want, None, until)? {
                Some(_) => self.client.blocked = false,
                None => break,
            }
        }
        let _ = rustix::net::shutdown(self.client.wfd(), Shutdown::Write);
        Ok(0)
    }

    /// One `poll` for `want` (on the client and on `b`, or on the stored backend),
    /// until `until`. `None` when the time is up.
    fn poll(
        &self,
        want: Events,
        b: Option<&Peer>,
        until: Option<Instant>,
    ) -> Result<Option<Events>, Error> {
        let b = b.or(self.backend.as_ref());
        let flags = |on: bool, f: PollFlags| if on { f } else { PollFlags::empty() };
        // On the stack, not a Vec: a poll per wait, two waits per request. Unused
        // slots stay out of the slice given to poll.
        let spare = PollFd::new(&self.client.rd, PollFlags::empty());
        let mut slots = [spare.clone(), spare.clone(), spare];
        let mut n = 0;
        let mut add = |fd| {
            if let Some(slot) = slots.get_mut(n) {
                *slot = fd;
                n += 1;
            }
        };
        let client_rd = want.client_in || want.client_hup;
        if client_rd {
            add(PollFd::new(
                &self.client.rd,
                flags(want.client_in, PollFlags::IN),
            ));
        }
        if want.client_out {
            add(PollFd::from_borrowed_fd(self.client.wfd(), PollFlags::OUT));
        }
        let backend = b.filter(|_| want.backend_in || want.backend_out);
        if let Some(b) = backend {
            let ev =
                flags(want.backend_in, PollFlags::IN) | flags(want.backend_out, PollFlags::OUT);
            add(PollFd::new(&b.rd, ev));
        }
        let fds = slots.get_mut(..n).unwrap_or_default();
        if fds.is_empty() {
            return Err(Error::Internal("nothing to wait for".into()));
        }
        loop {
            match rustix::event::poll(fds, poll_timeout(until).as_ref()) {
                Ok(0) if until.is_some_and(|u| Instant::now() >= u) => return Ok(None),
                Ok(_) => break,
                Err(Errno::INTR) => {}
                Err(e) => return Err(Error::sys("poll", e)),
            }
        }
        let mut revents = fds.iter().map(PollFd::revents);
        let mut got = Events::default();
        let gone = PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL;
        if client_rd {
            let r = revents.next().unwrap_or(PollFlags::empty());
            got.client_in = want.client_in && r.intersects(PollFlags::IN | gone);
            got.client_hup = r.intersects(gone);
        }
        if want.client_out {
            got.client_out = revents
                .next()
                .unwrap_or(PollFlags::empty())
                .intersects(PollFlags::OUT | gone);
        }
        if backend.is_some() {
            let r = revents.next().unwrap_or(PollFlags::empty());
            got.backend_in = want.backend_in && r.intersects(PollFlags::IN | gone);
            got.backend_out = want.backend_out && r.intersects(PollFlags::OUT | gone);
        }
        Ok(Some(got))
    }
}

/// The backend's backlog is full: connect `fd` again, blocking for at most
/// [`CONNECT_TIMEOUT`] (the send timeout bounds a blocking connect on a Unix socket),
/// then make it non-blocking again. A timeout is ETIMEDOUT.
fn connect_waiting(fd: &OwnedFd, to: &crate::sys::sock::SockPath) -> Result<(), Errno> {
    use rustix::net::sockopt::{Timeout, set_socket_timeout};
    rustix::io::ioctl_fionbio(fd, false)?;
    set_socket_timeout(fd, Timeout::Send, Some(CONNECT_TIMEOUT))?;
    let r = crate::sys::sock::connect(fd, to).map_err(|e| {
        if e == Errno::AGAIN {
            Errno::TIMEDOUT
        } else {
            e
        }
    });
    set_socket_timeout(fd, Timeout::Send, None)?;
    rustix::io::ioctl_fionbio(fd, true)?;
    r
}

/// `METHOD PATH` of a head's request line as far as it goes, escaped, for a log line
/// about a request refused before it parsed (each word cut at 256 bytes).
fn request_line(head: &[u8]) -> String {
    let line = head.split(|&c| c == b'\n').next().unwrap_or_default();
    let mut words = line.split(|&c| c == b' ').filter(|w| !w.is_empty());
    let cut = |w: &[u8]| {
        let w = w.strip_suffix(b"\r").unwrap_or(w);
        let path = w.split(|&c| c == b'?').next().unwrap_or_default();
        escape(path.get(..256).unwrap_or(path))
    };
    match (words.next(), words.next()) {
        (Some(m), Some(p)) => format!("{} {}", cut(m), cut(p)),
        (Some(m), None) => cut(m),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_for_the_log() {
        assert_eq!(
            request_line(b"GET /a?secret=1 HTTP/1.1\r\nHost: x\r\n"),
            "GET /a"
        );
        assert_eq!(
            request_line(b"GET /a\x1b[2J HTTP/1.1\r\n"),
            "GET /a\\x1b[2J"
        );
        assert_eq!(request_line(b"JUNK\r\n"), "JUNK");
        assert_eq!(request_line(b""), "");
        let long = [b"GET /".to_vec(), vec![b'a'; 1000]].concat();
        assert_eq!(request_line(&long).len(), 4 + 256);
    }

    #[test]
    fn a_buffer_is_a_queue() {
        let mut b = Buf::new(8);
        b.extend(b"hello");
        b.consume(2);
        assert_eq!(b.live(), b"llo");
        let (sink, cap) = b.body_sink();
        assert_eq!(cap, 2 + OUT_CAP);
        sink.extend_from_slice(b"!");
        assert_eq!(b.take(), b"llo!");
        assert!(b.is_empty());
        b.extend(b"x");
        b.consume(5);
        assert!(b.is_empty() && b.start == 0);
    }
}
