//! `Verified<T>` hands over payloads only behind an authenticating layer.

use crate::support;

use std::sync::Arc;

use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use http::request::Parts;
use http::StatusCode;
use http_body_util::Full;
use serde_json::Value;
use tower_webhook::extract::Verified;
use tower_webhook::guard::{Guard, RequestCheck};
use tower_webhook::{AuthMethod, Authentication, Stop, WebhookContext};

use support::{post as post_to, send, serve};

/// Authenticates every request as key `k1` (stands in for a real layer).
struct AcceptAll;

impl RequestCheck for AcceptAll {
    fn check(&self, _: &mut Parts, context: &WebhookContext) -> Result<(), Stop> {
        context.set_authentication(Authentication::new(AuthMethod::Signature).with_key_id("k1"));
        Ok(())
    }
}

async fn handler(
    Verified {
        payload: Json(event),
        verification,
    }: Verified<Json<Value>>,
) -> String {
    let key = verification.authentication.and_then(|a| a.key_id).unwrap();
    format!("{} {key}", event["id"])
}

fn json(addr: std::net::SocketAddr, body: &'static str) -> http::Request<Full<Bytes>> {
    post_to(addr, "/hook")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap()
}

#[tokio::test]
async fn payload_behind_an_authenticating_layer_is_handed_over() {
    let app = Router::new()
        .route("/hook", post(handler))
        .layer(tower::layer::layer_fn(|inner| {
            Guard::new(Arc::new(AcceptAll), inner)
        }));
    let addr = serve(app).await;
    let reply = send(json(addr, r#"{"id":"evt_1"}"#)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), r#""evt_1" k1"#);

    // The inner extractor's own rejection still applies.
    let reply = send(json(addr, "{not json")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn payload_without_a_layer_is_never_processed() {
    let app = Router::new().route("/hook", post(handler));
    let addr = serve(app).await;
    let reply = send(json(addr, r#"{"id":"evt_1"}"#)).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!reply.text().contains("evt_1"));
}
