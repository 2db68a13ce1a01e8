//! Work before authentication is bounded: Twilio's form parameters are
//! counted (without decoding) before they are decoded and sorted, and a form
//! with more than `MAX_FORM_PARAMS` (1,024, as documented) is refused whatever its signature.

use crate::support;

use std::sync::Arc;

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http_body_util::Full;
use tower_webhook::provider::twilio;
use tower_webhook::signature::PublicUrl;
use tower_webhook::signature::{Keyring, Outgoing, Scheme, SignatureLayer, Signer};
use tower_webhook::Secret;

/// The most form parameters a Twilio delivery may carry, as documented.
const MAX_FORM_PARAMS: usize = 1024;

fn form(params: usize) -> String {
    (0..params)
        .map(|i| format!("P{i}=v"))
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test]
async fn twilio_refuses_forms_beyond_the_parameter_limit_even_signed() {
    let token = "twilio-auth-token-0123";
    let scheme =
        || twilio::twilio().public_url(PublicUrl::base("https://hooks.example.com").unwrap());
    let layer = SignatureLayer::new(scheme(), Keyring::single(Secret::new(token).unwrap()))
        .unwrap()
        .body_limit(4 << 20);
    let app = Router::new().route("/sms", post(|| async { "ok" }).layer(layer));
    let addr = support::serve(app).await;
    let key = scheme().parse_key(token).unwrap();
    let signer = Signer::new(Arc::new(scheme()), key);

    for (params, expected) in [(MAX_FORM_PARAMS, 200), (MAX_FORM_PARAMS + 1, 413)] {
        let body = form(params);
        let headers = signer
            .sign(&Outgoing::new(body.as_bytes(), 0, "").to_url("https://hooks.example.com/sms"))
            .unwrap();
        let mut request = support::post(addr, "/sms")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        request.headers_mut().extend(headers);
        let reply = support::send(request).await;
        // 413 `payload_too_large`: one parameter over the limit.
        assert_eq!(reply.status.as_u16(), expected, "{params} parameters");
    }
    // Empty pieces (`&&&`) are no parameters and do not count.
    let body = format!("{}{}", "&".repeat(4 * MAX_FORM_PARAMS), form(3));
    let headers = signer
        .sign(&Outgoing::new(body.as_bytes(), 0, "").to_url("https://hooks.example.com/sms"))
        .unwrap();
    let mut request = support::post(addr, "/sms")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    request.headers_mut().extend(headers);
    assert_eq!(support::send(request).await.status.as_u16(), 200);
}
