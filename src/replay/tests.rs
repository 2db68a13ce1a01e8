//! The replay layer's decisions, one request at a time through the layer
//! (`oneshot`) with a frozen clock: the window both ways and past-only,
//! every format, absurd timestamps, header vs. body field, signed vs.
//! unsigned timestamps. Moved from the HTTP tests
//! (`tests/library/replay.rs`), which keep what needs a socket: a stale
//! header refused before a body that never arrives.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, StatusCode};

use super::{ReplayLayer, TimestampFormat};
use crate::test_support::{oneshot, with_body, Reply};
use crate::{Timestamp, WebhookContext};

/// The frozen "now" of every layer here: 2023-11-14T22:13:20Z.
const NOW_SECS: u64 = 1_700_000_000;
const NOW_MS: i64 = 1_700_000_000_000;

fn frozen() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

/// Plays the signature layer (outside the replay layer): records the
/// `x-test-signed-ms` header as a verified timestamp, `x-test-unsigned-ms`
/// as an unverified one.
fn record_test_timestamps(context: &WebhookContext, headers: &HeaderMap) {
    if let Some(ms) = test_header(headers, "x-test-signed-ms") {
        context.set_timestamp(Timestamp::signed(ms));
    }
    if let Some(ms) = test_header(headers, "x-test-unsigned-ms") {
        context.set_timestamp(Timestamp::unsigned(ms));
    }
}

fn test_header(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.to_str().ok()?.parse().ok()
}

fn describe(timestamp: &Timestamp) -> String {
    format!(
        "{} signed={} window_checked={}",
        timestamp.unix_millis, timestamp.signed, timestamp.window_checked
    )
}

/// The layer (on the frozen clock) in front of a handler that counts its
/// runs; a reply's text is the timestamp the handler saw, its
/// `x-seen-reason` and `x-seen-timestamp` headers what the context holds
/// afterwards, as the audit layer would see it.
struct App {
    layer: ReplayLayer,
    runs: AtomicUsize,
}

impl App {
    async fn start(layer: ReplayLayer) -> Self {
        Self {
            layer: layer.clock(frozen),
            runs: AtomicUsize::new(0),
        }
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    async fn send(&self, headers: &[(&str, &[u8])], body: &'static str) -> Reply {
        let mut request = Request::post("/hook");
        for (name, value) in headers {
            request = request.header(*name, HeaderValue::from_bytes(value).unwrap());
        }
        let mut request = with_body(request, Bytes::from_static(body.as_bytes()));
        let context = WebhookContext::of(&mut request);
        record_test_timestamps(&context, request.headers());
        let mut reply = oneshot(&self.layer, request).await;
        if let Some(handled) = &reply.handled {
            self.runs.fetch_add(1, Ordering::SeqCst);
            let text = handled.timestamp.as_ref().map(describe).unwrap_or_default();
            reply.body = Bytes::from(text);
        }
        let seen = context.snapshot();
        if let Some(reason) = seen.rejection {
            let value = HeaderValue::from_static(reason.as_str());
            reply.headers.insert("x-seen-reason", value);
        }
        if let Some(timestamp) = seen.timestamp {
            let value = HeaderValue::from_str(&describe(&timestamp)).unwrap();
            reply.headers.insert("x-seen-timestamp", value);
        }
        reply
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
#[track_caller]
fn assert_refused(reply: &Reply, status: StatusCode, reason: &str, case: &str) {
    assert_eq!(reply.status, status, "{case}: {}", reply.text());
    assert_eq!(seen_reason(reply), Some(reason), "{case}");
    assert!(!reply.was_handled(), "{case}");
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

// A body field needs the `json` feature.
#[cfg(feature = "json")]
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

// A body field needs the `json` feature.
#[cfg(feature = "json")]
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

// A body field needs the `json` feature.
#[cfg(feature = "json")]
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

// A body field needs the `json` feature.
#[cfg(feature = "json")]
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

// A body field needs the `json` feature.
#[cfg(feature = "json")]
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
