//! The s6-sudo v1.0 messages ipcsudod reads from a client and ipcsudoc reads back:
//! the request payload, the unixmessage header, the environment merge and the wait
//! status. A request that decodes must encode back to the same bytes.
#![no_main]

use ipccore::formats::sudo as wire;
use ipccore::prog::ipcsudo::{ipcsudoc, ipcsudod};
use libfuzzer_sys::fuzz_target;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = wire::decode_request(data) {
        let again = wire::encode_request(&req.args, &req.env).expect("re-encode");
        assert_eq!(again, data);
        // The server's environment decides which client variables get in.
        let server: Vec<(OsString, OsString)> = req
            .env
            .iter()
            .take(8)
            .enumerate()
            .map(|(i, kv)| {
                let name: Vec<u8> = kv
                    .as_encoded_bytes()
                    .split(|&c| c == b'=')
                    .next()
                    .unwrap_or_default()
                    .to_vec();
                let value = if i % 2 == 0 {
                    OsString::new()
                } else {
                    "x".into()
                };
                (OsString::from_vec(name), value)
            })
            .collect();
        let merged = ipcsudod::merge_env(&server, &req.env);
        assert_eq!(merged.len(), server.len());
        for ((k0, v0), (k1, v1)) in server.iter().zip(&merged) {
            assert_eq!(k0, k1);
            if !v0.is_empty() {
                assert_eq!(v0, v1);
            }
        }
    }
    if let Some(h) = data.first_chunk::<{ wire::HEADER_LEN }>() {
        let (len, n) = wire::parse_header(h);
        assert_eq!(wire::header(len as usize, n as usize).as_ref(), Some(h));
    }
    if let Some(w) = data.first_chunk::<4>() {
        let _ = ipcsudoc::exit_code(u32::from_be_bytes(*w));
    }
});
