//! HubSpot's legacy v1/v2 signatures are a plain SHA-256 of the secret
//! followed by the message: from one captured delivery and the secret's
//! length, an attacker computes a valid signature for
//! `body ‖ SHA-256 padding ‖ any suffix`. Performed here for real (the
//! forged signature is what SHA-256(secret ‖ forged message) gives), and
//! refused by the layer before the handler, through a real server.

use crate::support;

use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use sha2::{Digest, Sha256};
use tower_webhook::idempotency::IdempotencyLayer;
use tower_webhook::provider::hubspot;
use tower_webhook::signature::{DeclaredScheme, Keyring, Outgoing, SignatureLayer, Signer};
use tower_webhook::{Secret, WebhookStack};

use support::length_extension::extend;

/// HubSpot's secrets are 36-character UUIDs: the length is no secret.
const SECRET: &str = "8c1f2a9e-3b47-4d5a-9e21-0f6b7c8d9e0a";
const BODY: &[u8] =
    br#"[{"objectId":1246965,"propertyName":"lifecyclestage","propertyValue":"lead"}]"#;
const SUFFIX: &[u8] =
    br#",{"objectId":1,"propertyName":"hs_lead_status","propertyValue":"UNQUALIFIED"}]"#;

async fn serve(scheme: DeclaredScheme) -> (std::net::SocketAddr, Arc<Mutex<Vec<Bytes>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let layer = SignatureLayer::new(scheme, Keyring::single(Secret::new(SECRET).unwrap())).unwrap();
    let stack = WebhookStack::new()
        .signature(layer)
        .idempotency(IdempotencyLayer::new())
        .build()
        .unwrap();
    let router = Router::new().route(
        "/hook",
        post(move |body: Bytes| {
            record.lock().unwrap().push(body);
            async { "ok" }
        })
        .layer(stack),
    );
    (support::serve(router).await, seen)
}

fn signature(version: &str, hex: &str) -> Vec<(HeaderName, HeaderValue)> {
    vec![
        (
            hubspot::SIGNATURE_LEGACY,
            HeaderValue::from_str(hex).unwrap(),
        ),
        (
            hubspot::SIGNATURE_VERSION,
            HeaderValue::from_str(version).unwrap(),
        ),
    ]
}

/// Capture one genuine delivery, extend it, and send both: the genuine one
/// runs the handler, the forged one is refused as `401`.
async fn extension_is_refused(name: &str, version: &str, scheme: DeclaredScheme) {
    let (addr, seen) = serve(scheme).await;
    let url = format!("https://{addr}/hook");
    let genuine = Signer::preset(name, SECRET)
        .unwrap()
        .sign(&Outgoing::new(BODY, 0, "").to_url(&url))
        .unwrap();
    let reply = support::post_with(addr, "/hook", &genuine, BODY).await;
    assert_eq!(reply.status, StatusCode::OK, "{name}: genuine");

    // The attacker's side: the captured digest, the secret's length, and
    // for v2 the method and URL signed before the body.
    let captured = hex::decode(genuine[0].1.to_str().unwrap()).unwrap();
    let signed_before_body = if version == "v2" {
        "POST".len() + url.len()
    } else {
        0
    };
    let (forged, digest) = extend(&captured, SECRET.len() + signed_before_body, BODY, SUFFIX);
    // A real length extension: plain SHA-256 over secret ‖ message agrees.
    let mut message = SECRET.as_bytes().to_vec();
    if version == "v2" {
        message.extend_from_slice(b"POST");
        message.extend_from_slice(url.as_bytes());
    }
    message.extend_from_slice(&forged);
    assert_eq!(
        Sha256::digest(&message)[..],
        digest[..],
        "{name}: extension"
    );

    let reply = support::post_with(
        addr,
        "/hook",
        &signature(version, &hex::encode(digest)),
        &forged,
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{name}: forged");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![Bytes::from_static(BODY)],
        "{name}"
    );
}

#[tokio::test]
async fn a_hubspot_v1_length_extension_is_refused_before_the_handler() {
    extension_is_refused("insecure-hubspot-v1", "v1", hubspot::hubspot_v1()).await;
}

#[tokio::test]
async fn a_hubspot_v2_length_extension_is_refused_before_the_handler() {
    extension_is_refused("insecure-hubspot-v2", "v2", hubspot::hubspot_v2()).await;
}

#[test]
fn length_extendable_schemes_need_their_insecure_name() {
    for (plain, insecure) in [
        ("hubspot-v1", "insecure-hubspot-v1"),
        ("hubspot-v2", "insecure-hubspot-v2"),
    ] {
        let error = tower_webhook::provider::scheme_by_name(plain)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("forgeable") && error.contains(insecure),
            "{error}"
        );
        assert!(SignatureLayer::preset(plain, SECRET).is_err());
        assert!(WebhookStack::provider(plain, SECRET).is_err());
        assert!(tower_webhook::provider::scheme_by_name(insecure).is_ok());
        assert!(SignatureLayer::preset(insecure, SECRET).is_ok());
    }
}
