//! The service: reserve, run, complete or release.

use std::borrow::Cow;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body::Body;
use tower_service::Service;

use super::future::{Decision, Hold, ResponseFuture};
use super::key::{extract_with, store_key};
use super::layer::{Config, DuplicateAck, MissingKey, Scope};
use super::store::{Reservation, StoreError};
use super::watch::Verdict;
use crate::body::{buffer_parts, BoxError, BufferedBody, ResponseBody};
use crate::context::WebhookContext;
use crate::path::percent_decoded;
use crate::rejection::{is_grpc, Answer, Reason, Rejection, DUPLICATE};

/// The header that marks an answer given without running the handler:
/// `Idempotent-Replayed: true`.
pub const REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The service of [`IdempotencyLayer`](super::IdempotencyLayer). The inner
/// service receives the request with a [`BufferedBody`].
pub struct Idempotency<S> {
    config: Arc<Config>,
    inner: S,
}

impl<S: Clone> Clone for Idempotency<S> {
    fn clone(&self) -> Self {
        Self {
            config: Arc::clone(&self.config),
            inner: self.inner.clone(),
        }
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for Idempotency<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S> Idempotency<S> {
    pub(crate) fn new(config: Arc<Config>, inner: S) -> Self {
        Self { config, inner }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Idempotency<S>
where
    S: Service<Request<BufferedBody>, Response = Response<ResBody>> + Clone,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let context = WebhookContext::of(&mut request);
        let grpc = is_grpc(request.headers());
        let prepare = Box::pin(decide(
            Arc::clone(&self.config),
            request,
            context.clone(),
            grpc,
        ));
        // The clone may not be ready; keep the one that is (tower's usual swap).
        let inner = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, inner);
        ResponseFuture::new(prepare, inner, Arc::clone(&self.config), grpc, context)
    }
}

/// Buffer the body, find the key, and reserve it.
async fn decide<B>(
    config: Arc<Config>,
    request: Request<B>,
    context: WebhookContext,
    grpc: bool,
) -> Decision
where
    B: Body + Send,
    B::Error: Into<BoxError>,
{
    // A body an outer layer read under its own limit (the stack's, the
    // tenant layer's) is not limited again unless this layer was told to.
    let limit = match config.body_limit {
        Some(limit) => limit,
        None if request.extensions().get::<crate::body::RawBody>().is_some() => usize::MAX,
        None => crate::body::DEFAULT_BODY_LIMIT,
    };
    let (parts, bytes) = match buffer_parts(request, limit).await {
        Ok(buffered) => buffered,
        Err(rejection) => return Decision::Stop(rejection.into()),
    };
    // What the layers before this one recorded, under one lock.
    let (tenant, signed) = context.update(|v| (v.tenant.clone(), v.signed.clone()));
    let key = extract_with(
        &config.sources,
        config.unsigned_accepted,
        &parts,
        &bytes,
        signed,
    );
    let stored_as = key.as_ref().map(|key| {
        let scope = match &config.scope {
            Scope::Route => route_scope(&parts),
            Scope::Named(name) => Cow::Borrowed(&**name),
        };
        store_key(tenant.as_deref(), &scope, key)
    });
    let request = Request::from_parts(parts, BufferedBody::new(bytes));

    let (Some(key), Some(stored_as)) = (key, stored_as) else {
        return match config.missing {
            MissingKey::Reject => Decision::Stop(Reason::PayloadIncomplete.into()),
            MissingKey::PassThrough => Decision::Run {
                request,
                hold: None,
            },
        };
    };
    context.set_idempotency_key(key.text);

    match reserve(&config, &stored_as).await {
        Ok(Reservation::Acquired(token)) => Decision::Run {
            request,
            hold: Some(Hold {
                key: stored_as,
                token,
            }),
        },
        Ok(Reservation::InFlight(_)) => {
            tracing::debug!("idempotency: delivery in flight, answering 409");
            Decision::Stop(
                Rejection::new(Reason::InFlight)
                    .with_header(http::header::RETRY_AFTER, retry_after(config.retry_after))
                    .into(),
            )
        }
        Ok(Reservation::Completed(outcome)) => {
            tracing::debug!("idempotency: duplicate delivery acknowledged");
            let status = match (grpc, config.ack) {
                // gRPC callers read grpc-status, and a duplicate is a success.
                (true, _) => StatusCode::OK,
                (false, DuplicateAck::Fixed(status)) => status,
                (false, DuplicateAck::StoredStatus) => outcome.status(),
            };
            Decision::Stop(
                Answer::of_kind(DUPLICATE, status)
                    .with_header(REPLAYED_HEADER, HeaderValue::from_static("true"))
                    .into(),
            )
        }
        Err(error) if config.fail_open => {
            error.count("reserve");
            tracing::warn!(%error, "idempotency store failed; running the handler unprotected (fail-open)");
            Decision::Run {
                request,
                hold: None,
            }
        }
        Err(error) => {
            error.count("reserve");
            tracing::warn!(%error, "idempotency store failed; refusing with 503");
            Decision::Stop(
                Rejection::new(Reason::StoreUnavailable)
                    .with_header(http::header::RETRY_AFTER, retry_after(config.retry_after))
                    .into(),
            )
        }
    }
}

/// Reserve `key`, or take it over from a holder presumed dead: one this
/// replica has watched make no progress for a lock TTL of its own clock,
/// with the store answering all along (see `watch`). A key whose lease
/// merely expired on the store's clock is never taken over: that clock ran
/// on while the store was stopped and nobody could renew.
async fn reserve(config: &Config, key: &str) -> Result<Reservation, StoreError> {
    let (store, watch, lock_ttl) = (&config.store, &config.watch, config.lock_ttl);
    let sent = tokio::time::Instant::now();
    let found = store.reserve(key, lock_ttl).await;
    if matches!(
        found,
        Ok(Reservation::Acquired(_) | Reservation::Completed(_))
    ) && !watch.watching()
    {
        // The usual case, with nothing watched: no second clock read. A
        // sighting made later is judged by the answers after it; leaving
        // a prompt answer out only makes the silence before it look longer.
        return found;
    }
    let ended = tokio::time::Instant::now();
    watch.report(sent, ended, found.is_ok(), lock_ttl);
    let holder = match found? {
        Reservation::InFlight(holder) => holder,
        settled => {
            watch.forget(key);
            return Ok(settled);
        }
    };
    if let Verdict::Wait = watch.sighted(key, &holder, sent, ended, lock_ttl) {
        watch.keep_pinging(store, lock_ttl);
        return Ok(Reservation::InFlight(holder));
    }
    let sent = tokio::time::Instant::now();
    let taken = store.take_over(key, &holder, lock_ttl).await;
    let ended = tokio::time::Instant::now();
    watch.report(sent, ended, taken.is_ok(), lock_ttl);
    match taken? {
        Reservation::InFlight(other) => {
            // Alive after all (it renewed just now), or another replica
            // took over first: watch the new holder from here.
            let _ = watch.sighted(key, &other, sent, ended, lock_ttl);
            Ok(Reservation::InFlight(other))
        }
        Reservation::Acquired(token) => {
            watch.forget(key);
            config.counters.took_over();
            tracing::warn!(
                target: "tower_webhook::audit",
                event = "idempotency.takeover",
                lock_ttl = ?lock_ttl,
                "idempotency: took over a delivery whose holder showed no progress for the lock \
                 TTL while the store answered; running it here"
            );
            Ok(Reservation::Acquired(token))
        }
        completed => {
            watch.forget(key);
            Ok(completed)
        }
    }
}

/// The route a request reached, as the idempotency scope. No signature
/// covers the path, so the scope must not change with how it is spelled or
/// with what a route parameter matched: axum's route pattern
/// (`/hooks/{tenant}`) where there is one, else the percent-decoded path.
fn route_scope(parts: &http::request::Parts) -> Cow<'_, str> {
    #[cfg(feature = "axum")]
    if let Some(route) = parts.extensions.get::<axum::extract::MatchedPath>() {
        return Cow::Borrowed(route.as_str());
    }
    // Borrowed unless the path had escapes to decode.
    match percent_decoded(parts.uri.path()) {
        Cow::Borrowed(bytes) => String::from_utf8_lossy(bytes),
        Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

fn retry_after(after: Duration) -> HeaderValue {
    let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
    HeaderValue::from(seconds.max(1))
}

/// What a handler's status means for the key: `true` completes it.
pub(crate) fn completes(config: &Config, status: StatusCode) -> bool {
    if status.is_server_error() {
        return false;
    }
    if status.is_client_error() {
        let transient = matches!(status.as_u16(), 408 | 409 | 425 | 429);
        return config.complete_client_errors && !transient;
    }
    true
}
