//! The signature layer (in progress).
