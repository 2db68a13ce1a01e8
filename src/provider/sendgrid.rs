//! sendgrid: see [`SENDGRID`].

use std::sync::Arc;

use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, NO_RETRIES_DOCUMENTED, UNDOCUMENTED};
use crate::signature::schemes;

/// sendgrid: what every way of building its receiver reads.
pub const SENDGRID: Provider = Provider {
    name: "sendgrid",
    scheme: || Arc::new(schemes::sendgrid::sendgrid()),
    signed: "X-Twilio-Email-Event-Webhook-Timestamp and the raw body (ECDSA P-256)",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none (the body is a batch of events): the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features (ECDSA P-256 over \"{timestamp}{body}\", base64 DER)",
    vectors: Vectors::Published(&[
        "sendgrid/sendgrid-python test/unit/test_eventwebhook.py",
    ]),
    ip_ranges: &[],
    ip_ranges_source: "not published: SendGrid says \"Our IPs change often since we constantly add more machines.\"",
    sends: &[],
    requires: &[],
};
