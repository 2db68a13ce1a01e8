//! The tower plumbing every protection shares.
//!
//! A protection is a *check*; the layer around it is generic. A check
//! passes (`Ok`), or stops the request before the handler (`Err(`[`Stop`]`)`):
//! it answers on the handler's behalf ([`Answer`](crate::Answer): a
//! handshake's reply, a duplicate's acknowledgement) or refuses
//! ([`Rejection`](crate::Rejection)).
//!
//! * [`RequestCheck`] looks only at the request head (IP filter, tokens). Its
//!   layer, [`CheckLayer`], runs the check and either calls the inner
//!   service with the untouched request or answers itself. Nothing is read
//!   from the body.
//! * [`BodyCheck`] needs the body (signatures, a timestamp inside the JSON).
//!   Its layer, [`BodyCheckLayer`], first runs [`BodyCheck::check_head`] —
//!   so a missing or ambiguous signature header is refused before a byte is
//!   read — then [`buffer`](crate::body::buffer)s the body once and runs
//!   [`BodyCheck::check_body`] on the bytes.
//!
//! Both record their decision in the request's [`WebhookContext`] (so the
//! audit trail and the metrics see a custom refusal like a built-in one),
//! and both answer gRPC requests in gRPC's terms. A closure
//! `Fn(&Parts) -> Result<(), E>` is a [`RequestCheck`] and a closure
//! `Fn(&Parts, &Bytes) -> Result<(), E>` a [`BodyCheck`], for any `E` that
//! converts into a [`Stop`] ([`Rejection`](crate::Rejection),
//! [`Answer`](crate::Answer)). Implement the traits for what a closure
//! cannot do (record in the context, hand a value from the head to the body
//! check). To add a check to a [`WebhookStack`](crate::WebhookStack), see
//! [`WebhookStack::check`](crate::WebhookStack::check).
//!
//! ```
//! use http::request::Parts;
//! use http::{Method, Request, Response, StatusCode};
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_webhook::guard::CheckLayer;
//! use tower_webhook::{Reason, Rejection};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! // Only `POST` may deliver webhooks.
//! let post_only = |parts: &Parts| {
//!     if parts.method == Method::POST {
//!         Ok(())
//!     } else {
//!         Err(Rejection::custom("method_not_allowed", StatusCode::METHOD_NOT_ALLOWED))
//!     }
//! };
//! let service = ServiceBuilder::new()
//!     .layer(CheckLayer::new(post_only))
//!     .service_fn(|_req: Request<String>| async {
//!         Ok::<_, std::convert::Infallible>(Response::new(String::new()))
//!     });
//!
//! let get = Request::get("/hooks").body(String::new()).unwrap();
//! let response = service.oneshot(get).await.unwrap();
//! assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
//! let refusal = Rejection::of(&response).unwrap();
//! assert_eq!(refusal.reason(), Reason::Custom("method_not_allowed"));
//! # });
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::body::{buffer_parts_for, BoxError, BufferedBody, ResponseBody, DEFAULT_BODY_LIMIT};
use crate::context::WebhookContext;
use crate::rejection::{is_grpc, Stop};

/// A check on the request head only.
pub trait RequestCheck: Send + Sync + 'static {
    /// Pass (recording what was learned in `context`), answer or refuse.
    fn check(&self, parts: &mut Parts, context: &WebhookContext) -> Result<(), Stop>;
}

/// A closure on the head is a check: `|parts: &Parts| -> Result<(), E>`.
impl<F, E> RequestCheck for F
where
    F: Fn(&Parts) -> Result<(), E> + Send + Sync + 'static,
    E: Into<Stop>,
{
    fn check(&self, parts: &mut Parts, _: &WebhookContext) -> Result<(), Stop> {
        self(parts).map_err(Into::into)
    }
}

/// A closure on the head and the buffered body is a body check:
/// `|parts: &Parts, body: &Bytes| -> Result<(), E>`, reading at most the
/// default 1 MiB.
impl<F, E> BodyCheck for F
where
    F: Fn(&Parts, &Bytes) -> Result<(), E> + Send + Sync + 'static,
    E: Into<Stop>,
{
    type Pending = ();

    fn body_limit_origin(&self) -> &'static str {
        "a body check closure"
    }

    fn check_head(&self, _: &mut Parts, _: &WebhookContext) -> Result<(), Stop> {
        Ok(())
    }

    fn check_body(
        &self,
        (): (),
        parts: &mut Parts,
        body: &Bytes,
        _: &WebhookContext,
    ) -> Result<(), Stop> {
        self(parts, body).map_err(Into::into)
    }
}

/// A check that needs the body.
pub trait BodyCheck: Send + Sync + 'static {
    /// What the head check hands to the body check (parsed signatures, a
    /// timestamp), so headers are parsed once.
    type Pending: Send + 'static;

    /// The most bytes this check will read. Default: 1 MiB.
    fn body_limit(&self) -> usize {
        DEFAULT_BODY_LIMIT
    }

    /// Who set [`body_limit`](Self::body_limit), named in the detail of a
    /// `payload_too_large` refusal so the operator knows which setting to
    /// change. Default: the check's type name.
    fn body_limit_origin(&self) -> &'static str {
        let name = std::any::type_name::<Self>();
        // `path::to::Check<path::to::Param>` reads as `Check`.
        let base = name.split('<').next().unwrap_or(name);
        base.rsplit("::").next().unwrap_or(base)
    }

    /// Checks that need no body; they run before the body is read.
    fn check_head(
        &self,
        parts: &mut Parts,
        context: &WebhookContext,
    ) -> Result<Self::Pending, Stop>;

    /// Checks on the buffered body.
    fn check_body(
        &self,
        pending: Self::Pending,
        parts: &mut Parts,
        body: &Bytes,
        context: &WebhookContext,
    ) -> Result<(), Stop>;
}

/// Record in the context how the check stopped the request (its reason, or
/// its answer's kind), and turn it into the response.
pub(crate) fn stop<B>(
    stop: Stop,
    grpc: bool,
    context: &WebhookContext,
) -> Response<ResponseBody<B>> {
    match &stop {
        Stop::Refuse(rejection) => context.reject(rejection.reason()),
        Stop::Answer(answer) => context.answered(answer.kind()),
    }
    stop.into_response(grpc)
}

/// Guards inner services with a [`RequestCheck`]: the check of your own,
/// as a tower layer. Its service is [`Guard`].
#[derive(Debug)]
pub struct CheckLayer<C> {
    check: Arc<C>,
}

impl<C> Clone for CheckLayer<C> {
    fn clone(&self) -> Self {
        Self {
            check: Arc::clone(&self.check),
        }
    }
}

impl<C: RequestCheck> CheckLayer<C> {
    /// Run `check` on the head of every request.
    pub fn new(check: C) -> Self {
        Self {
            check: Arc::new(check),
        }
    }
}

impl<C, S> Layer<S> for CheckLayer<C> {
    type Service = Guard<C, S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guard::new(Arc::clone(&self.check), inner)
    }
}

/// Guards inner services with a [`BodyCheck`]: the body is buffered (under
/// the check's [`body_limit`](BodyCheck::body_limit)) and the inner service
/// receives a [`BufferedBody`]. Its service is [`BodyGuard`].
///
/// ```
/// use bytes::Bytes;
/// use http::request::Parts;
/// use http::StatusCode;
/// use tower::ServiceBuilder;
/// use tower_webhook::body::BufferedBody;
/// use tower_webhook::guard::BodyCheckLayer;
/// use tower_webhook::Rejection;
///
/// // Every delivery of this sender is a JSON object.
/// let json_object = |_: &Parts, body: &Bytes| {
///     if body.trim_ascii_start().starts_with(b"{") {
///         Ok(())
///     } else {
///         Err(Rejection::custom("not_a_json_object", StatusCode::UNPROCESSABLE_ENTITY))
///     }
/// };
/// let service = ServiceBuilder::new()
///     .layer(BodyCheckLayer::new(json_object))
///     .service_fn(|_req: http::Request<BufferedBody>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
///     });
/// # let _ = service;
/// ```
#[derive(Debug)]
pub struct BodyCheckLayer<C> {
    check: Arc<C>,
}

impl<C> Clone for BodyCheckLayer<C> {
    fn clone(&self) -> Self {
        Self {
            check: Arc::clone(&self.check),
        }
    }
}

impl<C: BodyCheck> BodyCheckLayer<C> {
    /// Run `check` on the head, then on the buffered body, of every
    /// request.
    pub fn new(check: C) -> Self {
        Self {
            check: Arc::new(check),
        }
    }
}

impl<C, S> Layer<S> for BodyCheckLayer<C> {
    type Service = BodyGuard<C, S>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyGuard::new(Arc::clone(&self.check), inner)
    }
}

/// The service of every [`RequestCheck`] layer.
#[derive(Debug)]
pub struct Guard<C, S> {
    check: Arc<C>,
    inner: S,
}

impl<C, S: Clone> Clone for Guard<C, S> {
    fn clone(&self) -> Self {
        Self {
            check: Arc::clone(&self.check),
            inner: self.inner.clone(),
        }
    }
}

impl<C, S> Guard<C, S> {
    /// Guard `inner` with `check`.
    pub fn new(check: Arc<C>, inner: S) -> Self {
        Self { check, inner }
    }

    /// The check.
    pub fn check(&self) -> &C {
        &self.check
    }
}

impl<C, S, ReqBody, ResBody> Service<Request<ReqBody>> for Guard<C, S>
where
    C: RequestCheck,
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = GuardFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let context = WebhookContext::of(&mut request);
        let (mut parts, body) = request.into_parts();
        match self.check.check(&mut parts, &context) {
            Ok(()) => GuardFuture::inner(self.inner.call(Request::from_parts(parts, body))),
            Err(stopped) => GuardFuture::done(stop(stopped, is_grpc(&parts.headers), &context)),
        }
    }
}

pin_project! {
    /// Response future of [`Guard`].
    pub struct GuardFuture<F, B> {
        #[pin]
        kind: GuardKind<F, B>,
    }
}

pin_project! {
    #[project = GuardKindProj]
    enum GuardKind<F, B> {
        Inner { #[pin] future: F },
        Done { response: Option<Response<ResponseBody<B>>> },
    }
}

impl<F, B> GuardFuture<F, B> {
    fn inner(future: F) -> Self {
        Self {
            kind: GuardKind::Inner { future },
        }
    }

    fn done(response: Response<ResponseBody<B>>) -> Self {
        Self {
            kind: GuardKind::Done {
                response: Some(response),
            },
        }
    }
}

impl<F, B, E> Future for GuardFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            GuardKindProj::Inner { future } => {
                let response = ready!(future.poll(cx))?;
                Poll::Ready(Ok(response.map(ResponseBody::new)))
            }
            GuardKindProj::Done { response } => {
                Poll::Ready(Ok(response.take().expect("future polled after completion")))
            }
        }
    }
}

/// The service of every [`BodyCheck`] layer. The inner service receives the
/// request with a [`BufferedBody`].
#[derive(Debug)]
pub struct BodyGuard<C, S> {
    check: Arc<C>,
    inner: S,
}

impl<C, S: Clone> Clone for BodyGuard<C, S> {
    fn clone(&self) -> Self {
        Self {
            check: Arc::clone(&self.check),
            inner: self.inner.clone(),
        }
    }
}

impl<C, S> BodyGuard<C, S> {
    /// Guard `inner` with `check`.
    pub fn new(check: Arc<C>, inner: S) -> Self {
        Self { check, inner }
    }

    /// The check.
    pub fn check(&self) -> &C {
        &self.check
    }
}

impl<C, S, ReqBody, ResBody> Service<Request<ReqBody>> for BodyGuard<C, S>
where
    C: BodyCheck,
    S: Service<Request<BufferedBody>, Response = Response<ResBody>> + Clone,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = BodyGuardFuture<S, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let context = WebhookContext::of(&mut request);
        let grpc = is_grpc(request.headers());
        let (mut parts, body) = request.into_parts();
        let pending = match self.check.check_head(&mut parts, &context) {
            Ok(pending) => pending,
            Err(stopped) => return AsyncGuardFuture::done(stop(stopped, grpc, &context)),
        };
        let check = Arc::clone(&self.check);
        let checked_context = context.clone();
        let prepare: Preparation<_> = Box::pin(async move {
            let limit = check.body_limit();
            let origin = check.body_limit_origin();
            let (mut parts, bytes) =
                buffer_parts_for(Request::from_parts(parts, body), limit, origin).await?;
            check.check_body(pending, &mut parts, &bytes, &checked_context)?;
            Ok(Request::from_parts(parts, BufferedBody::new(bytes)))
        });
        AsyncGuardFuture::new(prepare, take_ready(&mut self.inner), grpc, context)
    }
}

/// Response future of [`BodyGuard`].
pub(crate) type BodyGuardFuture<S, B> = AsyncGuardFuture<S, Request<BufferedBody>, B>;

/// A boxed, sendable preparation step: the request an asynchronous guard
/// hands to the inner service, or how it stopped it.
pub(crate) type Preparation<R> = Pin<Box<dyn Future<Output = Result<R, Stop>> + Send>>;

pin_project! {
    /// Response future of guards that must await something (the body, a
    /// tenant's policy) before deciding: prepares the request, then calls the
    /// inner service with it, or answers or refuses in its place.
    pub struct AsyncGuardFuture<S, R, B>
    where
        S: Service<R>,
    {
        #[pin]
        state: AsyncState<S, R, B>,
    }
}

pin_project! {
    #[project = AsyncStateProj]
    enum AsyncState<S, R, B>
    where
        S: Service<R>,
    {
        Preparing {
            prepare: Preparation<R>,
            inner: Option<S>,
            grpc: bool,
            context: WebhookContext,
        },
        Calling { #[pin] future: S::Future },
        Done { response: Option<Response<ResponseBody<B>>> },
    }
}

impl<S, R, B> AsyncGuardFuture<S, R, B>
where
    S: Service<R>,
{
    /// Run `prepare`, then call `inner` (a service that is ready) with its
    /// request.
    pub(crate) fn new(
        prepare: Preparation<R>,
        inner: S,
        grpc: bool,
        context: WebhookContext,
    ) -> Self {
        Self {
            state: AsyncState::Preparing {
                prepare,
                inner: Some(inner),
                grpc,
                context,
            },
        }
    }

    /// Answer with `response` without calling the inner service.
    pub(crate) fn done(response: Response<ResponseBody<B>>) -> Self {
        Self {
            state: AsyncState::Done {
                response: Some(response),
            },
        }
    }
}

impl<S, R, B> Future for AsyncGuardFuture<S, R, B>
where
    S: Service<R, Response = Response<B>>,
{
    type Output = Result<Response<ResponseBody<B>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                AsyncStateProj::Preparing {
                    prepare,
                    inner,
                    grpc,
                    context,
                } => match ready!(prepare.as_mut().poll(cx)) {
                    Ok(request) => {
                        let mut inner = inner.take().expect("future polled after completion");
                        let future = inner.call(request);
                        this.state.set(AsyncState::Calling { future });
                    }
                    Err(stopped) => return Poll::Ready(Ok(stop(stopped, *grpc, context))),
                },
                AsyncStateProj::Calling { future } => {
                    let response = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(response.map(ResponseBody::new)));
                }
                AsyncStateProj::Done { response } => {
                    return Poll::Ready(Ok(response
                        .take()
                        .expect("future polled after completion")))
                }
            }
        }
    }
}

/// Take the ready service out of `slot`, leaving a fresh clone behind
/// (tower's usual swap: the clone may not be ready yet).
pub(crate) fn take_ready<S: Clone>(slot: &mut S) -> S {
    let clone = slot.clone();
    std::mem::replace(slot, clone)
}

/// The check behind [`BufferBodyLayer`]: no user names it, so it lives in a
/// module of its own that the crate does not export.
mod limit {
    use super::*;

    /// A [`BodyCheck`] that only buffers the body under a limit.
    #[derive(Debug, Clone, Copy)]
    pub struct BodyLimit {
        pub(super) limit: usize,
    }

    impl BodyCheck for BodyLimit {
        type Pending = ();

        fn body_limit(&self) -> usize {
            self.limit
        }

        fn body_limit_origin(&self) -> &'static str {
            "BufferBodyLayer::new"
        }

        fn check_head(&self, _: &mut Parts, _: &WebhookContext) -> Result<(), Stop> {
            Ok(())
        }

        fn check_body(
            &self,
            _: (),
            _: &mut Parts,
            _: &Bytes,
            _: &WebhookContext,
        ) -> Result<(), Stop> {
            Ok(())
        }
    }
}
use limit::BodyLimit;

/// Buffers the body once, under a limit (413 beyond it), before any inner
/// layer or the handler runs.
///
/// Body-reading layers buffer on their own; add this layer to apply the limit
/// further out, e.g. before an expensive tenant lookup.
///
/// ```
/// use tower::ServiceBuilder;
/// use tower_webhook::guard::BufferBodyLayer;
///
/// let layer = ServiceBuilder::new().layer(BufferBodyLayer::new(64 * 1024));
/// # let _ = layer;
/// ```
#[derive(Debug, Clone)]
pub struct BufferBodyLayer {
    limit: Arc<BodyLimit>,
}

impl BufferBodyLayer {
    /// Buffer bodies of at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            limit: Arc::new(BodyLimit { limit }),
        }
    }
}

impl Default for BufferBodyLayer {
    fn default() -> Self {
        Self::new(DEFAULT_BODY_LIMIT)
    }
}

impl<S> Layer<S> for BufferBodyLayer {
    type Service = BufferBody<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyGuard::new(Arc::clone(&self.limit), inner)
    }
}

/// The service of [`BufferBodyLayer`].
pub type BufferBody<S> = BodyGuard<BodyLimit, S>;
