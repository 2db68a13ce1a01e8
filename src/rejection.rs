//! One rejection model for every layer.
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
        /// Why a request was refused (or, for [`Reason::Duplicate`], acknowledged
        /// without running the handler).
        ///
        /// The names returned by [`Reason::as_str`] are stable: dashboards and
        /// alerts may match on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Reason {
            $( $(#[$doc])* $variant, )*
        }

        impl Reason {
            /// Every reason, in declaration order.
            pub const ALL: &'static [Reason] = &[$(Reason::$variant,)*];

            /// The stable `snake_case` name.
            pub const fn as_str(self) -> &'static str {
                match self { $( Reason::$variant => $name, )* }
            }

            /// The status a client receives unless a layer overrides it.
            pub const fn default_status(self) -> StatusCode {
                match self { $( Reason::$variant => StatusCode::$status, )* }
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
    /// This delivery was already processed; acknowledged without running the
    /// handler.
    Duplicate => "duplicate", OK;
    /// The same delivery is being processed right now.
    InFlight => "in_flight", CONFLICT;
    /// The idempotency store could not be reached (fail-closed).
    StoreUnavailable => "store_unavailable", SERVICE_UNAVAILABLE;
    /// The request names no known tenant.
    TenantUnknown => "tenant_unknown", NOT_FOUND;
    /// The tenant's policy could not be resolved (the resolver failed).
    TenantUnavailable => "tenant_unavailable", SERVICE_UNAVAILABLE;
    /// A provider's handshake (URL verification, challenge, ping), answered
    /// by a [`handshake`](crate::handshake) check without running the
    /// handler.
    Handshake => "handshake", OK;
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
    headers: HeaderMap,
    // Boxed: rare, and a `Rejection` travels in every check's `Result`.
    extra: Option<Box<Extra>>,
}

/// What few rejections carry: an audit detail, a response body.
#[derive(Debug, Clone, Default)]
struct Extra {
    detail: Option<Arc<str>>,
    body: Option<(HeaderValue, Bytes)>,
}

impl Rejection {
    /// A rejection with the reason's default status.
    pub fn new(reason: Reason) -> Self {
        Self {
            reason,
            status: reason.default_status(),
            headers: HeaderMap::new(),
            extra: None,
        }
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
        self.headers.append(name, value);
        self
    }

    /// Answer with `body` of `content_type` instead of the status line. For
    /// answers that must carry content, such as a handshake's challenge; a
    /// refusal should say no more than its status line.
    pub fn with_body(mut self, content_type: HeaderValue, body: Bytes) -> Self {
        self.extra.get_or_insert_default().body = Some((content_type, body));
        self
    }

    /// The content this answer carries, if any (see [`with_body`](Self::with_body)).
    pub fn body(&self) -> Option<&Bytes> {
        self.extra.as_ref()?.body.as_ref().map(|(_, body)| body)
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
        &self.headers
    }

    /// Build the response. With `grpc` set, a gRPC trailers-only response
    /// carrying the matching `grpc-status`.
    ///
    /// The [`Reason`] and the rejection (see [`Rejection::of`]) are stored
    /// in the response extensions.
    pub fn into_response<B>(mut self, grpc: bool) -> Response<ResponseBody<B>> {
        let text = self.status.canonical_reason().unwrap_or("Rejected");
        let mut response = if grpc {
            let mut response = Response::new(ResponseBody::empty());
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/grpc"),
            );
            headers.insert(
                HeaderName::from_static("grpc-status"),
                HeaderValue::from(grpc_code(self.status)),
            );
            headers.insert(
                HeaderName::from_static("grpc-message"),
                HeaderValue::from_static(text),
            );
            response
        } else {
            let (content_type, body) = self
                .extra
                .as_mut()
                .and_then(|extra| extra.body.take())
                .unwrap_or_else(|| {
                    (
                        HeaderValue::from_static("text/plain; charset=utf-8"),
                        Bytes::from_static(text.as_bytes()),
                    )
                });
            let mut response = Response::new(ResponseBody::full(body));
            *response.status_mut() = self.status;
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, content_type);
            response
        };
        response
            .headers_mut()
            .extend(std::mem::take(&mut self.headers));
        response.extensions_mut().insert(self.reason);
        response.extensions_mut().insert(self);
        response
    }
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
        StatusCode::OK => 0,
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
