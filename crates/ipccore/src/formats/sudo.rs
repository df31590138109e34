//! The s6-sudo v1.0 wire format, as s6-sudoc and s6-sudod 2.11 speak it (checked
//! with strace):
//! 1. the server writes the raw banner `s6-sudo b v1.0\n` (15 bytes);
//! 2. the client sends one skalibs unixmessage: a 6-byte header (u32 BE payload length,
//!    u16 BE fd count) then the payload, with its fds 0, 1 and 2 attached (SCM_RIGHTS).
//!    The payload is `s6-sudo a v1.0\n`, four u32 BE (argc, envc, arglen, envlen), then
//!    argc NUL-terminated arguments and envc NUL-terminated `NAME=value` strings;
//! 3. the server answers one raw byte: 0, or the errno that kept it from starting;
//! 4. when the command exits, the server writes its raw wait status, u32 BE.
//!
//! The decoder is strict and bounded: every length is checked before use, sizes add up
//! in u64, the payload is at most `MAX_MESSAGE` bytes, counts at most `MAX_COUNT`
//! (s6's limit), and malformed input is an error, never a panic.
//! Left out: the I/O (`prog::ipcsudo` sends and receives the bytes and fds) and the
//! environment merge.

use crate::base::error::Error;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// What the server says first.
pub(crate) const BANNER_SERVER: &[u8; 15] = b"s6-sudo b v1.0\n";
/// What the client's message starts with.
pub(crate) const BANNER_CLIENT: &[u8; 15] = b"s6-sudo a v1.0\n";
/// Most arguments, and most environment variables, a client may send (s6-sudod's).
pub(crate) const MAX_COUNT: u32 = 131_072;
/// Largest payload accepted: far above what exec itself can take (ARG_MAX).
pub(crate) const MAX_MESSAGE: u32 = 16 << 20;
/// The unixmessage header: u32 BE length, u16 BE number of fds.
pub const HEADER_LEN: usize = 6;
/// Payload bytes before the strings: banner and four u32.
pub(crate) const FIXED_LEN: usize = 15 + 16;
/// How many fds a request carries: the client's 0, 1 and 2.
pub(crate) const NFDS: usize = 3;

/// A decoded client request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The command's arguments (appended to the server's).
    pub args: Vec<OsString>,
    /// `NAME=value` strings.
    pub env: Vec<OsString>,
}

/// The unixmessage header for `len` payload bytes and `nfds` fds.
pub fn header(len: usize, nfds: usize) -> Option<[u8; HEADER_LEN]> {
    let len = u32::try_from(len).ok()?;
    let nfds = u16::try_from(nfds).ok()?;
    let mut h = [0u8; HEADER_LEN];
    h[..4].copy_from_slice(&len.to_be_bytes());
    h[4..].copy_from_slice(&nfds.to_be_bytes());
    Some(h)
}

/// Payload length and fd count from a unixmessage header.
pub fn parse_header(h: &[u8; HEADER_LEN]) -> (u32, u16) {
    (
        u32::from_be_bytes([h[0], h[1], h[2], h[3]]),
        u16::from_be_bytes([h[4], h[5]]),
    )
}

fn cat_strings(list: &[OsString]) -> Vec<u8> {
    let mut v = Vec::new();
    for s in list {
        v.extend_from_slice(s.as_bytes());
        v.push(0);
    }
    v
}

/// The request payload for `args` and `env` (`NAME=value` strings).
///
/// # Errors
/// `Usage` if a string holds a NUL byte, or the request is over the limits.
pub fn encode_request(args: &[OsString], env: &[OsString]) -> Result<Vec<u8>, Error> {
    if args.iter().chain(env).any(|s| s.as_bytes().contains(&0)) {
        return Err(Error::Usage(
            "argument or variable contains a NUL byte".into(),
        ));
    }
    let a = cat_strings(args);
    let e = cat_strings(env);
    let too_big = || Error::Usage("too many or too long arguments or variables".into());
    let argc = u32::try_from(args.len()).map_err(|_| too_big())?;
    let envc = u32::try_from(env.len()).map_err(|_| too_big())?;
    let alen = u32::try_from(a.len()).map_err(|_| too_big())?;
    let elen = u32::try_from(e.len()).map_err(|_| too_big())?;
    if argc > MAX_COUNT || envc > MAX_COUNT || FIXED_LEN + a.len() + e.len() > MAX_MESSAGE as usize
    {
        return Err(too_big());
    }
    let mut v = Vec::with_capacity(FIXED_LEN + a.len() + e.len());
    v.extend_from_slice(BANNER_CLIENT);
    for n in [argc, envc, alen, elen] {
        v.extend_from_slice(&n.to_be_bytes());
    }
    v.extend_from_slice(&a);
    v.extend_from_slice(&e);
    Ok(v)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Exactly `n` NUL-terminated strings filling all of `b`.
fn split_strings(b: &[u8], n: u32) -> Option<Vec<OsString>> {
    let mut out = Vec::new();
    let mut rest = b;
    for _ in 0..n {
        let end = rest.iter().position(|&c| c == 0)?;
        out.push(OsString::from_vec(rest.get(..end)?.to_vec()));
        rest = rest.get(end + 1..)?;
    }
    rest.is_empty().then_some(out)
}

/// Decode a request payload, checking it as s6-sudod does (same messages), and more
/// strictly: the strings must fill their announced lengths exactly.
///
/// # Errors
/// `Usage`: `wrong client message`, `wrong client banner`, `wrong client argc/envlen`,
/// `too many args/envvars from client`, `bad arguments from client`,
/// `bad environment from client`.
pub fn decode_request(p: &[u8]) -> Result<Request, Error> {
    let bad = |m: &str| Err(Error::Usage(m.into()));
    if p.len() < FIXED_LEN {
        return bad("wrong client message");
    }
    if p.get(..15) != Some(&BANNER_CLIENT[..]) {
        return bad("wrong client banner");
    }
    let (Some(argc), Some(envc), Some(alen), Some(elen)) =
        (be32(p, 15), be32(p, 19), be32(p, 23), be32(p, 27))
    else {
        return bad("wrong client message");
    };
    if FIXED_LEN as u64 + u64::from(alen) + u64::from(elen) != p.len() as u64 {
        return bad("wrong client argc/envlen");
    }
    if argc > MAX_COUNT || envc > MAX_COUNT {
        return bad("too many args/envvars from client");
    }
    let alen = alen as usize;
    let (Some(abytes), Some(ebytes)) = (
        p.get(FIXED_LEN..FIXED_LEN + alen),
        p.get(FIXED_LEN + alen..),
    ) else {
        return bad("wrong client argc/envlen");
    };
    let Some(args) = split_strings(abytes, argc) else {
        return bad("bad arguments from client");
    };
    let Some(env) = split_strings(ebytes, envc) else {
        return bad("bad environment from client");
    };
    if env.iter().any(|e| !e.as_bytes().contains(&b'=')) {
        return bad("bad environment from client");
    }
    Ok(Request { args, env })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn roundtrip() -> Result<(), Box<dyn std::error::Error>> {
        let r = Request {
            args: os(&["a", "", "b c"]),
            env: os(&["FOO=", "X=y=z"]),
        };
        let p = encode_request(&r.args, &r.env)?;
        assert_eq!(decode_request(&p)?, r);
        let empty = encode_request(&[], &[])?;
        assert_eq!(empty.len(), FIXED_LEN);
        assert_eq!(decode_request(&empty)?.args.len(), 0);
        Ok(())
    }

    /// The bytes s6-sudoc 2.11.3.2 sent for `s6-sudo -e su a b` (strace).
    #[test]
    fn matches_s6_sudoc_bytes() -> Result<(), Box<dyn std::error::Error>> {
        let wire = b"\0\0\0#\0\x03s6-sudo a v1.0\n\0\0\0\x02\0\0\0\0\0\0\0\x04\0\0\0\0a\0b\0";
        let p = encode_request(&os(&["a", "b"]), &[])?;
        assert_eq!(
            &header(p.len(), 3).ok_or("no header for a 2-arg request")?[..],
            &wire[..6]
        );
        assert_eq!(&p[..], &wire[6..]);
        Ok(())
    }

    fn msg(e: Result<Request, Error>) -> String {
        e.unwrap_err().to_string()
    }

    #[test]
    fn malformed() -> Result<(), Box<dyn std::error::Error>> {
        let good = encode_request(&os(&["a"]), &os(&["K=v"]))?;
        assert_eq!(msg(decode_request(&good[..10])), "wrong client message");
        let mut b = good.clone();
        b[8] = b'X';
        assert_eq!(msg(decode_request(&b)), "wrong client banner");
        let mut b = good.clone();
        b.push(0);
        assert_eq!(msg(decode_request(&b)), "wrong client argc/envlen");
        let mut b = good.clone();
        b[15..19].copy_from_slice(&(MAX_COUNT + 1).to_be_bytes());
        assert_eq!(msg(decode_request(&b)), "too many args/envvars from client");
        let mut b = good.clone();
        b[15..19].copy_from_slice(&2u32.to_be_bytes());
        assert_eq!(msg(decode_request(&b)), "bad arguments from client");
        let b = encode_request(&os(&["a"]), &os(&["NOEQUALS"]))?;
        assert_eq!(msg(decode_request(&b)), "bad environment from client");
        // Lengths that overflow 32 bits when added.
        let mut b = good.clone();
        b[23..27].copy_from_slice(&u32::MAX.to_be_bytes());
        b[27..31].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(msg(decode_request(&b)), "wrong client argc/envlen");
        assert!(encode_request(&os(&["a\0b"]), &[]).is_err());
        Ok(())
    }

    /// Property test: random and mutated inputs never panic, and anything the decoder
    /// accepts re-encodes to the same bytes.
    #[test]
    fn fuzz_decoder() -> Result<(), Box<dyn std::error::Error>> {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let base = encode_request(&os(&["run", "x"]), &os(&["A=1", "B="]))?;
        let mut accepted = 0;
        for i in 0..200_000u32 {
            let input: Vec<u8> = if i % 2 == 0 {
                let mut b = base.clone();
                for _ in 0..(next() % 4 + 1) {
                    let at = (next() as usize) % b.len();
                    match next() % 3 {
                        0 => b[at] = next() as u8,
                        1 => {
                            b.remove(at);
                        }
                        _ => b.insert(at, next() as u8),
                    }
                }
                b
            } else {
                let len = (next() % 64) as usize;
                let mut b = BANNER_CLIENT.to_vec();
                b.extend((0..len).map(|_| next() as u8));
                b
            };
            if let Ok(r) = decode_request(&input) {
                accepted += 1;
                assert_eq!(encode_request(&r.args, &r.env)?, input);
            }
        }
        assert!(accepted > 0);
        Ok(())
    }
}
