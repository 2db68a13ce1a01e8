//! Where audit events go.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use super::event::{AuditEvent, EventNames, Outcome};

/// Receives every audit event, on the request's task: it must not block.
/// A sink that panics loses that event and is counted in
/// [`AuditCounts::sink_panics`](super::AuditCounts::sink_panics); the
/// request is not affected.
/// Closures `Fn(&AuditEvent)` are sinks; for slow work hand the event to a
/// [`ChannelSink`] or [`JsonLinesSink`], whose cost per request is bounded.
pub trait AuditSink: Send + Sync + 'static {
    /// Take one event.
    fn record(&self, event: &AuditEvent);
}

impl<F> AuditSink for F
where
    F: Fn(&AuditEvent) + Send + Sync + 'static,
{
    fn record(&self, event: &AuditEvent) {
        self(event)
    }
}

/// Emits each event through [`tracing`] with target `tower_webhook::audit`:
/// accepted ones and duplicates at `INFO`, rejected ones and an inbox
/// worker's (retries, dead letters, takeovers, lost holds) at `WARN`, one
/// structured field per event field (the authentication method as `auth`
/// under [`EventNames::Seed`](super::EventNames::Seed)).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TracingSink;

impl AuditSink for TracingSink {
    fn record(&self, e: &AuditEvent) {
        // tracing's field names are fixed at compile time: one arm per
        // spelling of the authentication field and per level.
        macro_rules! emit {
            ($level:ident, $auth:ident) => {
                tracing::$level!(
                    target: "tower_webhook::audit",
                    timestamp = %e.timestamp,
                    request_id = e.request_id.as_deref(),
                    outcome = e.outcome.as_str(),
                    reason = e.reason.map(|r| r.as_str()),
                    answer = e.answer,
                    detail = e.detail.as_deref(),
                    status = e.status,
                    grpc_status = e.grpc_status,
                    $auth = e.auth_method,
                    auth_attempted = e.auth_attempted,
                    key_id = e.key_id.as_deref(),
                    scheme = e.scheme.as_deref(),
                    tenant = e.tenant.as_deref(),
                    client_ip = e.client_ip.map(tracing::field::display),
                    idempotency_key = e.idempotency_key.as_deref(),
                    method = e.method.as_ref().map(http::Method::as_str),
                    path = %e.path,
                    latency_us = e.latency_us,
                    service_error = e.service_error,
                    cancelled = e.cancelled,
                    handshake = e.handshake,
                    inbox_key = e.inbox_key.as_deref(),
                    attempt = e.attempt,
                    "{}",
                    e.event
                )
            };
        }
        let seed = e.names == EventNames::Seed;
        let warn = e.outcome == Outcome::Rejected || e.outcome.is_inbox();
        match (warn, seed) {
            (true, false) => emit!(warn, auth_method),
            (true, true) => emit!(warn, auth),
            (false, false) => emit!(info, auth_method),
            (false, true) => emit!(info, auth),
        }
    }
}

/// Hands events to a bounded channel. When it is full the event is dropped
/// and counted: a request never waits for the consumer. Clone it to keep a
/// handle on [`dropped`](Self::dropped).
#[derive(Debug, Clone)]
pub struct ChannelSink {
    sender: SyncSender<AuditEvent>,
    dropped: Arc<AtomicU64>,
}

impl ChannelSink {
    /// A sink holding at most `capacity` unread events, and the receiving
    /// end (blocking: read it from a thread or `spawn_blocking`).
    pub fn bounded(capacity: usize) -> (Self, Receiver<AuditEvent>) {
        let (sender, receiver) = mpsc::sync_channel(capacity);
        let sink = Self {
            sender,
            dropped: Arc::default(),
        };
        (sink, receiver)
    }

    /// Events dropped because the channel was full or its receiver gone.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl AuditSink for ChannelSink {
    fn record(&self, event: &AuditEvent) {
        match self.sender.try_send(event.clone()) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Writes each event as one JSON line to any [`Write`]r, from a background
/// thread fed by a bounded channel: a slow or failing writer costs a request
/// at most a dropped (and counted) line. Write errors are skipped.
#[derive(Debug, Clone)]
pub struct JsonLinesSink {
    channel: ChannelSink,
}

impl JsonLinesSink {
    /// Unwritten lines kept before new ones are dropped.
    pub const DEFAULT_CAPACITY: usize = 1024;

    /// Write to `writer` (e.g. `std::io::stdout()`, a file).
    pub fn new(writer: impl Write + Send + 'static) -> std::io::Result<Self> {
        Self::with_capacity(writer, Self::DEFAULT_CAPACITY)
    }

    /// Write to `writer`, keeping at most `capacity` unwritten lines.
    pub fn with_capacity(
        mut writer: impl Write + Send + 'static,
        capacity: usize,
    ) -> std::io::Result<Self> {
        let (channel, receiver) = ChannelSink::bounded(capacity);
        std::thread::Builder::new()
            .name("tower-webhook-audit".into())
            .spawn(move || {
                for event in receiver {
                    let mut line = event.to_json();
                    line.push('\n');
                    // A failing writer loses lines, never requests.
                    let _ = writer
                        .write_all(line.as_bytes())
                        .and_then(|()| writer.flush());
                }
            })?;
        Ok(Self { channel })
    }

    /// Lines dropped because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.channel.dropped()
    }
}

impl AuditSink for JsonLinesSink {
    fn record(&self, event: &AuditEvent) {
        self.channel.record(event);
    }
}

/// A sink that sees only one outcome: [`AuditLayer::on_accept`] and
/// [`AuditLayer::on_reject`](super::AuditLayer::on_reject).
///
/// [`AuditLayer::on_accept`]: super::AuditLayer::on_accept
pub(crate) struct OnOutcome<F> {
    pub(crate) outcome: Outcome,
    pub(crate) callback: F,
}

impl<F> AuditSink for OnOutcome<F>
where
    F: Fn(&AuditEvent) + Send + Sync + 'static,
{
    fn record(&self, event: &AuditEvent) {
        if event.outcome == self.outcome {
            (self.callback)(event);
        }
    }
}
