//! The replay layer through a real HTTP server, with a frozen clock, where
//! the socket is the point: a stale header refused before a body that never
//! arrives, a body field waited for. Property tests for the parsers. The
//! layer's decisions (the window, every format, absurd timestamps, signed
//! vs. unsigned) are unit tests next to the code, in `src/replay/tests.rs`.

use crate::support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::Request as AxumRequest;
use axum::middleware::{self, Next};
use axum::response::Response as AxumResponse;
use axum::routing::post;
use axum::Router;
use http::HeaderValue;
use proptest::prelude::*;
use tower_webhook::replay::{ReplayLayer, TimestampFormat};
use tower_webhook::{Timestamp, Verification, WebhookContext};

use support::{raw_exchange, raw_status, serve};

/// The last millisecond of year 9999, the latest timestamp a format parses.
const MAX_UNIX_MILLIS: i64 = 253_402_300_799_999;

/// The frozen "now" of every server here: 2023-11-14T22:13:20Z.
const NOW_SECS: u64 = 1_700_000_000;

fn frozen() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

/// Plays the signature layer (outside the replay layer): records the
/// `x-test-signed-ms` header as a verified timestamp, `x-test-unsigned-ms`
/// as an unverified one. Afterwards, reports what the context holds, as the
/// audit layer would see it.
async fn outer(mut request: AxumRequest, next: Next) -> AxumResponse {
    let context = WebhookContext::of(&mut request);
    if let Some(ms) = test_header(&request, "x-test-signed-ms") {
        context.set_timestamp(Timestamp::signed(ms));
    }
    if let Some(ms) = test_header(&request, "x-test-unsigned-ms") {
        context.set_timestamp(Timestamp::unsigned(ms));
    }
    let mut response = next.run(request).await;
    let seen = context.snapshot();
    let headers = response.headers_mut();
    if let Some(reason) = seen.rejection {
        headers.insert("x-seen-reason", HeaderValue::from_static(reason.as_str()));
    }
    if let Some(timestamp) = seen.timestamp {
        let text = describe(&timestamp);
        headers.insert("x-seen-timestamp", HeaderValue::from_str(&text).unwrap());
    }
    response
}

fn test_header(request: &AxumRequest, name: &str) -> Option<i64> {
    request.headers().get(name)?.to_str().ok()?.parse().ok()
}

fn describe(timestamp: &Timestamp) -> String {
    format!(
        "{} signed={} window_checked={}",
        timestamp.unix_millis, timestamp.signed, timestamp.window_checked
    )
}

/// A server whose handler counts its runs and answers with the timestamp
/// the context holds.
struct App {
    addr: SocketAddr,
    runs: Arc<AtomicUsize>,
}

impl App {
    async fn start(layer: ReplayLayer) -> Self {
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&runs);
        let handler = move |verification: Verification| {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                verification
                    .timestamp
                    .map(|timestamp| describe(&timestamp))
                    .unwrap_or_default()
            }
        };
        let router = Router::new()
            .route("/hook", post(handler))
            .layer(layer.clock(frozen))
            .layer(middleware::from_fn(outer));
        Self {
            addr: serve(router).await,
            runs,
        }
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

/// A request whose body never arrives: 1,000 bytes declared, 10 sent, the
/// connection left open.
fn endless(timestamp: &str) -> Vec<u8> {
    format!(
        "POST /hook HTTP/1.1\r\nhost: x\r\nx-timestamp: {timestamp}\r\n\
         content-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"a\":1234"
    )
    .into_bytes()
}

#[tokio::test]
async fn stale_header_refused_before_the_body_is_read() {
    let app = App::start(ReplayLayer::header("X-Timestamp").seconds()).await;
    // The layer answers although the body cannot be complete: it did not
    // wait for it.
    for (timestamp, reason) in [("1699999000", "Unauthorized"), ("garbage", "Unauthorized")] {
        let reply = raw_exchange(app.addr, &endless(timestamp), Duration::from_secs(20)).await;
        assert_eq!(raw_status(&reply), 401, "{reply}");
        assert!(reply.contains(reason), "{reply}");
    }
    // A fresh timestamp passes the head check, so the layer then waits for
    // the body that never comes: no answer at all.
    let reply = raw_exchange(app.addr, &endless("1700000000"), Duration::from_millis(500)).await;
    assert_eq!(reply, "", "answered without a body");
    assert_eq!(app.runs(), 0);
}

#[tokio::test]
async fn body_field_source_waits_for_the_body() {
    // The contrast: a body source cannot decide before the body arrives.
    let app = App::start(ReplayLayer::json_field("created_at")).await;
    let reply = raw_exchange(app.addr, &endless("1699999000"), Duration::from_millis(500)).await;
    assert_eq!(reply, "", "answered without a body");
}

proptest! {
    #[test]
    fn parsers_never_panic(text in any::<String>()) {
        for format in [
            TimestampFormat::Auto,
            TimestampFormat::Seconds,
            TimestampFormat::Millis,
            TimestampFormat::Rfc3339,
        ] {
            if let Some(millis) = format.parse_lenient(&text) {
                prop_assert!((0..=MAX_UNIX_MILLIS).contains(&millis));
            }
        }
    }

    #[test]
    fn parsers_never_panic_on_near_misses(
        text in r"[-+0-9eE.:TZtz ]{0,40}|[0-9]{1,4}-[0-9]{1,2}-[0-9]{1,2}T[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]{0,12})?([-+][0-9]{1,2}:[0-9]{1,2}|Z)?"
    ) {
        for format in [TimestampFormat::Auto, TimestampFormat::Seconds, TimestampFormat::Rfc3339] {
            if let Some(millis) = format.parse_lenient(&text) {
                prop_assert!((0..=MAX_UNIX_MILLIS).contains(&millis));
            }
        }
    }

    #[test]
    fn numbers_round_trip(millis in 0..=MAX_UNIX_MILLIS) {
        prop_assert_eq!(TimestampFormat::Millis.parse_lenient(&millis.to_string()), Some(millis));
        let seconds = millis / 1000;
        prop_assert_eq!(TimestampFormat::Seconds.parse_lenient(&seconds.to_string()), Some(seconds * 1000));
        let auto = TimestampFormat::Auto;
        if millis >= 100_000_000_000 {
            prop_assert_eq!(auto.parse_lenient(&millis.to_string()), Some(millis));
        }
        if seconds < 100_000_000_000 {
            prop_assert_eq!(auto.parse_lenient(&seconds.to_string()), Some(seconds * 1000));
        }
    }

    #[test]
    fn rfc3339_round_trips(
        millis in 0..=MAX_UNIX_MILLIS,
        sub_millis in 0..1_000_000i128,
        offset_minutes in -(23 * 60 + 59)..=(23 * 60 + 59i32),
    ) {
        use time::format_description::well_known::Rfc3339;
        use time::{OffsetDateTime, UtcOffset};
        let nanos = i128::from(millis) * 1_000_000 + sub_millis;
        let offset = UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap();
        let instant = OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap();
        // Near the ends of the range an offset moves the local date out of
        // the four-digit years RFC 3339 can write.
        let Some(local) = instant.checked_to_offset(offset) else {
            return Ok(());
        };
        let Ok(text) = local.format(&Rfc3339) else {
            return Ok(());
        };
        prop_assert_eq!(TimestampFormat::Rfc3339.parse_lenient(&text), Some(millis), "{}", text);
        prop_assert_eq!(TimestampFormat::Auto.parse_lenient(&text), Some(millis), "{}", text);
    }
}
