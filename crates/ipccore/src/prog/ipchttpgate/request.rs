//! Heads: a client's request head checked and rewritten for the backend, a backend's
//! response head read for its framing, and the gate's own refusals.
//!
//! httparse does the parsing (request line, status line, header fields, obs-fold and
//! control bytes refused); this module adds what a gate in front of an API must refuse
//! on top (RFC 9112 framing conflicts, request targets that are not plain paths) and
//! builds the head the backend sees from the parsed parts, never from the client's raw
//! bytes: line endings, the framing header and the `Connection` tokens come out in one
//! form only, and the client's identity headers are replaced by the gate's. Nothing
//! here does I/O.

use httparse::Status as Parsed;

/// Longest header section (request line and fields, or status line and fields).
pub const MAX_HEAD: usize = 64 * 1024;
/// Most header fields in one head.
const MAX_FIELDS: usize = 128;

/// Header fields a client could use to pass itself off as someone else: removed from
/// every request, whatever their case and number, and set by the gate.
pub const IDENTITY_FIELDS: [&str; 4] = [
    "x-remote-uid",
    "x-remote-gid",
    "x-remote-groups",
    "x-remote-pid",
];

/// The statuses the gate answers with itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 400: the request breaks HTTP/1.1's framing, or its target is not a plain path.
    BadRequest,
    /// 403: the rules say no.
    Forbidden,
    /// 408: the header section did not arrive in time (`-t`).
    RequestTimeout,
    /// 431: a header section over [`MAX_HEAD`] bytes or 128 fields.
    FieldsTooLarge,
    /// 501: a transfer coding other than chunked.
    NotImplemented,
    /// 502: the backend cannot be reached, or answered something that is not HTTP.
    BadGateway,
}

impl Status {
    /// The status code.
    pub fn code(self) -> u16 {
        match self {
            Status::BadRequest => 400,
            Status::Forbidden => 403,
            Status::RequestTimeout => 408,
            Status::FieldsTooLarge => 431,
            Status::NotImplemented => 501,
            Status::BadGateway => 502,
        }
    }

    /// The reason phrase (RFC 9110's).
    pub fn reason(self) -> &'static str {
        match self {
            Status::BadRequest => "Bad Request",
            Status::Forbidden => "Forbidden",
            Status::RequestTimeout => "Request Timeout",
            Status::FieldsTooLarge => "Request Header Fields Too Large",
            Status::NotImplemented => "Not Implemented",
            Status::BadGateway => "Bad Gateway",
        }
    }
}

/// Why a request is refused before it reaches the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The answer.
    pub status: Status,
    /// The reason, for the log and the response body (our text, never the client's).
    pub why: &'static str,
}

fn bad(why: &'static str) -> Refusal {
    Refusal {
        status: Status::BadRequest,
        why,
    }
}

/// How a message body is delimited (RFC 9112 section 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Until the sender closes (responses only).
    Close,
}

/// A request head that passed every check, and the head to send in its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, as sent.
    pub method: String,
    /// The path, percent-decoded, without the query: what the rules match.
    pub path: Vec<u8>,
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    /// How its body is delimited (never [`Framing::Close`]).
    pub framing: Framing,
    /// Whether the connection may carry another request after this one.
    pub keep_alive: bool,
    /// `Expect: 100-continue`: the client waits for an interim 100 before its body.
    pub expect_continue: bool,
    /// `Upgrade` with `Connection: upgrade`: a 101 may follow.
    pub upgrade: bool,
    /// The head to forward: the request line and the client's fields as parsed, minus
    /// framing, `Connection` and identity fields, plus their normalised forms and the
    /// gate's identity fields.
    pub forward: Vec<u8>,
}

impl Request {
    /// Whether this is a HEAD request (its response has no body).
    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }
}

/// A backend's response head, as far as framing goes; its bytes are forwarded as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub code: u16,
    /// How its body is delimited.
    pub framing: Framing,
    /// Whether the backend keeps the connection open after it.
    pub keep_alive: bool,
}

/// How many bytes at the start of `buf` are empty lines (CRLF or LF), which a server
/// ignores before a request line (RFC 9112 section 2.2).
pub fn leading_empty_lines(buf: &[u8]) -> usize {
    let mut i = 0;
    loop {
        match buf.get(i..) {
            Some([b'\n', ..]) => i += 1,
            Some([b'\r', b'\n', ..]) => i += 2,
            _ => return i,
        }
    }
}

/// The length of the head at the start of `buf` (through its empty line), if it is all
/// there. `from` is how much of `buf` an earlier call already searched, so that a head
/// arriving a byte at a time is not searched from the start each time.
pub fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from.saturating_sub(2);
    loop {
        let lf = i + find_lf(buf.get(i..)?)?;
        match buf.get(lf + 1..) {
            Some([b'\n', ..]) => return Some(lf + 2),
            Some([b'\r', b'\n', ..]) => return Some(lf + 3),
            _ => i = lf + 1,
        }
    }
}

/// Where the first LF of `s` is. Eight bytes a step (a word has a zero byte after the
/// XOR exactly when the bit trick below is non-zero): every head is searched through,
/// each request's and each response's, and a byte loop was a tenth of a request's cost.
fn find_lf(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const LFS: u64 = ONES * b'\n' as u64;
    let mut base = 0;
    for word in s.chunks_exact(8) {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default()) ^ LFS;
        if w.wrapping_sub(ONES) & !w & HIGHS != 0 {
            break;
        }
        base += 8;
    }
    let at = s.get(base..)?.iter().position(|&c| c == b'\n')?;
    Some(base + at)
}

/// Check the request head `head` (exactly one head, as [`head_end`] found it) and build
/// the head to forward, with `identity` (the gate's `X-Remote-*` lines, each ending in
/// CRLF) added.
///
/// # Errors
/// The refusal: 400 for a malformed or ambiguous request, 431 for too many fields, 501
/// for a transfer coding other than chunked.
pub fn parse_request(head: &[u8], identity: &[u8]) -> Result<Request, Refusal> {
    // Left uninitialised: httparse writes the fields it returns, and 4 KiB need no
    // zeroing per request.
    let mut fields = [const { std::mem::MaybeUninit::uninit() }; MAX_FIELDS];
    let mut req = httparse::Request::new(&mut []);
    match req.parse_with_uninit_headers(head, &mut fields) {
        Ok(Parsed::Complete(_)) => {}
        Ok(Parsed::Partial) => return Err(bad("incomplete header section")),
        Err(e) => return Err(parse_error(e)),
    }
    let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
        return Err(bad("incomplete request line"));
    };
    let path = check_target(target.as_bytes()).map_err(bad)?;
    let mut forward = Vec::with_capacity(head.len() + identity.len() + 64);
    forward.extend_from_slice(method.as_bytes());
    forward.push(b' ');
    forward.extend_from_slice(target.as_bytes());
    forward.extend_from_slice(if minor == 0 {
        b" HTTP/1.0\r\n"
    } else {
        b" HTTP/1.1\r\n"
    });
    let f = Fields::collect(req.headers, &mut forward)?;
    let framing = f.framing(minor)?;
    match (minor, f.hosts) {
        (1, 0) => return Err(bad("no Host header field")),
        (_, 2..) => return Err(bad("more than one Host header field")),
        _ => {}
    }
    let keep_alive = !f.tokens.close && (minor == 1 || f.tokens.keep_alive);
    let upgrade = f.upgrade && f.tokens.upgrade;
    match framing {
        Framing::Length(n) => {
            use std::io::Write;
            // Writing to a Vec cannot fail.
            let _ = write!(forward, "Content-Length: {n}\r\n");
        }
        Framing::Chunked => forward.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        Framing::Empty | Framing::Close => {}
    }
    f.connection_line(&mut forward);
    forward.extend_from_slice(identity);
    forward.extend_from_slice(b"\r\n");
    Ok(Request {
        method: method.to_string(),
        path,
        minor,
        framing,
        keep_alive,
        expect_continue: f.expect_continue,
        upgrade,
        forward,
    })
}

fn parse_error(e: httparse::Error) -> Refusal {
    use httparse::Error as E;
    match e {
        E::TooManyHeaders => Refusal {
            status: Status::FieldsTooLarge,
            why: "too many header fields",
        },
        E::HeaderName => bad("invalid header field name (or obs-fold)"),
        E::HeaderValue => bad("invalid header field value"),
        E::NewLine => bad("invalid line ending"),
        E::Version => bad("not an HTTP/1.0 or HTTP/1.1 request"),
        E::Token | E::Status => bad("invalid request line"),
    }
}

/// The header fields of a request that decide its framing and connection, read in one
/// pass while the others are copied to the forwarded head. Scalars, not lists: only
/// whether a token or coding was seen matters, and a request allocates nothing here.
#[derive(Default)]
struct Fields {
    lengths: Lengths,
    codings: Codings,
    transfer_encoding: bool,
    hosts: usize,
    /// The `Connection` tokens the gate knows (any case); others are dropped.
    tokens: Tokens,
    expect_continue: bool,
    upgrade: bool,
}

impl Fields {
    fn collect(headers: &[httparse::Header<'_>], forward: &mut Vec<u8>) -> Result<Fields, Refusal> {
        let mut f = Fields::default();
        for h in headers {
            let name = h.name;
            let is = |n: &str| name.eq_ignore_ascii_case(n);
            if IDENTITY_FIELDS.iter().any(|n| is(n)) {
                continue;
            }
            if is("content-length") {
                f.lengths
                    .add(h.value)
                    .map_err(|()| bad("invalid Content-Length"))?;
                continue;
            }
            if is("transfer-encoding") {
                f.transfer_encoding = true;
                f.codings.add(h.value);
                continue;
            }
            if is("connection") {
                f.tokens.add(h.value);
                continue;
            }
            if is("host") {
                f.hosts += 1;
            } else if is("expect") {
                f.expect_continue |= trim(h.value).eq_ignore_ascii_case(b"100-continue");
            } else if is("upgrade") {
                f.upgrade = true;
            }
            forward.extend_from_slice(name.as_bytes());
            forward.extend_from_slice(b": ");
            forward.extend_from_slice(h.value);
            forward.extend_from_slice(b"\r\n");
        }
        Ok(f)
    }

    /// The `Connection` line the gate passes on, if any: the tokens it knows, in one
    /// order and case.
    fn connection_line(&self, forward: &mut Vec<u8>) {
        let t = &self.tokens;
        let known = [
            (t.close, "close"),
            (t.keep_alive, "keep-alive"),
            (t.upgrade, "upgrade"),
        ];
        let mut sep: &[u8] = b"Connection: ";
        for (_, name) in known.iter().filter(|(on, _)| *on) {
            forward.extend_from_slice(sep);
            forward.extend_from_slice(name.as_bytes());
            sep = b", ";
        }
        if sep != b"Connection: " {
            forward.extend_from_slice(b"\r\n");
        }
    }

    fn framing(&self, minor: u8) -> Result<Framing, Refusal> {
        if self.transfer_encoding {
            if self.lengths.first.is_some() {
                return Err(bad("both Content-Length and Transfer-Encoding"));
            }
            if minor == 0 {
                return Err(bad("Transfer-Encoding in an HTTP/1.0 request"));
            }
            if self.codings.count != 1 || !self.codings.last_chunked {
                return Err(Refusal {
                    status: Status::NotImplemented,
                    why: "a transfer coding other than chunked",
                });
            }
            return Ok(Framing::Chunked);
        }
        match self.lengths.first {
            None => Ok(Framing::Empty),
            Some(_) if self.lengths.differ => Err(bad("differing Content-Lengths")),
            Some(0) => Ok(Framing::Empty),
            Some(n) => Ok(Framing::Length(n)),
        }
    }
}

/// The `Content-Length` values of a head: the first, and whether another differs.
#[derive(Default)]
struct Lengths {
    first: Option<u64>,
    differ: bool,
}

impl Lengths {
    /// `Content-Length: 5` or `5, 5` (RFC 9110 section 8.6): every value decimal.
    fn add(&mut self, value: &[u8]) -> Result<(), ()> {
        for v in value.split(|&c| c == b',') {
            let v = trim(v);
            let n = std::str::from_utf8(v)
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or(())?;
            match self.first {
                None => self.first = Some(n),
                Some(f) => self.differ |= f != n,
            }
        }
        Ok(())
    }
}

/// The transfer codings of a head: how many, and whether the last is chunked.
#[derive(Default)]
struct Codings {
    count: usize,
    last_chunked: bool,
}

impl Codings {
    fn add(&mut self, value: &[u8]) {
        for c in list(value) {
            self.count += 1;
            self.last_chunked = c.eq_ignore_ascii_case(b"chunked");
        }
    }
}

/// The `Connection` tokens that mean something to the gate, seen or not.
#[derive(Default)]
struct Tokens {
    close: bool,
    keep_alive: bool,
    upgrade: bool,
}

impl Tokens {
    fn add(&mut self, value: &[u8]) {
        for t in list(value) {
            self.close |= t.eq_ignore_ascii_case(b"close");
            self.keep_alive |= t.eq_ignore_ascii_case(b"keep-alive");
            self.upgrade |= t.eq_ignore_ascii_case(b"upgrade");
        }
    }
}

/// The items of a comma-separated field value, trimmed, empty items left out.
fn list(value: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    value
        .split(|&c| c == b',')
        .map(trim)
        .filter(|v| !v.is_empty())
}

fn trim(v: &[u8]) -> &[u8] {
    let is_ows = |c: &u8| *c == b' ' || *c == b'\t';
    let start = v.iter().position(|c| !is_ows(c)).unwrap_or(v.len());
    let end = v.iter().rposition(|c| !is_ows(c)).map_or(start, |i| i + 1);
    v.get(start..end).unwrap_or_default()
}

/// The path of an origin-form request target, percent-decoded, or why the target is
/// refused: not origin form, a fragment, an empty, `.` or `..` segment, a backslash, a
/// malformed percent sign, an encoded `/`, `\` or `.` (a backend that decodes them would
/// see other segments than the rules did), an encoded NUL or other control character.
pub fn check_target(target: &[u8]) -> Result<Vec<u8>, &'static str> {
    if target.first() != Some(&b'/') {
        return Err("request target not in origin form");
    }
    let path = match target.iter().position(|&c| c == b'?') {
        Some(q) => target.get(..q).unwrap_or_default(),
        None => target,
    };
    if target.contains(&b'#') {
        return Err("a fragment in the request target");
    }
    if path.contains(&b'\\') {
        return Err("a backslash in the path");
    }
    for seg in path.split(|&c| c == b'/').skip(1) {
        match seg {
            b"." | b".." => return Err("a . or .. segment in the path"),
            _ => {}
        }
    }
    if path.windows(2).any(|w| w == b"//") {
        return Err("an empty segment (//) in the path");
    }
    decode(path)
}

/// Percent-decode `path`, refusing what [`check_target`] says.
fn decode(path: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut out = Vec::with_capacity(path.len());
    let mut i = 0;
    while let Some(&c) = path.get(i) {
        if c != b'%' {
            out.push(c);
            i += 1;
            continue;
        }
        let hex = |k: usize| path.get(k).and_then(|&h| char::from(h).to_digit(16));
        let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) else {
            return Err("a malformed percent-encoding in the path");
        };
        let b = (hi * 16 + lo) as u8;
        match b {
            b'/' | b'\\' | b'.' => return Err("an encoded /, \\ or . in the path"),
            0 => return Err("an encoded NUL in the path"),
            1..=0x1f | 0x7f => return Err("an encoded control character in the path"),
            _ => out.push(b),
        }
        i += 3;
    }
    Ok(out)
}

/// Read a backend's response head (exactly one head): its status and framing for a
/// request that was (`head_request`) or was not a HEAD.
///
/// # Errors
/// Why it is not a usable HTTP/1.x response head.
pub fn parse_response(head: &[u8], head_request: bool) -> Result<Response, &'static str> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
    let mut resp = httparse::Response::new(&mut fields);
    match resp.parse(head) {
        Ok(Parsed::Complete(_)) => {}
        Ok(Parsed::Partial) => return Err("an incomplete response head"),
        Err(_) => return Err("a malformed response head"),
    }
    let (Some(code), Some(minor)) = (resp.code, resp.version) else {
        return Err("an incomplete status line");
    };
    let mut lengths = Lengths::default();
    let mut codings = Codings::default();
    let mut tokens = Tokens::default();
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            lengths
                .add(h.value)
                .map_err(|()| "an invalid Content-Length")?;
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            codings.add(h.value);
        } else if h.name.eq_ignore_ascii_case("connection") {
            tokens.add(h.value);
        }
    }
    let keep_alive = !tokens.close && (minor == 1 || tokens.keep_alive);
    let framing = if head_request || code < 200 || code == 204 || code == 304 {
        Framing::Empty
    } else if codings.count > 0 {
        // RFC 9112 section 6.3: chunked last means chunked; any other coding last
        // means the body runs until the backend closes.
        if codings.last_chunked {
            Framing::Chunked
        } else {
            Framing::Close
        }
    } else {
        match lengths.first {
            None => Framing::Close,
            Some(_) if lengths.differ => return Err("differing Content-Lengths"),
            Some(0) => Framing::Empty,
            Some(n) => Framing::Length(n),
        }
    };
    Ok(Response {
        code,
        framing,
        keep_alive,
    })
}

/// The gate's own response: `status`, a one-line text body saying `why` (left out for
/// a HEAD request, whose answer has no body), and `Connection: close` when the gate
/// closes the connection after it.
pub fn refusal(status: Status, why: &str, head_request: bool, close: bool) -> Vec<u8> {
    let body = format!("{} {}: {why}\n", status.code(), status.reason());
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}\r\n",
        status.code(),
        status.reason(),
        body.len(),
        if close { "Connection: close\r\n" } else { "" }
    )
    .into_bytes();
    if !head_request {
        out.extend_from_slice(body.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &[u8] = b"X-Remote-Uid: 7\r\n";

    fn req(head: &str) -> Result<Request, Refusal> {
        parse_request(head.as_bytes(), ID)
    }

    fn why(head: &str) -> (u16, &'static str) {
        match req(head) {
            Ok(r) => panic!("accepted: {head:?} as {r:?}"),
            Err(r) => (r.status.code(), r.why),
        }
    }

    #[test]
    fn a_plain_request_is_rebuilt() {
        let r =
            req("GET /v1.40/containers/json?all=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n")
                .unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, b"/v1.40/containers/json");
        assert_eq!(
            (r.minor, r.framing, r.keep_alive),
            (1, Framing::Empty, true)
        );
        assert_eq!(
            String::from_utf8(r.forward).unwrap(),
            "GET /v1.40/containers/json?all=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nX-Remote-Uid: 7\r\n\r\n"
        );
        // Bare LF lines come out as CRLF.
        let r = req("GET / HTTP/1.1\nHost: x\n\n").unwrap();
        assert_eq!(
            r.forward,
            b"GET / HTTP/1.1\r\nHost: x\r\nX-Remote-Uid: 7\r\n\r\n"
        );
    }

    #[test]
    fn identity_fields_are_replaced() {
        let r = req(
            "GET / HTTP/1.1\r\nHost: x\r\nX-Remote-Uid: 0\r\nx-remote-uid: 0\r\nX-REMOTE-GID: 0\r\n\
             X-Remote-Groups: 0\r\nX-Remote-Pid: 1\r\nX-Remote-Uidx: kept\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(r.forward).unwrap(),
            "GET / HTTP/1.1\r\nHost: x\r\nX-Remote-Uidx: kept\r\nX-Remote-Uid: 7\r\n\r\n"
        );
    }

    #[test]
    fn framing_is_normalised() {
        let r =
            req("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\ncontent-length: 5\r\n\r\n")
                .unwrap();
        assert_eq!(r.framing, Framing::Length(5));
        assert!(
            String::from_utf8(r.forward)
                .unwrap()
                .ends_with("Content-Length: 5\r\nX-Remote-Uid: 7\r\n\r\n")
        );
        let r = req("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n").unwrap();
        assert_eq!(r.framing, Framing::Chunked);
        assert!(
            String::from_utf8(r.forward)
                .unwrap()
                .contains("\r\nTransfer-Encoding: chunked\r\n")
        );
        let r = req("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").unwrap();
        assert_eq!(r.framing, Framing::Empty);
    }

    #[test]
    fn connection_semantics() {
        let r =
            req("GET / HTTP/1.1\r\nHost: x\r\nConnection: Close, X-Remote-Uid\r\n\r\n").unwrap();
        assert!(!r.keep_alive);
        assert!(
            String::from_utf8(r.forward)
                .unwrap()
                .contains("\r\nConnection: close\r\n")
        );
        let r = req("GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(!r.keep_alive);
        let r = req("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").unwrap();
        assert!(r.keep_alive);
        let r = req("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
            .unwrap();
        assert!(r.upgrade && r.keep_alive);
        let r = req("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: tcp\r\n\r\n").unwrap();
        assert!(!r.upgrade);
        let r =
            req("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n")
                .unwrap();
        assert!(r.expect_continue);
    }

    #[test]
    fn every_refusal_of_the_issue() {
        let cases: &[(&str, (u16, &str))] = &[
            (
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                (400, "both Content-Length and Transfer-Encoding"),
            ),
            (
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
                (400, "differing Content-Lengths"),
            ),
            (
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\n",
                (400, "differing Content-Lengths"),
            ),
            (
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\n",
                (400, "invalid Content-Length"),
            ),
            (
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                (400, "invalid Content-Length"),
            ),
            (
                "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n",
                (400, "invalid header field name (or obs-fold)"),
            ),
            (
                "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "request target not in origin form"),
            ),
            (
                "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "request target not in origin form"),
            ),
            (
                "CONNECT x:80 HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "request target not in origin form"),
            ),
            (
                "GET /a/../b HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "a . or .. segment in the path"),
            ),
            (
                "GET /a/. HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "a . or .. segment in the path"),
            ),
            (
                "GET /.. HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "a . or .. segment in the path"),
            ),
            (
                "GET /a//b HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "an empty segment (//) in the path"),
            ),
            (
                "GET //a HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "an empty segment (//) in the path"),
            ),
            (
                "GET /a%2Fb HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "an encoded /, \\ or . in the path"),
            ),
            (
                "GET /a%2fb HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "an encoded /, \\ or . in the path"),
            ),
            (
                "GET /a%5cb HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "an encoded /, \\ or . in the path"),
            ),
            (
                "GET /a/%2E%2e/b HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "an encoded /, \\ or . in the path"),
            ),
            (
                "GET /a%00 HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "an encoded NUL in the path"),
            ),
            (
                "GET /a%0a HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "an encoded control character in the path"),
            ),
            (
                "GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "a malformed percent-encoding in the path"),
            ),
            (
                "GET /a% HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "a malformed percent-encoding in the path"),
            ),
            (
                "GET /a\\b HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "a backslash in the path"),
            ),
            (
                "GET /a#f HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "a fragment in the request target"),
            ),
            (
                "GET /a\0 HTTP/1.1\r\nHost: x\r\n\r\n",
                (400, "invalid request line"),
            ),
            (
                "GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n",
                (400, "invalid header field value"),
            ),
            ("GET / HTTP/1.1\r\n\r\n", (400, "no Host header field")),
            (
                "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                (400, "more than one Host header field"),
            ),
            (
                "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
                (400, "not an HTTP/1.0 or HTTP/1.1 request"),
            ),
            (
                "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                (400, "Transfer-Encoding in an HTTP/1.0 request"),
            ),
            (
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                (501, "a transfer coding other than chunked"),
            ),
            (
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                (501, "a transfer coding other than chunked"),
            ),
            (
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n",
                (501, "a transfer coding other than chunked"),
            ),
        ];
        for (head, want) in cases {
            assert_eq!(why(head), *want, "{head:?}");
        }
        let many: String = (0..200).map(|i| format!("X-{i}: v\r\n")).collect();
        assert_eq!(
            why(&format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n")),
            (431, "too many header fields")
        );
        // What decodes harmlessly is decoded for the rules, and sent as it came.
        let r = req("GET /contain%65rs/a%20b?x=%2F HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(r.path, b"/containers/a b");
        assert!(
            r.forward
                .starts_with(b"GET /contain%65rs/a%20b?x=%2F HTTP/1.1\r\n")
        );
    }

    #[test]
    fn heads_are_found_once() {
        assert_eq!(leading_empty_lines(b"\r\n\n\r\nGET"), 5);
        assert_eq!(leading_empty_lines(b"\rGET"), 0);
        let h = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY";
        assert_eq!(head_end(h, 0), Some(h.len() - 4));
        assert_eq!(head_end(b"GET / HTTP/1.1\nHost: x\n\nB", 0), Some(24));
        // Found when the last bytes arrive after a search that stopped short.
        let part = b"GET / HTTP/1.1\r\nHost: x\r\n\r";
        assert_eq!(head_end(part, 0), None);
        assert_eq!(head_end(h, part.len()), Some(h.len() - 4));
        assert_eq!(head_end(b"", 0), None);
        assert_eq!(head_end(b"x", 9), None);
        // The word-at-a-time search finds an LF at every offset, and only an LF.
        for at in 0..40 {
            let mut s = vec![b'a'; 40];
            s[at] = b'\n';
            assert_eq!(find_lf(&s), Some(at));
            s[at] = b'\n' ^ 0x80;
            assert_eq!(find_lf(&s), None);
            s[at] = b'\x0b';
            assert_eq!(find_lf(&s), None);
        }
        let long = [vec![b'x'; 21], b"\r\nA: b\n\r\nrest".to_vec()].concat();
        assert_eq!(head_end(&long, 0), Some(30));
        assert_eq!(head_end(&long, 28), Some(30));
    }

    #[test]
    fn responses_are_framed() {
        let r = |h: &str, head: bool| parse_response(h.as_bytes(), head);
        let ok = r("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", false).unwrap();
        assert_eq!(
            (ok.code, ok.framing, ok.keep_alive),
            (200, Framing::Length(12), true)
        );
        let ok = r("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", true).unwrap();
        assert_eq!(ok.framing, Framing::Empty);
        let ok = r(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            false,
        )
        .unwrap();
        assert_eq!(ok.framing, Framing::Chunked);
        let ok = r("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false).unwrap();
        assert_eq!(ok.framing, Framing::Close);
        let ok = r("HTTP/1.0 200 OK\r\n\r\n", false).unwrap();
        assert_eq!((ok.framing, ok.keep_alive), (Framing::Close, false));
        let ok = r(
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            false,
        )
        .unwrap();
        assert_eq!((ok.framing, ok.keep_alive), (Framing::Empty, false));
        for code in [100, 101, 204, 304] {
            let ok = r(
                &format!("HTTP/1.1 {code} X\r\nContent-Length: 5\r\n\r\n"),
                false,
            )
            .unwrap();
            assert_eq!(ok.framing, Framing::Empty, "{code}");
        }
        assert!(
            r(
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                false
            )
            .is_err()
        );
        assert!(r("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false).is_err());
        assert!(r("SSH-2.0-OpenSSH\r\n\r\n", false).is_err());
    }

    #[test]
    fn refusals_say_why_and_frame_themselves() {
        let r = String::from_utf8(refusal(Status::Forbidden, "no rule", false, false)).unwrap();
        assert_eq!(
            r,
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 27\r\n\r\n403 Forbidden: no rule\n"
                .replace("27", &"403 Forbidden: no rule\n".len().to_string())
        );
        let r = String::from_utf8(refusal(Status::BadRequest, "x", true, true)).unwrap();
        assert!(r.ends_with("Connection: close\r\n\r\n"), "{r}");
    }
}
