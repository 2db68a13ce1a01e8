//! What a sender's declared length can make the server allocate: a body
//! that declares 20 MB (under GitHub's 25 MB cap) and sends a few bytes must
//! not reserve the 20 MB. Measured with `allocation-counter`, which counts
//! per thread (`alloc.rs`): the other tests' allocations do not count.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use tower::{Layer, ServiceExt};
use tower_webhook::{Secret, WebhookStack};

use crate::alloc::measured;

/// A body that declares `declared` bytes and sends `frames`.
struct Declared {
    declared: u64,
    frames: VecDeque<Bytes>,
}

impl Body for Declared {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.frames.pop_front().map(|data| Ok(Frame::data(data))))
    }

    fn size_hint(&self) -> SizeHint {
        let mut hint = SizeHint::new();
        hint.set_lower(self.declared);
        hint
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_declared_length_reserves_no_more_than_what_arrives_and_a_bounded_lookahead() {
    let layer = WebhookStack::github(Secret::new("It's a Secret to Everybody").unwrap())
        .without_idempotency()
        .build()
        .unwrap();
    let service = layer.layer(tower::service_fn(|_: Request<_>| async {
        Ok::<_, Infallible>(Response::new(String::new()))
    }));
    let body = Declared {
        declared: 20_000_000,
        frames: VecDeque::from([Bytes::from_static(b"{\"a\":"), Bytes::from_static(b"1}")]),
    };
    let request = Request::post("/hook")
        .header("x-hub-signature-256", format!("sha256={}", "00".repeat(32)))
        .body(body)
        .unwrap();
    let (response, counted) = measured(service.oneshot(request)).await;
    let response = response.unwrap();
    // Every allocation and reallocation at its full size: at least what was
    // reserved at any time.
    let reserved = counted.bytes_total as usize;
    eprintln!("bytes allocated for the request: {reserved}");
    // The signature is wrong: the body was read, then refused.
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        reserved < 2 * 1024 * 1024,
        "{reserved} bytes reserved for a 7-byte body declared as 20 MB"
    );
}
