//! [`ResponseBody`]: the response body of every layer, below the
//! rejection model that writes one.

use std::convert::Infallible;
use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use pin_project_lite::pin_project;

/// What a response body settles when it ends: the idempotency layer's
/// reservation for a gRPC response, whose status comes in the trailers.
pub(crate) trait SettleOnEnd: Send + 'static {
    /// The body ended with `trailers` (or without any): record the outcome.
    fn poll_settle(&mut self, trailers: Option<&HeaderMap>, cx: &mut Context<'_>) -> Poll<()>;
    /// The body failed: give the outcome up.
    fn fail(&mut self);
    /// Whether the outcome is recorded (or given up).
    fn is_settled(&self) -> bool;
}

/// The outcome a settling body records when it ends.
struct Settlement(Box<dyn SettleOnEnd>);

impl Settlement {
    fn poll_settle(&mut self, trailers: Option<&HeaderMap>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.poll_settle(trailers, cx)
    }

    fn fail(&mut self) {
        self.0.fail();
    }

    fn is_settled(&self) -> bool {
        self.0.is_settled()
    }
}

impl fmt::Debug for Settlement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settlement")
            .field("settled", &self.is_settled())
            .finish()
    }
}

pin_project! {
    /// The response body of every layer: the inner service's body, or the
    /// short body of a response the layer wrote itself (a rejection, a
    /// duplicate acknowledgement).
    pub struct ResponseBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        // The inner service's body, untouched.
        Inner { #[pin] body: B },
        // A body the layer wrote.
        Full { body: Full<Bytes> },
        // The inner service's body, whose end (for gRPC, its trailers)
        // settles an idempotency reservation.
        Settling {
            #[pin] body: B,
            outcome: Settlement,
            // The last frame (trailers) or the end (`Some(None)`), held
            // back until the outcome is recorded.
            end: Option<Option<Frame<Bytes>>>,
        },
    }
}

impl<B> ResponseBody<B> {
    /// Wrap the inner service's body.
    pub fn new(body: B) -> Self {
        Self {
            kind: Kind::Inner { body },
        }
    }

    /// The inner service's body; the reservation is settled when it ends.
    pub(crate) fn settling(body: B, outcome: impl SettleOnEnd) -> Self {
        Self {
            kind: Kind::Settling {
                body,
                outcome: Settlement(Box::new(outcome)),
                end: None,
            },
        }
    }

    /// A body the layer writes itself.
    pub fn full(bytes: Bytes) -> Self {
        Self {
            kind: Kind::Full {
                body: Full::new(bytes),
            },
        }
    }

    /// An empty body.
    pub fn empty() -> Self {
        Self::full(Bytes::new())
    }
}

impl<B> Body for ResponseBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx),
            KindProj::Full { body } => Pin::new(body)
                .poll_frame(cx)
                .map_err(|never: Infallible| match never {}),
            KindProj::Settling {
                mut body,
                outcome,
                end,
            } => loop {
                if let Some(last) = end {
                    let trailers = last.as_ref().and_then(Frame::trailers_ref);
                    ready!(outcome.poll_settle(trailers, cx));
                    return Poll::Ready(end.take().flatten().map(Ok));
                }
                if outcome.is_settled() {
                    return body.poll_frame(cx);
                }
                match ready!(body.as_mut().poll_frame(cx)) {
                    Some(Ok(frame)) if frame.is_trailers() => *end = Some(Some(frame)),
                    Some(Ok(frame)) => return Poll::Ready(Some(Ok(frame))),
                    Some(Err(error)) => {
                        outcome.fail();
                        return Poll::Ready(Some(Err(error)));
                    }
                    None => *end = Some(None),
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Full { body } => body.is_end_stream(),
            // Never end before the outcome is recorded, or the trailers
            // would not be polled.
            Kind::Settling { body, outcome, end } => {
                outcome.is_settled() && end.is_none() && body.is_end_stream()
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Full { body } => body.size_hint(),
            Kind::Settling { body, .. } => body.size_hint(),
        }
    }
}
