//! The s6-fdholder wire format, as s6 2.11.3.2 with skalibs 2.13 speaks it (read from
//! the s6 sources and checked with strace against the Debian binaries).
//!
//! Framing (skalibs "unixmessage"): every message is a 6-byte header, u32 BE payload
//! length and u16 BE fd count, then the payload; its fds travel as `SCM_RIGHTS` with
//! the first byte of the header. The receiver keeps the bytes and the fds as two
//! queues, and a message takes its count of fds from the head of the fd queue.
//!
//! Requests (first payload byte, then):
//! - `S` store: TAIN (12 bytes) expiry, id length byte, id, NUL; 1 fd;
//! - `D` delete: id length byte, id, NUL;
//! - `R` retrieve: delete flag byte (0/1), id length byte, id, NUL;
//! - `L` list, `?` get dump: nothing more;
//! - `!` set dump: u32 BE count; then `.` chunks: per fd, TAIN, length byte, id, NUL.
//!
//! Answers: one byte, 0 or an errno (`s6-fdholder-errorcodes`); retrieve adds the fd;
//! list is `0`, u32 BE count, NUL-terminated ids; get dump is `0`, u32 BE chunk count,
//! u32 BE fd count, then the chunks (same entry format as set dump, fds attached); set
//! dump is `0`, u32 BE chunk count, then one byte per chunk (EAGAIN until the last).
//!
//! TAIN is skalibs' TAI64N: u64 BE seconds (2^62 + TAI seconds), u32 BE nanoseconds.
//!
//! The decoders are strict and bounded: every length is checked before use and
//! malformed input is `EPROTO`, never a panic. Fds that arrive with a message the
//! decoder refuses are owned by the caller's `Frame` and closed when it drops.
//! Left out: the connection loop (`prog::ipcfdholder::ipcfdholderd`) and the operations
//! (`prog::ipcfdholder::ipcfdholder_*`).

use crate::sys::fdpass;
use rustix::event::PollFlags;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use std::collections::VecDeque;
use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Longest identifier (s6's `S6_FDHOLDER_ID_SIZE`).
pub const ID_MAX: usize = 255;
/// Packed TAI64N.
const TAIN_LEN: usize = 12;
/// The unixmessage header.
pub const HEADER_LEN: usize = 6;
/// Most fds skalibs puts in one message (`UNIXMESSAGE_MAXFDS`).
pub const MSG_MAXFDS: usize = 255;
/// Most fds Linux passes in one `sendmsg` (`SCM_MAX_FD`); more is EINVAL.
pub const SCM_MAX_FD: usize = 253;
/// Largest payload skalibs accepts (`UNIXMESSAGE_MAXSIZE`).
pub const MSG_MAXSIZE: usize = 1 << 28;
/// Largest request a daemon needs to read: a set-dump chunk of 255 entries of the
/// longest id. Anything longer is refused before it is buffered.
pub const REQUEST_MAX: usize = 1 + MSG_MAXFDS * (TAIN_LEN + 2 + ID_MAX);
/// Fds a receiver holds before they are claimed by a message; more is `ENOBUFS`.
const QUEUE_MAXFDS: usize = MSG_MAXFDS + SCM_MAX_FD;
/// Bytes one `recvmsg` of [`Receiver::fill`] takes at most.
pub const RECV_CHUNK: usize = 8192;

/// Answer codes (errno values) of `s6-fdholder-errorcodes`.
pub mod code {
    /// Success.
    pub const OK: u8 = 0;
    /// The rules forbid the operation.
    pub const EPERM: u8 = libc::EPERM as u8;
    /// No fd is held under that id.
    pub const ENOENT: u8 = libc::ENOENT as u8;
    /// Not done yet (a dump in progress).
    pub const EAGAIN: u8 = libc::EAGAIN as u8;
    /// An fd is already held under that id.
    pub const EBUSY: u8 = libc::EBUSY as u8;
    /// The holder is full.
    pub const ENFILE: u8 = libc::ENFILE as u8;
    /// The request was malformed.
    pub const EPROTO: u8 = libc::EPROTO as u8;
}

/// skalibs' TAI64N label: seconds are 2^62 + TAI seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Tain {
    /// 2^62 + TAI seconds.
    pub sec: u64,
    /// Nanoseconds, below 10^9.
    pub nano: u32,
}

const TAI_MAGIC: u64 = 1 << 62;
/// UTC seconds (Unix time) just after each leap second, as skalibs' table counts them
/// (each entry includes the leap seconds before it). IERS data, 1972–2017.
const LEAPS: [u64; 27] = [
    78796800, 94694401, 126230402, 157766403, 189302404, 220924805, 252460806, 283996807,
    315532808, 362793609, 394329610, 425865611, 489024012, 567993613, 631152014, 662688015,
    709948816, 741484817, 773020818, 820454419, 867715220, 915148821, 1136073622, 1230768023,
    1341100824, 1435708825, 1483228826,
];

impl Tain {
    /// skalibs' `tain_infinite_relative`: "never" when added to now.
    pub const INFINITE_RELATIVE: Tain = Tain {
        sec: 1 << 61,
        nano: 0,
    };

    /// TAI label of a Unix time, as skalibs' `tai_from_utc` (no `--enable-tai-clock`).
    fn from_unix(secs: u64, nano: u32) -> Tain {
        let mut u = secs;
        for l in LEAPS {
            if u < l {
                break;
            }
            u += 1;
        }
        Tain {
            sec: TAI_MAGIC.wrapping_add(u).wrapping_add(10),
            nano,
        }
    }

    /// The wall clock, as skalibs reads it (`sysclock_get`: realtime plus 500 ns).
    pub fn now() -> Tain {
        let ts = rustix::time::clock_gettime(rustix::time::ClockId::Realtime);
        let t = Tain::from_unix(
            u64::try_from(ts.tv_sec).unwrap_or(0),
            u32::try_from(ts.tv_nsec).unwrap_or(0),
        );
        t.plus(Tain { sec: 0, nano: 500 })
    }

    /// `tain_add`, wrapping as skalibs does.
    pub fn plus(self, o: Tain) -> Tain {
        let mut sec = self.sec.wrapping_add(o.sec);
        let mut nano = self.nano.wrapping_add(o.nano);
        if nano > 999_999_999 {
            sec = sec.wrapping_add(1);
            nano -= 1_000_000_000;
        }
        Tain { sec, nano }
    }

    /// A relative time of `d`.
    pub fn relative(d: Duration) -> Tain {
        Tain {
            sec: d.as_secs(),
            nano: d.subsec_nanos(),
        }
    }

    /// Time left until `self` from `now` (zero if past).
    pub fn until(self, now: Tain) -> Duration {
        if self <= now {
            return Duration::ZERO;
        }
        let (mut s, n) = if self.nano >= now.nano {
            (self.sec - now.sec, self.nano - now.nano)
        } else {
            (self.sec - now.sec - 1, self.nano + 1_000_000_000 - now.nano)
        };
        // Far deadlines are clamped: poll takes no more than this anyway.
        if s > 1 << 40 {
            s = 1 << 40;
        }
        Duration::new(s, n)
    }

    /// The TAI64N wire form (12 bytes, big-endian).
    pub fn pack(self) -> [u8; TAIN_LEN] {
        let mut b = [0u8; TAIN_LEN];
        b[..8].copy_from_slice(&self.sec.to_be_bytes());
        b[8..].copy_from_slice(&self.nano.to_be_bytes());
        b
    }

    fn unpack(b: &[u8; TAIN_LEN]) -> Tain {
        let mut s = [0u8; 8];
        s.copy_from_slice(&b[..8]);
        let mut n = [0u8; 4];
        n.copy_from_slice(&b[8..]);
        Tain {
            sec: u64::from_be_bytes(s),
            nano: u32::from_be_bytes(n),
        }
    }

    /// External TAI64N: `@` and 24 lowercase hex digits (skalibs `timestamp_fmt`).
    pub fn timestamp(self) -> String {
        let mut s = String::with_capacity(25);
        s.push('@');
        for b in self.pack() {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    /// Parse `@` and 24 hex digits; what follows is ignored, as `timestamp_scan` does.
    pub fn scan_timestamp(s: &[u8]) -> Option<Tain> {
        let hex = s.strip_prefix(b"@")?.get(..2 * TAIN_LEN)?;
        let mut b = [0u8; TAIN_LEN];
        for (i, out) in b.iter_mut().enumerate() {
            let pair = hex.get(2 * i..2 * i + 2)?;
            let s = std::str::from_utf8(pair).ok()?;
            *out = u8::from_str_radix(s, 16).ok()?;
        }
        Some(Tain::unpack(&b))
    }
}

/// One request, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `S`: hold the attached fd under `id` until `limit`.
    Store {
        /// When the daemon closes the fd.
        limit: Tain,
        /// The identifier.
        id: Vec<u8>,
    },
    /// `D`: close the fd held under `id`.
    Delete {
        /// The identifier.
        id: Vec<u8>,
    },
    /// `R`: send back the fd held under `id`, and close it there if `delete`.
    Retrieve {
        /// `-D`: the daemon stops holding it.
        delete: bool,
        /// The identifier.
        id: Vec<u8>,
    },
    /// `L`: the list of identifiers.
    List,
    /// `?`: every held fd with its identifier and expiry.
    GetDump,
    /// `!`: a set-dump of `count` fds starts.
    SetDump {
        /// How many fds the chunks that follow carry in all.
        count: u32,
    },
    /// `.`: one chunk of a set-dump, its fds attached.
    SetDumpData {
        /// Expiry and identifier of each attached fd, in order.
        entries: Vec<(Tain, Vec<u8>)>,
    },
}

impl Request {
    /// How many fds travel with this request.
    pub fn nfds(&self) -> usize {
        match self {
            Request::Store { .. } => 1,
            Request::SetDumpData { entries } => entries.len(),
            _ => 0,
        }
    }
}

/// Whether `id` is an identifier s6 can carry: 1 to 255 bytes, no NUL.
pub fn valid_id(id: &[u8]) -> bool {
    !id.is_empty() && id.len() <= ID_MAX && !id.contains(&0)
}

fn put_id(v: &mut Vec<u8>, id: &[u8]) {
    v.push(id.len().min(ID_MAX) as u8);
    v.extend_from_slice(id);
    v.push(0);
}

/// Length byte, id, NUL at the start of `b`; returns the id and the rest.
fn take_id(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&len, rest) = b.split_first()?;
    let len = usize::from(len);
    let id = rest.get(..len)?;
    if rest.get(len) != Some(&0) || !valid_id(id) {
        return None;
    }
    Some((id, rest.get(len + 1..)?))
}

fn take_tain(b: &[u8]) -> Option<(Tain, &[u8])> {
    let (t, rest) = b.split_first_chunk::<TAIN_LEN>()?;
    Some((Tain::unpack(t), rest))
}

/// A dump entry: expiry date and identifier.
pub type Entry = (Tain, Vec<u8>);

fn take_entry(b: &[u8]) -> Option<(Entry, &[u8])> {
    let (t, rest) = take_tain(b)?;
    let (id, rest) = take_id(rest)?;
    Some(((t, id.to_vec()), rest))
}

/// One dump entry in wire form: TAIN, length byte, id, NUL.
pub fn put_entry(v: &mut Vec<u8>, limit: Tain, id: &[u8]) {
    v.extend_from_slice(&limit.pack());
    put_id(v, id);
}

/// Encode a request payload. Ids must satisfy [`valid_id`] (the client checks first).
pub fn encode_request(r: &Request) -> Vec<u8> {
    let mut v = Vec::new();
    match r {
        Request::Store { limit, id } => {
            v.push(b'S');
            put_entry(&mut v, *limit, id);
        }
        Request::Delete { id } => {
            v.push(b'D');
            put_id(&mut v, id);
        }
        Request::Retrieve { delete, id } => {
            v.push(b'R');
            v.push(u8::from(*delete));
            put_id(&mut v, id);
        }
        Request::List => v.push(b'L'),
        Request::GetDump => v.push(b'?'),
        Request::SetDump { count } => {
            v.push(b'!');
            v.extend_from_slice(&count.to_be_bytes());
        }
        Request::SetDumpData { entries } => {
            v.push(b'.');
            for (t, id) in entries {
                put_entry(&mut v, *t, id);
            }
        }
    }
    v
}

/// Decode a request payload that came with `nfds` fds, with s6-fdholderd's checks
/// (and a few more: no NUL inside an id, a delete flag of 0 or 1, exact lengths).
///
/// # Errors
/// `EPROTO` for anything malformed: s6-fdholderd drops such a client, and so do we.
pub fn decode_request(p: &[u8], nfds: usize) -> Result<Request, Errno> {
    let bad = Err(Errno::PROTO);
    let Some((&op, rest)) = p.split_first() else {
        return bad;
    };
    let r = match op {
        b'S' if nfds == 1 => match take_entry(rest) {
            Some(((limit, id), [])) => Request::Store { limit, id },
            _ => return bad,
        },
        b'D' if nfds == 0 => match take_id(rest) {
            Some((id, [])) => Request::Delete { id: id.to_vec() },
            _ => return bad,
        },
        b'R' if nfds == 0 => match rest.split_first() {
            Some((&flag @ (0 | 1), rest)) => match take_id(rest) {
                Some((id, [])) => Request::Retrieve {
                    delete: flag == 1,
                    id: id.to_vec(),
                },
                _ => return bad,
            },
            _ => return bad,
        },
        b'L' if nfds == 0 && rest.is_empty() => Request::List,
        b'?' if nfds == 0 && rest.is_empty() => Request::GetDump,
        b'!' if nfds == 0 => match rest.first_chunk::<4>() {
            Some(c) if rest.len() == 4 => Request::SetDump {
                count: u32::from_be_bytes(*c),
            },
            _ => return bad,
        },
        b'.' if nfds >= 1 => {
            let mut entries = Vec::with_capacity(nfds.min(MSG_MAXFDS));
            let mut b = rest;
            for _ in 0..nfds {
                let Some((e, more)) = take_entry(b) else {
                    return bad;
                };
                entries.push(e);
                b = more;
            }
            if !b.is_empty() {
                return bad;
            }
            Request::SetDumpData { entries }
        }
        _ => return bad,
    };
    Ok(r)
}

/// A list answer: `Ok(ids)`, or `Err(code)` when the server refused.
///
/// # Errors
/// `EPROTO` when malformed (s6 checks the count of NULs; we also want the last id
/// terminated and nothing after it).
pub fn decode_list(p: &[u8]) -> Result<Result<Vec<Vec<u8>>, u8>, Errno> {
    let Some((&c, rest)) = p.split_first() else {
        return Err(Errno::PROTO);
    };
    if c != 0 {
        return Ok(Err(c));
    }
    let (n, ids) = rest.split_first_chunk::<4>().ok_or(Errno::PROTO)?;
    let n = u32::from_be_bytes(*n) as usize;
    if ids.iter().filter(|&&b| b == 0).count() != n || (n > 0 && ids.last() != Some(&0)) {
        return Err(Errno::PROTO);
    }
    if n == 0 {
        return if ids.is_empty() {
            Ok(Ok(Vec::new()))
        } else {
            Err(Errno::PROTO)
        };
    }
    let body = ids.get(..ids.len() - 1).unwrap_or_default();
    Ok(Ok(body.split(|&b| b == 0).map(<[u8]>::to_vec).collect()))
}

/// A list answer for `ids`.
pub fn encode_list<'a>(ids: impl ExactSizeIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut v = vec![0u8];
    v.extend_from_slice(&(ids.len() as u32).to_be_bytes());
    for id in ids {
        v.extend_from_slice(id);
        v.push(0);
    }
    v
}

/// A code followed by u32 BE values (get-dump and set-dump headers).
pub fn encode_counts(vals: &[u32]) -> Vec<u8> {
    let mut v = vec![0u8];
    for x in vals {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v
}

/// The u32 values after a 0 code, exactly `n` of them; `Err(code)` when refused.
///
/// # Errors
/// `EPROTO` when empty or of the wrong length.
pub fn decode_counts(p: &[u8], n: usize) -> Result<Result<Vec<u32>, u8>, Errno> {
    let Some((&c, rest)) = p.split_first() else {
        return Err(Errno::PROTO);
    };
    if c != 0 {
        return Ok(Err(c));
    }
    if rest.len() != 4 * n {
        return Err(Errno::PROTO);
    }
    Ok(Ok(rest
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect()))
}

/// The entries of one get-dump chunk carrying `nfds` fds.
///
/// # Errors
/// `EPROTO` unless the payload is exactly `nfds` entries.
pub fn decode_chunk(p: &[u8], nfds: usize) -> Result<Vec<(Tain, Vec<u8>)>, Errno> {
    let mut b = p;
    let mut v = Vec::with_capacity(nfds.min(MSG_MAXFDS));
    for _ in 0..nfds {
        let (e, more) = take_entry(b).ok_or(Errno::PROTO)?;
        v.push(e);
        b = more;
    }
    if b.is_empty() {
        Ok(v)
    } else {
        Err(Errno::PROTO)
    }
}

/// The unixmessage header for `len` bytes and `nfds` fds.
pub fn header(len: usize, nfds: usize) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..4].copy_from_slice(&(len as u32).to_be_bytes());
    h[4..].copy_from_slice(&(nfds as u16).to_be_bytes());
    h
}

/// One received message: payload and the fds it claimed (closed when dropped).
#[derive(Debug, Default)]
pub struct Frame {
    /// The payload.
    pub data: Vec<u8>,
    /// The fds that came with it, in order.
    pub fds: Vec<OwnedFd>,
    /// How many fds the message announced but the kernel could not give us (the
    /// receiver was out of fds: control data truncated). `fds` is then empty.
    pub lost: usize,
}

/// The receiving half: a byte queue and an fd queue, cut into [`Frame`]s.
#[derive(Debug)]
pub struct Receiver {
    buf: Vec<u8>,
    start: usize,
    /// Stream offset of `buf[0]`: positions in `lost` are stream offsets.
    base: u64,
    fds: VecDeque<OwnedFd>,
    /// Stream offsets where a message starts whose fds were truncated away.
    lost: VecDeque<u64>,
    /// When the first byte of the message now at the head arrived.
    since: Option<Instant>,
    max_len: usize,
}

impl Receiver {
    /// A receiver refusing payloads over `max_len` bytes.
    pub fn new(max_len: usize) -> Receiver {
        Receiver {
            buf: Vec::new(),
            start: 0,
            base: 0,
            fds: VecDeque::new(),
            lost: VecDeque::new(),
            since: None,
            max_len,
        }
    }

    /// Whether part of a message is buffered.
    pub fn has_partial(&self) -> bool {
        self.start < self.buf.len() || !self.fds.is_empty()
    }

    /// How many received fds wait for their message to be complete or handled.
    pub fn pending_fds(&self) -> usize {
        self.fds.len()
    }

    /// When the first byte of the message being received arrived (`None` when no
    /// partial message is buffered). A daemon bounds how long a message may take
    /// from there, whatever its `-t`.
    pub fn partial_since(&self) -> Option<Instant> {
        self.since
    }

    /// Whether a whole message is buffered (or a header [`Receiver::next_frame`]
    /// refuses): reading more would not help.
    pub fn has_frame(&self) -> bool {
        let avail = self.buf.get(self.start..).unwrap_or_default();
        avail.first_chunk::<HEADER_LEN>().is_some_and(|h| {
            let len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
            len > self.max_len || avail.len() >= HEADER_LEN + len
        })
    }

    /// Close every fd waiting in the queue (an eviction); the connection cannot be
    /// read any more after this and must be dropped.
    pub fn drop_fds(&mut self) {
        self.fds.clear();
    }

    /// Append received bytes and fds (what [`Receiver::fill`] does after `recvmsg`).
    ///
    /// # Errors
    /// `ENOBUFS` when more than `QUEUE_MAXFDS` fds would wait unclaimed (they are
    /// all closed).
    pub fn feed(&mut self, bytes: &[u8], fds: Vec<OwnedFd>) -> Result<(), Errno> {
        if self.fds.len() + fds.len() > QUEUE_MAXFDS {
            return Err(Errno::NOBUFS);
        }
        let news = !bytes.is_empty() || !fds.is_empty();
        if news && !self.has_partial() {
            self.since = Some(Instant::now());
        }
        if self.start > 0 && self.start == self.buf.len() {
            self.base += self.start as u64;
            self.buf.clear();
            self.start = 0;
        } else if self.start > 4096 && self.start * 2 > self.buf.len() {
            self.base += self.start as u64;
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
        self.fds.extend(fds);
        Ok(())
    }

    /// Record that the message starting with the next byte fed lost its fds.
    /// (Compacting the buffer moves `base` and `buf` together: stream offsets stay.)
    fn mark_lost(&mut self) {
        self.lost.push_back(self.base + self.buf.len() as u64);
    }

    /// One non-blocking `recvmsg` (fds born CLOEXEC). `Ok(0)` at end of file.
    ///
    /// # Errors
    /// `EAGAIN` when nothing is there; `EPROTO` when control data was truncated (every
    /// fd that did arrive is closed); `ENOBUFS` as [`Receiver::feed`].
    pub fn fill(&mut self, sock: BorrowedFd<'_>) -> Result<usize, Errno> {
        self.fill_with(sock, &mut [0u8; RECV_CHUNK])
    }

    /// [`Receiver::fill`] through the caller's buffer: a daemon keeps one for all its
    /// clients instead of zeroing a new one at each read.
    ///
    /// # Errors
    /// As [`Receiver::fill`].
    pub fn fill_with(&mut self, sock: BorrowedFd<'_>, chunk: &mut [u8]) -> Result<usize, Errno> {
        let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(MSG_MAXFDS))];
        loop {
            let mut control = RecvAncillaryBuffer::new(&mut space);
            let flags = RecvFlags::CMSG_CLOEXEC | RecvFlags::DONTWAIT;
            match rustix::net::recvmsg(sock, &mut [IoSliceMut::new(chunk)], &mut control, flags) {
                Ok(msg) => {
                    // Owned before any check, so every error path closes them.
                    let mut got = Vec::new();
                    for m in control.drain() {
                        if let RecvAncillaryMessage::ScmRights(it) = m {
                            got.extend(it);
                        }
                    }
                    let n = msg.bytes.min(chunk.len());
                    if msg.flags.contains(ReturnFlags::CTRUNC) {
                        // Out of fds (or more than a message may carry): the kernel
                        // closed what did not fit. A sender attaches fds to a
                        // message's first byte, so the message starting here lost
                        // them; `next_frame` says so, and the daemon answers ENFILE
                        // instead of dropping the client. What did arrive is closed.
                        drop(got);
                        if n == 0 {
                            return Err(Errno::PROTO);
                        }
                        self.mark_lost();
                        self.feed(chunk.get(..n).unwrap_or_default(), Vec::new())?;
                        return Ok(n);
                    }
                    self.feed(chunk.get(..n).unwrap_or_default(), got)?;
                    return Ok(n);
                }
                Err(Errno::INTR) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next complete message, if any.
    ///
    /// # Errors
    /// `EPROTO` for a payload over the limit, too many fds announced, or fds announced
    /// that did not come with the header (a sender attaches them to its first byte).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, Errno> {
        let avail = self.buf.get(self.start..).unwrap_or_default();
        let Some(h) = avail.first_chunk::<HEADER_LEN>() else {
            return Ok(None);
        };
        let len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
        let nfds = usize::from(u16::from_be_bytes([h[4], h[5]]));
        let at = self.base + self.start as u64;
        let lost = self.lost.front() == Some(&at);
        if len > self.max_len || nfds > MSG_MAXFDS || (!lost && nfds > self.fds.len()) {
            return Err(Errno::PROTO);
        }
        let end = at + (HEADER_LEN + len) as u64;
        // Lost fds belong to the message they were attached to: one that starts
        // inside another message, or a message that announced none, is malformed.
        if (lost && nfds == 0) || self.lost.iter().any(|&m| m > at && m < end) {
            return Err(Errno::PROTO);
        }
        let Some(data) = avail.get(HEADER_LEN..HEADER_LEN + len) else {
            return Ok(None);
        };
        let data = data.to_vec();
        self.start += HEADER_LEN + len;
        let frame = if lost {
            self.lost.pop_front();
            Frame {
                data,
                fds: Vec::new(),
                lost: nfds,
            }
        } else {
            let fds = self.fds.drain(..nfds).collect();
            Frame { data, fds, lost: 0 }
        };
        // Only once the frame's fds are out of the queue: what is left (if anything)
        // is the next message, and only that one is timed.
        self.since = self.has_partial().then(Instant::now);
        Ok(Some(frame))
    }
}

/// `sendmsg` of `bytes` with `fds` attached, non-blocking, without SIGPIPE. Returns
/// the count of bytes sent (the fds went with the first).
///
/// # Errors
/// `EAGAIN` when the socket is full; `EINVAL` for more than [`SCM_MAX_FD`] fds;
/// the errno of `sendmsg`.
fn send_some(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[BorrowedFd<'_>]) -> Result<usize, Errno> {
    if fds.len() > SCM_MAX_FD {
        return Err(Errno::INVAL);
    }
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(SCM_MAX_FD))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() && !control.push(SendAncillaryMessage::ScmRights(fds)) {
        return Err(Errno::NOBUFS);
    }
    loop {
        let flags = SendFlags::NOSIGNAL | SendFlags::DONTWAIT;
        match rustix::net::sendmsg(sock, &[IoSlice::new(bytes)], &mut control, flags) {
            Err(Errno::INTR) => {}
            r => return r,
        }
    }
}

/// Send one whole message before `deadline` (a client's blocking send).
///
/// # Errors
/// `ETIMEDOUT` at the deadline; the errno of `poll` or `sendmsg`.
pub fn send_frame(
    sock: BorrowedFd<'_>,
    data: &[u8],
    fds: &[BorrowedFd<'_>],
    deadline: Option<Instant>,
) -> Result<(), Errno> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + data.len());
    bytes.extend_from_slice(&header(data.len(), fds.len()));
    bytes.extend_from_slice(data);
    let mut sent = 0;
    while sent < bytes.len() {
        let f: &[BorrowedFd<'_>] = if sent == 0 { fds } else { &[] };
        match send_some(sock, bytes.get(sent..).unwrap_or_default(), f) {
            Ok(n) => sent += n,
            Err(Errno::AGAIN) => {
                fdpass::wait(sock, PollFlags::OUT, deadline)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Receive one whole message before `deadline` (a client's blocking receive). End of
/// file is `EPIPE`, as skalibs reports it.
///
/// # Errors
/// `ETIMEDOUT`, `EPIPE`, `EPROTO`, `EMFILE` when we had no room for the fds the
/// message carried, or the errno of `poll`/`recvmsg`.
pub fn recv_frame(
    sock: BorrowedFd<'_>,
    rx: &mut Receiver,
    deadline: Option<Instant>,
) -> Result<Frame, Errno> {
    loop {
        if let Some(f) = rx.next_frame()? {
            return if f.lost > 0 { Err(Errno::MFILE) } else { Ok(f) };
        }
        match rx.fill(sock) {
            Ok(0) => return Err(Errno::PIPE),
            Ok(_) => {}
            Err(Errno::AGAIN) => {
                fdpass::wait(sock, PollFlags::IN, deadline)?;
            }
            Err(e) => return Err(e),
        }
    }
}

/// One queued outgoing message of a daemon. Its fds are shared with the store, so a
/// fd deleted or expired before the message is sent stays open until then.
#[derive(Debug)]
struct Out {
    bytes: Vec<u8>,
    fds: Vec<Rc<OwnedFd>>,
    sent: usize,
}

/// The sending half of a daemon's connection: messages queued, sent as the socket
/// accepts them, so one slow client never blocks the others.
#[derive(Debug, Default)]
pub struct Sender {
    queue: VecDeque<Out>,
}

impl Sender {
    /// Whether nothing waits to be sent.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// How many queued fds only this queue holds (a held fd shared with the store is
    /// not counted: the store counts it).
    pub fn owned_fds(&self) -> usize {
        let fds = self.queue.iter().flat_map(|o| o.fds.iter());
        fds.filter(|f| Rc::strong_count(f) == 1).count()
    }

    /// Queue `data` with `fds` (at most [`SCM_MAX_FD`]).
    pub fn put(&mut self, data: &[u8], fds: Vec<Rc<OwnedFd>>) {
        let mut bytes = Vec::with_capacity(HEADER_LEN + data.len());
        bytes.extend_from_slice(&header(data.len(), fds.len()));
        bytes.extend_from_slice(data);
        self.queue.push_back(Out {
            bytes,
            fds,
            sent: 0,
        });
    }

    /// Queue a one-byte answer.
    pub fn answer(&mut self, code: u8) {
        self.put(&[code], Vec::new());
    }

    /// Send what the socket takes. `Ok(true)` once everything is out, `Ok(false)` when
    /// the socket is full, `Ok` either way after progress.
    ///
    /// # Errors
    /// The errno of `sendmsg` (EPIPE when the client is gone).
    pub fn flush(&mut self, sock: BorrowedFd<'_>) -> Result<bool, Errno> {
        while let Some(out) = self.queue.front_mut() {
            let rest = out.bytes.get(out.sent..).unwrap_or_default();
            let r = if out.sent == 0 {
                let b: Vec<BorrowedFd<'_>> = out.fds.iter().map(|f| f.as_fd()).collect();
                send_some(sock, rest, &b)
            } else {
                send_some(sock, rest, &[])
            };
            match r {
                Ok(n) => {
                    out.sent += n;
                    if out.sent >= out.bytes.len() {
                        self.queue.pop_front();
                    } else {
                        // Sent: the fds are the kernel's now.
                        out.fds.clear();
                    }
                }
                Err(Errno::AGAIN) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tain_matches_skalibs() {
        // s6-fdholder-store -T 100000 at Unix 1795975956 stored @400000006b0c6b9d…
        let t = Tain::from_unix(1_795_975_956 + 100, 0);
        assert_eq!(t.sec, 0x4000_0000_6b0c_6b9d);
        assert_eq!(
            Tain::scan_timestamp(b"@400000006b0c6b9d1fb7a7e3"),
            Some(Tain {
                sec: 0x4000_0000_6b0c_6b9d,
                nano: 0x1fb7_a7e3
            })
        );
        let t = Tain {
            sec: 0x4000_0000_6b0c_6b9d,
            nano: 0x1fb7_a7e3,
        };
        assert_eq!(t.timestamp(), "@400000006b0c6b9d1fb7a7e3");
        assert_eq!(Tain::scan_timestamp(b"@12"), None);
        // Before the first leap second: TAI - UTC = 10 s.
        assert_eq!(Tain::from_unix(0, 0).sec, TAI_MAGIC + 10);
    }

    /// The bytes s6-fdholder-store 2.11.3.2 sent for `-T 100000 … unix:/x` (strace).
    #[test]
    fn store_matches_s6_bytes() -> Result<(), Errno> {
        let wire = b"\x00\x00\x00\x16\x00\x01\x53\x40\x00\x00\x00\x6b\x0c\x6b\x9d\x1f\xb7\xa7\xe3\x07\x75\x6e\x69\x78\x3a\x2f\x78\x00";
        let r = Request::Store {
            limit: Tain {
                sec: 0x4000_0000_6b0c_6b9d,
                nano: 0x1fb7_a7e3,
            },
            id: b"unix:/x".to_vec(),
        };
        let p = encode_request(&r);
        assert_eq!(&header(p.len(), 1)[..], &wire[..6]);
        assert_eq!(&p[..], &wire[6..]);
        assert_eq!(decode_request(&p, 1)?, r);
        Ok(())
    }

    #[test]
    fn roundtrips_and_refusals() -> Result<(), Errno> {
        let reqs = [
            Request::Delete { id: b"a".to_vec() },
            Request::Retrieve {
                delete: true,
                id: vec![b'x'; 255],
            },
            Request::List,
            Request::GetDump,
            Request::SetDump { count: 7 },
            Request::SetDumpData {
                entries: vec![
                    (Tain::default(), b"i".to_vec()),
                    (Tain::now(), b"j".to_vec()),
                ],
            },
        ];
        for r in &reqs {
            assert_eq!(&decode_request(&encode_request(r), r.nfds())?, r);
        }
        // Wrong fd counts, empty and NUL-bearing ids, trailing bytes.
        assert!(decode_request(b"L", 1).is_err());
        assert!(decode_request(b"D\x00\x00", 0).is_err());
        assert!(decode_request(b"D\x03a\x00b\x00", 0).is_err());
        assert!(decode_request(b"D\x01a\x00x", 0).is_err());
        assert!(decode_request(b"R\x02\x01a\x00", 0).is_err());
        assert!(decode_request(b"", 0).is_err());
        assert!(decode_request(b"Z", 0).is_err());
        assert!(decode_request(b"!\0\0\0", 0).is_err());
        Ok(())
    }

    #[test]
    fn list_answers() -> Result<(), Errno> {
        let ids: Vec<&[u8]> = vec![b"a", b"bc"];
        let p = encode_list(ids.clone().into_iter());
        assert_eq!(decode_list(&p)?, Ok(vec![b"a".to_vec(), b"bc".to_vec()]));
        assert_eq!(decode_list(b"\x01")?, Err(1));
        assert_eq!(decode_list(b"\0\0\0\0\0")?, Ok(vec![]));
        assert!(decode_list(b"\0\0\0\0\x01a").is_err());
        assert!(decode_list(b"").is_err());
        Ok(())
    }

    fn frame_l() -> Vec<u8> {
        let mut v = header(1, 0).to_vec();
        v.push(b'L');
        v
    }

    #[test]
    fn receiver_cuts_frames_and_checks_fds() -> Result<(), Box<dyn std::error::Error>> {
        let mut rx = Receiver::new(100);
        let mut bytes = header(1, 0).to_vec();
        bytes.push(b'L');
        bytes.extend_from_slice(&header(3, 0));
        rx.feed(&bytes[..4], Vec::new())?;
        assert!(rx.next_frame()?.is_none());
        rx.feed(&bytes[4..], Vec::new())?;
        assert_eq!(rx.next_frame()?.ok_or("no frame")?.data, b"L");
        assert!(rx.next_frame()?.is_none());
        assert!(rx.has_partial());
        // Announced fds that did not come: refused.
        let mut rx = Receiver::new(100);
        rx.feed(&header(1, 1), Vec::new())?;
        assert_eq!(rx.next_frame().unwrap_err(), Errno::PROTO);
        // A message whose fds the kernel could not give us: cut as usual, its fds
        // counted as lost, the next message unaffected.
        let mut rx = Receiver::new(100);
        let store = encode_request(&Request::Store {
            limit: Tain::default(),
            id: b"a".to_vec(),
        });
        let mut one = header(store.len(), 1).to_vec();
        one.extend_from_slice(&store);
        rx.feed(&header(1, 0), Vec::new())?;
        rx.feed(b"L", Vec::new())?;
        assert!(rx.partial_since().is_some());
        rx.mark_lost();
        rx.feed(&one[..3], Vec::new())?;
        assert_eq!(rx.next_frame()?.ok_or("no L")?.lost, 0);
        assert!(!rx.has_frame());
        rx.feed(&one[3..], Vec::new())?;
        assert!(rx.has_frame());
        let f = rx.next_frame()?.ok_or("no S")?;
        assert_eq!((f.lost, f.fds.len(), f.data), (1, 0, store.clone()));
        assert!(rx.partial_since().is_none());
        // A whole message with its fd: nothing is left in progress once it is cut.
        let (r, _w) = rustix::pipe::pipe()?;
        rx.feed(&one, vec![r])?;
        let f = rx.next_frame()?.ok_or("no S with its fd")?;
        assert_eq!((f.lost, f.fds.len()), (0, 1));
        assert!(!rx.has_partial());
        assert!(rx.partial_since().is_none());
        // Lost fds marked inside a message, or on one that announced none: refused.
        let mut rx = Receiver::new(100);
        rx.feed(&one[..8], Vec::new())?;
        rx.mark_lost();
        rx.feed(&one[8..], Vec::new())?;
        assert_eq!(rx.next_frame().unwrap_err(), Errno::PROTO);
        let mut rx = Receiver::new(100);
        rx.mark_lost();
        rx.feed(&frame_l(), Vec::new())?;
        assert_eq!(rx.next_frame().unwrap_err(), Errno::PROTO);
        // Over the size limit: refused before buffering.
        let mut rx = Receiver::new(100);
        rx.feed(&header(101, 0), Vec::new())?;
        assert_eq!(rx.next_frame().unwrap_err(), Errno::PROTO);
        Ok(())
    }
}
