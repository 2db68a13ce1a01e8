//! The provider bundles through a real server: each accepts its provider's
//! published sample request once (then acknowledges it as a duplicate) and
//! refuses it tampered; the provider's window, payload cap, handshake and
//! unsigned headers are what the bundle says.

use crate::support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::unix_now;

use axum::routing::any;
use axum::{Extension, Router};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, StatusCode};
use http_body_util::Full;
use serde_json::Value;
use tower_webhook::idempotency::REPLAYED_HEADER;
use tower_webhook::provider::ALL as PROFILES;
use tower_webhook::replay::ReplayLayer;
use tower_webhook::stack::UnauthenticatedHeaders;
use tower_webhook::{Secret, WebhookStack};

struct Server {
    addr: SocketAddr,
    runs: Arc<AtomicUsize>,
}

impl Server {
    async fn start(stack: WebhookStack) -> Self {
        let layer = stack.build().expect("a consistent bundle");
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&runs);
        let handler = any(move |unsigned: Option<Extension<UnauthenticatedHeaders>>| {
            let runs = Arc::clone(&counter);
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                let event = unsigned
                    .and_then(|Extension(h)| h.get("x-github-event").cloned())
                    .map(|v| v.to_str().unwrap_or("").to_owned())
                    .unwrap_or_default();
                format!("handled {event}")
            }
        });
        let router = Router::new()
            .route("/{*path}", handler.clone())
            .route("/", handler);
        let addr = support::serve(router.layer(layer)).await;
        Self { addr, runs }
    }

    async fn post(
        &self,
        path: &str,
        host: Option<&str>,
        headers: &[(HeaderName, HeaderValue)],
        body: &[u8],
    ) -> support::Reply {
        let mut request = Request::post(format!("http://{}{path}", self.addr))
            .body(Full::new(Bytes::copy_from_slice(body)))
            .unwrap();
        if let Some(host) = host {
            request
                .headers_mut()
                .insert(http::header::HOST, HeaderValue::from_str(host).unwrap());
        }
        for (name, value) in headers {
            request.headers_mut().append(name.clone(), value.clone());
        }
        support::send(request).await
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

fn vectors() -> Vec<Value> {
    serde_json::from_str(include_str!("../../vectors/official.json")).unwrap()
}

fn at(seconds: u64) -> impl Fn() -> SystemTime + Send + Sync + 'static {
    move || UNIX_EPOCH + Duration::from_secs(seconds)
}

/// The bundle for a vector, its clock pinned to the vector's `verify_at`.
fn bundle_for(v: &Value) -> Option<WebhookStack> {
    let secret = v["secret"].as_str().unwrap();
    let shared = || Secret::new(secret).unwrap();
    let whsec = || Secret::from_whsec(secret).unwrap();
    let stack = match (
        v["provider"].as_str().unwrap(),
        v["scheme"].as_str().unwrap(),
    ) {
        ("github", "github-sha256") => WebhookStack::github(shared()),
        ("standard-webhooks", "standard-webhooks-v1") => WebhookStack::standard_webhooks(whsec()),
        #[cfg(feature = "ed25519")]
        ("standard-webhooks", "standard-webhooks-v1a") => {
            WebhookStack::standard_webhooks_ed25519(secret).unwrap()
        }
        ("svix", _) if !v["body"].is_null() => WebhookStack::svix(whsec()),
        ("slack", _) => WebhookStack::slack(shared()),
        ("shopify", _) => WebhookStack::shopify(shared()),
        ("paddle", _) => WebhookStack::paddle(shared()),
        ("twilio", "twilio-form") if v["extra"]["signed_url"].is_null() => {
            WebhookStack::twilio(shared())
        }
        ("square", _) => {
            WebhookStack::square(shared(), v["extra"]["notification_url"].as_str().unwrap())
                .unwrap()
        }
        ("hubspot", "hubspot-v3") => WebhookStack::hubspot(shared()),
        #[cfg(feature = "ecdsa")]
        ("sendgrid", _) => WebhookStack::sendgrid(secret).unwrap(),
        _ => return None,
    };
    Some(match v["verify_at"].as_u64() {
        // The published request is old: read "now" as the vector says.
        Some(now) => {
            let window = ReplayLayer::signed_timestamp().clock(at(now));
            if v["provider"] == "paddle" {
                stack.replay(window.window(Duration::from_secs(5)).past_only())
            } else {
                stack.replay(window)
            }
        }
        None => stack,
    })
}

/// Path and Host the provider called, for the URL-signing schemes.
fn target(v: &Value) -> (String, Option<String>) {
    let url = v["extra"]["url"].as_str().or(v["extra"]["uri"].as_str());
    match url.and_then(|u| u.parse::<http::Uri>().ok()) {
        Some(uri) => (
            uri.path_and_query().unwrap().to_string(),
            uri.authority().map(|a| a.to_string()),
        ),
        None => ("/hook".to_owned(), None),
    }
}

fn headers_of(v: &Value) -> Vec<(HeaderName, HeaderValue)> {
    v["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| {
            (
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value.as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn each_bundle_accepts_its_published_sample_once_and_refuses_it_tampered() {
    let mut checked = Vec::new();
    for v in vectors().iter().filter(|v| v["expected_valid"] == true) {
        let Some(stack) = bundle_for(v) else { continue };
        let server = Server::start(stack).await;
        let body = hex::decode(v["body_hex"].as_str().unwrap()).unwrap();
        let headers = headers_of(v);
        let (path, host) = target(v);
        let id = v["id"].as_str().unwrap();

        let reply = server.post(&path, host.as_deref(), &headers, &body).await;
        assert_eq!(reply.status, StatusCode::OK, "{id}: {}", reply.text());
        assert!(
            reply.text().starts_with("handled"),
            "{id}: {}",
            reply.text()
        );
        let again = server.post(&path, host.as_deref(), &headers, &body).await;
        assert_eq!(again.status, StatusCode::OK, "{id}");
        assert_eq!(
            again.headers.get(REPLAYED_HEADER).map(|v| v.as_bytes()),
            Some(&b"true"[..]),
            "{id}"
        );
        assert_eq!(server.runs(), 1, "{id}: handled once");

        let mut tampered = body.clone();
        tampered.push(b' ');
        let reply = server
            .post(&path, host.as_deref(), &headers, &tampered)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{id}: tampered");
        checked.push(id.to_owned());
    }
    let providers: std::collections::BTreeSet<_> = checked
        .iter()
        .map(|id| id.split('-').next().unwrap().to_owned())
        .collect();
    let mut expected = vec![
        "github",
        "hubspot",
        "paddle",
        "shopify",
        "slack",
        "square",
        "standardwebhooks",
        "svix",
        "twilio",
    ];
    if cfg!(feature = "ecdsa") {
        expected.push("sendgrid");
        expected.sort();
    }
    assert_eq!(
        providers.into_iter().collect::<Vec<_>>(),
        expected,
        "{checked:?}"
    );
}

#[tokio::test]
async fn github_hands_its_unsigned_headers_to_the_handler_as_unauthenticated() {
    let server = Server::start(WebhookStack::github(
        Secret::new("It's a Secret to Everybody").unwrap(),
    ))
    .await;
    let body = b"Hello, World!";
    let mut headers = support::signed_headers("github", "It's a Secret to Everybody", body, 0, "x");
    headers.push((
        HeaderName::from_static("x-github-event"),
        HeaderValue::from_static("ping"),
    ));
    let reply = server.post("/hook", None, &headers, body).await;
    assert_eq!(reply.text(), "handled ping");
}

#[tokio::test]
async fn the_payload_cap_is_the_providers() {
    let secret = "cap-secret-0123456789";
    let big = vec![b'a'; 2 * 1024 * 1024];
    let server = Server::start(WebhookStack::github(Secret::new(secret).unwrap())).await;
    let headers = support::signed_headers("github", secret, &big, 0, "x");
    let reply = server.post("/hook", None, &headers, &big).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "2 MiB is under GitHub's 25 MB cap"
    );
    assert_eq!(tower_webhook::provider::GITHUB.body_limit, 25 * 1024 * 1024);

    let server = Server::start(WebhookStack::bitbucket(Secret::new(secret).unwrap())).await;
    let over = vec![b'a'; 256 * 1024 + 1];
    let headers = support::signed_headers("bitbucket", secret, &over, 0, "x");
    let reply = server.post("/hook", None, &headers, &over).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_window_is_the_providers_tolerance() {
    let now = unix_now();
    let body = br#"{"id":"evt_1","event_id":"Ev1"}"#;
    // (bundle, preset, secret, age in seconds (negative: ahead), accepted)
    let cases: Vec<(WebhookStack, &str, &str, i64, bool)> = vec![
        (
            WebhookStack::stripe(Secret::new("whsec_x").unwrap()),
            "stripe",
            "whsec_x",
            290,
            true,
        ),
        (
            WebhookStack::stripe(Secret::new("whsec_x").unwrap()),
            "stripe",
            "whsec_x",
            310,
            false,
        ),
        (
            WebhookStack::stripe(Secret::new("whsec_x").unwrap()),
            "stripe",
            "whsec_x",
            -3600,
            true,
        ),
        (
            WebhookStack::slack(Secret::new("slack-s").unwrap()),
            "slack",
            "slack-s",
            -310,
            false,
        ),
        (
            WebhookStack::paddle(Secret::new("pdl").unwrap()),
            "paddle",
            "pdl",
            30,
            false,
        ),
        (
            WebhookStack::twitch(Secret::new("twitch-s").unwrap()),
            "twitch",
            "twitch-s",
            590,
            true,
        ),
        (
            WebhookStack::twitch(Secret::new("twitch-s").unwrap()),
            "twitch",
            "twitch-s",
            610,
            false,
        ),
        (
            WebhookStack::zoom(Secret::new("zoom-s").unwrap()),
            "zoom",
            "zoom-s",
            310,
            false,
        ),
    ];
    for (stack, preset, secret, age, accepted) in cases {
        let server = Server::start(stack).await;
        let headers = support::signed_headers(preset, secret, body, now - age, &format!("m{age}"));
        let reply = server.post("/hook", None, &headers, body).await;
        let expected = if accepted {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(
            reply.status,
            expected,
            "{preset} {age} s old: {}",
            reply.text()
        );
    }
}

#[tokio::test]
async fn the_bundles_answer_their_handshakes() {
    let slack = Server::start(WebhookStack::slack(Secret::new("slack-s").unwrap())).await;
    let body = br#"{"type":"url_verification","challenge":"c-1"}"#;
    let headers = support::signed_headers("slack", "slack-s", body, unix_now(), "x");
    assert_eq!(
        slack.post("/hook", None, &headers, body).await.text(),
        "c-1"
    );

    let meta = Server::start(WebhookStack::meta(
        Secret::new("app").unwrap(),
        Secret::new("vt").unwrap(),
    ))
    .await;
    let request = Request::get(format!(
        "http://{}/hook?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=42",
        meta.addr
    ))
    .body(Full::new(Bytes::new()))
    .unwrap();
    assert_eq!(support::send(request).await.text(), "42");

    let dropbox = Server::start(WebhookStack::dropbox(Secret::new("dbx").unwrap())).await;
    let request = Request::get(format!("http://{}/hook?challenge=abc", dropbox.addr))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let reply = support::send(request).await;
    assert_eq!(reply.text(), "abc");
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");
    // Dropbox bodies repeat ("something changed"): no idempotency.
    let body = br#"{"list_folder":{"accounts":["dbid:1"]}}"#;
    let headers = support::signed_headers("dropbox", "dbx", body, 0, "x");
    for _ in 0..2 {
        let reply = dropbox.post("/hook", None, &headers, body).await;
        assert!(reply.headers.get(REPLAYED_HEADER).is_none());
    }
    assert_eq!(dropbox.runs(), 2);
    assert_eq!(slack.runs() + meta.runs(), 0);
}

/// A bundle built by name from configuration answers the same handshake
/// as its constructor, keyed as the provider shows the key (Zoom's answer
/// is an HMAC under the secret token).
#[tokio::test]
async fn a_bundle_by_name_answers_its_handshake() {
    let slack = Server::start(WebhookStack::provider("slack", "slack-s").unwrap()).await;
    let body = br#"{"type":"url_verification","challenge":"c-1"}"#;
    let headers = support::signed_headers("slack", "slack-s", body, unix_now(), "x");
    assert_eq!(
        slack.post("/hook", None, &headers, body).await.text(),
        "c-1"
    );

    let zoom = Server::start(WebhookStack::provider("zoom", "zoom-secret-token").unwrap()).await;
    let body = br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    let headers = support::signed_headers("zoom", "zoom-secret-token", body, unix_now(), "x");
    // hmac.new(b"zoom-secret-token", b"qgg8vlvZRS6UYooatFL8Aw", sha256).hexdigest()
    assert_eq!(
        zoom.post("/hook", None, &headers, body).await.text(),
        r#"{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"d9e0d764a78494688ba3f2d5c0ed4ca311394b4834d959759213424d2df961e3"}"#
    );

    let dropbox = Server::start(WebhookStack::provider("dropbox", "dbx").unwrap()).await;
    let request = Request::get(format!("http://{}/hook?challenge=abc", dropbox.addr))
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(support::send(request).await.text(), "abc");
    assert_eq!(slack.runs() + zoom.runs() + dropbox.runs(), 0);
}

/// A P-256 public key as Plaid hands it out (a JSON Web Key).
fn plaid_jwk() -> String {
    #[cfg(feature = "ecdsa")]
    {
        let private = p256::ecdsa::SigningKey::from_slice(&[5; 32]).unwrap();
        support::to_jwk_p256(private.verifying_key())
    }
    #[cfg(not(feature = "ecdsa"))]
    String::new()
}

#[test]
fn every_profile_is_a_bundle_by_name() {
    let plaid_jwk = plaid_jwk();
    for profile in PROFILES {
        let key = match profile.name {
            "gitlab" | "standard" | "svix" | "lithic" | "resend" | "clerk" | "replicate" | "brex" => {
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
            }
            "finch" | "airtable" | "microsoft-teams" => "c2VjcmV0LWtleQ==",
            "adyen-banking" | "adyen" => {
                "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
            }
            "plaid" => plaid_jwk.as_str(),
            "discord" => "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "standard-ed25519" => "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=",
            "sendgrid" => "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==",
            _ => "a-provider-secret",
        };
        let built = WebhookStack::provider(profile.name, key).map(|stack| stack.build());
        assert!(
            matches!(built, Ok(Ok(_))),
            "{}: {:?}",
            profile.name,
            built.map(|b| b.err())
        );
    }
    assert!(
        WebhookStack::provider("github", "").is_err(),
        "an empty key"
    );
    assert!(
        WebhookStack::provider("standard", "whsec_***").is_err(),
        "bad base64"
    );
}

#[test]
fn every_profile_names_a_preset_and_documents_its_cap() {
    for profile in PROFILES {
        let scheme = tower_webhook::provider::scheme_by_name(profile.name).unwrap();
        assert_eq!(scheme.name(), (profile.scheme)().name());
        assert!(!profile.body_limit_source.is_empty());
        assert!(!profile.delivery_id.is_empty());
        for header in profile.unsigned_headers {
            assert!(
                HeaderName::from_bytes(header.as_bytes()).is_ok(),
                "{header}"
            );
        }
    }
}

/// (bundle, preset, secret, url for URL-signing presets)
fn keyed_bundles() -> Vec<(WebhookStack, &'static str, &'static str)> {
    vec![
        (
            WebhookStack::stripe(Secret::new("whsec_k").unwrap()),
            "stripe",
            "whsec_k",
        ),
        (
            WebhookStack::slack(Secret::new("slack-k").unwrap()),
            "slack",
            "slack-k",
        ),
        (
            WebhookStack::paddle(Secret::new("pdl-k").unwrap()),
            "paddle",
            "pdl-k",
        ),
        (
            WebhookStack::intercom(Secret::new("icm-k").unwrap()),
            "intercom",
            "icm-k",
        ),
        (
            WebhookStack::typeform(Secret::new("tf-k").unwrap()),
            "typeform",
            "tf-k",
        ),
    ]
}

#[tokio::test]
async fn a_retry_is_recognised_by_the_providers_id_in_the_signed_body() {
    for (stack, preset, secret) in keyed_bundles() {
        let server = Server::start(stack).await;
        // The same event re-sent: other bytes, a new signature and
        // timestamp, the same id field.
        let first = br#"{"id":"evt_1","event_id":"evt_1","attempt":1}"#;
        let retry = br#"{"id":"evt_1","event_id":"evt_1","attempt":2}"#;
        let other = br#"{"id":"evt_2","event_id":"evt_2","attempt":1}"#;
        let now = unix_now();
        for (body, at, replayed) in [
            (&first[..], now - 2, false),
            (&retry[..], now, true),
            (&other[..], now, false),
        ] {
            let headers = support::signed_headers(preset, secret, body, at, "m");
            let reply = server.post("/hook", None, &headers, body).await;
            assert_eq!(reply.status, StatusCode::OK, "{preset}: {}", reply.text());
            assert_eq!(
                reply.headers.get(REPLAYED_HEADER).is_some(),
                replayed,
                "{preset}: {}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(server.runs(), 2, "{preset}");
    }
}

#[tokio::test]
async fn without_a_signed_id_the_signed_bytes_decide_not_the_unsigned_header() {
    let secret = "gh-k";
    let server = Server::start(WebhookStack::github(Secret::new(secret).unwrap())).await;
    let body = br#"{"zen":"same"}"#;
    let mut headers = support::signed_headers("github", secret, body, 0, "x");
    headers.push((
        HeaderName::from_static("x-github-delivery"),
        HeaderValue::from_static("d-1"),
    ));
    assert!(server
        .post("/hook", None, &headers, body)
        .await
        .headers
        .get(REPLAYED_HEADER)
        .is_none());
    // A captured delivery re-sent under a new X-GitHub-Delivery: still a
    // duplicate, since the header is not signed.
    headers.pop();
    headers.push((
        HeaderName::from_static("x-github-delivery"),
        HeaderValue::from_static("d-2"),
    ));
    assert!(server
        .post("/hook", None, &headers, body)
        .await
        .headers
        .get(REPLAYED_HEADER)
        .is_some());
    let other = br#"{"zen":"other"}"#;
    let headers = support::signed_headers("github", secret, other, 0, "x");
    assert!(server
        .post("/hook", None, &headers, other)
        .await
        .headers
        .get(REPLAYED_HEADER)
        .is_none());
    assert_eq!(server.runs(), 2);
}

/// A delivery for `name`'s bundle, signed the way the provider signs (the
/// crate's signing side; most of these providers publish no fixed vector),
/// and the bundle itself.
fn signed_delivery(
    name: &str,
    addr: SocketAddr,
) -> (WebhookStack, Vec<(HeaderName, HeaderValue)>, Vec<u8>) {
    use tower_webhook::provider::mailgun;
    use tower_webhook::signature::{Outgoing, Signer};

    let now = unix_now();
    let id = format!("{name}-delivery-1");
    let body = format!(
        r#"{{"id":"{id}","event_id":"{id}","type":"event_callback","webhookTimestamp":{}}}"#,
        now * 1000
    )
    .into_bytes();
    let plain = |secret: &str| Secret::new(secret).unwrap();
    let whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let header_signed = |stack: WebhookStack, secret: &str, body: Vec<u8>| {
        let headers = support::signed_headers(name, secret, &body, now, &id);
        (stack, headers, body)
    };
    let url_signed = |stack: WebhookStack, secret: &str, url: &str, body: Vec<u8>| {
        let headers = Signer::preset(name, secret)
            .unwrap()
            .sign(&Outgoing::new(&body, now, &id).to_url(url))
            .unwrap()
            .into_iter()
            .collect();
        (stack, headers, body)
    };
    match name {
        "github" => header_signed(WebhookStack::github(plain("s-github")), "s-github", body),
        "gitlab" => header_signed(
            WebhookStack::gitlab(Secret::from_whsec(whsec).unwrap()),
            whsec,
            body,
        ),
        "bitbucket" => header_signed(WebhookStack::bitbucket(plain("s-bb")), "s-bb", body),
        "jira" => header_signed(WebhookStack::jira(plain("s-jira")), "s-jira", body),
        "stripe" => header_signed(
            WebhookStack::stripe(plain("whsec_stripe")),
            "whsec_stripe",
            body,
        ),
        "slack" => header_signed(WebhookStack::slack(plain("s-slack")), "s-slack", body),
        "standard" => header_signed(
            WebhookStack::standard_webhooks(Secret::from_whsec(whsec).unwrap()),
            whsec,
            body,
        ),
        "svix" => header_signed(
            WebhookStack::svix(Secret::from_whsec(whsec).unwrap()),
            whsec,
            body,
        ),
        // Shopify's bundle refuses a delivery without the headers Shopify
        // always sends (its topic, shop, API version, webhook id).
        "shopify" => {
            let headers = Signer::preset(name, "s-shop")
                .unwrap()
                .delivery_headers(&Outgoing::new(&body, now, &id))
                .unwrap()
                .into_iter()
                .collect();
            (WebhookStack::shopify(plain("s-shop")), headers, body)
        }
        "zoom" => header_signed(WebhookStack::zoom(plain("s-zoom")), "s-zoom", body),
        "paddle" => header_signed(WebhookStack::paddle(plain("s-paddle")), "s-paddle", body),
        "linear" => header_signed(WebhookStack::linear(plain("s-linear")), "s-linear", body),
        "twitch" => header_signed(WebhookStack::twitch(plain("s-twitch")), "s-twitch", body),
        "intercom" => header_signed(WebhookStack::intercom(plain("s-icm")), "s-icm", body),
        "typeform" => header_signed(WebhookStack::typeform(plain("s-tf")), "s-tf", body),
        "dropbox" => header_signed(WebhookStack::dropbox(plain("s-dbx")), "s-dbx", body),
        "meta" => header_signed(
            WebhookStack::meta(plain("s-meta"), plain("vt")),
            "s-meta",
            body,
        ),
        "twilio" => url_signed(
            WebhookStack::twilio(plain("s-twilio")),
            "s-twilio",
            &format!("https://{addr}/hook"),
            b"CallSid=CA1&From=%2B14158675309".to_vec(),
        ),
        "square" => {
            let url = "https://hooks.example.com/square";
            url_signed(
                WebhookStack::square(plain("s-square"), url).unwrap(),
                "s-square",
                url,
                body,
            )
        }
        "mailchimp" => url_signed(
            WebhookStack::provider("mailchimp", "s-mandrill").unwrap(),
            "s-mandrill",
            &format!("https://{addr}/hook"),
            b"mandrill_events=%5B%7B%22event%22%3A%22send%22%7D%5D".to_vec(),
        ),
        "hubspot-v3" => url_signed(
            WebhookStack::hubspot(plain("s-hubspot")),
            "s-hubspot",
            &format!("https://{addr}/hook"),
            body,
        ),
        "mailgun" => {
            let block = mailgun::signature_block(
                &plain("s-mailgun"),
                now,
                "token-0123456789abcdef0123456789abcdef0123456789",
            );
            let body =
                serde_json::json!({"signature": block, "event-data": {"event": "delivered"}});
            (
                WebhookStack::mailgun(plain("s-mailgun")),
                Vec::new(),
                body.to_string().into_bytes(),
            )
        }
        #[cfg(feature = "ed25519")]
        "standard-ed25519" => {
            // Svix's test key pair (svix-server worker.rs).
            let private = "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==";
            let public = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=";
            let headers = support::signed_headers(name, private, &body, now, &id);
            (
                WebhookStack::standard_webhooks_ed25519(public).unwrap(),
                headers,
                body,
            )
        }
        #[cfg(feature = "ed25519")]
        "discord" => {
            use tower_webhook::{provider::discord, signature::KeyMaterial};
            let private = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
            let public = hex::encode(private.verifying_key().as_bytes());
            let signer = Signer::new(
                Arc::new(discord::discord()),
                KeyMaterial::Ed25519Signing(private),
            );
            let headers = signer
                .sign(&Outgoing::new(&body, now, &id))
                .unwrap()
                .into_iter()
                .collect();
            (WebhookStack::discord(&public).unwrap(), headers, body)
        }
        #[cfg(feature = "ecdsa")]
        "sendgrid" => {
            use base64::Engine as _;
            use p256::pkcs8::EncodePublicKey;
            use tower_webhook::{provider::sendgrid, signature::KeyMaterial};
            let private = p256::ecdsa::SigningKey::from_slice(&[5; 32]).unwrap();
            let der = private.verifying_key().to_public_key_der().unwrap();
            let shown = base64::engine::general_purpose::STANDARD.encode(der.as_bytes());
            let signer = Signer::new(
                Arc::new(sendgrid::sendgrid()),
                KeyMaterial::EcdsaP256Signing(private),
            );
            let headers = signer
                .sign(&Outgoing::new(&body, now, &id))
                .unwrap()
                .into_iter()
                .collect();
            (WebhookStack::sendgrid(&shown).unwrap(), headers, body)
        }
        "trello" => url_signed(
            WebhookStack::provider("trello", "s-trello").unwrap(),
            "s-trello",
            &format!("https://{addr}/hook"),
            body,
        ),
        // Adyen signs eight fields of the item inside the body.
        "adyen" => {
            use base64::Engine as _;
            use hmac::{KeyInit, Mac};
            let key = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056";
            let mut mac =
                hmac::Hmac::<sha2::Sha256>::new_from_slice(&hex::decode(key).unwrap()).unwrap();
            mac.update(format!("{id}::M:r:1:EUR:AUTHORISATION:true").as_bytes());
            let signature =
                base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
            let body = serde_json::json!({"notificationItems": [{"NotificationRequestItem": {
                "pspReference": id, "merchantAccountCode": "M", "merchantReference": "r",
                "amount": {"value": 1, "currency": "EUR"}, "eventCode": "AUTHORISATION",
                "success": "true", "additionalData": {"hmacSignature": signature},
            }}]})
            .to_string()
            .into_bytes();
            (
                WebhookStack::provider("adyen", key).unwrap(),
                Vec::new(),
                body,
            )
        }
        #[cfg(feature = "ecdsa")]
        "plaid" => {
            use support::to_jwk_p256;
            use tower_webhook::signature::KeyMaterial;
            let private = p256::ecdsa::SigningKey::from_slice(&[5; 32]).unwrap();
            let shown = to_jwk_p256(private.verifying_key());
            let signer = Signer::new(
                (tower_webhook::provider::PLAID.scheme)(),
                KeyMaterial::EcdsaP256Signing(private),
            );
            let headers = signer
                .sign(&Outgoing::new(&body, now, &id))
                .unwrap()
                .into_iter()
                .collect();
            (
                WebhookStack::provider("plaid", &shown).unwrap(),
                headers,
                body,
            )
        }
        // The providers added from research/ sign with headers alone: their
        // bundle by name, keyed as each shows its secret.
        other => {
            let shown = [
                "s-other-provider",
                whsec,
                "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
            ]
            .into_iter()
            .find(|shown| WebhookStack::provider(other, shown).is_ok())
            .unwrap_or_else(|| panic!("no delivery for {other}"));
            header_signed(WebhookStack::provider(other, shown).unwrap(), shown, body)
        }
    }
}

#[tokio::test]
async fn every_bundle_accepts_a_delivery_signed_as_its_provider_signs() {
    let mut checked = 0;
    // PROFILES holds the providers the enabled features support.
    for profile in PROFILES {
        // The server's address is part of what URL-signing presets sign:
        // bind first, then build the bundle.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stack, headers, body) = signed_delivery(profile.name, addr);
        let layer = stack
            .build()
            .unwrap_or_else(|e| panic!("{}: {e}", profile.name));
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&runs);
        let router = Router::new().route(
            "/hook",
            any(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { "handled" }
            })
            .layer(layer),
        );
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap()
        });
        let server = Server { addr, runs };
        let reply = server.post("/hook", None, &headers, &body).await;
        assert_eq!(
            (reply.status, reply.text().as_str()),
            (StatusCode::OK, "handled"),
            "{}",
            profile.name
        );
        let again = server.post("/hook", None, &headers, &body).await;
        // Dropbox's deliveries carry no id; Okta's deliveries sign nothing.
        let deduplicated = !matches!(profile.name, "dropbox" | "okta");
        assert_eq!(
            again.headers.get(REPLAYED_HEADER).is_some(),
            deduplicated,
            "{}",
            profile.name
        );
        let mut tampered = body.clone();
        tampered.extend_from_slice(b" ");
        let reply = server.post("/hook", None, &headers, &tampered).await;
        let expected = if matches!(profile.name, "mailgun" | "adyen" | "okta") {
            // Mailgun signs only its signature block, Adyen eight fields of
            // the item: a changed body with the same signed part is the same
            // delivery, so a duplicate. Okta signs nothing.
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(reply.status, expected, "{}: tampered", profile.name);
        checked += 1;
    }
    assert_eq!(checked, PROFILES.len());
}
