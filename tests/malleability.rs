//! ECDSA malleability (SendGrid): `(r, n − s)` verifies wherever `(r, s)`
//! does. Both spellings of one signature are accepted (SendGrid does not
//! promise low-S) but parse to the same candidate, so nothing that looks at
//! the signature can tell two deliveries apart.

use std::convert::Infallible;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use p256::ecdsa::{Signature, SigningKey};
use tower::{service_fn, Layer, ServiceExt};
use tower_webhook::signature::schemes::sendgrid;
use tower_webhook::signature::{Key, KeyMaterial, Keyring, Scheme, SignatureLayer};

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
    let der = sendgrid::sign(&private, timestamp.as_bytes(), body);
    let low = Signature::from_der(&der).unwrap().normalize_s();
    let high = Signature::from_scalars(low.r(), -*low.s()).unwrap();
    assert_ne!(low.to_der().as_bytes(), high.to_der().as_bytes());

    let mut candidates = Vec::new();
    for signature in [low, high] {
        let request = || {
            Request::post("/sendgrid")
                .header(sendgrid::TIMESTAMP, timestamp)
                .header(
                    sendgrid::SIGNATURE,
                    STANDARD.encode(signature.to_der().as_bytes()),
                )
                .body(Full::new(Bytes::from_static(body)))
                .unwrap()
        };
        let handler = service_fn(|_: Request<_>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        });
        let response = layer.layer(handler).oneshot(request()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "both spellings verify");
        let parts = request().into_parts().0;
        let found = sendgrid::sendgrid().parse_head(&parts).unwrap();
        candidates.push(found.candidates().to_vec());
    }
    assert_eq!(candidates[0], candidates[1], "one signature, one candidate");
}
