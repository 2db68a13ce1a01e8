//! The idempotency layer with the in-memory store (the Redis store is in
//! `tests/redis`).

mod http;
mod lease;
