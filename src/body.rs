//! The body, buffered once.
//!
//! Signatures are computed over the raw bytes, so some layer has to read the
//! whole body before the handler runs. [`buffer`] is the one place that does
//! it, for every layer:
//!
//! * a `Content-Length` over the limit is answered with `413` before a byte
//!   is read;
//! * a streamed body stops being read as soon as it passes the limit;
//! * the bytes are kept in the request extensions as [`RawBody`], and the
//!   request continues inward with a [`BufferedBody`] over the same `Bytes`
//!   (a reference count, not a copy);
//! * a later layer that calls [`buffer`] again finds [`RawBody`] and reuses
//!   it: no second read, no copy.
//!
//! [`BufferBodyLayer`] does only this, for stacks that want the limit applied
//! early and explicitly.
//!
//! ```
//! use bytes::Bytes;
//! use http::Request;
//! use http_body_util::Full;
//! use tower_webhook::body::{buffer, RawBody};
//!
//! # tokio_test_block_on(async {
//! let request = Request::new(Full::new(Bytes::from_static(b"{\"ok\":true}")));
//! let request = buffer(request, 1024).await.unwrap();
//! let raw = request.extensions().get::<RawBody>().unwrap();
//! assert_eq!(raw.as_bytes(), &b"{\"ok\":true}"[..]);
//!
//! // Too large: refused, with the stable reason.
//! let request = Request::new(Full::new(Bytes::from(vec![0u8; 2048])));
//! let rejection = buffer(request, 1024).await.unwrap_err();
//! assert_eq!(rejection.reason().as_str(), "payload_too_large");
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::{header, HeaderMap, Request};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use pin_project_lite::pin_project;

use crate::idempotency::PendingOutcome;
use crate::rejection::{Reason, Rejection};

/// The body limit every body-reading layer uses unless told otherwise: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The type-erased error of bodies this crate reads.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The raw request body, kept in the request extensions once a layer has
/// buffered it. Handlers may read it too (e.g. `Extension<RawBody>` in axum).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBody(Bytes);

impl RawBody {
    /// Wrap bytes (mostly useful in tests).
    pub fn new(bytes: Bytes) -> Self {
        Self(bytes)
    }

    /// The bytes, exactly as received.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// The bytes, exactly as received.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

/// The body a body-reading layer hands inward: the buffered bytes, as one
/// frame.
#[derive(Debug, Clone, Default)]
pub struct BufferedBody {
    data: Option<Bytes>,
}

impl BufferedBody {
    /// A body over `bytes`.
    pub fn new(bytes: Bytes) -> Self {
        Self {
            data: (!bytes.is_empty()).then_some(bytes),
        }
    }
}

impl Body for BufferedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.data.take().map(|data| Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

pin_project! {
    /// The response body of every layer: the inner service's body, or the
    /// short body of a response the layer wrote itself (a rejection, a
    /// duplicate acknowledgement).
    #[project = ResponseBodyProj]
    #[allow(missing_docs)]
    pub enum ResponseBody<B> {
        /// The inner service's body, untouched.
        Inner { #[pin] body: B },
        /// A body the layer wrote.
        Full { body: Full<Bytes> },
        /// The inner service's body, whose end (for gRPC, its trailers)
        /// settles an idempotency reservation.
        Settling {
            #[pin] body: B,
            outcome: PendingOutcome,
            // The last frame (trailers) or the end (`Some(None)`), held
            // back until the outcome is recorded.
            end: Option<Option<Frame<Bytes>>>,
        },
    }
}

impl<B> ResponseBody<B> {
    /// Wrap the inner service's body.
    pub fn new(body: B) -> Self {
        ResponseBody::Inner { body }
    }

    /// The inner service's body; the reservation is settled when it ends.
    pub(crate) fn settling(body: B, outcome: PendingOutcome) -> Self {
        ResponseBody::Settling {
            body,
            outcome,
            end: None,
        }
    }

    /// A body the layer writes itself.
    pub fn full(bytes: Bytes) -> Self {
        ResponseBody::Full {
            body: Full::new(bytes),
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
        match self.project() {
            ResponseBodyProj::Inner { body } => body.poll_frame(cx),
            ResponseBodyProj::Full { body } => Pin::new(body)
                .poll_frame(cx)
                .map_err(|never: Infallible| match never {}),
            ResponseBodyProj::Settling {
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
        match self {
            ResponseBody::Inner { body } => body.is_end_stream(),
            ResponseBody::Full { body } => body.is_end_stream(),
            // Never end before the outcome is recorded, or the trailers
            // would not be polled.
            ResponseBody::Settling { body, outcome, end } => {
                outcome.is_settled() && end.is_none() && body.is_end_stream()
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ResponseBody::Inner { body } => body.size_hint(),
            ResponseBody::Full { body } => body.size_hint(),
            ResponseBody::Settling { body, .. } => body.size_hint(),
        }
    }
}

/// Buffer the request body (once) with a byte `limit`.
///
/// Returns the request with a [`BufferedBody`] and the bytes in its
/// [`RawBody`] extension. If a [`RawBody`] is already there, it is reused
/// and the old body is not read. Fails with `payload_too_large` (413) when
/// `Content-Length` or the streamed size passes `limit`, and with
/// `body_read_failed` (400) when the body errors.
pub async fn buffer<B>(
    request: Request<B>,
    limit: usize,
) -> Result<Request<BufferedBody>, Rejection>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let (parts, bytes) = buffer_parts(request, limit).await?;
    Ok(Request::from_parts(parts, BufferedBody::new(bytes)))
}

/// [`buffer`], handing back the parts and the bytes separately so a check
/// can read both before the request is reassembled.
pub(crate) async fn buffer_parts<B>(
    request: Request<B>,
    limit: usize,
) -> Result<(http::request::Parts, Bytes), Rejection>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let (mut parts, body) = request.into_parts();
    let bytes = match parts.extensions.get::<RawBody>() {
        Some(raw) => raw.0.clone(),
        None => {
            if declared_length(&parts.headers).is_some_and(|len| len > limit as u64)
                || body.size_hint().lower() > limit as u64
            {
                return Err(Rejection::new(Reason::PayloadTooLarge));
            }
            let bytes = collect(body, limit).await?;
            parts.extensions.insert(RawBody(bytes.clone()));
            bytes
        }
    };
    // A layer further in may have a tighter limit than the one that read it.
    if bytes.len() > limit {
        return Err(Rejection::new(Reason::PayloadTooLarge));
    }
    Ok((parts, bytes))
}

async fn collect<B>(body: B, limit: usize) -> Result<Bytes, Rejection>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(Rejection::new(Reason::PayloadTooLarge))
        }
        Err(_) => Err(Rejection::new(Reason::BodyReadFailed)),
    }
}

/// The `Content-Length` the client declared, if it is one clean number.
/// Anything else is left to the streaming limit, which never trusts it.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    let mut values = headers.get_all(header::CONTENT_LENGTH).iter();
    let first = values.next()?;
    if values.next().is_some() {
        return None;
    }
    first.to_str().ok()?.trim().parse().ok()
}

pub use crate::guard::{BodyLimit, BufferBody, BufferBodyLayer};
