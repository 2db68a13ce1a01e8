//! Helpers for testing your own handlers (feature `test-util`): requests
//! signed exactly as a provider sends them, and why a request was refused.
//!
//! ```
//! use axum::{routing::post, Router};
//! use tower::ServiceExt;
//! use tower_webhook::signature::SignatureLayer;
//! use tower_webhook::test_util::SignedRequest;
//! use tower_webhook::{Reason, Rejection, Secret};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! const SECRET: &str = "It's a Secret to Everybody";
//! let app = Router::new().route(
//!     "/webhook",
//!     post(|headers: http::HeaderMap| async move {
//!         // The handler sees every header GitHub sends.
//!         format!("{:?}", headers["x-github-event"])
//!     })
//!     .layer(SignatureLayer::github(Secret::new(SECRET)?)),
//! );
//!
//! // Signed as GitHub signs it, with X-GitHub-Delivery and X-GitHub-Event.
//! let request = SignedRequest::new("github", SECRET).body(r#"{"zen":"hi"}"#).build()?;
//! let response = app.clone().oneshot(request).await?;
//! assert_eq!(response.status(), 200);
//!
//! // Refused: the response says why, to the test (not to the client).
//! let request = SignedRequest::new("github", "another secret entirely")
//!     .header("x-github-event", "push")
//!     .body(r#"{"zen":"hi"}"#)
//!     .build()?;
//! let response = app.oneshot(request).await?;
//! assert_eq!(response.status(), 401);
//! assert_eq!(
//!     Rejection::of(&response).map(Rejection::reason),
//!     Some(Reason::SignatureMismatch)
//! );
//! # Ok(())
//! # }
//! ```
//!
//! Through a real server the response extensions stay behind; add
//! [`expose_reason`] to the app under test and read the
//! [`REASON_HEADER`] of the answer instead. Never in production: it tells a
//! stranger which check failed.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{header, HeaderName, HeaderValue, Method, Request, Response};
use http_body_util::Full;
use tower::util::MapResponseLayer;

use crate::rejection::Reason;
use crate::signature::{unix_now, Outgoing, SignError, SignatureConfigError, Signer};

/// A request signed as a provider signs it, built step by step.
#[derive(Debug, Clone)]
#[must_use]
pub struct SignedRequest {
    preset: String,
    secret: String,
    method: Method,
    uri: String,
    body: Bytes,
    signed_url: Option<String>,
    timestamp: Option<i64>,
    id: Option<String>,
    headers: Vec<(String, String)>,
    peer: Option<SocketAddr>,
}

impl SignedRequest {
    /// A request for `preset`, signed with `secret` as the provider shows it
    /// (`whsec_…` for `standard` / `svix`).
    pub fn new(preset: &str, secret: &str) -> Self {
        Self {
            preset: preset.to_owned(),
            secret: secret.to_owned(),
            method: Method::POST,
            uri: "http://localhost/webhook".to_owned(),
            body: Bytes::new(),
            signed_url: None,
            timestamp: None,
            id: None,
            headers: Vec::new(),
            peer: None,
        }
    }

    /// Send to `uri` (a path, or a full URL: the schemes that sign the URL
    /// — Twilio, Square, HubSpot — sign exactly this). Default:
    /// `http://localhost/webhook`.
    pub fn uri(mut self, uri: impl Into<String>) -> Self {
        self.uri = uri.into();
        self
    }

    /// The URL the provider signed, when it is not [`uri`](Self::uri):
    /// the public `https://` address of a receiver reached over plain HTTP
    /// behind a TLS-terminating proxy (Twilio, Square and HubSpot sign it;
    /// by default the layer rebuilds it as `https://` + `Host` + path).
    pub fn signed_url(mut self, url: impl Into<String>) -> Self {
        self.signed_url = Some(url.into());
        self
    }

    /// Another method than `POST`.
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// The body, signed as it is.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sign at `unix_seconds` instead of now (e.g. to test a replay window).
    pub fn timestamp(mut self, unix_seconds: i64) -> Self {
        self.timestamp = Some(unix_seconds);
        self
    }

    /// Use delivery id `id` instead of a fresh one (e.g. to send a
    /// duplicate).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Send header `name: value` too, in place of the provider's default for
    /// it (e.g. `x-github-event: push`). Signature headers are always the
    /// signer's.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Arrive from `peer`, as a server records the connection's address:
    /// a [`SocketAddr`] extension and, with the `axum` feature, axum's
    /// `ConnectInfo<SocketAddr>`. An IP filter reads either, so a route
    /// behind [`IpFilterLayer`](crate::ip::IpFilterLayer) can be called
    /// with `oneshot`, without a server.
    pub fn peer(mut self, peer: SocketAddr) -> Self {
        self.peer = Some(peer);
        self
    }

    /// The request.
    pub fn build(self) -> Result<Request<Full<Bytes>>, SignedRequestError> {
        let signer =
            Signer::preset(&self.preset, &self.secret).map_err(SignedRequestError::Signer)?;
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(&self.uri)
            .body(())
            .map_err(|_| SignedRequestError::Uri(self.uri.clone()))?;
        let content_type = match self.preset.as_str() {
            "twilio" => "application/x-www-form-urlencoded",
            _ => "application/json",
        };
        let headers = request.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        for (name, value) in &self.headers {
            let invalid = || SignedRequestError::Header(name.clone());
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
            let value = HeaderValue::from_str(value).map_err(|_| invalid())?;
            headers.append(name, value);
        }
        let id = self.id.unwrap_or_else(fresh_id);
        let outgoing = Outgoing::new(&self.body, self.timestamp.unwrap_or_else(unix_now), &id)
            .to_url(self.signed_url.as_deref().unwrap_or(&self.uri))
            .with_method(&self.method);
        signer
            .sign_into(request.headers_mut(), &outgoing)
            .map_err(SignedRequestError::Sign)?;
        if let Some(peer) = self.peer {
            request.extensions_mut().insert(peer);
            #[cfg(feature = "axum")]
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
        }
        Ok(request.map(|()| Full::new(self.body)))
    }
}

/// A delivery id no other request of this process has.
fn fresh_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "msg_test_{}_{}",
        unix_now(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Why a [`SignedRequest`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignedRequestError {
    /// No such preset, or a secret it cannot read.
    Signer(SignatureConfigError),
    /// The preset could not sign (e.g. it signs the URL and `uri` is a path
    /// only, or it is verify-only).
    Sign(SignError),
    /// The URI is not one.
    Uri(String),
    /// A header name or value given with [`SignedRequest::header`] is not
    /// one.
    Header(String),
}

impl fmt::Display for SignedRequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignedRequestError::Signer(error) => error.fmt(f),
            SignedRequestError::Sign(error) => write!(f, "cannot sign: {error}"),
            SignedRequestError::Uri(uri) => write!(f, "invalid URI {uri:?}"),
            SignedRequestError::Header(name) => write!(f, "invalid header {name:?}"),
        }
    }
}

impl std::error::Error for SignedRequestError {}

/// The response header [`expose_reason`] writes the reason to.
pub const REASON_HEADER: HeaderName = HeaderName::from_static("x-webhook-reason");

/// A layer that copies the [`Reason`] of every refused response, or the
/// kind of a layer's [`Answer`](crate::Answer) (`duplicate`, `handshake`,
/// ...), into [`REASON_HEADER`], so a test talking to a real server reads
/// why it was refused or answered. **Tests only**: in production it tells a
/// stranger which check failed.
///
/// ```
/// use axum::{routing::post, Router};
/// use tower_webhook::test_util::expose_reason;
///
/// let app: Router = Router::new()
///     .route("/hooks", post(|| async { "ok" }))
///     .layer(expose_reason());
/// # let _ = app;
/// ```
pub fn expose_reason<B>() -> MapResponseLayer<fn(Response<B>) -> Response<B>> {
    MapResponseLayer::new(write_reason::<B>)
}

fn write_reason<B>(mut response: Response<B>) -> Response<B> {
    let named = response
        .extensions()
        .get::<Reason>()
        .copied()
        .map(Reason::as_str)
        .or_else(|| crate::rejection::Answer::of(&response).map(|answer| answer.kind()));
    if let Some(name) = named {
        response
            .headers_mut()
            .insert(REASON_HEADER, HeaderValue::from_static(name));
    }
    response
}
