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
//! [`BufferBodyLayer`](crate::guard::BufferBodyLayer) does only this, for stacks that want the limit applied
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
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{header, HeaderMap, Request};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, LengthLimitError};

use crate::rejection::{Reason, Rejection};
pub use crate::response_body::ResponseBody;
#[cfg(feature = "idempotency")]
pub(crate) use crate::response_body::SettleOnEnd;

/// The body limit every body-reading layer uses unless told otherwise: 1 MiB.
pub(crate) const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The type-erased error of bodies this crate reads.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

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
    let (parts, bytes) = buffer_parts_for(request, limit, "body::buffer").await?;
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
    // Its one caller outside this module is the idempotency layer.
    buffer_parts_for(request, limit, "IdempotencyLayer::body_limit").await
}

/// [`buffer_parts`], naming in a refusal's detail what set `limit`
/// (`origin`), so an operator reading the audit trail knows which knob to
/// turn.
pub(crate) async fn buffer_parts_for<B>(
    request: Request<B>,
    limit: usize,
    origin: &str,
) -> Result<(http::request::Parts, Bytes), Rejection>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let (mut parts, body) = request.into_parts();
    let bytes = match parts.extensions.get::<RawBody>() {
        Some(raw) => raw.0.clone(),
        None => {
            if let Some(declared) =
                declared_length(&parts.headers).filter(|&len| len > limit as u64)
            {
                return Err(too_large(
                    format_args!("Content-Length {declared}"),
                    limit,
                    origin,
                ));
            }
            let hinted = body.size_hint().lower();
            if hinted > limit as u64 {
                return Err(too_large(
                    format_args!("body of {hinted} bytes"),
                    limit,
                    origin,
                ));
            }
            let bytes = collect(body, limit, origin).await?;
            parts.extensions.insert(RawBody(bytes.clone()));
            bytes
        }
    };
    // A layer further in may have a tighter limit than the one that read it.
    if bytes.len() > limit {
        return Err(too_large(
            format_args!("body of {} bytes", bytes.len()),
            limit,
            origin,
        ));
    }
    Ok((parts, bytes))
}

/// `payload_too_large`, with a detail naming the limit that fired and who
/// set it. The client still sees only the status line.
fn too_large(what: fmt::Arguments<'_>, limit: usize, origin: &str) -> Rejection {
    let default = if limit == DEFAULT_BODY_LIMIT {
        " (the default, 1 MiB; raise it with `.body_limit(bytes)`)"
    } else {
        ""
    };
    Rejection::new(Reason::PayloadTooLarge).with_detail(format!(
        "{what} over the {limit}-byte body limit of {origin}{default}"
    ))
}

async fn collect<B>(body: B, limit: usize, origin: &str) -> Result<Bytes, Rejection>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    // Read frame by frame, counting against the limit. A body that arrives
    // as one frame (the usual case below a few KiB, and every buffered
    // body) is kept as it came, with no copy and no list of chunks; a
    // longer one is copied once into a buffer sized from its declared
    // length.
    let hint = body.size_hint().lower();
    let mut body = std::pin::pin!(body);
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    let mut total: usize = 0;
    while let Some(frame) = body.as_mut().frame().await {
        let frame = frame.map_err(|error| read_failed(error.into()))?;
        // Trailers are not part of the bytes a signature covers.
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        let len = data.remaining();
        total = total.saturating_add(len);
        if total > limit {
            return Err(too_large(format_args!("streamed body"), limit, origin));
        }
        if len == 0 {
            continue;
        }
        if let Some(joined) = joined.as_mut() {
            joined.put(data);
        } else if let Some(head) = first.take() {
            // The declared length is the sender's word: trusting it whole
            // would let a client that declares the limit and then trickles
            // (or stalls) hold that much memory per connection. Reserve what
            // arrived plus a bounded lookahead; past it the buffer grows as
            // bytes actually come.
            let expected = usize::try_from(hint).unwrap_or(usize::MAX);
            let capacity = expected
                .min(limit)
                .min(total.saturating_add(MAX_LOOKAHEAD))
                .max(total);
            let mut buffer = BytesMut::with_capacity(capacity);
            buffer.extend_from_slice(&head);
            buffer.put(data);
            joined = Some(buffer);
        } else {
            first = Some(data.copy_to_bytes(len));
        }
    }
    Ok(match joined {
        Some(joined) => joined.freeze(),
        None => first.unwrap_or_default(),
    })
}

/// The most memory reserved ahead of the bytes received, on the sender's
/// declared length alone.
const MAX_LOOKAHEAD: usize = 256 * 1024;

/// The refusal for a body that failed while being read.
fn read_failed(error: BoxError) -> Rejection {
    // A limit further out fired (tower-http's `RequestBodyLimitLayer`, any
    // `http_body_util::Limited`): the body we read was cut off by a
    // `Limited` of its own, which axum's router wraps in its own error type.
    if caused_by_length_limit(&*error) {
        return Rejection::new(Reason::PayloadTooLarge).with_detail(
            "body over the limit of an outer layer (http_body_util::LengthLimitError, \
             e.g. tower-http RequestBodyLimitLayer)",
        );
    }
    Rejection::new(Reason::BodyReadFailed)
}

/// The deepest `source()` chain followed. Real chains are a few links; the
/// bound only guards against a cyclic `source()`.
const MAX_SOURCE_DEPTH: usize = 32;

/// Whether `error` or any of its sources is a [`LengthLimitError`].
fn caused_by_length_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |error| error.source())
        .take(MAX_SOURCE_DEPTH)
        .any(|error| error.is::<LengthLimitError>())
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
