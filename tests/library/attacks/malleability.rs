//! ECDSA malleability (SendGrid): `(r, n − s)` verifies wherever `(r, s)`
//! does. Both spellings of one signature must be the same delivery: the
//! idempotency key rests on the signed message, never on signature bytes.
#![cfg(feature = "ecdsa")]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use p256::ecdsa::{Signature, SigningKey};
use tower::{service_fn, ServiceBuilder, ServiceExt};
use tower_webhook::idempotency::IdempotencyLayer;
use tower_webhook::provider::sendgrid;
use tower_webhook::signature::{Key, KeyMaterial, Keyring, SignatureLayer};
use tower_webhook::WebhookContext;

#[tokio::test]
async fn high_s_and_low_s_signatures_are_one_signature() {
    let private = SigningKey::from_slice(&[0x42; 32]).unwrap();
    let layer = SignatureLayer::new(
        sendgrid::sendgrid(),
        Keyring::new().with(Key::new(
            "sendgrid",
            KeyMaterial::EcdsaP256(*private.verifying_key()),
        )),
    )
    .unwrap();
    let (timestamp, body) = ("1700000000", &b"[{\"event\":\"open\"}]\r\n"[..]);
    let der = sendgrid::sign(&private, &[timestamp.as_bytes(), body]);
    let low = Signature::from_der(&der).unwrap().normalize_s();
    let high = Signature::from_scalars(low.r(), -*low.s()).unwrap();

    let runs = Arc::new(Mutex::new(0));
    let handler = service_fn({
        let runs = Arc::clone(&runs);
        move |_: Request<_>| {
            *runs.lock().unwrap() += 1;
            async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::new()))) }
        }
    });
    let service = ServiceBuilder::new()
        .layer(layer)
        .layer(IdempotencyLayer::new())
        .service(handler);
    let mut seen = Vec::new();
    for signature in [low, high] {
        let context = WebhookContext::new();
        let mut request = Request::post("/sendgrid")
            .header(sendgrid::TIMESTAMP, timestamp)
            .header(
                sendgrid::SIGNATURE,
                STANDARD.encode(signature.to_der().as_bytes()),
            )
            .body(Full::new(Bytes::from_static(body)))
            .unwrap();
        request.extensions_mut().insert(context.clone());
        let response = service.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        seen.push(context.snapshot().idempotency_key.expect("a key"));
    }
    assert_eq!(*runs.lock().unwrap(), 1, "the second spelling ran again");
    assert_eq!(seen[0], seen[1], "both spellings are one delivery");
}
