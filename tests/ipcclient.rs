//! Tests: ipcclient.
