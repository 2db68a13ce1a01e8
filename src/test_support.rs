//! What the layers' unit tests share: one request through a layer with
//! `oneshot`, no server and no socket, to a handler that keeps what the
//! layers recorded. A test of one layer's decision (a header parsed, a
//! window checked, a token compared, a refusal's status and body) needs no
//! more; the end-to-end tests over TCP are in `tests/library`.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use tower::{Layer, Service, ServiceExt};

use crate::{Answer, Reason, Verification, WebhookContext};

/// The handler behind the layer under test: answers `200 handled` and
/// hands back, in the response extensions, the verification it saw. Any
/// request body, as a body-reading layer passes on its buffered body.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Handler;

/// What the handler saw: its presence says the handler ran.
#[derive(Clone, Debug)]
struct Handled(Verification);

impl<B> Service<Request<B>> for Handler {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let seen = WebhookContext::get(request.extensions())
            .map(WebhookContext::snapshot)
            .unwrap_or_default();
        let mut response = Response::new(Full::new(Bytes::from_static(b"handled")));
        response.extensions_mut().insert(Handled(seen));
        ready(Ok(response))
    }
}

/// A response, fully read.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// The reason a refusal carries in its extensions.
    pub(crate) reason: Option<Reason>,
    /// The kind of the answer a check gave in the handler's place.
    pub(crate) answer: Option<&'static str>,
    /// What the handler saw, if it ran.
    pub(crate) handled: Option<Verification>,
}

impl Reply {
    /// The body as text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether the handler ran.
    pub(crate) fn was_handled(&self) -> bool {
        self.handled.is_some()
    }

    /// What the handler saw; panics (a failed test) when it did not run.
    #[track_caller]
    pub(crate) fn verification(&self) -> &Verification {
        self.handled
            .as_ref()
            .unwrap_or_else(|| panic!("the handler did not run: {self:?}"))
    }
}

/// `request` through `layer` in front of [`Handler`], read to the end.
pub(crate) async fn oneshot<L, ReqBody, ResBody>(layer: &L, request: Request<ReqBody>) -> Reply
where
    L: Layer<Handler>,
    L::Service: Service<Request<ReqBody>, Response = Response<ResBody>, Error = Infallible>,
    ResBody: Body<Data = Bytes>,
    ResBody::Error: std::fmt::Debug,
{
    read(layer.layer(Handler).oneshot(request).await.unwrap()).await
}

/// `response` read to the end, for a test with a handler of its own.
pub(crate) async fn read<B>(response: Response<B>) -> Reply
where
    B: Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let answer = Answer::of(&response).map(Answer::kind);
    let (mut parts, body) = response.into_parts();
    let body = body.collect().await.expect("reading the reply").to_bytes();
    Reply {
        status: parts.status,
        reason: parts.extensions.get::<Reason>().copied(),
        answer,
        handled: parts.extensions.remove::<Handled>().map(|seen| seen.0),
        headers: parts.headers,
        body,
    }
}

/// A request with an empty body.
pub(crate) fn empty(builder: http::request::Builder) -> Request<Full<Bytes>> {
    builder.body(Full::default()).expect("a valid request")
}

/// A request with `body`.
pub(crate) fn with_body(
    builder: http::request::Builder,
    body: impl Into<Bytes>,
) -> Request<Full<Bytes>> {
    builder
        .body(Full::new(body.into()))
        .expect("a valid request")
}
