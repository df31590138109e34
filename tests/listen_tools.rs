//! Tests: listen_tools.
