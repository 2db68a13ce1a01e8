//! Refuse replayed deliveries: a timestamp inside a window around now.
//!
//! A captured webhook can be sent again by anyone who saw it. Senders put a
//! timestamp in each delivery; [`ReplayLayer`] refuses deliveries whose
//! timestamp is further from now than a window (default 300 s in both
//! directions), so a captured request goes stale within minutes. Pair it
//! with the idempotency layer, whose memory of seen deliveries must outlast
//! this window, to refuse replays inside it too.
//!
//! # Where the timestamp comes from
//!
//! * **The signature layer's verified timestamp** (preferred). Schemes that
//!   sign a timestamp (Stripe, Slack, Standard Webhooks...) record it in the
//!   [`WebhookContext`](crate::WebhookContext) as
//!   [`Timestamp::signed`](crate::Timestamp::signed). Whatever its configured
//!   source, the replay layer checks that value when it is present.
//!   [`ReplayLayer::signed_timestamp`] accepts nothing else and refuses a
//!   request without one (`timestamp_missing`).
//! * **A header**, [`ReplayLayer::header`].
//! * **A field of the JSON body**, [`ReplayLayer::json_field`], as a JSON
//!   pointer (`/data/created_at`) or a top-level name (`created_at`).
//!   Other fields are ignored.
//!
//! **An unsigned timestamp proves nothing on its own**: whoever replays a
//! request can rewrite a header or a body field that no signature covers.
//! Checking one only stops naive replays, or is one part of a scheme where
//! the signature covers the same bytes (the whole body, when the timestamp
//! is a body field). The context records which kind was checked
//! ([`Timestamp::signed`](crate::Timestamp)), so handlers and the audit log
//! can tell.
//!
//! # Where to put it
//!
//! Outermost first:
//!
//! * **Signed timestamp**: signature layer, *then* `ReplayLayer` (inside
//!   it, with any source): the replay layer sees the verified value.
//! * **Header timestamp**: `ReplayLayer::header(..)` *outside* the
//!   signature layer refuses a stale or missing header before the body is
//!   read and before any signature work. The timestamp it records then says
//!   `signed: false`, even when the signature inside also covers it.
//! * **Body field**: signature layer, then `ReplayLayer::json_field(..)`
//!   inside it, so only authenticated bodies are parsed as JSON.
//!
//! The layer is a [`BodyGuard`](crate::guard::BodyGuard): the timestamp of a
//! header or of the signature is checked before the body is read, and only
//! a request that passes goes on to have its body buffered (once, under
//! [`ReplayLayer::body_limit`]; inner layers reuse the bytes) so that one
//! layer type serves every source.
//!
//! # Formats
//!
//! [`TimestampFormat`]: unix seconds ([`ReplayLayer::seconds`]), unix
//! milliseconds ([`ReplayLayer::milliseconds`]), RFC 3339
//! ([`ReplayLayer::rfc3339`], any offset, up to nanoseconds), or — by
//! default — `Auto`: a number below 10¹¹ is seconds, from 10¹¹ on
//! milliseconds, anything else RFC 3339. Numbers are ASCII digits only (in a
//! JSON body: a non-negative integer or a string of digits): no sign, no
//! fraction, no exponent, no whitespace. Values before 1970 or after the
//! year 9999 are refused.
//!
//! # Window
//!
//! [`ReplayLayer::window`] sets how far before *and* after now a timestamp
//! may be (inclusive, millisecond precision; default 300 s);
//! [`ReplayLayer::past_only`] bounds only the age, as Stripe, Paddle, HubSpot
//! and Twitch do; [`ReplayLayer::future_window`] sets the future bound on
//! its own. [`ReplayLayer::clock`] replaces the system clock (tests).
//!
//! # Rejections
//!
//! | reason | status | when |
//! |---|---|---|
//! | `timestamp_missing` | 401 | no header; no verified timestamp for [`ReplayLayer::signed_timestamp`] |
//! | `timestamp_malformed` | 401 | not a timestamp in the format, out of range, repeated header, a JSON field of the wrong type |
//! | `timestamp_outside_window` | 401 | too old, or too far ahead |
//! | `payload_incomplete` | 400 | the JSON field is absent, or the body is not JSON at all (the configured field cannot be there) |
//!
//! The timestamp checked is recorded in the context — value, whether it is
//! signed, and `window_checked` (true once it passed) — also when it is
//! refused for being outside the window.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Full;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_webhook::body::BufferedBody;
//! use tower_webhook::replay::ReplayLayer;
//! use tower_webhook::WebhookContext;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let service = ServiceBuilder::new()
//!     .layer(
//!         ReplayLayer::header("X-Timestamp")
//!             .seconds()
//!             .window(Duration::from_secs(300))
//!             .clock(|| UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
//!     )
//!     .service_fn(|request: Request<BufferedBody>| async move {
//!         let timestamp = WebhookContext::get(request.extensions())
//!             .and_then(|context| context.snapshot().timestamp)
//!             .unwrap();
//!         assert!(timestamp.window_checked && !timestamp.signed);
//!         Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
//!     });
//!
//! let delivery = |timestamp: &str| {
//!     Request::post("/hook")
//!         .header("X-Timestamp", timestamp)
//!         .body(Full::new(Bytes::from_static(b"{}")))
//!         .unwrap()
//! };
//! let fresh = service.clone().oneshot(delivery("1699999990")).await.unwrap();
//! assert_eq!(fresh.status(), StatusCode::OK);
//!
//! let stale = service.clone().oneshot(delivery("1699999000")).await.unwrap();
//! assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
//!
//! let absurd = service.oneshot(delivery("1e99")).await.unwrap();
//! assert_eq!(absurd.status(), StatusCode::UNAUTHORIZED);
//! # });
//! ```
//!
//! A timestamp in the body, and what a missing field gets:
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Full;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_webhook::body::BufferedBody;
//! use tower_webhook::replay::ReplayLayer;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let service = ServiceBuilder::new()
//!     .layer(
//!         ReplayLayer::json_field("created_at")
//!             .rfc3339()
//!             .past_only()
//!             .clock(|| UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
//!     )
//!     .service_fn(|_: Request<BufferedBody>| async {
//!         Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
//!     });
//!
//! let delivery = |body: &'static str| Request::post("/hook").body(Full::new(Bytes::from(body))).unwrap();
//! let fresh = delivery(r#"{"id":"evt_1","created_at":"2023-11-14T23:12:00+01:00"}"#);
//! assert_eq!(service.clone().oneshot(fresh).await.unwrap().status(), StatusCode::OK);
//!
//! let incomplete = delivery(r#"{"id":"evt_1"}"#);
//! assert_eq!(service.oneshot(incomplete).await.unwrap().status(), StatusCode::BAD_REQUEST);
//! # });
//! ```

mod clock;
mod layer;
mod source;
#[cfg(test)]
mod tests;
mod window;

#[doc(no_inline)]
pub use crate::TimestampFormat;
pub use clock::Clock;
pub use layer::{Replay, ReplayLayer};
