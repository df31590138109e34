//! Tests: ipcserver.
