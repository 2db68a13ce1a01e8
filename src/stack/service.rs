//! The layer and service [`WebhookStack::build`](super::WebhookStack::build)
//! returns.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use tower::util::Either;
use tower_layer::Layer;
use tower_service::Service;

use crate::audit::{self, Audit, AuditConfig};
use crate::body::{BoxError, BufferedBody, ResponseBody};
use crate::chain::CheckChain;
use crate::guard::{AsyncGuardFuture, BodyGuard};
use crate::idempotency::{Idempotency, IdempotencyLayer};

/// Every protection of a [`WebhookStack`](super::WebhookStack) as one
/// [`Layer`]: audit, the checks behind one body buffer, then idempotency.
#[derive(Clone)]
pub struct WebhookLayer {
    pub(super) audit: Option<Arc<AuditConfig>>,
    pub(super) checks: Arc<CheckChain>,
    pub(super) idempotency: Option<IdempotencyLayer>,
}

impl std::fmt::Debug for WebhookLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookLayer")
            .field("audit", &self.audit.is_some())
            .field("checks", &self.checks)
            .field("idempotency", &self.idempotency)
            .finish()
    }
}

impl<S> Layer<S> for WebhookLayer {
    type Service = WebhookService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        let inner = match &self.idempotency {
            Some(layer) => Either::Left(layer.layer(inner)),
            None => Either::Right(WrapBody { inner }),
        };
        let guard = BodyGuard::new(Arc::clone(&self.checks), inner);
        WebhookService {
            audit: Audit::new(self.audit.clone(), guard),
        }
    }
}

/// The handler, behind idempotency when the stack has it.
type Handler<S> = Either<Idempotency<S>, WrapBody<S>>;

/// The service of [`WebhookLayer`]. The inner service receives the request
/// with a [`BufferedBody`] once every check has passed.
#[derive(Clone, Debug)]
pub struct WebhookService<S> {
    audit: Audit<BodyGuard<CheckChain, Handler<S>>>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for WebhookService<S>
where
    S: Service<Request<BufferedBody>, Response = Response<ResBody>> + Clone,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<ResponseBody<ResBody>>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Service::<Request<ReqBody>>::poll_ready(&mut self.audit, cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        ResponseFuture {
            inner: self.audit.call(request),
        }
    }
}

pin_project! {
    /// Response future of [`WebhookService`].
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<BufferedBody>, Response = Response<B>>,
        S: Clone,
    {
        #[pin]
        inner: audit::ResponseFuture<
            AsyncGuardFuture<Handler<S>, Request<BufferedBody>, ResponseBody<B>>,
        >,
    }
}

impl<S, B> Future for ResponseFuture<S, B>
where
    S: Service<Request<BufferedBody>, Response = Response<B>> + Clone,
{
    type Output = Result<Response<ResponseBody<ResponseBody<B>>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx)
    }
}

/// The handler's response in the body type idempotency answers with, so
/// that [`Either`] can hold the handler with or without idempotency.
#[derive(Clone, Debug)]
pub(crate) struct WrapBody<S> {
    inner: S,
}

impl<S, ResBody> Service<Request<BufferedBody>> for WrapBody<S>
where
    S: Service<Request<BufferedBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = WrapBodyFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<BufferedBody>) -> Self::Future {
        WrapBodyFuture {
            inner: self.inner.call(request),
        }
    }
}

pin_project! {
    /// Response future of [`WrapBody`].
    pub(crate) struct WrapBodyFuture<F> {
        #[pin]
        inner: F,
    }
}

impl<F, B, E> Future for WrapBodyFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .inner
            .poll(cx)
            .map_ok(|response| response.map(ResponseBody::new))
    }
}
