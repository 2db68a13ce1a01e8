//! The idempotency layer (in progress).
