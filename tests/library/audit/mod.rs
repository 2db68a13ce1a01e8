//! The audit layer, its redaction, and its counters through `metrics`.

mod http;
mod metrics;
mod metrics_memory;
mod redaction;
