//! The tower plumbing every protection shares.
//!
//! A protection is a *check*; the layer around it is generic:
//!
//! * [`RequestCheck`] looks only at the request head (IP filter, tokens). Its
//!   service, [`Guard`], runs the check and either calls the inner service
//!   with the untouched request or answers with the rejection. Nothing is
//!   read from the body.
//! * [`BodyCheck`] needs the body (signatures, a timestamp inside the JSON).
//!   Its service, [`BodyGuard`], first runs [`BodyCheck::check_head`] — so a
//!   missing or ambiguous signature header is refused before a byte is read —
//!   then [`buffer`](crate::body::buffer)s the body once and runs
//!   [`BodyCheck::check_body`] on the bytes.
//!
//! Both record their decision in the request's
//! [`WebhookContext`], and both answer gRPC requests
//! in gRPC's terms. Implement the traits to write a protection of your own:
//!
//! ```
//! use std::sync::Arc;
//! use http::request::Parts;
//! use tower::ServiceBuilder;
//! use tower_webhook::guard::{Guard, RequestCheck};
//! use tower_webhook::{Reason, Rejection, WebhookContext};
//!
//! /// Only `POST` may deliver webhooks.
//! struct PostOnly;
//!
//! impl RequestCheck for PostOnly {
//!     fn check(&self, parts: &mut Parts, _: &WebhookContext) -> Result<(), Rejection> {
//!         if parts.method == http::Method::POST {
//!             Ok(())
//!         } else {
//!             Err(Rejection::new(Reason::TokenMissing))
//!         }
//!     }
//! }
//!
//! let service = ServiceBuilder::new()
//!     .layer_fn(|inner| Guard::new(Arc::new(PostOnly), inner))
//!     .service_fn(|_req: http::Request<String>| async {
//!         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//!     });
//! # let _ = service;
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
use crate::rejection::{is_grpc, Rejection};

/// A check on the request head only.
pub trait RequestCheck: Send + Sync + 'static {
    /// Accept (recording what was learned in `context`) or refuse.
    fn check(&self, parts: &mut Parts, context: &WebhookContext) -> Result<(), Rejection>;
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
    ) -> Result<Self::Pending, Rejection>;

    /// Checks on the buffered body.
    fn check_body(
        &self,
        pending: Self::Pending,
        parts: &mut Parts,
        body: &Bytes,
        context: &WebhookContext,
    ) -> Result<(), Rejection>;
}

/// Record `rejection` in the context and turn it into the response.
pub(crate) fn refuse<B>(
    rejection: Rejection,
    grpc: bool,
    context: &WebhookContext,
) -> Response<ResponseBody<B>> {
    context.reject(rejection.reason());
    rejection.into_response(grpc)
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
            Err(rejection) => {
                GuardFuture::done(refuse(rejection, is_grpc(&parts.headers), &context))
            }
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
            Err(rejection) => return AsyncGuardFuture::done(refuse(rejection, grpc, &context)),
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

/// A boxed, sendable preparation step: the request (or its refusal) an
/// asynchronous guard hands to the inner service.
pub(crate) type Preparation<R> = Pin<Box<dyn Future<Output = Result<R, Rejection>> + Send>>;

pin_project! {
    /// Response future of guards that must await something (the body, a
    /// tenant's policy) before deciding: prepares the request, then calls the
    /// inner service with it, or answers with the rejection.
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
                    Err(rejection) => return Poll::Ready(Ok(refuse(rejection, *grpc, context))),
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

/// A [`BodyCheck`] that only buffers the body under a limit.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    limit: usize,
}

impl BodyCheck for BodyLimit {
    type Pending = ();

    fn body_limit(&self) -> usize {
        self.limit
    }

    fn body_limit_origin(&self) -> &'static str {
        "BufferBodyLayer::new"
    }

    fn check_head(&self, _: &mut Parts, _: &WebhookContext) -> Result<(), Rejection> {
        Ok(())
    }

    fn check_body(
        &self,
        _: (),
        _: &mut Parts,
        _: &Bytes,
        _: &WebhookContext,
    ) -> Result<(), Rejection> {
        Ok(())
    }
}

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
