//! Tests: fifodir.
