//! The shapes the third batch of providers brought, through a real server:
//! Recurly's timestamp as the first entry of its signature list, Persona's
//! two signature sets while a secret rotates, Attio's legacy header,
//! Segment's batches, Cal.com's and WooCommerce's unsigned requests,
//! Mollie's classic webhooks.

use crate::support;

use std::net::SocketAddr;
use support::unix_now;

use axum::middleware::map_response;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use http::{HeaderName, HeaderValue, StatusCode};
use serde_json::Value;
use tower_webhook::signature::{Key, Keyring, Outgoing, SignatureLayer, Signer};
use tower_webhook::{provider, Reason, WebhookStack};

/// Where the test server writes the rejection's reason, so a test sees
/// why a request was refused, not only that it was.
const REASON: &str = "x-test-reason";

async fn reason_header(mut response: Response) -> Response {
    if let Some(reason) = response.extensions().get::<Reason>().copied() {
        response.headers_mut().insert(
            HeaderName::from_static(REASON),
            HeaderValue::from_static(reason.as_str()),
        );
    }
    response
}

async fn serve(layer: SignatureLayer) -> SocketAddr {
    support::serve(
        Router::new().route(
            "/hook",
            post(|| async { "handled" })
                .layer(layer)
                .layer(map_response(reason_header)),
        ),
    )
    .await
}

/// `POST /hook` with `headers`: the status and, for a refusal, its reason.
async fn post_hook(
    addr: SocketAddr,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (StatusCode, Option<String>) {
    let headers: Vec<_> = headers
        .iter()
        .map(|(name, value)| {
            (
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            )
        })
        .collect();
    let reply = support::post_with(addr, "/hook", &headers, body).await;
    let reason = reply
        .headers
        .get(REASON)
        .map(|v| v.to_str().unwrap().to_owned());
    (reply.status, reason)
}

fn refused(reason: Reason) -> (StatusCode, Option<String>) {
    (StatusCode::UNAUTHORIZED, Some(reason.as_str().to_owned()))
}

const OK: (StatusCode, Option<String>) = (StatusCode::OK, None);

/// The published Recurly example: (secret, header, body).
fn recurly_example() -> (String, String, Vec<u8>) {
    let path = format!(
        "{}/tests/vectors/published.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let vectors: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let v = vectors.iter().find(|v| v["id"] == "recurly-1").unwrap();
    (
        v["secret"].as_str().unwrap().to_owned(),
        v["headers"]["recurly-signature"]
            .as_str()
            .unwrap()
            .to_owned(),
        hex::decode(v["body_hex"].as_str().unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn recurlys_first_entry_is_the_timestamp_and_never_a_signature() {
    let (secret, header, body) = recurly_example();
    let (timestamp, signature) = header.split_once(',').unwrap();
    let addr = serve(SignatureLayer::preset("recurly", &secret).unwrap()).await;

    assert_eq!(
        post_hook(addr, &[("recurly-signature", &header)], &body).await,
        OK
    );
    // Another secret's signature beside it (the spec's `de1ec7ab1e`) does
    // not hide the valid one.
    let two = format!("{timestamp},de1ec7ab1e,{signature}");
    assert_eq!(
        post_hook(addr, &[("recurly-signature", &two)], &body).await,
        OK
    );
    // The timestamp is signed: another one is a mismatch.
    let later = format!("{}1,{signature}", &timestamp[..timestamp.len() - 1]);
    assert_eq!(
        post_hook(addr, &[("recurly-signature", &later)], &body).await,
        refused(Reason::SignatureMismatch)
    );
    // A valid signature in first place is read as the timestamp, never
    // accepted as a signature.
    let swapped = format!("{signature},de1ec7ab1e");
    assert_eq!(
        post_hook(addr, &[("recurly-signature", &swapped)], &body).await,
        refused(Reason::TimestampMalformed)
    );
    let reversed = format!("{signature},{timestamp}");
    assert_eq!(
        post_hook(addr, &[("recurly-signature", &reversed)], &body).await,
        refused(Reason::SignatureMalformed)
    );
    assert_eq!(
        post_hook(addr, &[("recurly-signature", signature)], &body).await,
        refused(Reason::SignatureMalformed)
    );
    assert_eq!(
        post_hook(addr, &[("recurly-signature", timestamp)], &body).await,
        refused(Reason::SignatureMalformed)
    );
}

#[tokio::test]
async fn recurlys_bundle_signs_as_recurly_does_and_keeps_the_five_minute_window() {
    let (secret, header, body) = recurly_example();
    let signed = Signer::preset("recurly", &secret)
        .unwrap()
        .sign(&Outgoing::new(&body, unix_now(), "d-1"))
        .unwrap();
    let (name, value) = &signed[0];
    assert_eq!(name, "recurly-signature");
    let value = value.to_str().unwrap();
    let (ms, hex_sig) = value.split_once(',').unwrap();
    assert_eq!(ms.len(), 13, "milliseconds: {value}");
    assert_eq!(hex_sig.len(), 64, "one hex HMAC-SHA256: {value}");

    let stack = WebhookStack::provider("recurly", &secret)
        .unwrap()
        .build()
        .unwrap();
    let addr = support::serve(
        Router::new().route(
            "/hook",
            post(|| async { "handled" })
                .layer(stack)
                .layer(map_response(reason_header)),
        ),
    )
    .await;
    assert_eq!(
        post_hook(addr, &[("recurly-signature", value)], &body).await,
        OK
    );
    // The published example was signed in 2022.
    assert_eq!(
        post_hook(addr, &[("recurly-signature", &header)], &body).await,
        (
            StatusCode::UNAUTHORIZED,
            Some(Reason::TimestampOutsideWindow.as_str().to_owned())
        )
    );
}

fn persona_set(secret: &str, body: &[u8], timestamp: i64) -> String {
    let signed = Signer::preset("persona", secret)
        .unwrap()
        .sign(&Outgoing::new(body, timestamp, ""))
        .unwrap();
    signed[0].1.to_str().unwrap().to_owned()
}

#[tokio::test]
async fn persona_during_a_rotation_verifies_with_both_secrets_configured() {
    let body = br#"{"data":{"type":"event","id":"evt_1"}}"#;
    let now = unix_now();
    let old = persona_set("persona-old-secret", body, now);
    let new = persona_set("persona-new-secret", body, now);
    assert!(old.starts_with(&format!("t={now},v1=")), "{old}");
    let rotating = format!("{old} {new}");

    let scheme = (provider::PERSONA.scheme)();
    let key = |secret: &str| scheme.parse_key(secret).unwrap();
    let both = SignatureLayer::from_arc(
        (provider::PERSONA.scheme)(),
        Keyring::new()
            .with(Key::new("old", key("persona-old-secret")))
            .with(Key::new("new", key("persona-new-secret"))),
    )
    .unwrap();
    let addr = serve(both).await;
    assert_eq!(
        post_hook(addr, &[("persona-signature", &rotating)], body).await,
        OK
    );
    for single in [&old, &new] {
        assert_eq!(
            post_hook(addr, &[("persona-signature", single)], body).await,
            OK
        );
    }
    let mut tampered = body.to_vec();
    tampered[10] ^= 1;
    assert_eq!(
        post_hook(addr, &[("persona-signature", &rotating)], &tampered).await,
        refused(Reason::SignatureMismatch)
    );
}

#[tokio::test]
async fn attio_reads_its_legacy_header_only_without_the_current_one() {
    let body = br#"{"webhook_id":"w-1","events":[]}"#;
    let signed = Signer::preset("attio", "attio-secret")
        .unwrap()
        .sign(&Outgoing::new(body, 0, ""))
        .unwrap();
    // Attio sends the value twice; so does the crate's signer.
    let names: Vec<&str> = signed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["attio-signature", "x-attio-signature"]);
    let good = signed[0].1.to_str().unwrap().to_owned();
    assert_eq!(signed[1].1, signed[0].1);

    let addr = serve(SignatureLayer::preset("attio", "attio-secret").unwrap()).await;
    assert_eq!(
        post_hook(addr, &[("x-attio-signature", &good)], body).await,
        OK
    );
    // A wrong current header is not rescued by a right legacy one.
    let wrong = "00".repeat(32);
    assert_eq!(
        post_hook(
            addr,
            &[("attio-signature", &wrong), ("x-attio-signature", &good)],
            body
        )
        .await,
        refused(Reason::SignatureMismatch)
    );
}

#[tokio::test]
async fn a_segment_batch_signed_on_its_first_event_is_refused() {
    let first = br#"{"cool":false}"#;
    let batch = br#"[{"cool":false},{"cool":true}]"#;
    let signature = |body: &[u8]| {
        Signer::preset("segment", "abc123")
            .unwrap()
            .sign(&Outgoing::new(body, 0, ""))
            .unwrap()[0]
            .1
            .to_str()
            .unwrap()
            .to_owned()
    };
    let addr = serve(SignatureLayer::preset("segment", "abc123").unwrap()).await;
    assert_eq!(
        post_hook(addr, &[("x-signature", &signature(first))], first).await,
        OK
    );
    // What Segment sends for a batch: the first event's signature over a
    // body holding more.
    assert_eq!(
        post_hook(addr, &[("x-signature", &signature(first))], batch).await,
        refused(Reason::SignatureMismatch)
    );
}

#[tokio::test]
async fn requests_these_providers_send_unsigned_are_refused() {
    // Cal.com, for a webhook saved without a secret.
    let cal = serve(SignatureLayer::preset("cal-com", "cal-secret").unwrap()).await;
    assert_eq!(
        post_hook(
            cal,
            &[("x-cal-signature-256", "no-secret-provided")],
            br#"{"triggerEvent":"BOOKING_CREATED"}"#
        )
        .await,
        refused(Reason::SignatureMalformed)
    );
    // WooCommerce's ping when a webhook is saved.
    let woo = serve(SignatureLayer::preset("woocommerce", "woo-secret").unwrap()).await;
    assert_eq!(
        post_hook(
            woo,
            &[("content-type", "application/x-www-form-urlencoded")],
            b"webhook_id=12"
        )
        .await,
        refused(Reason::SignatureMissing)
    );
    // A classic Mollie webhook: the id alone, no signature.
    let mollie = serve(SignatureLayer::preset("mollie", "mollie-secret").unwrap()).await;
    assert_eq!(
        post_hook(mollie, &[], b"id=tr_d0b0E3EA3v").await,
        refused(Reason::SignatureMissing)
    );
    // Mollie's signature without its `sha256=` prefix is not Mollie's.
    let body = br#"{"id":"event_1"}"#;
    let prefixed = Signer::preset("mollie", "mollie-secret")
        .unwrap()
        .sign(&Outgoing::new(body, 0, ""))
        .unwrap()[0]
        .1
        .to_str()
        .unwrap()
        .to_owned();
    let bare = prefixed.strip_prefix("sha256=").unwrap();
    assert_eq!(
        post_hook(mollie, &[("x-mollie-signature", &prefixed)], body).await,
        OK
    );
    assert_eq!(
        post_hook(mollie, &[("x-mollie-signature", bare)], body).await,
        refused(Reason::SignatureMalformed)
    );
}
