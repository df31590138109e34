//! Multi-step operations on paths that other users may be able to touch, done through
//! directory fds so that no planted link or swapped entry redirects them.
pub mod fifoclean;
pub mod fifodir;
pub mod idnames;
pub mod listen;
