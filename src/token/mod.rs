//! The token layer (in progress).
