//! The lowest layer, with no I/O: errors (with the one error→exit-code map) and the
//! text of messages (strerror, escaping).
pub mod error;
pub mod text;
