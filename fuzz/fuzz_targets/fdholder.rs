//! The s6-fdholder wire: the framing receiver (byte stream cut into messages), every
//! request decoder ipcfdholderd runs on client input, and the answer decoders the
//! clients run on daemon input. Never panics; a request that decodes encodes back to
//! the same bytes; a receiver never hands out more than it was fed.
#![no_main]

use ipccore::formats::fdholder::{self as wire, Receiver};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let nfds = usize::from(sel & 7);
    if let Ok(r) = wire::decode_request(rest, nfds) {
        assert_eq!(r.nfds(), nfds);
        assert_eq!(wire::encode_request(&r), rest);
    }
    let _ = wire::decode_list(rest);
    let _ = wire::decode_counts(rest, usize::from(sel >> 6));
    let _ = wire::decode_chunk(rest, nfds);
    let _ = wire::Tain::scan_timestamp(rest);
    // The receiver, fed in pieces: frames come out whole, in order, within limits.
    let mut rx = Receiver::new(wire::REQUEST_MAX);
    let mut out = 0usize;
    for piece in rest.chunks(usize::from(sel >> 3).max(1)) {
        if rx.feed(piece, Vec::new()).is_err() {
            return;
        }
        loop {
            match rx.next_frame() {
                Ok(Some(f)) => {
                    assert!(f.data.len() <= wire::REQUEST_MAX);
                    assert!(f.fds.is_empty());
                    out += wire::HEADER_LEN + f.data.len();
                    let _ = wire::decode_request(&f.data, 0);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    assert!(out <= rest.len());
});
