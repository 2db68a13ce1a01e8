//! URL tokens in a path segment never reach the audit trail: not the right
//! token, not a wrong guess, through a hand-stacked chain or the stack
//! builder, and not when a layer refuses before the token layer looked.

use crate::support;

use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::StatusCode;
use http_body_util::Full;
use tower::ServiceBuilder;
use tower_webhook::audit::{AuditEvent, AuditLayer};
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::token::TokenLayer;
use tower_webhook::{Secret, WebhookStack};

const TOKEN: &str = "s3cret-url-token-9d8c7b";

type Events = Arc<Mutex<Vec<String>>>;

fn recording(events: &Events) -> AuditLayer {
    let (accepted, rejected) = (Arc::clone(events), Arc::clone(events));
    AuditLayer::without_sinks()
        .on_accept(move |event: &AuditEvent| accepted.lock().unwrap().push(event.to_json()))
        .on_reject(move |event: &AuditEvent| rejected.lock().unwrap().push(event.to_json()))
}

fn token_layer() -> TokenLayer {
    TokenLayer::path_after("hooks").accept("main", Secret::new(TOKEN).unwrap())
}

async fn deliver(addr: std::net::SocketAddr, path: &str) -> StatusCode {
    let request = support::post(addr, path)
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    support::send(request).await.status
}

/// The right token and two wrong guesses; every event names the path with
/// the token segment redacted, and no event holds any of them.
async fn check(addr: std::net::SocketAddr, events: &Events) {
    let guesses = [TOKEN, "a-wrong-guess-123", "s3cret-url-token-9d8c7"];
    assert_eq!(
        deliver(addr, &format!("/hooks/{TOKEN}")).await,
        StatusCode::OK
    );
    for guess in &guesses[1..] {
        assert_eq!(
            deliver(addr, &format!("/hooks/{guess}")).await,
            StatusCode::UNAUTHORIZED
        );
    }
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 3, "{events:?}");
    for event in events.iter() {
        assert!(event.contains(r#""path":"/hooks/<redacted>""#), "{event}");
        for guess in guesses {
            assert!(!event.contains(guess), "{event}");
        }
    }
}

#[tokio::test]
async fn hand_stacked_audit_redacts_the_token_segment() {
    let events = Events::default();
    let route = post(|| async { "ok" }).layer(
        ServiceBuilder::new()
            .layer(recording(&events))
            .layer(token_layer()),
    );
    let addr = support::serve(Router::new().route("/hooks/{token}", route)).await;
    check(addr, &events).await;
}

#[tokio::test]
async fn stacked_audit_redacts_the_token_segment() {
    let events = Events::default();
    let layer = WebhookStack::new()
        .audit(recording(&events))
        .token(token_layer())
        .build()
        .unwrap();
    let route = post(|| async { "ok" }).layer(layer);
    let addr = support::serve(Router::new().route("/hooks/{token}", route)).await;
    check(addr, &events).await;
}

#[tokio::test]
async fn a_request_refused_before_the_token_layer_is_redacted_when_configured() {
    let events = Events::default();
    let route = post(|| async { "ok" }).layer(
        ServiceBuilder::new()
            .layer(recording(&events).redact_path_after("hooks"))
            .layer(IpFilterLayer::new().allow("192.0.2.0/24").unwrap())
            .layer(token_layer()),
    );
    let addr = support::serve(Router::new().route("/hooks/{token}", route)).await;
    // From 127.0.0.1: refused by the IP filter, the token layer never runs.
    assert_eq!(
        deliver(addr, &format!("/hooks/{TOKEN}")).await,
        StatusCode::FORBIDDEN
    );
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1);
    assert!(
        events[0].contains(r#""path":"/hooks/<redacted>""#),
        "{}",
        events[0]
    );
    assert!(!events[0].contains(TOKEN));
}
