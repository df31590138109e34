//! ipchttpgate's inputs: a client's request head and body, a chunked body alone, and a
//! rules file with a request judged against it. The first byte picks the parser.
#![no_main]

use ipccore::formats::httprules::{self, Client};
use ipccore::prog::ipchttpgate::body::Body;
use ipccore::prog::ipchttpgate::request::{self, Framing};
use libfuzzer_sys::fuzz_target;

const ID: &[u8] = b"X-Remote-Uid: 1\r\n";

/// A head the gate accepted, and rebuilt, is accepted again as the same request, with
/// no identity field but the gate's.
fn head_round_trip(data: &[u8]) {
    let data = data
        .get(request::leading_empty_lines(data)..)
        .unwrap_or_default();
    let Some(end) = request::head_end(data, 0) else {
        return;
    };
    let Ok(r) = request::parse_request(&data[..end], ID) else {
        return;
    };
    let again = match request::parse_request(&r.forward, b"") {
        Ok(a) => a,
        Err(e) => panic!(
            "rebuilt head refused: {e:?}: {:?}",
            String::from_utf8_lossy(&r.forward)
        ),
    };
    assert_eq!(
        (&again.method, &again.path, again.minor, again.framing),
        (&r.method, &r.path, r.minor, r.framing)
    );
    assert_eq!((again.keep_alive, again.upgrade), (r.keep_alive, r.upgrade));
    path_is_plain(&r.path);
    let text = String::from_utf8_lossy(&again.forward).to_ascii_lowercase();
    for line in text.split("\r\n").skip(1) {
        let name = line.split(':').next().unwrap_or_default();
        assert!(!request::IDENTITY_FIELDS.contains(&name), "{text:?}");
    }
    let body = &data[end..];
    let mut b = Body::new(r.framing);
    let mut out = Vec::new();
    let _ = b.transfer(body, Some(&mut out), 1 << 20);
    if let Framing::Length(n) = r.framing {
        assert!(out.len() as u64 <= n);
    }
}

/// The decoded path of an accepted request has the segments the rules see: no `.`,
/// `..` or empty one, no backslash, no control byte (an encoded `/`, `\\` or `.` was
/// refused, so decoding made no new segment).
fn path_is_plain(path: &[u8]) {
    assert_eq!(path.first(), Some(&b'/'), "{path:?}");
    assert!(!path.contains(&b'\\') && !path.iter().any(|&c| c < 0x20 || c == 0x7f));
    for seg in path.split(|&c| c == b'/').skip(1) {
        assert!(seg != b"." && seg != b"..", "{path:?}");
    }
    assert!(!path.windows(2).any(|w| w == b"//"), "{path:?}");
}

/// A chunked body that decodes re-encodes to bytes that decode to themselves.
fn chunked_round_trip(data: &[u8]) {
    let mut b = Body::new(Framing::Chunked);
    let mut out = Vec::new();
    let Ok(used) = b.transfer(data, Some(&mut out), 1 << 20) else {
        return;
    };
    assert!(used <= data.len());
    if !b.done() {
        return;
    }
    let mut again = Body::new(Framing::Chunked);
    let mut out2 = Vec::new();
    assert_eq!(
        again.transfer(&out, Some(&mut out2), 1 << 20),
        Ok(out.len())
    );
    assert!(again.done());
    assert_eq!(out, out2);
}

/// Rules, then 0xff, then METHOD 0xfe PATH 0xfe uid/egid/group bytes.
fn judge(data: &[u8]) {
    let mut parts = data.splitn(2, |&b| b == 0xff);
    let text = parts.next().unwrap_or_default();
    let req = parts.next().unwrap_or_default();
    let Ok(rules) = httprules::parse(text) else {
        return;
    };
    let mut f = req.splitn(3, |&b| b == 0xfe);
    let method = f.next().unwrap_or_default();
    let path = f.next().unwrap_or_default();
    let ids = f.next().unwrap_or_default();
    let n = |i: usize| u32::from(ids.get(i).copied().unwrap_or(0));
    let client = Client {
        uid: n(0),
        egid: n(1),
        groups: vec![n(2), n(3)],
    };
    match rules.judge(method, path, &client) {
        httprules::Verdict::Allow(l) | httprules::Verdict::Deny(Some(l)) => {
            assert!(l >= 1 && l <= text.split(|&b| b == b'\n').count())
        }
        httprules::Verdict::Deny(None) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, data)) = data.split_first() else {
        return;
    };
    match sel % 3 {
        0 => head_round_trip(data),
        1 => chunked_round_trip(data),
        _ => judge(data),
    }
});
