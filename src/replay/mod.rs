//! The replay layer (in progress).
