//! [`AuditEvent`]: what the audit layer records about one request.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::ser::SerializeMap;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::context::{AuthMethod, Verification};
use crate::rejection::Reason;

/// What became of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Every layer let the request through: the handler ran
    /// (`webhook.accepted`).
    Accepted,
    /// A layer refused the request (`webhook.rejected`), or the
    /// inner service failed with an error instead of answering
    /// ([`AuditEvent::service_error`]).
    Rejected,
    /// A delivery already handled, acknowledged (`200`) without running the
    /// handler again (`webhook.duplicate`): the sender retried, nothing is
    /// wrong.
    Duplicate,
    /// A provider handshake (URL verification, challenge, ping) answered by
    /// a [`handshake`](crate::handshake) check (`webhook.handshake`).
    Handshake,
    /// A check of the application's answered on the handler's behalf
    /// (`webhook.answered`), under its own [`Answer`](crate::Answer) kind.
    Answered,
    /// An inbox worker's attempt at a delivery failed (the handler returned
    /// `Err`, panicked or ran past its timeout); it will be retried
    /// (`webhook.inbox.retry`). Recorded by a
    /// [`Worker`](crate::inbox::Worker) given an audit layer, as are the
    /// three below.
    Retry,
    /// A delivery's last attempt failed: it is in the dead letters
    /// (`webhook.inbox.dead_lettered`).
    DeadLettered,
    /// A worker took over a delivery whose holder showed no progress for
    /// the lease (`webhook.inbox.taken_over`).
    TakenOver,
    /// A worker found its hold on a delivery gone when the handler ended:
    /// another took it over while it ran, so it may have run twice
    /// (`webhook.inbox.hold_lost`; alert on it).
    HoldLost,
}

impl Outcome {
    /// The event name: `webhook.accepted`, `webhook.rejected`,
    /// The event name: `webhook.accepted`, `webhook.rejected`,
    /// `webhook.duplicate`, `webhook.handshake`, `webhook.answered`,
    /// `webhook.inbox.retry`, ... (see [`EventNames`] for the other
    /// spelling).
    pub const fn event_name(self) -> &'static str {
        EventNames::Current.name(self)
    }

    /// `accepted`, `rejected`, `duplicate`, `handshake`, `answered`, or for
    /// the inbox `retry`, `dead_lettered`, `taken_over`, `hold_lost` (the
    /// `event` labels of `webhook_inbox_events_total`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Rejected => "rejected",
            Outcome::Duplicate => "duplicate",
            Outcome::Handshake => "handshake",
            Outcome::Answered => "answered",
            Outcome::Retry => "retry",
            Outcome::DeadLettered => "dead_lettered",
            Outcome::TakenOver => "taken_over",
            Outcome::HoldLost => "hold_lost",
        }
    }

    /// An inbox worker's event, not a request's.
    pub(crate) const fn is_inbox(self) -> bool {
        matches!(
            self,
            Outcome::Retry | Outcome::DeadLettered | Outcome::TakenOver | Outcome::HoldLost
        )
    }
}

/// How events and their authentication field are named.
///
/// `Current` is this crate's: `webhook.accepted` / `webhook.rejected` /
/// `webhook.duplicate` with an `auth_method` field. `Seed` is the spelling of
/// the receiver this crate grew from, for dashboards and alerts that already
/// match on it: `webhook.triggered` (the handler ran) / `webhook.rejected`
/// (with `reason`) / `webhook.duplicate`, and the authentication method in a
/// field called `auth`. Choose with
/// [`AuditLayer::event_names`](super::AuditLayer::event_names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum EventNames {
    /// `webhook.accepted`, `auth_method`.
    #[default]
    Current,
    /// `webhook.triggered`, `auth`.
    Seed,
}

impl EventNames {
    /// The event name of `outcome` in this spelling.
    pub const fn name(self, outcome: Outcome) -> &'static str {
        match (self, outcome) {
            (EventNames::Current, Outcome::Accepted) => "webhook.accepted",
            (EventNames::Seed, Outcome::Accepted) => "webhook.triggered",
            (_, Outcome::Rejected) => "webhook.rejected",
            (_, Outcome::Duplicate) => "webhook.duplicate",
            (_, Outcome::Handshake) => "webhook.handshake",
            (_, Outcome::Answered) => "webhook.answered",
            (_, Outcome::Retry) => "webhook.inbox.retry",
            (_, Outcome::DeadLettered) => "webhook.inbox.dead_lettered",
            (_, Outcome::TakenOver) => "webhook.inbox.taken_over",
            (_, Outcome::HoldLost) => "webhook.inbox.hold_lost",
        }
    }

    /// The name of the authentication-method field: `auth_method` or
    /// `auth`.
    pub const fn auth_field(self) -> &'static str {
        match self {
            EventNames::Current => "auth_method",
            EventNames::Seed => "auth",
        }
    }
}

/// One request as the audit trail keeps it. It holds no secret, token or
/// signature value, and the path without its query and with its token
/// segments redacted (URL tokens live there).
///
/// As JSON ([`to_json`](Self::to_json)) the fields keep these names, except
/// `auth_method`, which is `auth` under [`EventNames::Seed`];
/// `inbox_key` and `attempt` appear only when set.
///
/// An inbox [`Worker`](crate::inbox::Worker) given an audit layer records
/// its events here too (`webhook.inbox.*`, see [`Outcome`]). They are no
/// request: `status` is 0, `method` and `path` are empty (a path may hold a
/// URL token); `inbox_key`, `attempt`, `scheme` (the provider), `key_id`
/// and `tenant` say which delivery, `detail` why an attempt failed (its
/// first 256 characters), and `latency_us` how long the attempt ran.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditEvent {
    /// The event name: `webhook.accepted`, `webhook.rejected` or
    /// `webhook.duplicate` ([`EventNames`] has the other spelling).
    pub event: &'static str,
    /// When the request reached the audit layer, RFC 3339 in UTC
    /// (`2026-12-01T13:34:15.123Z`).
    pub timestamp: String,
    /// The request id from the `x-request-id` header (as tower-http's
    /// `SetRequestIdLayer` sets it) when present — on the request, or else
    /// on the response (`PropagateRequestIdLayer`, when the id is set
    /// inside the audit layer): at most
    /// 128 bytes, anything but visible ASCII replaced
    /// by `_`.
    pub request_id: Option<Arc<str>>,
    /// What became of the request.
    pub outcome: Outcome,
    /// Why a layer refused, as its stable name; `None` when nothing was
    /// refused (an answer included: see [`answer`](Self::answer)).
    pub reason: Option<Reason>,
    /// What a layer answered on the handler's behalf, as the answer's kind
    /// (`duplicate`, `handshake`, or a check's own); `None` otherwise.
    pub answer: Option<&'static str>,
    /// What exactly fired, when the layer said (e.g. which body limit, in
    /// bytes, and which setting set it). Never sent to the client.
    pub detail: Option<Arc<str>>,
    /// The response status sent. A gRPC request is answered with HTTP 200
    /// even when refused: its code is in [`grpc_status`](Self::grpc_status).
    pub status: u16,
    /// The `grpc-status` of a gRPC response that carries it in its head (a
    /// refusal is a trailers-only response): `7` `PERMISSION_DENIED`, `16`
    /// `UNAUTHENTICATED`, ...
    pub grpc_status: Option<u16>,
    /// How the sender authenticated (`signature`, `token (legacy)`,
    /// `ip_allowlist`, ...): only a credential that verified. A request
    /// refused for its credential has none here, whatever admitted it
    /// before (an allowlisted address): see
    /// [`auth_attempted`](Self::auth_attempted).
    pub auth_method: Option<&'static str>,
    /// The credential a layer asked for and refused (`signature` for
    /// `signature_missing` / `signature_mismatch` / ..., `bearer`, `token`,
    /// `token (legacy)` for `token_missing` / `token_invalid`); `None`
    /// unless a credential was refused.
    pub auth_attempted: Option<&'static str>,
    /// The id of the key or token that matched.
    pub key_id: Option<Arc<str>>,
    /// The scheme or provider preset (`github`, `stripe`, ...) that
    /// checked the credential, or the signature scheme a refused request
    /// was checked against.
    pub scheme: Option<Arc<str>>,
    /// The tenant the request was for.
    pub tenant: Option<Arc<str>>,
    /// The client address as the IP filter resolved it.
    pub client_ip: Option<IpAddr>,
    /// The idempotency key.
    pub idempotency_key: Option<Arc<str>>,
    /// The request method (`None` for an inbox worker's event).
    pub method: Option<http::Method>,
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
    /// 499, and the outcome
    /// says whether a layer had refused it or it had reached the handler.
    pub cancelled: bool,
    /// The spelling of the event and field names.
    pub names: EventNames,
    /// The provider handshake the request was (`slack.url_verification`,
    /// `twitch.revocation`, ...), answered or forwarded.
    pub handshake: Option<&'static str>,
    /// The delivery's [inbox key](crate::inbox::Delivery::key), for an
    /// inbox event (what `tower-webhook inbox list` shows).
    pub inbox_key: Option<Arc<str>>,
    /// Which attempt at the delivery, from 1, for an inbox event.
    pub attempt: Option<u32>,
}

/// The longest request id an event keeps, in bytes; longer ones are cut.
pub(crate) const MAX_REQUEST_ID_LEN: usize = 128;

/// The request id as the audit trail keeps it: bounded, and only visible
/// ASCII, so a hostile header cannot forge log lines or grow the record.
pub(crate) fn sanitise_request_id(value: &[u8]) -> Option<Arc<str>> {
    let id: String = value
        .iter()
        .take(MAX_REQUEST_ID_LEN)
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '_' })
        .collect();
    (!id.is_empty()).then(|| Arc::from(id))
}

/// `at` as RFC 3339 in UTC, to the millisecond (trailing zeros of the
/// fraction dropped, as the `time` crate writes it).
///
/// Written by hand for the years 1970–9999, once per audit event: the
/// general formatter cost several times as much. Anything else goes through
/// [`rfc3339_general`], which gives the same text.
pub(crate) fn rfc3339(at: SystemTime) -> String {
    const SECONDS_PER_DAY: u64 = 86_400;
    // 10000-01-01T00:00:00Z.
    const YEAR_10000: u64 = 253_402_300_800;
    let Ok(since) = at.duration_since(UNIX_EPOCH) else {
        return rfc3339_general(at);
    };
    let seconds = since.as_secs();
    if seconds >= YEAR_10000 {
        return rfc3339_general(at);
    }
    let (year, month, day) = civil_from_days(seconds / SECONDS_PER_DAY);
    let of_day = seconds % SECONDS_PER_DAY;
    let mut text = [0u8; 24];
    let mut put = |at: usize, value: u64, digits: usize| {
        let mut value = value;
        for slot in text[at..at + digits].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, year, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, of_day / 3600, 2);
    put(14, of_day / 60 % 60, 2);
    put(17, of_day % 60, 2);
    let millis = u64::from(since.subsec_millis());
    put(20, millis, 3);
    for (at, separator) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
        text[at] = separator;
    }
    let mut len = 19;
    if millis != 0 {
        text[19] = b'.';
        len = 23;
        while text[len - 1] == b'0' {
            len -= 1;
        }
    }
    text[len] = b'Z';
    // Only ASCII digits and separators were written: the check cannot fail.
    std::str::from_utf8(&text[..=len])
        .unwrap_or_default()
        .to_owned()
}

/// Year, month, day of the `days`th day after 1970-01-01 (proleptic
/// Gregorian; Howard Hinnant's `civil_from_days`, for days ≥ 0).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// [`rfc3339`] through the `time` crate, for any instant it can represent;
/// empty for one it cannot (a clock set past the year 9999), where
/// `OffsetDateTime::from(SystemTime)` would panic.
fn rfc3339_general(at: SystemTime) -> String {
    let at = match at.duration_since(UNIX_EPOCH) {
        Ok(after) => time::Duration::try_from(after)
            .ok()
            .and_then(|after| OffsetDateTime::UNIX_EPOCH.checked_add(after)),
        Err(before) => time::Duration::try_from(before.duration())
            .ok()
            .and_then(|before| OffsetDateTime::UNIX_EPOCH.checked_sub(before)),
    };
    let Some(at) = at else {
        return String::new();
    };
    let at = at.replace_millisecond(at.millisecond()).unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_default()
}

impl Serialize for AuditEvent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(23))?;
        m.serialize_entry("event", self.event)?;
        m.serialize_entry("timestamp", &self.timestamp)?;
        m.serialize_entry("request_id", &self.request_id)?;
        m.serialize_entry("outcome", &self.outcome)?;
        m.serialize_entry("reason", &self.reason.map(Reason::as_str))?;
        m.serialize_entry("answer", &self.answer)?;
        m.serialize_entry("detail", &self.detail)?;
        m.serialize_entry("status", &self.status)?;
        m.serialize_entry("grpc_status", &self.grpc_status)?;
        m.serialize_entry(self.names.auth_field(), &self.auth_method)?;
        m.serialize_entry("auth_attempted", &self.auth_attempted)?;
        m.serialize_entry("key_id", &self.key_id)?;
        m.serialize_entry("scheme", &self.scheme)?;
        m.serialize_entry("tenant", &self.tenant)?;
        m.serialize_entry("client_ip", &self.client_ip)?;
        m.serialize_entry("idempotency_key", &self.idempotency_key)?;
        m.serialize_entry("method", &self.method.as_ref().map(http::Method::as_str))?;
        m.serialize_entry("path", &self.path)?;
        m.serialize_entry("latency_us", &self.latency_us)?;
        m.serialize_entry("service_error", &self.service_error)?;
        m.serialize_entry("cancelled", &self.cancelled)?;
        m.serialize_entry("handshake", &self.handshake)?;
        if let Some(key) = &self.inbox_key {
            m.serialize_entry("inbox_key", key)?;
        }
        if let Some(attempt) = self.attempt {
            m.serialize_entry("attempt", &attempt)?;
        }
        m.end()
    }
}

impl AuditEvent {
    /// Build the event from what the layers recorded.
    pub(crate) fn new(
        verification: Verification,
        status: u16,
        method: http::Method,
        path: String,
        latency: Duration,
        service_error: bool,
        cancelled: bool,
    ) -> Self {
        // A refusal recorded after an answer (a cancelled duplicate) is
        // what became of the request.
        let answer = verification
            .answer
            .filter(|_| verification.rejection.is_none() && !service_error);
        let outcome = match (answer, verification.rejection) {
            _ if service_error => Outcome::Rejected,
            (Some(crate::rejection::HANDSHAKE), _) => Outcome::Handshake,
            (Some(crate::rejection::DUPLICATE), _) => Outcome::Duplicate,
            (Some(_), _) => Outcome::Answered,
            (None, Some(_)) => Outcome::Rejected,
            (None, None) => Outcome::Accepted,
        };
        let (auth_method, key_id, scheme) = match verification.authentication {
            Some(auth) => (Some(auth.method.as_str()), auth.key_id, auth.scheme),
            None => (None, None, None),
        };
        let scheme = scheme.or(verification.scheme);
        Self {
            event: outcome.event_name(),
            timestamp: String::new(),
            request_id: None,
            outcome,
            reason: verification.rejection,
            answer,
            detail: None,
            status,
            grpc_status: None,
            auth_method,
            auth_attempted: verification.auth_attempted.map(AuthMethod::as_str),
            key_id,
            scheme,
            tenant: verification.tenant,
            client_ip: verification.client_ip,
            idempotency_key: verification.idempotency_key,
            method: Some(method),
            path,
            latency_us: u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            service_error,
            cancelled,
            names: EventNames::Current,
            handshake: verification.handshake,
            inbox_key: None,
            attempt: None,
        }
    }

    /// An inbox worker's event about the delivery under `inbox_key`, now;
    /// the caller fills in the delivery's facts.
    pub(crate) fn inbox(
        names: EventNames,
        outcome: Outcome,
        inbox_key: Arc<str>,
        attempt: u32,
        detail: Option<&str>,
        ran: Duration,
    ) -> Self {
        const MAX_DETAIL_CHARS: usize = 256;
        let detail = detail.map(|text| match text.char_indices().nth(MAX_DETAIL_CHARS) {
            Some((cut, _)) => Arc::from(&text[..cut]),
            None => Arc::from(text),
        });
        Self {
            event: names.name(outcome),
            timestamp: rfc3339(SystemTime::now()),
            request_id: None,
            outcome,
            reason: None,
            detail,
            status: 0,
            grpc_status: None,
            auth_method: None,
            auth_attempted: None,
            key_id: None,
            scheme: None,
            tenant: None,
            client_ip: None,
            idempotency_key: None,
            method: None,
            path: String::new(),
            latency_us: u64::try_from(ran.as_micros()).unwrap_or(u64::MAX),
            service_error: false,
            cancelled: false,
            names,
            handshake: None,
            answer: None,
            inbox_key: Some(inbox_key),
            attempt: Some(attempt),
        }
    }

    /// The event as one line of JSON (no trailing newline).
    pub fn to_json(&self) -> String {
        // Only strings, numbers and options of them: serialisation cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_request_id_is_bounded_visible_ascii(value in proptest::collection::vec(any::<u8>(), 0..400)) {
            match sanitise_request_id(&value) {
                None => prop_assert!(value.is_empty()),
                Some(id) => {
                    prop_assert_eq!(id.len(), value.len().min(MAX_REQUEST_ID_LEN));
                    prop_assert!(id.bytes().all(|b| b.is_ascii_graphic()));
                }
            }
        }
    }

    #[test]
    fn a_clean_request_id_is_kept_verbatim() {
        assert_eq!(sanitise_request_id(b"7f1c-42").as_deref(), Some("7f1c-42"));
    }

    #[test]
    fn timestamps_are_rfc3339_utc_to_the_millisecond() {
        let at = epoch_plus_millis(1_764_596_055_123);
        assert_eq!(rfc3339(at), "2025-12-01T13:34:15.123Z");
    }

    proptest! {
        #[test]
        fn the_hand_written_timestamp_is_the_time_crate_s(
            millis in 0u64..253_402_300_800_000,
            nanos in 0u64..1_000_000,
        ) {
            let at = UNIX_EPOCH + Duration::from_millis(millis) + Duration::from_nanos(nanos);
            prop_assert_eq!(rfc3339(at), rfc3339_general(at));
        }
    }

    #[test]
    fn timestamps_at_the_edges_match_the_time_crate() {
        for millis in [
            0,
            1,
            10,
            100,
            999,
            86_399_999,
            951_782_400_000,     // 2000-02-29
            4_107_542_400_000,   // 2100-03-01
            253_402_300_799_999, // the last millisecond of 9999
        ] {
            let at = UNIX_EPOCH + Duration::from_millis(millis);
            assert_eq!(rfc3339(at), rfc3339_general(at), "{millis}");
        }
        let before = UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(rfc3339(before), "1969-12-31T23:59:58.5Z");
    }

    fn epoch_plus_millis(millis: u64) -> SystemTime {
        std::time::UNIX_EPOCH + Duration::from_millis(millis) + Duration::from_nanos(456)
    }

    #[test]
    fn an_instant_past_the_year_9999_is_no_panic() {
        let far = UNIX_EPOCH + std::time::Duration::from_secs(400_000_000_000);
        assert_eq!(rfc3339(far), "");
        let before = UNIX_EPOCH - std::time::Duration::from_secs(86_400);
        assert_eq!(rfc3339(before), "1969-12-31T00:00:00Z");
    }
}
