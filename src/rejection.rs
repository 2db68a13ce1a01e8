//! What a check says when it stops a request before the handler.
//!
//! A check passes, answers or refuses ([`Stop`]):
//!
//! * an [`Answer`] is a response the protection gives on the handler's
//!   behalf: a handshake's reply, a duplicate's acknowledgement, Twitch's
//!   revocation `204`. Nothing is wrong; the audit trail records it as what
//!   it is (`duplicate`, `handshake`, or the check's own kind), never as a
//!   rejection;
//! * a [`Rejection`] is a refusal.
//!
//! A [`Rejection`] pairs a machine [`Reason`] (stable `snake_case` names, for
//! logs, metrics and the audit trail) with the HTTP status the client sees.
//! The response body says as little as the status line: never which secret
//! was tried, never the expected signature. The full reason travels in the
//! shared [`WebhookContext`](crate::WebhookContext) and in the response
//! extensions, where outer layers such as the audit layer read it.
//!
//! Requests with a `content-type` of `application/grpc*` get a gRPC
//! "trailers-only" response instead (HTTP 200 with `grpc-status`), so a tonic
//! client sees `PERMISSION_DENIED`, `UNAUTHENTICATED`, `RESOURCE_EXHAUSTED`…
//! rather than a transport error.
//!
//! ```
//! use tower_webhook::{Reason, Rejection};
//! use http::StatusCode;
//!
//! let rejection = Rejection::new(Reason::SignatureMismatch);
//! assert_eq!(rejection.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(rejection.reason().as_str(), "signature_mismatch");
//!
//! let response = rejection.into_response::<http_body_util::Empty<bytes::Bytes>>(false);
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(response.extensions().get::<Reason>(), Some(&Reason::SignatureMismatch));
//! ```

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, Response, StatusCode};

use crate::response_body::ResponseBody;

macro_rules! reasons {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, $status:ident; )*) => {
        /// Why a request was refused.
        ///
        /// The names returned by [`Reason::as_str`] are stable: dashboards and
        /// alerts may match on them. A check of your own refuses with a
        /// [`Reason::Custom`] name of its choosing ([`Rejection::custom`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Reason {
            $( $(#[$doc])* $variant, )*
            /// A check of the application's refused, under the `snake_case`
            /// name it gave ([`Rejection::custom`]; every [`Rejection`]
            /// checks the name).
            Custom(&'static str),
        }

        impl Reason {
            /// Every built-in reason, in declaration order.
            pub const ALL: &'static [Reason] = &[$(Reason::$variant,)*];

            /// The stable `snake_case` name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Reason::$variant => $name, )*
                    Reason::Custom(name) => name,
                }
            }

            /// The status a client receives unless a layer overrides it
            /// (`400` for a custom reason).
            pub const fn default_status(self) -> StatusCode {
                match self {
                    $( Reason::$variant => StatusCode::$status, )*
                    Reason::Custom(_) => StatusCode::BAD_REQUEST,
                }
            }
        }
    };
}

reasons! {
    /// The client address is not on the allowlist.
    IpNotAllowed => "ip_not_allowed", FORBIDDEN;
    /// The client address could not be determined (no peer address, or a
    /// trusted proxy sent an unusable forwarding header).
    ClientIpUnknown => "client_ip_unknown", FORBIDDEN;
    /// No credential was presented.
    TokenMissing => "token_missing", UNAUTHORIZED;
    /// A credential was presented but matched no accepted token.
    TokenInvalid => "token_invalid", UNAUTHORIZED;
    /// The body is larger than the configured limit.
    PayloadTooLarge => "payload_too_large", PAYLOAD_TOO_LARGE;
    /// The body could not be read (the client hung up, a transport error).
    BodyReadFailed => "body_read_failed", BAD_REQUEST;
    /// No signature header (or field) was present.
    SignatureMissing => "signature_missing", UNAUTHORIZED;
    /// A signature was present but could not be parsed (bad encoding, wrong
    /// prefix, ambiguous duplicate headers).
    SignatureMalformed => "signature_malformed", UNAUTHORIZED;
    /// No presented signature matched any usable key.
    SignatureMismatch => "signature_mismatch", UNAUTHORIZED;
    /// The signature matched a key outside its validity window.
    KeyExpired => "key_expired", UNAUTHORIZED;
    /// The timestamp the replay check needs is absent.
    TimestampMissing => "timestamp_missing", UNAUTHORIZED;
    /// The timestamp could not be parsed or is absurd.
    TimestampMalformed => "timestamp_malformed", UNAUTHORIZED;
    /// The timestamp is too far in the past or the future.
    TimestampOutsideWindow => "timestamp_outside_window", UNAUTHORIZED;
    /// A field the configuration requires from the body is absent.
    PayloadIncomplete => "payload_incomplete", BAD_REQUEST;
    /// An unsigned header names a different kind of message than the
    /// signed body is (Twitch's `Twitch-Eventsub-Message-Type`): whoever
    /// replayed the body may have relabelled it.
    UnsignedHeaderMismatch => "unsigned_header_mismatch", UNAUTHORIZED;
    /// The same delivery is being processed right now.
    InFlight => "in_flight", CONFLICT;
    /// The idempotency store could not be reached (fail-closed).
    StoreUnavailable => "store_unavailable", SERVICE_UNAVAILABLE;
    /// The request names no known tenant.
    TenantUnknown => "tenant_unknown", NOT_FOUND;
    /// The tenant's policy could not be resolved (the resolver failed).
    TenantUnavailable => "tenant_unavailable", SERVICE_UNAVAILABLE;
    /// The request was dropped before it was answered (the client went
    /// away, a timeout fired); its idempotency reservation was released. No
    /// response was sent: the audit trail records status 499.
    Cancelled => "cancelled", INTERNAL_SERVER_ERROR;
    /// The handler panicked; its idempotency reservation was released so
    /// the sender's retry runs.
    Panicked => "panicked", INTERNAL_SERVER_ERROR;
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal: a [`Reason`], the status to answer with, any headers the
/// client needs (`WWW-Authenticate`, `Retry-After`), and a detail for the
/// operator (never sent to the client).
///
/// The response of every rejection carries the [`Reason`] and the
/// `Rejection` itself in its extensions, so a test (or an outer layer) reads
/// why a request was refused with [`Rejection::of`]:
///
/// ```
/// use tower_webhook::{Reason, Rejection};
///
/// let response = Rejection::new(Reason::PayloadTooLarge)
///     .with_detail("body over the 65536-byte limit")
///     .into_response::<http_body_util::Empty<bytes::Bytes>>(false);
/// let rejection = Rejection::of(&response).unwrap();
/// assert_eq!(rejection.reason(), Reason::PayloadTooLarge);
/// assert_eq!(rejection.detail(), Some("body over the 65536-byte limit"));
/// ```
#[derive(Debug, Clone)]
pub struct Rejection {
    reason: Reason,
    status: StatusCode,
    // Boxed: rare, and a `Rejection` travels in every check's `Result`.
    extra: Option<Box<Extra>>,
}

/// What few answers and refusals carry: headers, an audit detail, a body.
#[derive(Debug, Clone, Default)]
struct Extra {
    headers: HeaderMap,
    detail: Option<Arc<str>>,
    body: Option<(HeaderValue, Bytes)>,
}

/// The headers of `extra`, none without it.
fn headers_of(extra: &Option<Box<Extra>>) -> &HeaderMap {
    static NONE: std::sync::OnceLock<HeaderMap> = std::sync::OnceLock::new();
    match extra {
        Some(extra) => &extra.headers,
        None => NONE.get_or_init(HeaderMap::new),
    }
}

impl Rejection {
    /// A rejection with the reason's default status.
    ///
    /// A [`Reason::Custom`] name is checked as [`custom`](Self::custom)
    /// checks it, so a built-in reason's name cannot be borrowed this way
    /// either.
    pub fn new(reason: Reason) -> Self {
        if let Reason::Custom(name) = reason {
            if !custom_name_ok(name) {
                return Self::new(Reason::Custom(FALLBACK_REASON)).with_detail(format!(
                    "custom reason name {name:?} is not snake_case or is reserved"
                ));
            }
        }
        Self {
            reason,
            status: reason.default_status(),
            extra: None,
        }
    }

    /// A refusal by a check of the application's, recorded (audit trail,
    /// metrics) under `name` as [`Reason::Custom`], answered with `status`.
    ///
    /// `name` must be `snake_case` (`a`–`z`, `0`–`9`, `_`, starting with a
    /// letter, at most 64 bytes) and not a built-in reason's or answer's
    /// name: dashboards must be able to trust those. Any other name is
    /// recorded as `custom`, with the refused name in the
    /// [`detail`](Self::detail).
    ///
    /// ```
    /// use http::StatusCode;
    /// use tower_webhook::{Reason, Rejection};
    ///
    /// let refusal = Rejection::custom("method_not_allowed", StatusCode::METHOD_NOT_ALLOWED);
    /// assert_eq!(refusal.reason(), Reason::Custom("method_not_allowed"));
    /// assert_eq!(refusal.reason().as_str(), "method_not_allowed");
    /// assert_eq!(refusal.status(), StatusCode::METHOD_NOT_ALLOWED);
    ///
    /// let misnamed = Rejection::custom("Not Allowed", StatusCode::METHOD_NOT_ALLOWED);
    /// assert_eq!(misnamed.reason().as_str(), "custom");
    /// ```
    pub fn custom(name: &'static str, status: StatusCode) -> Self {
        Self::new(Reason::Custom(name)).with_status(status)
    }

    /// Say, for the audit trail, what exactly fired (e.g. which body limit,
    /// in bytes, and who set it). Never sent to the client; must not quote
    /// a secret.
    pub fn with_detail(mut self, detail: impl Into<Arc<str>>) -> Self {
        self.extra.get_or_insert_default().detail = Some(detail.into());
        self
    }

    /// The detail for the audit trail, if the layer gave one.
    pub fn detail(&self) -> Option<&str> {
        self.extra.as_ref()?.detail.as_deref()
    }

    /// The rejection a tower-webhook layer answered `response` with, if it
    /// did (read from the response extensions). Its headers are the
    /// response's.
    pub fn of<B>(response: &Response<B>) -> Option<&Rejection> {
        response.extensions().get::<Rejection>()
    }

    /// Answer with `status` instead of the reason's default.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Add a response header, e.g. `WWW-Authenticate` or `Retry-After`.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.extra
            .get_or_insert_default()
            .headers
            .append(name, value);
        self
    }

    /// The machine reason.
    pub fn reason(&self) -> Reason {
        self.reason
    }

    /// The HTTP status the client receives.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The extra response headers.
    pub fn headers(&self) -> &HeaderMap {
        headers_of(&self.extra)
    }

    /// Build the response: the status line as its body, or with `grpc` set,
    /// a gRPC trailers-only response carrying the matching `grpc-status`.
    ///
    /// The [`Reason`] and the rejection (see [`Rejection::of`]) are stored
    /// in the response extensions.
    pub fn into_response<B>(mut self, grpc: bool) -> Response<ResponseBody<B>> {
        let headers = self
            .extra
            .as_mut()
            .map(|extra| std::mem::take(&mut extra.headers));
        let mut response = respond(self.status, headers, None, grpc);
        response.extensions_mut().insert(self.reason);
        response.extensions_mut().insert(self);
        response
    }
}

/// The name a custom reason or answer kind is recorded under when the one
/// given is unusable.
const FALLBACK_REASON: &str = "custom";

/// The kind of an [`Answer`] whose given kind is unusable.
const FALLBACK_ANSWER: &str = "answered";

/// The names an application may not claim: the built-in reasons, the
/// answers this crate gives, and what the metrics write for "none".
fn reserved(name: &str) -> bool {
    matches!(name, DUPLICATE | HANDSHAKE | "none")
        || Reason::ALL.iter().any(|reason| reason.as_str() == name)
}

/// Whether `name` may name a custom reason or answer: `snake_case`, short,
/// not reserved.
fn custom_name_ok(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes.len() <= 64
        && bytes
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !reserved(name)
}

/// The kind of the idempotency layer's acknowledgement of a delivery it
/// already handled.
pub(crate) const DUPLICATE: &str = "duplicate";

/// The kind of a provider handshake's reply.
pub(crate) const HANDSHAKE: &str = "handshake";

/// A response a protection gives on the handler's behalf: a handshake's
/// reply, a duplicate's acknowledgement, a revocation's `204`. Not a
/// refusal: the audit trail records it under its [`kind`](Self::kind)
/// (outcome `duplicate`, `handshake`, or `answered` for a kind of the
/// application's), with no [`Reason`].
///
/// The response carries the answer in its extensions ([`Answer::of`]).
///
/// ```
/// use http::StatusCode;
/// use tower_webhook::Answer;
///
/// let answer = Answer::new("ping", StatusCode::OK)
///     .with_body(http::HeaderValue::from_static("text/plain"), "pong".into());
/// let response = answer.into_response::<http_body_util::Empty<bytes::Bytes>>(false);
/// assert_eq!(response.status(), StatusCode::OK);
/// assert_eq!(Answer::of(&response).unwrap().kind(), "ping");
/// ```
#[derive(Debug, Clone)]
pub struct Answer {
    kind: &'static str,
    status: StatusCode,
    // Boxed like a rejection's: an answer travels in every check's `Result`.
    extra: Option<Box<Extra>>,
}

impl Answer {
    /// Answer with `status`, recorded under `kind`: `snake_case` (as
    /// [`Rejection::custom`] asks of a name) and not a name of this crate's
    /// (`duplicate`, `handshake`, a built-in reason); any other is recorded
    /// as `answered`.
    pub fn new(kind: &'static str, status: StatusCode) -> Self {
        let kind = if custom_name_ok(kind) {
            kind
        } else {
            FALLBACK_ANSWER
        };
        Self::of_kind(kind, status)
    }

    /// An answer of one of this crate's own kinds.
    pub(crate) fn of_kind(kind: &'static str, status: StatusCode) -> Self {
        Self {
            kind,
            status,
            extra: None,
        }
    }

    /// Answer with `body` of `content_type` (e.g. a handshake's challenge).
    /// Without it, the body is the status line.
    pub fn with_body(mut self, content_type: HeaderValue, body: Bytes) -> Self {
        self.extra.get_or_insert_default().body = Some((content_type, body));
        self
    }

    /// Answer with `status` instead.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Add a response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.extra
            .get_or_insert_default()
            .headers
            .append(name, value);
        self
    }

    /// What the answer is, as the audit trail and the metrics name it:
    /// `duplicate`, `handshake`, or the application's own kind.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The HTTP status the client receives.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The content this answer carries, if any (see [`with_body`](Self::with_body)).
    pub fn body(&self) -> Option<&Bytes> {
        self.extra.as_ref()?.body.as_ref().map(|(_, body)| body)
    }

    /// The answer a tower-webhook layer gave `response`, if it did (read
    /// from the response extensions).
    pub fn of<B>(response: &Response<B>) -> Option<&Answer> {
        response.extensions().get::<Answer>()
    }

    /// Build the response; with `grpc` set, a gRPC trailers-only response
    /// (`grpc-status` `0` for a `2xx`). The answer is stored in the
    /// response extensions (see [`Answer::of`]).
    pub fn into_response<B>(mut self, grpc: bool) -> Response<ResponseBody<B>> {
        let (headers, body) = match self.extra.as_mut() {
            Some(extra) => (Some(std::mem::take(&mut extra.headers)), extra.body.take()),
            None => (None, None),
        };
        let mut response = respond(self.status, headers, body, grpc);
        response.extensions_mut().insert(self);
        response
    }
}

/// Why a check stopped a request before the handler: it answered on the
/// handler's behalf, or it refused. A check returns `Ok` to let the request
/// on, `Err(Stop)` otherwise; a [`Rejection`] or an [`Answer`] converts with
/// `?` or `.into()`.
#[derive(Debug, Clone)]
pub enum Stop {
    /// Answered on the handler's behalf.
    Answer(Answer),
    /// Refused.
    Refuse(Rejection),
}

impl Stop {
    /// Build the response (see [`Answer::into_response`] and
    /// [`Rejection::into_response`]).
    pub fn into_response<B>(self, grpc: bool) -> Response<ResponseBody<B>> {
        match self {
            Stop::Answer(answer) => answer.into_response(grpc),
            Stop::Refuse(rejection) => rejection.into_response(grpc),
        }
    }
}

impl From<Rejection> for Stop {
    fn from(rejection: Rejection) -> Self {
        Stop::Refuse(rejection)
    }
}

impl From<Answer> for Stop {
    fn from(answer: Answer) -> Self {
        Stop::Answer(answer)
    }
}

impl From<Reason> for Stop {
    fn from(reason: Reason) -> Self {
        Stop::Refuse(Rejection::new(reason))
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Answer(answer) => {
                write!(f, "webhook answered: {} ({})", answer.kind, answer.status)
            }
            Stop::Refuse(rejection) => rejection.fmt(f),
        }
    }
}

/// The response of an answer or a refusal: `body` or the status line, or a
/// gRPC trailers-only response.
fn respond<B>(
    status: StatusCode,
    headers: Option<HeaderMap>,
    body: Option<(HeaderValue, Bytes)>,
    grpc: bool,
) -> Response<ResponseBody<B>> {
    let text = status.canonical_reason().unwrap_or("Rejected");
    let mut response = if grpc {
        let mut response = Response::new(ResponseBody::empty());
        let grpc_headers = response.headers_mut();
        grpc_headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc"),
        );
        grpc_headers.insert(
            HeaderName::from_static("grpc-status"),
            HeaderValue::from(grpc_code(status)),
        );
        grpc_headers.insert(
            HeaderName::from_static("grpc-message"),
            HeaderValue::from_static(text),
        );
        response
    } else {
        let (content_type, body) = body.unwrap_or_else(|| {
            (
                HeaderValue::from_static("text/plain; charset=utf-8"),
                Bytes::from_static(text.as_bytes()),
            )
        });
        let mut response = Response::new(ResponseBody::full(body));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
        response
    };
    if let Some(headers) = headers {
        response.headers_mut().extend(headers);
    }
    response
}

impl From<Reason> for Rejection {
    fn from(reason: Reason) -> Self {
        Rejection::new(reason)
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "webhook rejected: {} ({})", self.reason, self.status)
    }
}

impl std::error::Error for Rejection {}

/// Whether the request is gRPC, so rejections are answered in gRPC's terms.
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
}

/// The gRPC status code closest to an HTTP rejection status.
fn grpc_code(status: StatusCode) -> u16 {
    match status {
        StatusCode::FORBIDDEN => 7,            // PERMISSION_DENIED
        StatusCode::UNAUTHORIZED => 16,        // UNAUTHENTICATED
        StatusCode::PAYLOAD_TOO_LARGE => 8,    // RESOURCE_EXHAUSTED
        StatusCode::BAD_REQUEST => 3,          // INVALID_ARGUMENT
        StatusCode::NOT_FOUND => 5,            // NOT_FOUND
        StatusCode::CONFLICT => 10,            // ABORTED
        StatusCode::SERVICE_UNAVAILABLE => 14, // UNAVAILABLE
        status if status.is_success() => 0,
        _ => 2, // UNKNOWN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Empty;

    #[test]
    fn names_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for reason in Reason::ALL {
            let name = reason.as_str();
            assert!(seen.insert(name), "duplicate name {name}");
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
    }

    #[test]
    fn custom_names_are_snake_case_and_never_a_built_in_one() {
        let ok = Rejection::custom("livemode_off2", StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(ok.reason(), Reason::Custom("livemode_off2"));
        assert_eq!(ok.detail(), None);
        for bad in [
            "",
            "Upper",
            "with space",
            "2fast",
            "_lead",
            "dash-ed",
            "signature_mismatch",
            "duplicate",
            "handshake",
            "none",
            "a_very_long_name_that_goes_on_and_on_past_sixty_four_bytes_of_text",
        ] {
            let refusal = Rejection::custom(bad, StatusCode::FORBIDDEN);
            assert_eq!(refusal.reason().as_str(), "custom", "{bad:?}");
            assert_eq!(refusal.status(), StatusCode::FORBIDDEN);
            assert!(refusal
                .detail()
                .is_some_and(|d| d.contains("not snake_case")));
            // Built from the variant directly: checked the same way.
            for refusal in [
                Rejection::new(Reason::Custom(bad)),
                Reason::Custom(bad).into(),
            ] {
                assert_eq!(refusal.reason().as_str(), "custom", "{bad:?}");
                assert_eq!(refusal.status(), StatusCode::BAD_REQUEST);
                assert!(refusal
                    .detail()
                    .is_some_and(|d| d.contains("not snake_case")));
            }
            assert_eq!(
                Answer::new(bad, StatusCode::OK).kind(),
                "answered",
                "{bad:?}"
            );
        }
        assert_eq!(Answer::new("ping", StatusCode::OK).kind(), "ping");
    }

    #[test]
    fn an_answer_is_no_rejection() {
        let response = Answer::of_kind(DUPLICATE, StatusCode::OK)
            .with_header(header::ETAG, HeaderValue::from_static("\"x\""))
            .into_response::<Empty<Bytes>>(false);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::ETAG], "\"x\"");
        assert_eq!(Answer::of(&response).map(Answer::kind), Some("duplicate"));
        assert!(Rejection::of(&response).is_none());
        assert!(response.extensions().get::<Reason>().is_none());
        let grpc =
            Answer::of_kind(HANDSHAKE, StatusCode::NO_CONTENT).into_response::<Empty<Bytes>>(true);
        assert_eq!(grpc.headers()["grpc-status"], "0");
    }

    #[test]
    fn grpc_rejection_maps_status() {
        let cases = [
            (Reason::IpNotAllowed, "7"),
            (Reason::SignatureMismatch, "16"),
            (Reason::PayloadTooLarge, "8"),
        ];
        for (reason, code) in cases {
            let response = Rejection::new(reason).into_response::<Empty<Bytes>>(true);
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()["grpc-status"], code);
        }
    }

    #[test]
    fn http_rejection_says_only_the_status_line() {
        let response = Rejection::new(Reason::SignatureMismatch)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
            .into_response::<Empty<Bytes>>(false);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        // "Unauthorized": the status line and nothing about what was expected.
        assert_eq!(
            http_body::Body::size_hint(response.body()).exact(),
            Some(12)
        );
    }
}
