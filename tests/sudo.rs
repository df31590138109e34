//! Tests: sudo.
