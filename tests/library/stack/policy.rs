//! Policies as data: JSON in, a stack out, through a real server; unsafe
//! combinations refused with a message naming the field.

use crate::support;

use axum::routing::post;
use axum::Router;
use http::{HeaderName, HeaderValue, StatusCode};
use proptest::prelude::*;
use support::unix_now;
use tower_webhook::policy::{LegacyToken, PolicyError, WebhookPolicy};
use tower_webhook::stack::{StackError, WebhookStack};
use tower_webhook::Secret;

const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn policy(json: &str) -> WebhookPolicy {
    serde_json::from_str(json).unwrap_or_else(|error| panic!("{json}: {error}"))
}

fn refusal(json: &str) -> PolicyError {
    policy(json)
        .build()
        .err()
        .unwrap_or_else(|| panic!("{json} built"))
}

#[test]
fn json_round_trips_unchanged() {
    let full = r#"{
        "scheme": "standard",
        "require_signature": true,
        "signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "timestamp_window_seconds": 300,
        "ip_allowlist": ["10.0.0.0/8", "2001:db8::/32"],
        "legacy_token": {"header": "X-Webhook-Token", "token": "legacy-token-0123456789"},
        "body_limit": 65536,
        "insecure_no_authentication": false
    }"#;
    for json in [
        full,
        r#"{"legacy_token": {"token": "t-0123456789abcdef"}}"#,
        "{}",
    ] {
        let read = policy(json);
        let written = serde_json::to_string(&read).unwrap();
        let again: WebhookPolicy = serde_json::from_str(&written).unwrap();
        assert_eq!(again, read, "{written}");
        assert_eq!(serde_json::to_string(&again).unwrap(), written);
    }
    let read = policy(full);
    assert_eq!(read.ip_allowlist, ["10.0.0.0/8", "2001:db8::/32"]);
    assert_eq!(
        read.legacy_token.as_ref().unwrap().header,
        "X-Webhook-Token"
    );
    // The secret survives the trip (a store must get back what it gave)...
    let written = serde_json::to_value(&read).unwrap();
    assert_eq!(written["signing_secret"], WHSEC);
    // ... but never reaches Debug output.
    let debug = format!("{read:?}");
    assert!(!debug.contains("MfKQ9r8"), "{debug}");
    assert!(!debug.contains("legacy-token-0123456789"), "{debug}");
    // The seed's one-string allowlist reads the same as a list.
    let one = policy(r#"{"ip_allowlist": " 10.0.0.0/8, 2001:db8::/32 ,"}"#);
    assert_eq!(one.ip_allowlist, read.ip_allowlist);
}

#[test]
fn a_policy_built_in_code_serialises_too() {
    let mut policy = WebhookPolicy::new();
    policy.provider = Some("github".into());
    policy.require_signature = true;
    policy.signing_secret = Some(Secret::new(GITHUB_SECRET).unwrap());
    policy.legacy_token = Some(LegacyToken::new(
        "X-Gitlab-Token",
        Secret::new("legacy-0123456789").unwrap(),
    ));
    let json = serde_json::to_string(&policy).unwrap();
    assert_eq!(
        serde_json::from_str::<WebhookPolicy>(&json).unwrap(),
        policy
    );
    assert!(policy.build().is_ok());
    assert!(WebhookStack::try_from(&policy).is_ok());
    assert!(policy.tenant_policy().is_ok());
}

#[test]
fn unsafe_or_broken_policies_are_refused_with_the_field_to_fix() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"scheme": "github", "signing_secret": "s3cret-0123456789"}"#,
            "require_signature is false",
        ),
        (
            r#"{"scheme": "github", "require_signature": true}"#,
            "no signing_secret",
        ),
        (
            r#"{"require_signature": true, "signing_secret": "s3cret-0123456789"}"#,
            "no provider",
        ),
        (
            r#"{"scheme": "gitbub", "require_signature": true, "signing_secret": "s3cret-0123456789"}"#,
            "provider: unknown",
        ),
        (
            r#"{"scheme": "standard", "require_signature": true, "signing_secret": "whsec_%%%"}"#,
            "signing_secret: secret is not valid base64",
        ),
        (
            r#"{"scheme": "github", "require_signature": true, "signing_secret": "s3cret-0123456789", "timestamp_window_seconds": 300}"#,
            "this scheme signs no timestamp",
        ),
        (
            r#"{"scheme": "stripe", "require_signature": true, "signing_secret": "whsec_x", "timestamp_window_seconds": 0}"#,
            "timestamp_window_seconds is 0",
        ),
        (
            r#"{"legacy_token": {"token": "t-0123456789abcdef"}, "timestamp_window_seconds": 300}"#,
            "needs require_signature",
        ),
        (
            r#"{"ip_allowlist": "10.0.0.0/8, not-an-ip"}"#,
            "ip_allowlist: invalid",
        ),
        (
            r#"{"legacy_token": {"header": "X Bad Header", "token": "t-0123456789abcdef"}}"#,
            "legacy_token: invalid legacy token header name",
        ),
        ("{}", "authenticates nobody"),
        (r#"{"ip_allowlist": " , "}"#, "authenticates nobody"),
    ];
    for (json, message) in cases {
        let error = refusal(json).to_string();
        assert!(
            error.contains(message),
            "{json}: {error:?} lacks {message:?}"
        );
        assert!(!error.contains("s3cret"), "{error}");
    }
    assert!(matches!(
        refusal(
            r#"{"scheme": "github", "require_signature": true, "signing_secret": "s", "timestamp_window_seconds": 60}"#
        ),
        PolicyError::Stack(StackError::NoTimestampSource)
    ));
    // An explicit opt-in builds the open endpoint.
    assert!(policy(r#"{"insecure_no_authentication": true}"#)
        .build()
        .is_ok());
}

#[test]
fn typos_and_empty_secrets_are_refused_when_reading() {
    for json in [
        r#"{"require_signatures": true}"#,
        r#"{"legacy_token": {"token": "t", "headr": "x"}}"#,
        r#"{"signing_secret": ""}"#,
        r#"{"legacy_token": {"token": ""}}"#,
        r#"{"timestamp_window_seconds": -5}"#,
    ] {
        assert!(
            serde_json::from_str::<WebhookPolicy>(json).is_err(),
            "{json}"
        );
    }
}

#[tokio::test]
async fn a_policy_from_json_guards_a_real_endpoint() {
    // GitHub, signed, with a legacy token for senders still migrating, and
    // the loopback allowlist.
    let github = policy(
        r#"{
        "scheme": "github",
        "require_signature": true,
        "signing_secret": "It's a Secret to Everybody",
        "ip_allowlist": "127.0.0.1, ::1",
        "legacy_token": {"header": "X-Gitlab-Token", "token": "legacy-0123456789"}
    }"#,
    );
    // Standard Webhooks with a window, from another source address only.
    let standard = policy(
        r#"{
        "scheme": "standard",
        "require_signature": true,
        "signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "timestamp_window_seconds": 300
    }"#,
    );
    let elsewhere = policy(
        r#"{"legacy_token": {"token": "legacy-0123456789"}, "ip_allowlist": ["192.0.2.0/24"]}"#,
    );
    let app = Router::new()
        .route(
            "/github",
            post(|| async { "ok" }).layer(github.build().unwrap()),
        )
        .route(
            "/standard",
            post(|| async { "ok" }).layer(standard.build().unwrap()),
        )
        .route(
            "/elsewhere",
            post(|| async { "ok" }).layer(elsewhere.build().unwrap()),
        );
    let addr = support::serve(app).await;
    let body = br#"{"zen":"hi"}"#;

    let signed = support::signed_headers("github", GITHUB_SECRET, body, 0, "d1");
    let reply = support::post_with(addr, "/github", &signed, body).await;
    assert_eq!(reply.status, StatusCode::OK);
    let legacy = [(
        HeaderName::from_static("x-gitlab-token"),
        HeaderValue::from_static("legacy-0123456789"),
    )];
    assert_eq!(
        support::post_with(addr, "/github", &legacy, body)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        support::post_with(addr, "/github", &[], body).await.status,
        StatusCode::UNAUTHORIZED
    );

    let fresh = support::signed_headers("standard", WHSEC, body, unix_now(), "msg_1");
    assert_eq!(
        support::post_with(addr, "/standard", &fresh, body)
            .await
            .status,
        StatusCode::OK
    );
    let stale = support::signed_headers("standard", WHSEC, body, unix_now() - 3600, "msg_2");
    assert_eq!(
        support::post_with(addr, "/standard", &stale, body)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    let token = [(
        HeaderName::from_static("x-webhook-token"),
        HeaderValue::from_static("legacy-0123456789"),
    )];
    assert_eq!(
        support::post_with(addr, "/elsewhere", &token, body)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(r#""scheme": "github""#.to_owned()),
        Just(r#""scheme": "stripe""#.to_owned()),
        Just(r#""scheme": "standard""#.to_owned()),
        "[a-z\\-]{0,12}".prop_map(|s| format!(r#""scheme": "{s}""#)),
        any::<bool>().prop_map(|b| format!(r#""require_signature": {b}"#)),
        "[ -~&&[^\"\\\\]]{0,40}".prop_map(|s| format!(r#""signing_secret": "{s}""#)),
        any::<u64>().prop_map(|n| format!(r#""timestamp_window_seconds": {n}"#)),
        "[0-9a-f:./, ]{0,40}".prop_map(|s| format!(r#""ip_allowlist": "{s}""#)),
        ("[ -~&&[^\"\\\\]]{0,20}", "[ -~&&[^\"\\\\]]{0,20}")
            .prop_map(|(h, t)| format!(r#""legacy_token": {{"header": "{h}", "token": "{t}"}}"#)),
        any::<usize>().prop_map(|n| format!(r#""body_limit": {n}"#)),
        any::<bool>().prop_map(|b| format!(r#""insecure_no_authentication": {b}"#)),
    ]
}

proptest! {
    /// Whatever a store holds, reading and building never panics, and what
    /// reads back writes out the same.
    #[test]
    fn any_policy_reads_and_builds_or_is_refused_without_panicking(fields in proptest::collection::vec(field(), 0..8)) {
        let json = format!("{{{}}}", fields.join(","));
        if let Ok(policy) = serde_json::from_str::<WebhookPolicy>(&json) {
            let written = serde_json::to_string(&policy).unwrap();
            prop_assert_eq!(&serde_json::from_str::<WebhookPolicy>(&written).unwrap(), &policy);
            if let Err(error) = policy.build() {
                prop_assert!(!error.to_string().is_empty());
            }
        }
    }
}

#[tokio::test]
async fn an_absurd_window_is_refused_naming_the_field_without_panicking() {
    // A policy may only tighten the provider's window: u64::MAX seconds is
    // refused, naming the field, rather than accepting any old delivery.
    let json = format!(
        r#"{{"scheme": "standard", "require_signature": true, "signing_secret": "{WHSEC}", "timestamp_window_seconds": {}}}"#,
        u64::MAX
    );
    let error = policy(&json).build().map(|_| ()).unwrap_err().to_string();
    assert!(error.contains("timestamp_window_seconds"), "{error}");
    // A tighter one builds, and a delivery signed long ago is refused.
    let json = format!(
        r#"{{"scheme": "standard", "require_signature": true, "signing_secret": "{WHSEC}", "timestamp_window_seconds": 60}}"#
    );
    let layer = policy(&json).build().unwrap();
    let addr =
        support::serve(Router::new().route("/h", post(|| async { "ok" }).layer(layer))).await;
    let body = b"{}";
    let old = support::signed_headers("standard", WHSEC, body, 1, "msg_old");
    assert_eq!(
        support::post_with(addr, "/h", &old, body).await.status,
        StatusCode::UNAUTHORIZED
    );
}
