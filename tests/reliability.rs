//! Tests: reliability and security (issue 8).
