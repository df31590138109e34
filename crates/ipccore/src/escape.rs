//! Untrusted bytes made safe for a log line: printable ASCII stays, backslash, newline,
//! tab and carriage return get C escapes, everything else (controls, escape sequences,
//! non-UTF-8, non-ASCII) is `\xNN`. Nothing a client or a hostile directory supplies can
//! forge a line or reach the admin's terminal raw.

/// `bytes` escaped for a diagnostic.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_controls_and_non_ascii() {
        assert_eq!(super::escape(b"a b/c"), "a b/c");
        assert_eq!(
            super::escape(b"x\ny\x1b[1m\xff\\"),
            "x\\ny\\x1b[1m\\xff\\\\"
        );
    }
}
