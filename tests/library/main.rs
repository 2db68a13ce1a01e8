//! The library's integration tests, one module per layer or topic, plus
//! `attacks` (the attacker's view of the whole stack). Most go through a
//! real HTTP server on 127.0.0.1 (`support`). No test here starts a
//! process: the tests that start `redis-server` are in `tests/redis`, the
//! ones that run the command or the examples as processes in `tests/cli`.
//!
//! One binary: every test here runs in a thread of the same process, so none
//! may set process-wide state (environment variables, a global `metrics`
//! recorder or `tracing` subscriber, fixed ports or files).

#[path = "../support/mod.rs"]
mod support;

mod alloc;

mod attacks;
mod audit;
mod client;
mod examples;
mod handshake;
mod idempotency;
mod ip_filter;
mod providers;
mod replay;
mod signature;
mod stack;
mod tenant;
mod token;
