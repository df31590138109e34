//! The s6-fdholder wire: the framing receiver (byte stream cut into messages), every
//! request decoder ipcfdholderd runs on client input, and the answer decoders the
//! clients run on daemon input. Never panics; a request that decodes encodes back to
//! the same bytes; a receiver never hands out more than it was fed, bytes or fds, and
//! loses no fd: each one fed is in a frame, still pending (the daemon's fd budget
//! counts them) or closed by `drop_fds`, and none stays open after the receiver goes.
#![no_main]

use ipccore::formats::fdholder::{self as wire, Receiver};
use libfuzzer_sys::fuzz_target;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::OnceLock;

/// A new fd (a dup of one /dev/null kept open), to feed the receiver as if received.
fn new_fd() -> OwnedFd {
    static NULL: OnceLock<std::fs::File> = OnceLock::new();
    let null = NULL.get_or_init(|| std::fs::File::open("/dev/null").expect("/dev/null"));
    null.as_fd().try_clone_to_owned().expect("dup")
}

/// The lowest free fd number: the same before and after means none was leaked.
fn lowest_free() -> i32 {
    new_fd().as_raw_fd()
}

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
    let free = lowest_free();
    receive(sel, rest);
    assert_eq!(lowest_free(), free, "an fd fed to the receiver stayed open");
});

/// The receiver, fed in pieces (with sel bit 2, each piece brings `piece[0] % 4` fds):
/// frames come out whole, in order, within limits, and every fd is accounted for.
fn receive(sel: u8, rest: &[u8]) {
    let mut rx = Receiver::new(wire::REQUEST_MAX);
    let (mut out, mut fed, mut taken) = (0usize, 0usize, 0usize);
    for piece in rest.chunks(usize::from(sel >> 3).max(1)) {
        let n = if sel & 4 != 0 {
            usize::from(piece[0] % 4)
        } else {
            0
        };
        if rx.feed(piece, (0..n).map(|_| new_fd()).collect()).is_err() {
            return;
        }
        fed += n;
        loop {
            match rx.next_frame() {
                Ok(Some(f)) => {
                    assert!(f.data.len() <= wire::REQUEST_MAX);
                    assert!(f.fds.len() <= wire::MSG_MAXFDS && f.lost == 0);
                    out += wire::HEADER_LEN + f.data.len();
                    taken += f.fds.len();
                    let _ = wire::decode_request(&f.data, f.fds.len());
                }
                Ok(None) => break,
                Err(_) => {
                    assert_eq!(fed, taken + rx.pending_fds());
                    rx.drop_fds();
                    assert_eq!(rx.pending_fds(), 0);
                    return;
                }
            }
            assert_eq!(fed, taken + rx.pending_fds());
        }
    }
    assert!(out <= rest.len());
    assert_eq!(rx.has_partial(), out < rest.len() || rx.pending_fds() > 0);
}
