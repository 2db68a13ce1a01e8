//! The audit counters, a latency histogram and the idempotency layer's
//! health through the [`metrics`] facade (feature `metrics`): the exporter
//! the application installs (Prometheus, OpenTelemetry, StatsD, ...)
//! publishes them. Without one installed they allocate nothing per request:
//! every label set is built once and reused.
//!
//! Every [`AuditLayer`](super::AuditLayer) records, as it adds to its
//! [`counts`](super::AuditLayer::counts):
//!
//! | name | labels | what |
//! |---|---|---|
//! | `webhook_requests_total` | `provider`, `outcome`, `reason` | requests |
//! | `webhook_rejections_total` | `provider`, `reason` | rejections by reason, and answers (duplicates, handshakes) by kind |
//! | `webhook_request_duration_seconds` | `provider`, `outcome` | histogram: time from the audit layer to the response head |
//! | `webhook_service_errors_total` | | requests the inner service answered with `Err` |
//! | `webhook_requests_by_tenant_total` | `tenant`, `method` | requests per tenant and authentication method |
//! | `webhook_audit_sink_panics_total` | | events a sink panicked on |
//!
//! and every [`IdempotencyLayer`](crate::idempotency::IdempotencyLayer):
//!
//! | name | labels | what |
//! |---|---|---|
//! | `webhook_idempotency_leases_lost_total` | | leases the store reported gone while the handler ran (alert) |
//! | `webhook_idempotency_completions_lost_total` | | completions that could not be recorded (alert) |
//! | `webhook_idempotency_store_errors_total` | `operation`, `error` | store calls that failed |
//!
//! Label values are bounded:
//!
//! * `provider`: the name of the signature scheme that checked the
//!   request (a provider preset's name: `github`, `stripe`, ...; a custom
//!   scheme's own name). Names come from your configuration, never from a
//!   request; past 64 distinct names the rest count as `other`.
//!   `none` when no signature was checked (a token route, a
//!   request refused before the signature layer);
//! * `outcome`: an [`Outcome`] name: `accepted`,
//!   `rejected`, `duplicate`, `handshake` or `answered`;
//! * `reason`: a [`Reason`] name (a custom check's own
//!   included: names from your code, never from a request), the kind of an
//!   [`Answer`](crate::Answer) (`duplicate`, `handshake`, ...) for a request
//!   a layer answered, or `none` for a request the handler ran for;
//! * `method`: an [`AuthMethod`](crate::AuthMethod) name or `none` (which
//!   is also where requests refused for their credential count);
//! * `tenant`: `""` without a tenant; each audit layer labels at most
//!   10,000 tenant × method pairs
//!   and counts the tenants past them as
//!   `(other)`, so names sent by strangers
//!   cannot grow an exporter without limit;
//! * `operation`: `reserve`, `renew`, `complete`, `release`; `error`:
//!   `timeout`, `backend`, `corrupt`.
//!
//! Alert on `webhook_idempotency_leases_lost_total` and
//! `webhook_idempotency_completions_lost_total` (a delivery may have run
//! twice), on a rising share of `webhook_idempotency_store_errors_total`
//! with `operation="reserve"` (deliveries refused with `503`), and on
//! `webhook_requests_total{outcome="rejected"}` by `provider` and `reason`
//! (a rotated secret shows as `signature_mismatch` for one provider).
//!
//! [`describe`] gives each series its help text and unit; call it once
//! after installing the recorder. The Prometheus exporter renders a
//! histogram as a summary unless given buckets: `examples/prometheus.rs`
//! sets [`LATENCY_BUCKETS`].
//!
//! ```
//! use tower_webhook::audit::{metrics, AuditLayer};
//!
//! // Install any `metrics` recorder (an exporter) once at start-up, then:
//! metrics::describe();
//! let audit = AuditLayer::new();
//! # let _ = audit;
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};
use std::time::Duration;

use ::metrics::{Key, Label, SharedString, Unit};

use super::event::{AuditEvent, Outcome};
use crate::rejection::Reason;
use crate::telemetry::{increment, labels, recent, Recent, METADATA};
pub(crate) use crate::telemetry::{
    IDEMPOTENCY_COMPLETIONS_LOST, IDEMPOTENCY_LEASES_LOST, IDEMPOTENCY_STORE_ERRORS,
};

/// Requests, labelled `provider`, `outcome` and `reason`.
pub(crate) const REQUESTS: &str = "webhook_requests_total";
/// Rejections (and duplicates), labelled `provider` and `reason`.
pub(crate) const REJECTIONS: &str = "webhook_rejections_total";
/// Histogram of the time from the audit layer to the response head, in
/// seconds, labelled `provider` and `outcome`.
pub(crate) const LATENCY: &str = "webhook_request_duration_seconds";
/// Requests the inner service answered with `Err`.
pub(crate) const SERVICE_ERRORS: &str = "webhook_service_errors_total";
/// Requests, labelled `tenant` and `method`.
pub(crate) const REQUESTS_BY_TENANT: &str = "webhook_requests_by_tenant_total";
/// Events a sink panicked on.
pub(crate) const SINK_PANICS: &str = "webhook_audit_sink_panics_total";

/// The `provider` of a request checked by a scheme past the first 64
/// distinct names.
pub(crate) const OTHER_PROVIDER: &str = "other";
/// The `provider` of a request no signature scheme checked.
pub(crate) const NO_PROVIDER: &str = "none";

/// Histogram buckets for `webhook_request_duration_seconds`, in seconds: a verified delivery takes
/// microseconds, a handler up to seconds.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How many distinct scheme names get a `provider` label of their own;
/// later ones count under `other`.
pub(crate) const MAX_PROVIDER_LABELS: usize = 64;

/// The scheme names labelled so far, kept for the life of the process.
/// Scheme names come from the configuration (a preset's name, a custom
/// scheme's), never from a request, so the set stays small; the cap guards
/// a program that builds schemes with generated names.
static PROVIDER_LABELS: RwLock<Vec<&'static str>> = RwLock::new(Vec::new());

/// The `provider` label of a request checked by `scheme`: the scheme's
/// name (a provider preset's name, such as `github`), `other`
/// past the first 64 names, or `none`.
pub(crate) fn provider_label(scheme: Option<&str>) -> &'static str {
    match scheme {
        None => NO_PROVIDER,
        Some(scheme) => interned_label(&PROVIDER_LABELS, MAX_PROVIDER_LABELS, scheme),
    }
}

fn interned_label(labels: &RwLock<Vec<&'static str>>, cap: usize, scheme: &str) -> &'static str {
    let known = labels.read().unwrap_or_else(PoisonError::into_inner);
    if let Some(label) = known.iter().find(|label| **label == scheme) {
        return label;
    }
    let full = known.len() >= cap;
    drop(known);
    if full {
        return OTHER_PROVIDER;
    }
    let mut known = labels.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(label) = known.iter().find(|label| **label == scheme) {
        return label;
    }
    if known.len() >= cap {
        return OTHER_PROVIDER;
    }
    // Leaked once per distinct configured name, at most
    // MAX_PROVIDER_LABELS times: the label must outlive every series.
    let label: &'static str = Box::leak(scheme.to_owned().into_boxed_str());
    known.push(label);
    label
}

/// Give every series its help text and unit in the installed recorder, and
/// create the idempotency health series at 0, so an alert on them sees
/// them before the first fault (an absent series looks like no fault).
pub fn describe() {
    use ::metrics::{describe_counter, describe_histogram};
    describe_counter!(
        REQUESTS,
        Unit::Count,
        "Webhook requests by provider, outcome and reason"
    );
    describe_counter!(
        REJECTIONS,
        Unit::Count,
        "Webhook requests a layer answered instead of the handler, by provider and reason"
    );
    describe_histogram!(
        LATENCY,
        Unit::Seconds,
        "Time from the audit layer to the response head"
    );
    describe_counter!(
        SERVICE_ERRORS,
        Unit::Count,
        "Webhook requests the inner service answered with an error"
    );
    describe_counter!(
        REQUESTS_BY_TENANT,
        Unit::Count,
        "Webhook requests by tenant and authentication method"
    );
    describe_counter!(SINK_PANICS, Unit::Count, "Audit events a sink panicked on");
    describe_counter!(
        IDEMPOTENCY_LEASES_LOST,
        Unit::Count,
        "Idempotency leases lost while the handler ran: a copy may have run concurrently"
    );
    describe_counter!(
        IDEMPOTENCY_COMPLETIONS_LOST,
        Unit::Count,
        "Idempotency completions never recorded: a later copy may run again"
    );
    describe_counter!(
        IDEMPOTENCY_STORE_ERRORS,
        Unit::Count,
        "Idempotency store calls that failed, by operation and error"
    );
    let zero = |name, pairs: &[(&'static str, &'static str)]| {
        let key = Key::from_static_parts(name, labels(pairs));
        // `increment(0)` creates the series without resetting one that
        // already counted.
        ::metrics::with_recorder(|recorder| {
            recorder.register_counter(&key, &METADATA).increment(0)
        });
    };
    zero(IDEMPOTENCY_LEASES_LOST, &[]);
    zero(IDEMPOTENCY_COMPLETIONS_LOST, &[]);
    for operation in ["reserve", "renew", "complete", "release"] {
        for error in ["timeout", "backend", "corrupt"] {
            zero(
                IDEMPOTENCY_STORE_ERRORS,
                &[("operation", operation), ("error", error)],
            );
        }
    }
}

/// The key of one tenant × method series: built once per series, when
/// audit counters first count the pair.
pub(crate) fn tenant_key(tenant: Arc<str>, method: &'static str) -> Arc<Key> {
    Arc::new(Key::from_parts(
        REQUESTS_BY_TENANT,
        vec![
            Label::new("tenant", SharedString::from(tenant)),
            Label::from_static_parts("method", method),
        ],
    ))
}

/// The keys one (provider, outcome, reason) combination records into,
/// built once: a key hashes its name and labels when it is built, which
/// per event would cost more than the recording itself.
struct Series {
    requests: Key,
    rejections: Option<Key>,
    latency: Key,
}

impl Series {
    fn build(provider: &'static str, outcome: &'static str, reason: Option<&'static str>) -> Self {
        let reason_label = reason.unwrap_or("none");
        Self {
            requests: Key::from_static_parts(
                REQUESTS,
                labels(&[
                    ("provider", provider),
                    ("outcome", outcome),
                    ("reason", reason_label),
                ]),
            ),
            rejections: reason.map(|reason| {
                Key::from_static_parts(
                    REJECTIONS,
                    labels(&[("provider", provider), ("reason", reason)]),
                )
            }),
            latency: Key::from_static_parts(
                LATENCY,
                labels(&[("provider", provider), ("outcome", outcome)]),
            ),
        }
    }
}

/// Every combination seen, kept for the life of the process: bounded by
/// the label domains (65 providers × 4 outcomes × the reasons).
type SeriesTable = HashMap<(&'static str, &'static str, Option<&'static str>), &'static Series>;
static SERIES: LazyLock<RwLock<SeriesTable>> = LazyLock::new(|| RwLock::new(HashMap::new()));

fn shared_series(
    scheme: Option<&str>,
    outcome: &'static str,
    reason: Option<&'static str>,
) -> &'static Series {
    let provider = provider_label(scheme);
    let key = (provider, outcome, reason);
    if let Some(series) = SERIES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return series;
    }
    let mut all = SERIES.write().unwrap_or_else(PoisonError::into_inner);
    all.entry(key)
        .or_insert_with(|| Box::leak(Box::new(Series::build(provider, outcome, reason))))
}

/// The series of `event`. Most events repeat a combination this thread saw
/// moments ago: found by comparing the scheme name's address (the cache
/// holds a clone, so the address cannot be reused by another name while
/// cached), without the interning lock or a string comparison.
fn series_of(event: &AuditEvent) -> &'static Series {
    type Seen = (Option<Arc<str>>, Outcome, Option<&'static str>);
    thread_local! {
        static RECENT: Recent<Seen, &'static Series> = const { RefCell::new(Vec::new()) };
    }
    // An answer is labelled with its kind: the series dashboards already
    // read duplicates and handshakes from.
    let labelled = event.reason.map(Reason::as_str).or(event.answer);
    let same_scheme = |cached: &Option<Arc<str>>| match (cached, &event.scheme) {
        (Some(cached), Some(scheme)) => Arc::ptr_eq(cached, scheme),
        (None, None) => true,
        _ => false,
    };
    recent(
        &RECENT,
        |(scheme, outcome, reason)| {
            *outcome == event.outcome && *reason == labelled && same_scheme(scheme)
        },
        || {
            let series = shared_series(event.scheme.as_deref(), event.outcome.as_str(), labelled);
            ((event.scheme.clone(), event.outcome, labelled), series)
        },
    )
}

/// Count `event`; `tenant` is the key of the series
/// audit counters counted it under (already
/// bounded).
pub(crate) fn record(event: &AuditEvent, tenant: &Key) {
    let series = series_of(event);
    let seconds = Duration::from_micros(event.latency_us).as_secs_f64();
    ::metrics::with_recorder(|recorder| {
        recorder
            .register_counter(&series.requests, &METADATA)
            .increment(1);
        if let Some(rejections) = &series.rejections {
            recorder
                .register_counter(rejections, &METADATA)
                .increment(1);
        }
        if event.service_error {
            recorder
                .register_counter(&SERVICE_ERRORS_KEY, &METADATA)
                .increment(1);
        }
        recorder.register_counter(tenant, &METADATA).increment(1);
        recorder
            .register_histogram(&series.latency, &METADATA)
            .record(seconds);
    });
}

static SERVICE_ERRORS_KEY: Key = Key::from_static_name(SERVICE_ERRORS);

pub(crate) fn record_sink_panic() {
    increment(SINK_PANICS, &[]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_names_are_labels_up_to_the_cap_then_other() {
        let labels = RwLock::new(Vec::new());
        assert_eq!(interned_label(&labels, 3, "github"), "github");
        assert_eq!(interned_label(&labels, 3, "mine"), "mine");
        assert_eq!(interned_label(&labels, 3, "third"), "third");
        assert_eq!(interned_label(&labels, 3, "fourth"), OTHER_PROVIDER);
        assert_eq!(interned_label(&labels, 3, "github"), "github");
        assert_eq!(labels.read().unwrap().len(), 3);
    }

    #[test]
    fn a_scheme_name_is_its_own_label_and_no_scheme_is_none() {
        assert_eq!(provider_label(Some("github")), "github");
        assert_eq!(provider_label(Some("my-custom-scheme")), "my-custom-scheme");
        assert_eq!(provider_label(None), NO_PROVIDER);
    }
}
