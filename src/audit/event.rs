//! [`AuditEvent`]: what the audit layer records about one request.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::context::Verification;
use crate::rejection::Reason;

/// Whether the handler ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every layer let the request through: the handler ran
    /// (`webhook.accepted`).
    Accepted,
    /// A layer answered instead of the handler (`webhook.rejected`),
    /// including a duplicate acknowledged with `200`, or the inner service
    /// failed with an error instead of answering
    /// ([`AuditEvent::service_error`]).
    Rejected,
}

impl Outcome {
    /// The event name: `webhook.accepted` or `webhook.rejected`.
    pub const fn event_name(self) -> &'static str {
        match self {
            Outcome::Accepted => "webhook.accepted",
            Outcome::Rejected => "webhook.rejected",
        }
    }

    /// `accepted` or `rejected`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Rejected => "rejected",
        }
    }
}

/// One request as the audit trail keeps it. It holds no secret, token or
/// signature value, and the path without its query and with its token
/// segments redacted (URL tokens live there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuditEvent {
    /// `webhook.accepted` or `webhook.rejected`.
    pub event: &'static str,
    /// Whether the handler ran.
    pub outcome: Outcome,
    /// Why a layer refused, as its stable name.
    #[serde(serialize_with = "reason_name")]
    pub reason: Option<Reason>,
    /// The response status sent.
    pub status: u16,
    /// How the sender authenticated (`signature`, `token (legacy)`, ...).
    pub auth_method: Option<&'static str>,
    /// The id of the key or token that matched.
    pub key_id: Option<Arc<str>>,
    /// The scheme or provider preset (`github`, `stripe`, ...).
    pub scheme: Option<Arc<str>>,
    /// The tenant the request was for.
    pub tenant: Option<Arc<str>>,
    /// The client address as the IP filter resolved it.
    pub client_ip: Option<IpAddr>,
    /// The idempotency key.
    pub idempotency_key: Option<Arc<str>>,
    /// The request method.
    pub method: String,
    /// The request path, without the query, and with every path segment
    /// that held a token (or a guess at one) as `<redacted>`.
    pub path: String,
    /// Time from the request reaching the audit layer to the response head.
    pub latency_us: u64,
    /// The inner service returned `Err` instead of a response. The event is
    /// then `webhook.rejected` (no answer of the handler reached the sender,
    /// who will retry), its status 500 (what a server answers for it), its
    /// reason `None` unless a layer had refused first. The error itself is
    /// not recorded: it may quote the request.
    pub service_error: bool,
    /// The request was dropped before it was answered, e.g. the client
    /// disconnected. The status is then
    /// [`CANCELLED_STATUS`](super::CANCELLED_STATUS) (499), and the outcome
    /// says whether a layer had refused it or it had reached the handler.
    pub cancelled: bool,
}

fn reason_name<S: serde::Serializer>(reason: &Option<Reason>, s: S) -> Result<S::Ok, S::Error> {
    match reason {
        Some(reason) => s.serialize_some(reason.as_str()),
        None => s.serialize_none(),
    }
}

impl AuditEvent {
    /// Build the event from what the layers recorded.
    pub(crate) fn new(
        verification: Verification,
        status: u16,
        method: &http::Method,
        path: &str,
        latency: Duration,
        service_error: bool,
        cancelled: bool,
    ) -> Self {
        let outcome = if verification.rejection.is_some() || service_error {
            Outcome::Rejected
        } else {
            Outcome::Accepted
        };
        let (auth_method, key_id, scheme) = match verification.authentication {
            Some(auth) => (Some(auth.method.as_str()), auth.key_id, auth.scheme),
            None => (None, None, None),
        };
        Self {
            event: outcome.event_name(),
            outcome,
            reason: verification.rejection,
            status,
            auth_method,
            key_id,
            scheme,
            tenant: verification.tenant,
            client_ip: verification.client_ip,
            idempotency_key: verification.idempotency_key,
            method: method.as_str().to_owned(),
            path: path.to_owned(),
            latency_us: u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            service_error,
            cancelled,
        }
    }

    /// The event as one line of JSON (no trailing newline).
    pub fn to_json(&self) -> String {
        // Only strings, numbers and options of them: serialisation cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}
