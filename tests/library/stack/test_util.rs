//! The `test-util` helpers, through a real server: every preset's signed
//! request is accepted by its own layer, carries the headers the provider
//! sends, and a refused one says why to the test.
#![cfg(feature = "test-util")]

use crate::support;

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use tower::ServiceBuilder;
use tower_webhook::idempotency::IdempotencyLayer;
use tower_webhook::signature::{Key, Keyring, SignatureLayer};
use tower_webhook::test_util::{self, expose_reason, SignedRequest, REASON_HEADER};
use tower_webhook::{Reason, Rejection, Secret, WebhookStack};

const SECRET: &str = "a-provider-secret-0123456789";
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn secret_of(preset: &str) -> &'static str {
    if matches!(preset, "standard" | "svix" | "gitlab") {
        return WHSEC;
    }
    // Text, else hex (Adyen shows its key as hex).
    let scheme = tower_webhook::provider::scheme_by_name(preset).unwrap();
    [
        SECRET,
        "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
    ]
    .into_iter()
    .find(|shown| scheme.parse_key(shown).is_ok())
    .unwrap_or(SECRET)
}

/// A route per preset, each behind its own signature layer; the handler
/// echoes the request headers it saw, one `name: value` per line.
async fn every_preset_server() -> std::net::SocketAddr {
    let mut app = Router::new();
    for name in tower_webhook::provider::SHARED_SECRET_SCHEMES {
        let scheme = tower_webhook::provider::scheme_by_name(name).unwrap();
        let key = scheme.parse_key(secret_of(name)).unwrap();
        let layer =
            SignatureLayer::from_arc(scheme, Keyring::new().with(Key::new("k", key))).unwrap();
        app = app.route(
            &format!("/{name}"),
            post(|headers: HeaderMap, _: Bytes| async move {
                headers
                    .iter()
                    .map(|(name, value)| format!("{name}: {}\n", value.to_str().unwrap_or("?")))
                    .collect::<String>()
            })
            .layer(layer),
        );
    }
    support::serve(app.layer(expose_reason())).await
}

#[tokio::test]
async fn every_preset_signs_a_request_its_layer_accepts_and_a_tampered_one_is_refused_with_its_reason(
) {
    let addr = every_preset_server().await;
    for name in tower_webhook::provider::SHARED_SECRET_SCHEMES {
        let body = match *name {
            "twilio" => "Body=hello&From=%2B15550001111",
            _ => r#"{"event":"ping"}"#,
        };
        let url = format!("http://{addr}/{name}");
        // What the layer rebuilds by default: the https URL a TLS proxy in
        // front of this plain-HTTP server would serve.
        let public = format!("https://{addr}/{name}");
        let request = SignedRequest::new(name, secret_of(name))
            .uri(&url)
            .signed_url(&public)
            .body(body)
            .build()
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        let reply = support::send(request).await;
        assert_eq!(reply.status, StatusCode::OK, "{name}: {:?}", reply.headers);
        assert!(reply.headers.get(REASON_HEADER).is_none(), "{name}");

        let (parts, _) = SignedRequest::new(name, secret_of(name))
            .uri(&url)
            .signed_url(&public)
            .body(body)
            .build()
            .unwrap()
            .into_parts();
        let tampered = http::Request::from_parts(
            parts,
            http_body_util::Full::new(Bytes::from(body.replace('e', "E"))),
        );
        let reply = support::send(tampered).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(reply.headers[REASON_HEADER], "signature_mismatch", "{name}");
    }
}

#[tokio::test]
async fn the_handler_sees_every_header_the_provider_sends() {
    let addr = every_preset_server().await;
    let expected: &[(&str, &[&str])] = &[
        (
            "github",
            &[
                "x-hub-signature-256",
                "x-github-delivery: d-42",
                "x-github-event: ping",
            ],
        ),
        (
            "gitlab",
            &["x-gitlab-event-uuid: d-42", "x-gitlab-event: Push Hook"],
        ),
        (
            "bitbucket",
            &["x-request-uuid: d-42", "x-event-key: repo:push"],
        ),
        ("jira", &["x-atlassian-webhook-identifier: d-42"]),
        (
            "shopify",
            &[
                "x-shopify-webhook-id: d-42",
                "x-shopify-topic: orders/create",
                "x-shopify-triggered-at: 2023-11-14T22:13:20Z",
            ],
        ),
        ("linear", &["linear-delivery: d-42", "linear-event: Issue"]),
        (
            "twitch",
            &[
                "twitch-eventsub-message-id: d-42",
                "twitch-eventsub-message-type: notification",
            ],
        ),
        (
            "standard",
            &["webhook-id: d-42", "webhook-timestamp: 1700000000"],
        ),
        ("slack", &["x-slack-request-timestamp: 1700000000"]),
    ];
    for (name, lines) in expected {
        let request = SignedRequest::new(name, secret_of(name))
            .uri(format!("http://{addr}/{name}"))
            .body(r#"{"event":"ping"}"#)
            .timestamp(1_700_000_000)
            .id("d-42")
            .build()
            .unwrap();
        let reply = support::send(request).await;
        assert_eq!(reply.status, StatusCode::OK, "{name}");
        let seen = reply.text();
        for line in *lines {
            assert!(seen.contains(line), "{name}: no {line:?} in\n{seen}");
        }
    }

    // A header the test sets replaces the provider's default.
    let request = SignedRequest::new("github", SECRET)
        .uri(format!("http://{addr}/github"))
        .header("X-GitHub-Event", "push")
        .body("{}")
        .build()
        .unwrap();
    let seen = support::send(request).await.text();
    assert!(seen.contains("x-github-event: push\n"), "{seen}");
    assert!(!seen.contains("x-github-event: ping"), "{seen}");
}

#[tokio::test]
async fn a_signed_request_with_the_same_id_is_a_duplicate_and_the_test_can_read_it() {
    let stack = WebhookStack::new()
        .signature(SignatureLayer::github(Secret::new(SECRET).unwrap()))
        .idempotency(IdempotencyLayer::new())
        .build()
        .unwrap();
    let app = Router::new().route(
        "/github",
        post(|| async { "handled" })
            .layer(ServiceBuilder::new().layer(expose_reason()).layer(stack)),
    );
    let addr = support::serve(app).await;
    let send = || async {
        let request = SignedRequest::new("github", SECRET)
            .uri(format!("http://{addr}/github"))
            .id("delivery-1")
            .body("{}")
            .build()
            .unwrap();
        support::send(request).await
    };
    let first = send().await;
    assert_eq!(
        (first.status, first.text().as_str()),
        (StatusCode::OK, "handled")
    );
    let second = send().await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.headers[REASON_HEADER], "duplicate");

    // Fresh ids by default: two plain signed requests are two deliveries.
    let a = SignedRequest::new("github", SECRET)
        .body("{}")
        .build()
        .unwrap();
    let b = SignedRequest::new("github", SECRET)
        .body("{}")
        .build()
        .unwrap();
    assert_ne!(
        a.headers()["x-github-delivery"],
        b.headers()["x-github-delivery"]
    );
}

#[tokio::test]
async fn without_a_server_the_reason_and_detail_are_in_the_response() {
    use tower::ServiceExt;
    let app = Router::new().route(
        "/webhook",
        post(|| async { "ok" })
            .layer(SignatureLayer::github(Secret::new(SECRET).unwrap()).body_limit(8)),
    );
    let request = SignedRequest::new("github", SECRET)
        .body("0123456789")
        .build()
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        Rejection::of(&response).map(Rejection::reason),
        Some(Reason::PayloadTooLarge)
    );
    let detail = Rejection::of(&response).unwrap().detail().unwrap();
    assert!(detail.contains("8-byte body limit"), "{detail}");
}

#[test]
fn bad_input_is_an_error() {
    use test_util::SignedRequestError;
    let unknown = SignedRequest::new("nope", SECRET)
        .body("{}")
        .build()
        .unwrap_err();
    assert!(
        matches!(unknown, SignedRequestError::Signer(_)),
        "{unknown}"
    );
    let uri = SignedRequest::new("github", SECRET)
        .uri("http://exa mple/")
        .build()
        .unwrap_err();
    assert!(matches!(uri, SignedRequestError::Uri(_)), "{uri}");
    let header = SignedRequest::new("github", SECRET)
        .header("bad header", "x")
        .build()
        .unwrap_err();
    assert!(matches!(header, SignedRequestError::Header(_)), "{header}");
}

/// A route behind an IP filter, called with `oneshot`: the builder gives
/// the request the peer address a server would have recorded, and a URI
/// other than `/webhook`; without a peer the filter cannot place the
/// client.
#[tokio::test]
async fn a_request_arrives_from_the_peer_and_at_the_uri_it_names() {
    use std::net::SocketAddr;

    use axum::extract::ConnectInfo;
    use tower::ServiceExt;
    use tower_webhook::ip::IpFilterLayer;

    let app = Router::new()
        .route(
            "/hooks/github",
            post(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() })
                .layer(
                    ServiceBuilder::new()
                        .layer(IpFilterLayer::new().allow("192.0.2.0/24").unwrap())
                        .layer(SignatureLayer::github(Secret::new(SECRET).unwrap())),
                ),
        )
        .layer(expose_reason());
    let from = |peer: &str| {
        SignedRequest::new("github", SECRET)
            .uri("/hooks/github")
            .peer(peer.parse().unwrap())
            .body(r#"{"zen":"hi"}"#)
            .build()
            .unwrap()
    };

    let allowed = app.clone().oneshot(from("192.0.2.7:40000")).await.unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    let body = axum::body::to_bytes(allowed.into_body(), 1024)
        .await
        .unwrap();
    assert_eq!(&body[..], b"192.0.2.7:40000");

    let stranger = app
        .clone()
        .oneshot(from("198.51.100.1:40000"))
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::FORBIDDEN);
    assert_eq!(stranger.headers()[REASON_HEADER], "ip_not_allowed");

    let unplaced = SignedRequest::new("github", SECRET)
        .uri("/hooks/github")
        .body("{}")
        .build()
        .unwrap();
    let unplaced = app.oneshot(unplaced).await.unwrap();
    assert_eq!(unplaced.headers()[REASON_HEADER], "client_ip_unknown");
}
