//! The sending side through real HTTP: `SigningLayer` over hyper-util's
//! client, delivering to a server on 127.0.0.1 that verifies with the
//! matching preset; and the layer reproducing published vectors when its
//! clock and ids are fixed.

use crate::support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_webhook::client::{DeliveryId, SigningLayer};
use tower_webhook::provider::twilio;
use tower_webhook::replay::ReplayLayer;
use tower_webhook::signature::PublicUrl;
use tower_webhook::signature::{Keyring, SignatureLayer};
use tower_webhook::{Secret, WebhookStack};

/// A secret every preset accepts (`whsec_` + base64 for the Standard
/// Webhooks family, base64 or hex where the provider shows its key so).
fn secret_for(name: &str) -> String {
    match name {
        "standard" | "gitlab" | "svix" | "lithic" | "resend" | "clerk" | "replicate" | "brex" => {
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned()
        }
        "finch" | "airtable" | "microsoft-teams" => "c2VjcmV0LWtleQ==".to_owned(),
        "adyen-banking" => {
            "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056".to_owned()
        }
        _ => format!("client-layer-secret-for-{name}"),
    }
}

async fn deliver(layer: SigningLayer, url: String, body: &'static [u8]) -> (StatusCode, String) {
    let hyper = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut client = ServiceBuilder::new().layer(layer).service(hyper);
    let request = Request::post(url)
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(Full::new(Bytes::from_static(body)))
        .unwrap();
    let response = ServiceExt::<Request<Full<Bytes>>>::ready(&mut client)
        .await
        .unwrap()
        .call(request)
        .await
        .unwrap();
    let status = response.status();
    let text = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&text).into_owned())
}

async fn verifying_server(name: &str, secret: &str) -> SocketAddr {
    let scheme = tower_webhook::provider::scheme_by_name(name).unwrap();
    let mut stack = WebhookStack::new().signature(SignatureLayer::preset(name, secret).unwrap());
    if scheme.signs_timestamp() {
        stack = stack.replay(ReplayLayer::signed_timestamp());
    }
    let layer = stack.build().unwrap();
    support::serve(Router::new().route("/hook", post(|| async { "verified" }).layer(layer))).await
}

/// Schemes that sign the URL need the server to know its public URL; they
/// are covered one by one below (Mailchimp's in
/// tests/library/providers/directory.rs).
const URL_SIGNED: &[&str] = &["twilio", "square", "hubspot-v3", "mailchimp", "trello"];

#[tokio::test]
async fn every_header_preset_signs_what_its_verifier_accepts_over_http() {
    let mut checked = 0;
    for name in tower_webhook::provider::SHARED_SECRET_SCHEMES
        .iter()
        .filter(|n| !URL_SIGNED.contains(n))
    {
        let secret = secret_for(name);
        let addr = verifying_server(name, &secret).await;
        let layer = SigningLayer::preset(name, &secret).unwrap();
        let (status, text) = deliver(
            layer,
            format!("http://{addr}/hook"),
            br#"{"id":"evt_1","event_id":"Ev1","webhookTimestamp":0}"#,
        )
        .await;
        assert_eq!(
            (status, text.as_str()),
            (StatusCode::OK, "verified"),
            "{name}"
        );

        // Signed with another secret: refused.
        let other_secret = if secret.starts_with("whsec_") {
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".to_owned()
        } else if secret == "c2VjcmV0LWtleQ==" {
            "b3RoZXIta2V5".to_owned()
        } else if *name == "adyen-banking" {
            "00".repeat(32)
        } else {
            secret_for("other")
        };
        let other = SigningLayer::preset(name, &other_secret).unwrap();
        let (status, _) = deliver(other, format!("http://{addr}/hook"), b"{}").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}");
        checked += 1;
    }
    assert_eq!(
        checked,
        tower_webhook::provider::SHARED_SECRET_SCHEMES.len() - URL_SIGNED.len()
    );
}

#[tokio::test]
async fn twilio_signs_the_url_it_calls() {
    let token = "0123456789abcdef0123456789abcdef";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let scheme = twilio::twilio().public_url(PublicUrl::base(&format!("http://{addr}")).unwrap());
    let layer = SignatureLayer::new(scheme, Keyring::single(Secret::new(token).unwrap())).unwrap();
    let router = Router::new().route("/sms", post(|| async { "verified" }).layer(layer));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let (status, text) = deliver(
        SigningLayer::preset("twilio", token).unwrap(),
        format!("http://{addr}/sms?x=1"),
        b"From=%2B14158675309&Body=Hello",
    )
    .await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, "verified"));
}

/// What the layer would send, captured by a service standing in for the
/// network.
async fn headers_sent(layer: SigningLayer, body: &'static [u8], id: Option<&str>) -> HeaderMap {
    let seen = Arc::new(Mutex::new(HeaderMap::new()));
    let keep = Arc::clone(&seen);
    let mut client =
        ServiceBuilder::new()
            .layer(layer)
            .service_fn(move |request: Request<Full<Bytes>>| {
                *keep.lock().unwrap() = request.headers().clone();
                async { Ok::<_, std::convert::Infallible>(()) }
            });
    let mut request = Request::post("https://receiver.example/hook")
        .body(Full::new(Bytes::from_static(body)))
        .unwrap();
    if let Some(id) = id {
        request.extensions_mut().insert(DeliveryId(id.to_owned()));
    }
    ServiceExt::<Request<Full<Bytes>>>::ready(&mut client)
        .await
        .unwrap()
        .call(request)
        .await
        .unwrap();
    let headers = seen.lock().unwrap().clone();
    headers
}

#[tokio::test]
async fn the_layer_reproduces_published_vectors() {
    // Standard Webhooks, the value every official library's sign test uses.
    let layer = SigningLayer::preset("standard", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .unwrap()
        .clock(|| 1614265330);
    let headers = headers_sent(
        layer,
        br#"{"test": 2432232314}"#,
        Some("msg_p5jXN8AQM9LWM0D4loKWxJek"),
    )
    .await;
    assert_eq!(headers["webhook-id"], "msg_p5jXN8AQM9LWM0D4loKWxJek");
    assert_eq!(headers["webhook-timestamp"], "1614265330");
    assert_eq!(
        headers["webhook-signature"],
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );

    // Stripe, as stripe-python and stripe-node both sign it.
    let layer = SigningLayer::preset("stripe", "whsec_test_secret")
        .unwrap()
        .clock(|| 1700000000);
    let headers = headers_sent(
        layer,
        br#"{"id":"evt_test_webhook","object":"event"}"#,
        None,
    )
    .await;
    assert_eq!(
        headers["stripe-signature"],
        "t=1700000000,v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990"
    );

    // GitHub's documentation example.
    let layer = SigningLayer::preset("github", "It's a Secret to Everybody").unwrap();
    let headers = headers_sent(layer, b"Hello, World!", None).await;
    assert_eq!(
        headers["x-hub-signature-256"],
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
}

#[tokio::test]
async fn each_delivery_gets_a_fresh_id_unless_given_one() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let first = headers_sent(
        SigningLayer::preset("standard", secret).unwrap(),
        b"{}",
        None,
    )
    .await;
    let second = headers_sent(
        SigningLayer::preset("standard", secret).unwrap(),
        b"{}",
        None,
    )
    .await;
    assert_ne!(first["webhook-id"], second["webhook-id"]);
    let id = first["webhook-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "{id}");
    let counter = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let layer = SigningLayer::preset("standard", secret)
        .unwrap()
        .ids(move || {
            format!(
                "msg_{}",
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            )
        });
    assert_eq!(
        headers_sent(layer, b"{}", None).await["webhook-id"],
        "msg_0"
    );
}
