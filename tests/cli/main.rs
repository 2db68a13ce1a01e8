//! The tests that run processes: the `tower-webhook` command, and the
//! examples built as binaries (the demo receiver with the curl lines it
//! prints, the Prometheus example).

#[path = "../support/mod.rs"]
mod support;

mod command;
#[cfg(feature = "metrics")]
mod prometheus;
mod receiver;
mod sealed_tenants;
