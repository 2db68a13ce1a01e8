//! Twilio on a non-standard port, through a real server: Twilio's SDKs
//! verify the URL without its port as well as with it
//! (twilio-python `test_validation_removes_port_on_https`), so a receiver
//! on `:8443` — or on whatever port the test server got — accepts what
//! Twilio signed for the URL without the port.

use crate::support;

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{header, HeaderMap, StatusCode};
use http_body_util::Full;
use tower_webhook::provider::twilio;
use tower_webhook::signature::PublicUrl;
use tower_webhook::signature::{Keyring, Outgoing, SignatureLayer, Signer};
use tower_webhook::Secret;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const FORM: &str = "From=%2B14158675309&Body=Hello&To=%2B18005551212";

fn sign(url: &str) -> HeaderMap {
    Signer::preset("twilio", TOKEN)
        .unwrap()
        .sign(&Outgoing::new(FORM.as_bytes(), 0, "").to_url(url))
        .unwrap()
        .into_iter()
        .collect()
}

async fn serve(scheme: tower_webhook::signature::DeclaredScheme) -> std::net::SocketAddr {
    let layer = SignatureLayer::new(scheme, Keyring::single(Secret::new(TOKEN).unwrap())).unwrap();
    support::serve(Router::new().route("/sms", post(|| async { "ok" }).layer(layer))).await
}

async fn send(addr: std::net::SocketAddr, headers: HeaderMap) -> StatusCode {
    let mut request = support::post(addr, "/sms?x=1")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from_static(FORM.as_bytes())))
        .unwrap();
    request.headers_mut().extend(headers);
    support::send(request).await.status
}

#[tokio::test]
async fn a_public_url_on_a_non_standard_port_accepts_both_spellings() {
    let scheme =
        twilio::twilio().public_url(PublicUrl::base("https://hooks.example.com:8443").unwrap());
    let addr = serve(scheme).await;
    // As the SDKs accept: signed with the port, and without it.
    assert_eq!(
        send(addr, sign("https://hooks.example.com:8443/sms?x=1")).await,
        StatusCode::OK
    );
    assert_eq!(
        send(addr, sign("https://hooks.example.com/sms?x=1")).await,
        StatusCode::OK
    );
    // Another port, host or path is still another URL.
    for url in [
        "https://hooks.example.com:9443/sms?x=1",
        "https://other.example.com/sms?x=1",
        "https://hooks.example.com/sms?x=2",
    ] {
        assert_eq!(
            send(addr, sign(url)).await,
            StatusCode::UNAUTHORIZED,
            "{url}"
        );
    }
}

#[tokio::test]
async fn the_url_rebuilt_from_the_request_keeps_working_without_its_port() {
    // No proxy: the URL is rebuilt from the Host header, 127.0.0.1:<port>
    // (as `https://`, what Twilio calls).
    let addr = serve(twilio::twilio()).await;
    let with_port = format!("https://{addr}/sms?x=1");
    let without_port = format!("https://{}/sms?x=1", addr.ip());
    assert_eq!(send(addr, sign(&with_port)).await, StatusCode::OK);
    assert_eq!(send(addr, sign(&without_port)).await, StatusCode::OK);
}

/// Twilio signs `URL + name1 + value1 + …` with no separators, so a
/// captured SMS re-posted with its name/value boundaries moved (`From`
/// folded into `Body`, `To` into `MessageSid`) still verifies. Keyed on the
/// flat message the signature covers, every re-split is the same delivery:
/// the handler runs once, not once per split.
#[tokio::test]
async fn a_captured_sms_with_its_parameter_boundaries_moved_runs_the_handler_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let stack = tower_webhook::WebhookStack::twilio(Secret::new(TOKEN).unwrap())
        .build()
        .unwrap();
    let router = Router::new().route(
        "/sms",
        post(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { "ok" }
        })
        .layer(stack),
    );
    let addr = support::serve(router).await;
    let captured = "Body=Hi&From=%2B14158675309&MessageSid=SM123&To=%2B18005551212";
    let headers: HeaderMap = Signer::preset("twilio", TOKEN)
        .unwrap()
        .sign(&Outgoing::new(captured.as_bytes(), 0, "").to_url(&format!("https://{addr}/sms")))
        .unwrap()
        .into_iter()
        .collect();
    let splits = [
        captured,
        // `From` gone, its name and value folded into `Body`.
        "Body=HiFrom%2B14158675309&MessageSid=SM123&To=%2B18005551212",
        // `To` folded into `MessageSid`.
        "Body=Hi&From=%2B14158675309&MessageSid=SM123To%2B18005551212",
        // Both.
        "Body=HiFrom%2B14158675309&MessageSid=SM123To%2B18005551212",
    ];
    for (copy, form) in splits.iter().enumerate() {
        let mut request = support::post(addr, "/sms")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::copy_from_slice(form.as_bytes())))
            .unwrap();
        request.headers_mut().extend(headers.clone());
        let reply = support::send(request).await;
        assert_eq!(reply.status, StatusCode::OK, "{form}");
        assert_eq!(support::is_replayed(&reply), copy > 0, "{form}");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}
