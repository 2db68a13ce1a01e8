//! The ip layer (in progress).
