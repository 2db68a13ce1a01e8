//! Mailgun, SendGrid and Discord sign a timestamp: they say so, hand it to
//! the context as signed, and `ReplayLayer::signed_timestamp()` works with
//! them inside a `WebhookStack`.
#![cfg(all(feature = "ecdsa", feature = "ed25519"))]

use crate::support;

use std::sync::Arc;
use support::unix_now;

use axum::routing::post;
use axum::Router;
use http::{HeaderName, HeaderValue, StatusCode};
use tower_webhook::provider::{discord, mailgun, sendgrid};
use tower_webhook::replay::ReplayLayer;
use tower_webhook::signature::{
    Key, KeyMaterial, Keyring, Outgoing, Scheme, SignatureLayer, Signer,
};
use tower_webhook::{Secret, WebhookStack};

/// A stack of `layer` and the signed-timestamp replay window, served.
async fn serve(layer: SignatureLayer) -> std::net::SocketAddr {
    let stack = WebhookStack::new()
        .signature(layer)
        .replay(ReplayLayer::signed_timestamp())
        .build()
        .expect("the scheme signs its timestamp, so the stack accepts the window");
    support::serve(Router::new().route("/hook", post(|| async { "ok" }).layer(stack))).await
}

async fn send(
    addr: std::net::SocketAddr,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Vec<u8>,
) -> StatusCode {
    support::post_with(addr, "/hook", &headers, &body)
        .await
        .status
}

#[test]
fn the_schemes_say_they_sign_a_timestamp() {
    assert!(mailgun::mailgun().signs_timestamp());
    assert!(sendgrid::sendgrid().signs_timestamp());
    assert!(discord::discord().signs_timestamp());
}

#[tokio::test]
async fn discord_and_sendgrid_deliveries_are_held_to_the_window() {
    let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    let public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    let ec = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
    let setups: [(SignatureLayer, Signer); 2] = [
        (
            SignatureLayer::new(
                discord::discord(),
                Keyring::new().with(Key::new("app", discord::public_key(public).unwrap())),
            )
            .unwrap(),
            Signer::new(
                Arc::new(discord::discord()),
                discord::signing_key(seed).unwrap(),
            ),
        ),
        (
            SignatureLayer::new(
                sendgrid::sendgrid(),
                Keyring::new().with(Key::new("sg", KeyMaterial::EcdsaP256(*ec.verifying_key()))),
            )
            .unwrap(),
            Signer::new(
                Arc::new(sendgrid::sendgrid()),
                KeyMaterial::EcdsaP256Signing(ec),
            ),
        ),
    ];
    for (layer, signer) in setups {
        let addr = serve(layer).await;
        let body = b"{\"type\":1}".to_vec();
        let fresh = signer.sign(&Outgoing::new(&body, unix_now(), "")).unwrap();
        assert_eq!(send(addr, fresh, body.clone()).await, StatusCode::OK);
        let stale = signer
            .sign(&Outgoing::new(&body, unix_now() - 3600, ""))
            .unwrap();
        assert_eq!(send(addr, stale, body).await, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn mailgun_deliveries_are_held_to_the_window() {
    let key = Secret::new("key-mailgun-signing-key").unwrap();
    let layer = SignatureLayer::new(mailgun::mailgun(), Keyring::single(key.clone())).unwrap();
    let addr = serve(layer).await;
    let body = |timestamp: i64, token: &str| {
        serde_json::json!({
            "signature": mailgun::signature_block(&key, timestamp, token),
            "event-data": { "event": "delivered" },
        })
        .to_string()
        .into_bytes()
    };
    let json = vec![(
        HeaderName::from_static("content-type"),
        HeaderValue::from_static("application/json"),
    )];
    let fresh = body(
        unix_now(),
        "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0",
    );
    assert_eq!(send(addr, json.clone(), fresh).await, StatusCode::OK);
    let stale = body(
        unix_now() - 3600,
        "b8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0",
    );
    assert_eq!(send(addr, json, stale).await, StatusCode::UNAUTHORIZED);
}
