//! The layer that writes a verified delivery to the inbox and answers at
//! once.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body::Body;
use pin_project_lite::pin_project;
use sha2::{Digest, Sha256};
use tower_layer::Layer;
use tower_service::Service;

use super::{
    unix_millis, Counter, Delivery, Enqueued, Inbox, InboxCounters, InboxCounts, InboxError,
};
use crate::body::{buffer_parts_for, BoxError, ResponseBody, DEFAULT_BODY_LIMIT};
use crate::context::{Verification, WebhookContext};
use crate::path::percent_decoded;
use crate::rejection::{Reason, Rejection};

/// How long an enqueue may take before the sender is answered `503`: 5 s,
/// under the shortest provider timeout (Slack's 3 s is the exception: set
/// [`InboxLayer::with_enqueue_timeout`] lower there).
pub const DEFAULT_ENQUEUE_TIMEOUT: Duration = Duration::from_secs(5);

/// Writes each request that reaches it to an [`Inbox`] and answers `202`
/// once the entry is durable (a copy of a delivery already there: the same
/// answer, nothing added); `503` with `Retry-After` when the inbox cannot
/// take it.
///
/// Place it where the handler would run, after the protections (inside a
/// [`WebhookStack`](crate::WebhookStack) or the signature layer): only what
/// they let through is kept. The inner service runs only for provider
/// handshakes a handshake layer forwarded; every other request ends here.
#[derive(Clone)]
pub struct InboxLayer {
    config: Arc<Config>,
}

struct Config {
    inbox: Arc<dyn Inbox>,
    status: StatusCode,
    retry_after: Duration,
    enqueue_timeout: Duration,
    body_limit: usize,
    namespace: Option<Arc<str>>,
    keep: Keep,
    counters: InboxCounters,
}

enum Keep {
    /// Every header but credentials.
    AllButCredentials,
    /// These only.
    Only(Vec<HeaderName>),
}

impl std::fmt::Debug for InboxLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxLayer")
            .field("status", &self.config.status)
            .field("enqueue_timeout", &self.config.enqueue_timeout)
            .finish_non_exhaustive()
    }
}

impl InboxLayer {
    /// Enqueue into `inbox`, answering `202 Accepted`.
    pub fn new(inbox: Arc<dyn Inbox>) -> Self {
        Self {
            config: Arc::new(Config {
                inbox,
                status: StatusCode::ACCEPTED,
                retry_after: Duration::from_secs(5),
                enqueue_timeout: DEFAULT_ENQUEUE_TIMEOUT,
                body_limit: DEFAULT_BODY_LIMIT,
                namespace: None,
                keep: Keep::AllButCredentials,
                counters: InboxCounters::default(),
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Config)) -> Self {
        match Arc::get_mut(&mut self.config) {
            Some(config) => f(config),
            None => {
                let old = &self.config;
                let mut config = Config {
                    inbox: Arc::clone(&old.inbox),
                    status: old.status,
                    retry_after: old.retry_after,
                    enqueue_timeout: old.enqueue_timeout,
                    body_limit: old.body_limit,
                    namespace: old.namespace.clone(),
                    keep: match &old.keep {
                        Keep::AllButCredentials => Keep::AllButCredentials,
                        Keep::Only(names) => Keep::Only(names.clone()),
                    },
                    counters: old.counters.clone(),
                };
                f(&mut config);
                self.config = Arc::new(config);
            }
        }
        self
    }

    /// Answer accepted deliveries with `status` (a `2xx`; `200` for a
    /// sender that wants exactly that) instead of `202`.
    pub fn respond_with(self, status: StatusCode) -> Self {
        self.edit(|c| c.status = status)
    }

    /// The `Retry-After` of a `503` (default 5 s).
    pub fn with_retry_after(self, retry_after: Duration) -> Self {
        self.edit(|c| c.retry_after = retry_after)
    }

    /// How long an enqueue may take before the answer is `503`.
    pub fn with_enqueue_timeout(self, timeout: Duration) -> Self {
        self.edit(|c| c.enqueue_timeout = timeout)
    }

    /// The body limit when no layer before this one read the body (default
    /// 1 MiB); a body already read is reused.
    pub fn with_body_limit(self, limit: usize) -> Self {
        self.edit(|c| c.body_limit = limit)
    }

    /// Scope keys by `namespace` instead of the route.
    pub fn with_namespace(self, namespace: &str) -> Self {
        self.edit(|c| c.namespace = Some(namespace.into()))
    }

    /// Keep only these headers for the handler. By default every header is
    /// kept except credentials: `Authorization`, `Cookie`,
    /// `Proxy-Authorization` and any header whose name contains `token`,
    /// `secret`, `password` or `api-key`, which the inbox would otherwise
    /// store in clear.
    pub fn keep_headers(self, names: impl IntoIterator<Item = HeaderName>) -> Self {
        let names = names.into_iter().collect();
        self.edit(|c| c.keep = Keep::Only(names))
    }

    /// What this layer counted, with the workers that count into it
    /// ([`Worker::count_with`](super::Worker::count_with)); a clone of the
    /// layer shares them.
    pub fn counts(&self) -> InboxCounts {
        self.config.counters.snapshot()
    }

    pub(crate) fn counters(&self) -> &InboxCounters {
        &self.config.counters
    }
}

impl<S> Layer<S> for InboxLayer {
    type Service = InboxService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        InboxService {
            inner,
            config: Arc::clone(&self.config),
        }
    }
}

/// The service of [`InboxLayer`].
#[derive(Clone)]
pub struct InboxService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> std::fmt::Debug for InboxService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxService").finish_non_exhaustive()
    }
}

type Enqueueing<R> = Pin<Box<dyn Future<Output = R> + Send>>;

pin_project! {
    /// The response future of [`InboxService`].
    pub struct ResponseFuture<F, B> {
        #[pin]
        kind: Kind<F, B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B> {
        Inner { #[pin] future: F },
        Enqueue { future: Enqueueing<Response<ResponseBody<B>>> },
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future } => future.poll(cx).map_ok(|r| r.map(ResponseBody::new)),
            KindProj::Enqueue { future } => future.as_mut().poll(cx).map(Ok),
        }
    }
}

impl<S, B, ResB> Service<Request<B>> for InboxService<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    ResB: Send + 'static,
{
    type Response = Response<ResponseBody<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let context = WebhookContext::of(&mut request);
        if context.update(|v| v.handshake.is_some()) {
            return ResponseFuture {
                kind: Kind::Inner {
                    future: self.inner.call(request),
                },
            };
        }
        let config = Arc::clone(&self.config);
        ResponseFuture {
            kind: Kind::Enqueue {
                future: Box::pin(enqueue(config, context, request)),
            },
        }
    }
}

async fn enqueue<B, ResB>(
    config: Arc<Config>,
    context: WebhookContext,
    request: Request<B>,
) -> Response<ResponseBody<ResB>>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let (parts, body) =
        match buffer_parts_for(request, config.body_limit, "InboxLayer::with_body_limit").await {
            Ok(read) => read,
            Err(rejection) => {
                context.reject(rejection.reason());
                return rejection.into_response(false);
            }
        };
    let verification = context.snapshot();
    let delivery = Delivery {
        key: inbox_key(&config, &parts, &body, &verification).into(),
        path: Arc::from(parts.uri.path()),
        headers: kept_headers(&config.keep, &parts.headers),
        body,
        provider: verification
            .signed
            .as_ref()
            .map(|s| Arc::from(s.scheme().name()))
            .or_else(|| verification.scheme.clone()),
        key_id: verification
            .authentication
            .as_ref()
            .and_then(|a| a.key_id.clone()),
        delivery_id: verification
            .signed
            .as_ref()
            .and_then(|s| s.id())
            .map(|id| Arc::from(String::from_utf8_lossy(id).as_ref())),
        tenant: verification.tenant.clone(),
        received_at_ms: unix_millis(),
        attempt: 0,
    };
    let started = Instant::now();
    let outcome =
        match tokio::time::timeout(config.enqueue_timeout, config.inbox.enqueue(&delivery)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(InboxError::Timeout),
        };
    #[cfg(feature = "metrics")]
    metrics::histogram!("webhook_inbox_enqueue_seconds").record(started.elapsed().as_secs_f64());
    #[cfg(not(feature = "metrics"))]
    let _ = started;
    match outcome {
        Ok(added) => {
            config.counters.add(match added {
                Enqueued::Added => Counter::Enqueued,
                Enqueued::Duplicate => Counter::Duplicate,
            });
            let mut response = Response::new(ResponseBody::empty());
            *response.status_mut() = config.status;
            response
        }
        Err(error) => {
            config.counters.add(Counter::Refused);
            tracing::warn!(%error, key = %delivery.key, "inbox refused a delivery; answering 503");
            let rejection = Rejection::new(Reason::StoreUnavailable)
                .with_detail(format!("inbox: {error}"))
                .with_header(http::header::RETRY_AFTER, retry_after(config.retry_after));
            context.reject(Reason::StoreUnavailable);
            rejection.into_response(false)
        }
    }
}

fn retry_after(after: Duration) -> HeaderValue {
    let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
    HeaderValue::from(seconds.max(1))
}

/// The delivery's key: what the idempotency layer decided, else the id the
/// signature covers, else a digest of the signed timestamp and the body;
/// scoped by route (or namespace) and tenant. A SHA-256 in hex, so it is
/// bounded and printable whatever the sender's ids look like.
fn inbox_key(
    config: &Config,
    parts: &http::request::Parts,
    body: &Bytes,
    verification: &Verification,
) -> String {
    let scope: Cow<'_, str> = match &config.namespace {
        Some(namespace) => Cow::Borrowed(namespace),
        None => route_scope(parts),
    };
    let mut hash = Sha256::new();
    let mut field = |bytes: &[u8]| {
        // Length-prefixed: no byte can move from one field to the next.
        hash.update((bytes.len() as u64).to_be_bytes());
        hash.update(bytes);
    };
    field(scope.as_bytes());
    field(verification.tenant.as_deref().unwrap_or("").as_bytes());
    if let Some(key) = &verification.idempotency_key {
        field(b"idempotency");
        field(key.as_bytes());
    } else if let Some(id) = verification.signed.as_ref().and_then(|s| s.id()) {
        field(b"signed-id");
        field(id);
    } else {
        field(b"digest");
        field(
            verification
                .signed
                .as_ref()
                .and_then(|s| s.timestamp_text())
                .unwrap_or(b""),
        );
        field(body);
    }
    hex::encode(hash.finalize())
}

fn route_scope(parts: &http::request::Parts) -> Cow<'_, str> {
    #[cfg(feature = "axum")]
    if let Some(route) = parts.extensions.get::<axum::extract::MatchedPath>() {
        return Cow::Borrowed(route.as_str());
    }
    match percent_decoded(parts.uri.path()) {
        Cow::Borrowed(bytes) => String::from_utf8_lossy(bytes),
        Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

fn kept_headers(keep: &Keep, headers: &HeaderMap) -> HeaderMap {
    let mut kept = HeaderMap::new();
    for (name, value) in headers {
        let keep_it = match keep {
            Keep::Only(names) => names.contains(name),
            Keep::AllButCredentials => !is_credential(name.as_str()),
        };
        if keep_it {
            kept.append(name.clone(), value.clone());
        }
    }
    kept
}

fn is_credential(name: &str) -> bool {
    matches!(name, "authorization" | "cookie" | "proxy-authorization")
        || ["token", "secret", "password", "api-key", "apikey"]
            .iter()
            .any(|part| name.contains(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_not_kept() {
        let mut headers = HeaderMap::new();
        headers.insert("x-gitlab-token", HeaderValue::from_static("t"));
        headers.insert("authorization", HeaderValue::from_static("Bearer t"));
        headers.insert("x-github-event", HeaderValue::from_static("push"));
        let kept = kept_headers(&Keep::AllButCredentials, &headers);
        assert_eq!(kept.len(), 1);
        assert!(kept.contains_key("x-github-event"));
    }
}
