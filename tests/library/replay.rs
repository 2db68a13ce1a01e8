//! The replay layer through a real HTTP server, with a frozen clock: the
//! window both ways and past-only, every format, absurd timestamps, header
//! vs. body field, signed vs. unsigned timestamps, and a stale header
//! refused before the body is read. Property tests for the parsers.

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
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use http_body_util::Full;
use proptest::prelude::*;
use tower_webhook::replay::{ReplayLayer, TimestampFormat};
use tower_webhook::{Timestamp, Verification, WebhookContext};

use support::{post as post_to, raw_exchange, raw_status, send, serve, Reply};

/// The last millisecond of year 9999, the latest timestamp a format parses.
const MAX_UNIX_MILLIS: i64 = 253_402_300_799_999;

/// The frozen "now" of every server here: 2023-11-14T22:13:20Z.
const NOW_SECS: u64 = 1_700_000_000;
const NOW_MS: i64 = 1_700_000_000_000;

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

    async fn send(&self, headers: &[(&str, &[u8])], body: &'static str) -> Reply {
        let mut request = post_to(self.addr, "/hook");
        for (name, value) in headers {
            request = request.header(*name, HeaderValue::from_bytes(value).unwrap());
        }
        send(
            request
                .body(Full::new(Bytes::from_static(body.as_bytes())))
                .unwrap(),
        )
        .await
    }

    async fn with_timestamp(&self, value: &str) -> Reply {
        self.send(&[("x-timestamp", value.as_bytes())], "{}").await
    }
}

fn seen_reason(reply: &Reply) -> Option<&str> {
    reply.headers.get("x-seen-reason")?.to_str().ok()
}

fn seen_timestamp(reply: &Reply) -> Option<&str> {
    reply.headers.get("x-seen-timestamp")?.to_str().ok()
}

/// Assert a refusal: status, reason in the context, handler not run.
fn assert_refused(reply: &Reply, status: StatusCode, reason: &str, case: &str) {
    assert_eq!(reply.status, status, "{case}: {}", reply.text());
    assert_eq!(seen_reason(reply), Some(reason), "{case}");
}

fn secs(offset: i64) -> String {
    (NOW_SECS as i64 + offset).to_string()
}

#[tokio::test]
async fn window_both_ways() {
    let app = App::start(
        ReplayLayer::header("X-Timestamp")
            .seconds()
            .window(Duration::from_secs(300)),
    )
    .await;
    for (offset, accepted) in [
        (0, true),
        (-300, true),
        (300, true),
        (-301, false),
        (301, false),
        (-86_400, false),
        (86_400, false),
    ] {
        let reply = app.with_timestamp(&secs(offset)).await;
        let case = format!("offset {offset} s");
        if accepted {
            assert_eq!(reply.status, StatusCode::OK, "{case}");
            let expected = format!(
                "{} signed=false window_checked=true",
                NOW_MS + offset * 1000
            );
            assert_eq!(reply.text(), expected, "{case}");
        } else {
            assert_refused(
                &reply,
                StatusCode::UNAUTHORIZED,
                "timestamp_outside_window",
                &case,
            );
            // Recorded, but not as having passed the window.
            let expected = format!(
                "{} signed=false window_checked=false",
                NOW_MS + offset * 1000
            );
            assert_eq!(seen_timestamp(&reply), Some(expected.as_str()), "{case}");
        }
    }
    assert_eq!(app.runs(), 3);
}

#[tokio::test]
async fn default_window_is_300_seconds() {
    let app = App::start(ReplayLayer::header("X-Timestamp")).await;
    assert_eq!(app.with_timestamp(&secs(-300)).await.status, StatusCode::OK);
    assert_eq!(app.with_timestamp(&secs(300)).await.status, StatusCode::OK);
    assert_eq!(
        app.with_timestamp(&secs(-301)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.with_timestamp(&secs(301)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn past_only_bounds_age_not_future() {
    let app = App::start(
        ReplayLayer::header("X-Timestamp")
            .seconds()
            .window(Duration::from_secs(300))
            .past_only(),
    )
    .await;
    assert_eq!(
        app.with_timestamp(&secs(3_600)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.with_timestamp(&secs(10 * 365 * 86_400)).await.status,
        StatusCode::OK
    );
    assert_eq!(app.with_timestamp(&secs(-300)).await.status, StatusCode::OK);
    let stale = app.with_timestamp(&secs(-301)).await;
    assert_refused(
        &stale,
        StatusCode::UNAUTHORIZED,
        "timestamp_outside_window",
        "301 s old",
    );
}

#[tokio::test]
async fn asymmetric_window() {
    let app = App::start(
        ReplayLayer::header("X-Timestamp")
            .seconds()
            .window(Duration::from_secs(600))
            .future_window(Duration::from_secs(30)),
    )
    .await;
    assert_eq!(app.with_timestamp(&secs(-600)).await.status, StatusCode::OK);
    assert_eq!(app.with_timestamp(&secs(30)).await.status, StatusCode::OK);
    assert_eq!(
        app.with_timestamp(&secs(31)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn window_in_milliseconds() {
    let app = App::start(
        ReplayLayer::header("X-Timestamp")
            .milliseconds()
            .window(Duration::from_millis(1_500)),
    )
    .await;
    for (offset, status) in [
        (-1_500, StatusCode::OK),
        (1_500, StatusCode::OK),
        (-1_501, StatusCode::UNAUTHORIZED),
        (1_501, StatusCode::UNAUTHORIZED),
    ] {
        let reply = app.with_timestamp(&(NOW_MS + offset).to_string()).await;
        assert_eq!(reply.status, status, "offset {offset} ms");
    }
}

#[tokio::test]
async fn each_format() {
    let cases: &[(TimestampFormat, &str, i64)] = &[
        (TimestampFormat::Seconds, "1700000000", NOW_MS),
        (TimestampFormat::Millis, "1700000000123", NOW_MS + 123),
        (TimestampFormat::Rfc3339, "2023-11-14T22:13:20Z", NOW_MS),
        (
            TimestampFormat::Rfc3339,
            "2023-11-14T23:13:20+01:00",
            NOW_MS,
        ),
        (
            TimestampFormat::Rfc3339,
            "2023-11-14T17:43:20-04:30",
            NOW_MS,
        ),
        (
            TimestampFormat::Rfc3339,
            "2023-11-14T22:13:20.123456789Z",
            NOW_MS + 123,
        ),
        (
            TimestampFormat::Rfc3339,
            "2023-11-14T22:11:20.5-00:00",
            NOW_MS - 119_500,
        ),
        (TimestampFormat::Auto, "1699999999", NOW_MS - 1_000),
        (TimestampFormat::Auto, "1699999999999", NOW_MS - 1),
        (
            TimestampFormat::Auto,
            "2023-11-14T22:13:21+00:00",
            NOW_MS + 1_000,
        ),
    ];
    for (format, text, expected) in cases {
        let app = App::start(ReplayLayer::header("X-Timestamp").format(*format)).await;
        let reply = app.with_timestamp(text).await;
        assert_eq!(reply.status, StatusCode::OK, "{format:?} {text}");
        assert_eq!(
            reply.text(),
            format!("{expected} signed=false window_checked=true"),
            "{format:?} {text}"
        );
    }
}

#[tokio::test]
async fn builder_formats_match_their_names() {
    // The same value means different instants to different formats.
    let seconds = App::start(ReplayLayer::header("X-Timestamp").seconds()).await;
    let millis = App::start(ReplayLayer::header("X-Timestamp").milliseconds()).await;
    let rfc = App::start(ReplayLayer::header("X-Timestamp").rfc3339()).await;
    assert_eq!(
        seconds.with_timestamp("1700000000").await.status,
        StatusCode::OK
    );
    // 1,700,000,000 ms is January 1970.
    let reply = millis.with_timestamp("1700000000").await;
    assert_refused(
        &reply,
        StatusCode::UNAUTHORIZED,
        "timestamp_outside_window",
        "ms",
    );
    let reply = rfc.with_timestamp("1700000000").await;
    assert_refused(
        &reply,
        StatusCode::UNAUTHORIZED,
        "timestamp_malformed",
        "rfc3339",
    );
    let reply = seconds.with_timestamp("2023-11-14T22:13:20Z").await;
    assert_refused(
        &reply,
        StatusCode::UNAUTHORIZED,
        "timestamp_malformed",
        "seconds",
    );
}

/// Every absurd header value is a clean 401 `timestamp_malformed`; the
/// server keeps serving.
#[tokio::test]
async fn absurd_header_timestamps() {
    let auto = App::start(ReplayLayer::header("X-Timestamp")).await;
    let seconds = App::start(ReplayLayer::header("X-Timestamp").seconds()).await;
    let cases: &[&[u8]] = &[
        b"-1",
        b"-1700000000",
        b"+1700000000",
        b"9223372036854775807",
        b"9223372036854775808",
        b"18446744073709551616",
        b"99999999999999999999999999999999",
        b"253402300800",
        b"10000-01-01T00:00:00Z",
        b"+10000-01-01T00:00:00Z",
        b"2023-11-14T22:13:60Z",
        b"2023-13-01T00:00:00Z",
        b"2023-11-14 22:13:20",
        b"1e99",
        b"1.7e9",
        b"1700000000.5",
        b"0x6553F100",
        b"NaN",
        b"",
        b"   ",
        b"17000 00000",
        "１７００００００００".as_bytes(),
        b"\xff\xfe1700000000",
        "2023-11-14T22:13:20Zé".as_bytes(),
    ];
    for (name, app) in [("auto", &auto), ("seconds", &seconds)] {
        for value in cases {
            if name == "auto" && *value == b"253402300800" {
                // Auto reads 12 digits as milliseconds: 1978, valid but stale.
                continue;
            }
            let reply = app.send(&[("x-timestamp", value)], "{}").await;
            let case = format!("{name} {:?}", String::from_utf8_lossy(value));
            assert_refused(
                &reply,
                StatusCode::UNAUTHORIZED,
                "timestamp_malformed",
                &case,
            );
        }
        assert_eq!(app.runs(), 0, "{name}");
        assert_eq!(
            app.with_timestamp("1700000000").await.status,
            StatusCode::OK,
            "{name} still serving"
        );
    }
    // Valid but far off: outside the window, not malformed.
    for value in ["0", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z"] {
        let reply = auto.with_timestamp(value).await;
        assert_refused(
            &reply,
            StatusCode::UNAUTHORIZED,
            "timestamp_outside_window",
            value,
        );
    }
}

#[tokio::test]
async fn repeated_or_missing_header() {
    let app = App::start(ReplayLayer::header("X-Timestamp")).await;
    let reply = app
        .send(
            &[
                ("x-timestamp", b"1700000000"),
                ("x-timestamp", b"1700000000"),
            ],
            "{}",
        )
        .await;
    assert_refused(
        &reply,
        StatusCode::UNAUTHORIZED,
        "timestamp_malformed",
        "repeated",
    );
    let reply = app.send(&[("x-other", b"1700000000")], "{}").await;
    assert_refused(
        &reply,
        StatusCode::UNAUTHORIZED,
        "timestamp_missing",
        "missing",
    );
    assert_eq!(app.runs(), 0);
}

#[tokio::test]
async fn json_body_field() {
    let app = App::start(ReplayLayer::json_field("created_at").seconds()).await;
    let reply = app
        .send(
            &[],
            r#"{"id":"evt_1","created_at":1700000000,"unknown":{"nested":[1,2,3]}}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.text(),
        format!("{NOW_MS} signed=false window_checked=true")
    );
    // A string of digits is read too.
    let reply = app.send(&[], r#"{"created_at":"1700000000"}"#).await;
    assert_eq!(reply.status, StatusCode::OK);

    let reply = app.send(&[], r#"{"created_at":1699999000}"#).await;
    assert_refused(
        &reply,
        StatusCode::UNAUTHORIZED,
        "timestamp_outside_window",
        "stale field",
    );

    // The header is not the configured source: a stale one changes nothing.
    let reply = app
        .send(&[("x-timestamp", b"1")], r#"{"created_at":1700000000}"#)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(app.runs(), 3);
}

#[tokio::test]
async fn json_pointer_and_rfc3339_field() {
    let app = App::start(ReplayLayer::json_field("/data/created_at").rfc3339()).await;
    let reply = app
        .send(
            &[],
            r#"{"data":{"created_at":"2023-11-14T23:13:20.250+01:00"}}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.text(),
        format!("{} signed=false window_checked=true", NOW_MS + 250)
    );
    // Top-level field of the same name is not the pointer's target.
    let reply = app
        .send(&[], r#"{"created_at":"2023-11-14T22:13:20Z"}"#)
        .await;
    assert_refused(
        &reply,
        StatusCode::BAD_REQUEST,
        "payload_incomplete",
        "wrong level",
    );
}

#[tokio::test]
async fn missing_json_field_is_400() {
    let app = App::start(ReplayLayer::json_field("created_at")).await;
    for (case, body) in [
        ("field absent", r#"{"id":"evt_1"}"#),
        ("null document", "null"),
        ("array document", "[1700000000]"),
        ("not JSON", "created_at=1700000000"),
        ("truncated JSON", r#"{"created_at":17000"#),
        ("empty body", ""),
    ] {
        let reply = app.send(&[], body).await;
        assert_refused(&reply, StatusCode::BAD_REQUEST, "payload_incomplete", case);
    }
    assert_eq!(app.runs(), 0);
}

#[tokio::test]
async fn absurd_json_timestamps() {
    let app = App::start(ReplayLayer::json_field("created_at").seconds()).await;
    for body in [
        r#"{"created_at":-1}"#,
        r#"{"created_at":1e99}"#,
        r#"{"created_at":1.7e9}"#,
        r#"{"created_at":1700000000.0}"#,
        r#"{"created_at":9223372036854775807}"#,
        r#"{"created_at":18446744073709551616}"#,
        r#"{"created_at":253402300800}"#,
        r#"{"created_at":null}"#,
        r#"{"created_at":true}"#,
        r#"{"created_at":""}"#,
        r#"{"created_at":" 1700000000"}"#,
        r#"{"created_at":"１７００００００００"}"#,
        r#"{"created_at":[1700000000]}"#,
        r#"{"created_at":{"seconds":1700000000}}"#,
    ] {
        let reply = app.send(&[], body).await;
        assert_refused(
            &reply,
            StatusCode::UNAUTHORIZED,
            "timestamp_malformed",
            body,
        );
    }
    assert_eq!(app.runs(), 0);
}

#[tokio::test]
async fn both_the_signed_timestamp_and_the_header_must_be_fresh() {
    let app = App::start(ReplayLayer::header("X-Timestamp").seconds()).await;
    let signed = NOW_MS - 10_000;

    // Header alone: checked, recorded as unsigned.
    let reply = app.with_timestamp("1700000000").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.text(),
        format!("{NOW_MS} signed=false window_checked=true")
    );

    // A verified timestamp does not excuse a stale header: every timestamp
    // the check can see must be inside the window, so the verdict is the
    // same wherever the signature layer sits (and the context keeps the
    // signed value).
    let reply = app
        .send(
            &[
                ("x-test-signed-ms", signed.to_string().as_bytes()),
                ("x-timestamp", b"1"),
            ],
            "{}",
        )
        .await;
    assert_refused(
        &reply,
        StatusCode::UNAUTHORIZED,
        "timestamp_outside_window",
        "stale header",
    );
    assert_eq!(
        seen_timestamp(&reply),
        Some(format!("{signed} signed=true window_checked=true").as_str())
    );
    let reply = app
        .send(
            &[
                ("x-test-signed-ms", signed.to_string().as_bytes()),
                ("x-timestamp", b"1700000000"),
            ],
            "{}",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.text(),
        format!("{signed} signed=true window_checked=true")
    );

    // ...and a stale verified timestamp is refused whatever the header says.
    let stale = NOW_MS - 301_000;
    let reply = app
        .send(
            &[
                ("x-test-signed-ms", stale.to_string().as_bytes()),
                ("x-timestamp", b"1700000000"),
            ],
            "{}",
        )
        .await;
    assert_refused(
        &reply,
        StatusCode::UNAUTHORIZED,
        "timestamp_outside_window",
        "stale signed",
    );
    assert_eq!(
        seen_timestamp(&reply),
        Some(format!("{stale} signed=true window_checked=false").as_str())
    );

    // An unsigned timestamp another layer left proves nothing: the header
    // is read instead, and the missing header refused.
    let reply = app
        .send(
            &[("x-test-unsigned-ms", NOW_MS.to_string().as_bytes())],
            "{}",
        )
        .await;
    assert_refused(
        &reply,
        StatusCode::UNAUTHORIZED,
        "timestamp_missing",
        "unsigned in context",
    );
    assert_eq!(app.runs(), 2);
}

#[tokio::test]
async fn both_the_signed_timestamp_and_the_body_field_must_be_fresh() {
    let app = App::start(ReplayLayer::json_field("created_at")).await;
    let reply = app
        .send(
            &[("x-test-signed-ms", NOW_MS.to_string().as_bytes())],
            r#"{"created_at":1}"#,
        )
        .await;
    assert_refused(
        &reply,
        StatusCode::UNAUTHORIZED,
        "timestamp_outside_window",
        "stale body field",
    );
    let reply = app
        .send(
            &[("x-test-signed-ms", NOW_MS.to_string().as_bytes())],
            r#"{"created_at":1700000000}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.text(),
        format!("{NOW_MS} signed=true window_checked=true")
    );
}

#[tokio::test]
async fn signed_timestamp_source_requires_a_verified_timestamp() {
    let app = App::start(ReplayLayer::signed_timestamp()).await;
    let reply = app.with_timestamp("1700000000").await;
    assert_refused(
        &reply,
        StatusCode::UNAUTHORIZED,
        "timestamp_missing",
        "header only",
    );
    let reply = app
        .send(
            &[("x-test-unsigned-ms", NOW_MS.to_string().as_bytes())],
            "{}",
        )
        .await;
    assert_refused(
        &reply,
        StatusCode::UNAUTHORIZED,
        "timestamp_missing",
        "unsigned only",
    );
    let reply = app
        .send(&[("x-test-signed-ms", NOW_MS.to_string().as_bytes())], "{}")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.text(),
        format!("{NOW_MS} signed=true window_checked=true")
    );
    // Whatever value a signature layer recorded, extreme ones included, is
    // compared without overflow.
    for extreme in [i64::MIN, -1, i64::MAX] {
        let reply = app
            .send(
                &[("x-test-signed-ms", extreme.to_string().as_bytes())],
                "{}",
            )
            .await;
        assert_refused(
            &reply,
            StatusCode::UNAUTHORIZED,
            "timestamp_outside_window",
            &extreme.to_string(),
        );
    }
    assert_eq!(app.runs(), 1);
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
