//! The lowest layer, with no I/O: errors (with the one error→exit-code map) and the
//! text of messages (strerror, escaping), and the UCSPI fd numbers and variable names.
pub mod error;
pub mod idnames;
pub mod rulekey;
pub mod text;
pub mod ucspi;
