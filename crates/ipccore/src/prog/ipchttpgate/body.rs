//! Message bodies, streamed: `Content-Length` bytes, chunked, or until the sender
//! closes, moved from an input buffer to an output buffer a bounded piece at a time.
//!
//! A chunked body is decoded and encoded again as it passes: each chunk goes out as
//! `SIZE CRLF data CRLF` with the size in lower-case hex and no extensions, and the
//! body ends with `0 CRLF CRLF`, trailer fields dropped (RFC 9112 section 7.1.2 lets a
//! recipient discard them). So the receiver sees one framing only, whatever the
//! sender's extensions, whitespace or trailers said. httparse reads the chunk-size
//! lines and the trailer section; this module refuses what it lets through that a
//! second parser might read differently (an empty size, control bytes in an
//! extension), bounds every line, and checks the CRLF after each chunk's data.
//! Nothing here does I/O.

/// Longest chunk-size line (size and extensions), CRLF included.
pub const MAX_SIZE_LINE: usize = 4096;
/// Longest trailer section.
pub const MAX_TRAILERS: usize = 16 * 1024;
/// Room kept in an output buffer for a chunk-size line.
const LINE_ROOM: usize = 24;

/// Why a body cannot be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// A chunk-size line that is not one, or too long.
    BadChunkSize,
    /// A chunk's data not followed by CRLF.
    BadChunkEnd,
    /// A trailer section that does not parse, or too long.
    BadTrailers,
}

impl BodyError {
    /// The reason, for the log and a 400's body.
    pub fn why(self) -> &'static str {
        match self {
            BodyError::BadChunkSize => "a bad chunk size",
            BodyError::BadChunkEnd => "a chunk not ended by CRLF",
            BodyError::BadTrailers => "a bad trailer section",
        }
    }
}

/// Where in a chunked body the decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk {
    /// At a chunk-size line.
    Size,
    /// In a chunk's data, this many bytes left.
    Data(u64),
    /// At the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk, at the trailer section.
    Trailers,
}

/// A body being passed on: how much of it is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// Nothing (left): the body is complete.
    Done,
    /// This many bytes left of a `Content-Length` body.
    Length(u64),
    /// A chunked body, at this point.
    Chunked(Chunk),
    /// Everything until the sender closes.
    Close,
}

impl Body {
    /// A body framed as `f`.
    pub fn new(f: super::request::Framing) -> Body {
        use super::request::Framing;
        match f {
            Framing::Empty | Framing::Length(0) => Body::Done,
            Framing::Length(n) => Body::Length(n),
            Framing::Chunked => Body::Chunked(Chunk::Size),
            Framing::Close => Body::Close,
        }
    }

    /// Whether the whole body has been passed on.
    pub fn done(&self) -> bool {
        *self == Body::Done
    }

    /// Pass on what `input` holds of the body: append it to `out` while `out` is
    /// shorter than `cap` (or drop it, for `out` `None`), and return how many bytes of
    /// `input` were used. Call again while it uses bytes; it stops when the body is
    /// done, when `input` holds no complete piece, or when `out` is full.
    ///
    /// # Errors
    /// The framing error; the body is then unusable, and so is the connection.
    pub fn transfer(
        &mut self,
        input: &[u8],
        mut out: Option<&mut Vec<u8>>,
        cap: usize,
    ) -> Result<usize, BodyError> {
        let room = |out: &Option<&mut Vec<u8>>| match out {
            Some(o) => cap.saturating_sub(o.len()),
            None => usize::MAX,
        };
        let mut used = 0;
        loop {
            let rest = input.get(used..).unwrap_or_default();
            let step = match self {
                Body::Done => return Ok(used),
                Body::Length(left) | Body::Chunked(Chunk::Data(left)) => {
                    let n = usize::try_from(*left)
                        .unwrap_or(usize::MAX)
                        .min(rest.len())
                        .min(room(&out));
                    if n == 0 {
                        return Ok(used);
                    }
                    emit(&mut out, rest.get(..n).unwrap_or_default());
                    *left -= n as u64;
                    if *left == 0 {
                        *self = match self {
                            Body::Length(_) => Body::Done,
                            _ => Body::Chunked(Chunk::DataEnd),
                        };
                    }
                    n
                }
                Body::Close => {
                    let n = rest.len().min(room(&out));
                    emit(&mut out, rest.get(..n).unwrap_or_default());
                    return Ok(used + n);
                }
                Body::Chunked(c) => {
                    if room(&out) < LINE_ROOM {
                        return Ok(used);
                    }
                    match chunk_step(*c, rest, &mut out)? {
                        Some((n, next)) => {
                            *self = next;
                            n
                        }
                        None => return Ok(used),
                    }
                }
            };
            used += step;
        }
    }
}

/// One step of a chunked body that is not data: a size line, the CRLF after data, the
/// trailer section. Returns the bytes of `rest` it used and where the body is then;
/// `None` when `rest` does not hold all of it yet.
fn chunk_step(
    c: Chunk,
    rest: &[u8],
    out: &mut Option<&mut Vec<u8>>,
) -> Result<Option<(usize, Body)>, BodyError> {
    match c {
        Chunk::Size => {
            let Some((n, size)) = size_line(rest)? else {
                return Ok(None);
            };
            let next = if size == 0 {
                Chunk::Trailers
            } else {
                emit(out, format!("{size:x}\r\n").as_bytes());
                Chunk::Data(size)
            };
            Ok(Some((n, Body::Chunked(next))))
        }
        Chunk::DataEnd => match rest {
            [b'\r', b'\n', ..] => {
                emit(out, b"\r\n");
                Ok(Some((2, Body::Chunked(Chunk::Size))))
            }
            [] | [b'\r'] => Ok(None),
            _ => Err(BodyError::BadChunkEnd),
        },
        Chunk::Trailers => {
            let mut fields = [httparse::EMPTY_HEADER; 32];
            match httparse::parse_headers(rest, &mut fields) {
                Ok(httparse::Status::Complete((n, _))) => {
                    emit(out, b"0\r\n\r\n");
                    Ok(Some((n, Body::Done)))
                }
                Ok(httparse::Status::Partial) if rest.len() < MAX_TRAILERS => Ok(None),
                _ => Err(BodyError::BadTrailers),
            }
        }
        // Data is passed on by `transfer` itself.
        Chunk::Data(_) => Ok(None),
    }
}

/// A chunk-size line at the start of `rest`: its length and the size, `None` when it
/// is not all there yet. Stricter than httparse alone: at least one hex digit, and no
/// control byte but HTAB before the CRLF (httparse takes any byte in an extension,
/// a bare LF included, which another parser could read as the end of the line).
fn size_line(rest: &[u8]) -> Result<Option<(usize, u64)>, BodyError> {
    if !rest.first().is_none_or(u8::is_ascii_hexdigit) {
        return Err(BodyError::BadChunkSize);
    }
    let line_end = rest.iter().position(|&b| b == b'\r');
    let scanned = rest
        .get(..line_end.unwrap_or(rest.len()))
        .unwrap_or_default();
    if scanned
        .iter()
        .any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f)
    {
        return Err(BodyError::BadChunkSize);
    }
    match httparse::parse_chunk_size(rest) {
        Ok(httparse::Status::Complete((n, size))) if n <= MAX_SIZE_LINE => Ok(Some((n, size))),
        Ok(httparse::Status::Partial) if rest.len() < MAX_SIZE_LINE => Ok(None),
        _ => Err(BodyError::BadChunkSize),
    }
}

fn emit(out: &mut Option<&mut Vec<u8>>, b: &[u8]) {
    if let Some(o) = out {
        o.extend_from_slice(b);
    }
}

#[cfg(test)]
mod tests {
    use super::super::request::Framing;
    use super::*;

    /// Feed `input` in pieces of `step` bytes with an output cap of `cap`, as the
    /// gate's loop does; return the output and the bytes left unused at the end.
    fn run(
        f: Framing,
        input: &[u8],
        step: usize,
        cap: usize,
    ) -> Result<(Vec<u8>, usize), BodyError> {
        let mut b = Body::new(f);
        let mut buf: Vec<u8> = Vec::new();
        let mut out = Vec::new();
        let mut fed = 0;
        loop {
            let mut sink = Vec::new();
            let n = b.transfer(&buf, Some(&mut sink), cap)?;
            buf.drain(..n);
            out.extend_from_slice(&sink);
            if b.done() {
                return Ok((out, buf.len() + input.len() - fed));
            }
            if n == 0 {
                if fed == input.len() {
                    return Ok((out, usize::MAX));
                }
                let k = step.min(input.len() - fed);
                buf.extend_from_slice(&input[fed..fed + k]);
                fed += k;
            }
        }
    }

    #[test]
    fn length_bodies_stop_at_their_end() {
        for step in [1, 3, 100] {
            let (out, left) = run(Framing::Length(5), b"hello NEXT", step, 64).unwrap();
            assert_eq!(out, b"hello");
            assert_eq!(left, 5, "step {step}");
        }
        // A full output takes no more.
        let mut b = Body::new(Framing::Length(10));
        let mut out = vec![0u8; 60];
        assert_eq!(b.transfer(b"0123456789", Some(&mut out), 64), Ok(4));
        assert_eq!(b, Body::Length(6));
        // Dropped, for a denied request.
        assert_eq!(b.transfer(b"abcdefgh", None, 0), Ok(6));
        assert!(b.done());
    }

    #[test]
    fn chunked_is_reencoded() {
        let input = b"5;name=\"va;l\"\r\nhello\r\n00A \t; x\r\n0123456789\r\n0\r\nTrailer: x\r\nX-Remote-Uid: 0\r\n\r\nNEXT";
        for step in [1, 2, 7, 1000] {
            for cap in [LINE_ROOM + 1, 64, 1 << 16] {
                let (out, left) = run(Framing::Chunked, input, step, cap).unwrap();
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    "5\r\nhello\r\na\r\n0123456789\r\n0\r\n\r\n",
                    "step {step} cap {cap}"
                );
                assert_eq!(left, 4);
            }
        }
        let (out, _) = run(Framing::Chunked, b"0\r\n\r\n", 1, 64).unwrap();
        assert_eq!(out, b"0\r\n\r\n");
    }

    #[test]
    fn bad_chunks_are_refused() {
        for (input, e) in [
            (&b"\r\nhello"[..], BodyError::BadChunkSize),
            (b";ext\r\n", BodyError::BadChunkSize),
            (b"-5\r\n", BodyError::BadChunkSize),
            (b" 5\r\n", BodyError::BadChunkSize),
            (b"5x\r\n", BodyError::BadChunkSize),
            (b"5\n", BodyError::BadChunkSize),
            (b"5;a\nb\r\n", BodyError::BadChunkSize),
            (b"10000000000000000\r\n", BodyError::BadChunkSize),
            (b"5\r\nhelloXY", BodyError::BadChunkEnd),
            (b"5\r\nhello\n0\r\n\r\n", BodyError::BadChunkEnd),
            (b"0\r\nbad trailer\r\n\r\n", BodyError::BadTrailers),
        ] {
            assert_eq!(
                run(Framing::Chunked, input, 1, 64).err(),
                Some(e),
                "{input:?}"
            );
            assert_eq!(
                run(Framing::Chunked, input, 999, 64).err(),
                Some(e),
                "{input:?}"
            );
        }
        let long = vec![b'1'; 2];
        let mut ext = long.clone();
        ext.push(b';');
        ext.extend(vec![b'a'; MAX_SIZE_LINE]);
        assert_eq!(
            run(Framing::Chunked, &ext, 100, 64).err(),
            Some(BodyError::BadChunkSize)
        );
        let mut tr = b"0\r\n".to_vec();
        tr.extend(vec![b'a'; MAX_TRAILERS + 10]);
        assert_eq!(
            run(Framing::Chunked, &tr, 1000, 64).err(),
            Some(BodyError::BadTrailers)
        );
    }

    #[test]
    fn until_close_takes_everything_it_has_room_for() {
        let mut b = Body::new(Framing::Close);
        let mut out = Vec::new();
        assert_eq!(b.transfer(b"abc", Some(&mut out), 2), Ok(2));
        assert_eq!(out, b"ab");
        assert!(!b.done());
    }
}
