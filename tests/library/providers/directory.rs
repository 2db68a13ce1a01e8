//! The providers added from the webhook directory (issue 22), through their
//! bundles on a real server: each one's documented recipe, computed here by
//! hand from the provider's documentation (not by the crate's signer),
//! verifies; the same delivery with its body changed, or signed the way a
//! neighbouring reading would (another encoding, another hash, another
//! separator), does not. Smartsheet's verification challenge is answered
//! as Smartsheet documents it and never reaches the handler.

use crate::support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::unix_now;

use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use http::{header, HeaderName, HeaderValue, StatusCode};
use tower_webhook::WebhookStack;

type HmacSha1 = hmac::Hmac<sha1::Sha1>;
type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn sha1(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha1::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// What a recipe needs to sign one delivery.
struct Delivery<'a> {
    secret: &'a str,
    body: &'a [u8],
    now: i64,
    /// The URL the provider called, for the URL-signing ones.
    url: &'a str,
}

type Headers = Vec<(&'static str, String)>;

/// One provider's documented recipe, and the nearest misreading of it.
struct Recipe {
    name: &'static str,
    /// The key as the provider's dashboard shows it.
    secret: &'static str,
    /// A body of the provider's shape (the bundle checks nothing in it).
    body: &'static [u8],
    /// The headers the provider's documentation says it sends.
    documented: fn(&Delivery<'_>) -> Headers,
    /// The same delivery as a plausible misreading would sign it.
    misread: fn(&Delivery<'_>) -> Headers,
}

const JSON: &[u8] = br#"{"id":"evt_1","type":"thing.happened","data":{"n":1}}"#;

fn recipes() -> Vec<Recipe> {
    vec![
        Recipe {
            name: "castle",
            secret: "castle-api-secret",
            body: JSON,
            documented: |d| {
                vec![(
                    "x-castle-signature",
                    b64(&sha256(d.secret.as_bytes(), d.body)),
                )]
            },
            misread: |d| {
                vec![(
                    "x-castle-signature",
                    hex::encode(sha256(d.secret.as_bytes(), d.body)),
                )]
            },
        },
        Recipe {
            name: "convoy",
            secret: "convoy-endpoint-secret",
            body: JSON,
            documented: |d| {
                let mut message = format!("{},", d.now).into_bytes();
                message.extend_from_slice(d.body);
                let sig = hex::encode(sha256(d.secret.as_bytes(), &message));
                vec![("x-convoy-signature", format!("t={},v1={sig}", d.now))]
            },
            // Stripe's separator, not Convoy's comma.
            misread: |d| {
                let mut message = format!("{}.", d.now).into_bytes();
                message.extend_from_slice(d.body);
                let sig = hex::encode(sha256(d.secret.as_bytes(), &message));
                vec![("x-convoy-signature", format!("t={},v1={sig}", d.now))]
            },
        },
        Recipe {
            name: "launchdarkly",
            secret: "ld-webhook-secret",
            body: JSON,
            documented: |d| {
                vec![(
                    "x-ld-signature",
                    hex::encode(sha256(d.secret.as_bytes(), d.body)),
                )]
            },
            misread: |d| vec![("x-ld-signature", b64(&sha256(d.secret.as_bytes(), d.body)))],
        },
        Recipe {
            name: "heroku",
            secret: "heroku-webhook-secret",
            body: JSON,
            documented: |d| {
                vec![(
                    "heroku-webhook-hmac-sha256",
                    b64(&sha256(d.secret.as_bytes(), d.body)),
                )]
            },
            misread: |d| {
                vec![(
                    "heroku-webhook-hmac-sha256",
                    hex::encode(sha256(d.secret.as_bytes(), d.body)),
                )]
            },
        },
        Recipe {
            name: "docusign",
            // DocuSign's keys look like base64; they are used as text.
            secret: "4+a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9tuE=",
            body: JSON,
            documented: |d| {
                vec![(
                    "x-docusign-signature-1",
                    b64(&sha256(d.secret.as_bytes(), d.body)),
                )]
            },
            misread: |d| {
                let key = STANDARD.decode(d.secret).unwrap();
                vec![("x-docusign-signature-1", b64(&sha256(&key, d.body)))]
            },
        },
        Recipe {
            name: "smartsheet",
            secret: "216ejjzdnq17mq1q8xs7d4hu8b",
            body: br#"{"nonce":"4b2ed20d-6f00-4b0c-8fac-082182aa9aac","timestamp":"2015-10-27T17:04:23.795+0000","webhookId":4503604829677444,"scope":"sheet","scopeObjectId":4509506114742148,"events":[]}"#,
            documented: |d| {
                vec![(
                    "smartsheet-hmac-sha256",
                    hex::encode(sha256(d.secret.as_bytes(), d.body)),
                )]
            },
            misread: |d| {
                vec![(
                    "smartsheet-hmac-sha256",
                    b64(&sha256(d.secret.as_bytes(), d.body)),
                )]
            },
        },
        Recipe {
            name: "frameio",
            secret: "frameio-signing-secret",
            body: JSON,
            documented: |d| {
                let mut message = format!("v0:{}:", d.now).into_bytes();
                message.extend_from_slice(d.body);
                vec![
                    ("x-frameio-request-timestamp", d.now.to_string()),
                    (
                        "x-frameio-signature",
                        format!("v0={}", hex::encode(sha256(d.secret.as_bytes(), &message))),
                    ),
                ]
            },
            // Without the version in the signed message.
            misread: |d| {
                let mut message = format!("{}:", d.now).into_bytes();
                message.extend_from_slice(d.body);
                vec![
                    ("x-frameio-request-timestamp", d.now.to_string()),
                    (
                        "x-frameio-signature",
                        format!("v0={}", hex::encode(sha256(d.secret.as_bytes(), &message))),
                    ),
                ]
            },
        },
        Recipe {
            name: "tiktok",
            secret: "tiktok-client-secret",
            body: JSON,
            documented: |d| {
                let mut message = format!("{}.", d.now).into_bytes();
                message.extend_from_slice(d.body);
                let sig = hex::encode(sha256(d.secret.as_bytes(), &message));
                vec![("tiktok-signature", format!("t={},s={sig}", d.now))]
            },
            misread: |d| {
                let sig = hex::encode(sha256(d.secret.as_bytes(), d.body));
                vec![("tiktok-signature", format!("t={},s={sig}", d.now))]
            },
        },
        Recipe {
            name: "mailchimp",
            secret: "mandrill-webhook-key",
            body: b"mandrill_events=%5B%7B%22event%22%3A%22send%22%2C%22ts%22%3A1%7D%5D&a=1",
            documented: |d| {
                // The URL, then each parameter's name and value sorted by
                // name, no delimiter.
                let message = format!("{}a1mandrill_events[{{\"event\":\"send\",\"ts\":1}}]", d.url);
                vec![(
                    "x-mandrill-signature",
                    b64(&sha1(d.secret.as_bytes(), message.as_bytes())),
                )]
            },
            // In the order sent instead of sorted.
            misread: |d| {
                let message = format!("{}mandrill_events[{{\"event\":\"send\",\"ts\":1}}]a1", d.url);
                vec![(
                    "x-mandrill-signature",
                    b64(&sha1(d.secret.as_bytes(), message.as_bytes())),
                )]
            },
        },
        Recipe {
            name: "mongodb-atlas",
            secret: "atlas-webhook-secret",
            body: JSON,
            documented: |d| vec![("x-mms-signature", b64(&sha1(d.secret.as_bytes(), d.body)))],
            misread: |d| vec![("x-mms-signature", b64(&sha256(d.secret.as_bytes(), d.body)))],
        },
        Recipe {
            name: "sonatype-nexus",
            secret: "nexus-secret-key",
            body: JSON,
            documented: |d| {
                vec![(
                    "x-nexus-webhook-signature",
                    hex::encode(sha1(d.secret.as_bytes(), d.body)),
                )]
            },
            misread: |d| {
                vec![(
                    "x-nexus-webhook-signature",
                    hex::encode(sha256(d.secret.as_bytes(), d.body)),
                )]
            },
        },
        Recipe {
            name: "autodesk",
            secret: "awffbvdb3trf4fvdfbUyt39suHnbe5Mnrks3",
            body: JSON,
            documented: |d| {
                vec![(
                    "x-adsk-signature",
                    format!("sha1hash={}", hex::encode(sha1(d.secret.as_bytes(), d.body))),
                )]
            },
            misread: |d| {
                vec![(
                    "x-adsk-signature",
                    hex::encode(sha1(d.secret.as_bytes(), d.body)),
                )]
            },
        },
        Recipe {
            name: "bolt",
            secret: "bolt-signing-secret",
            body: JSON,
            documented: |d| {
                vec![(
                    "x-bolt-hmac-sha256",
                    b64(&sha256(d.secret.as_bytes(), d.body)),
                )]
            },
            misread: |d| {
                vec![(
                    "x-bolt-hmac-sha256",
                    hex::encode(sha256(d.secret.as_bytes(), d.body)),
                )]
            },
        },
        Recipe {
            name: "fastspring",
            secret: "fastspring-hmac-secret",
            body: JSON,
            documented: |d| vec![("x-fs-signature", b64(&sha256(d.secret.as_bytes(), d.body)))],
            misread: |d| vec![("x-fs-signature", b64(&sha1(d.secret.as_bytes(), d.body)))],
        },
        Recipe {
            name: "hookdeck",
            secret: "hookdeck-project-secret",
            body: JSON,
            documented: |d| {
                vec![(
                    "x-hookdeck-signature",
                    b64(&sha256(d.secret.as_bytes(), d.body)),
                )]
            },
            misread: |d| {
                vec![(
                    "x-hookdeck-signature",
                    hex::encode(sha256(d.secret.as_bytes(), d.body)),
                )]
            },
        },
        Recipe {
            name: "circleci",
            secret: "super-secret-1234",
            body: JSON,
            documented: |d| {
                vec![(
                    "circleci-signature",
                    format!("v1={}", hex::encode(sha256(d.secret.as_bytes(), d.body))),
                )]
            },
            misread: |d| {
                vec![(
                    "circleci-signature",
                    hex::encode(sha256(d.secret.as_bytes(), d.body)),
                )]
            },
        },
        Recipe {
            name: "configcat",
            secret: "configcat-signing-key",
            body: JSON,
            documented: |d| {
                // The id, the timestamp and the body, nothing between; a
                // second (rotated) key's signature first, comma-joined.
                let mut message = format!("wh-1{}", d.now).into_bytes();
                message.extend_from_slice(d.body);
                let other = b64(&sha256(b"the-other-key", &message));
                let mine = b64(&sha256(d.secret.as_bytes(), &message));
                vec![
                    ("x-configcat-webhook-id", "wh-1".to_owned()),
                    ("x-configcat-webhook-timestamp", d.now.to_string()),
                    ("x-configcat-webhook-signature-v1", format!("{other},{mine}")),
                ]
            },
            misread: |d| {
                let mut message = format!("wh-1.{}.", d.now).into_bytes();
                message.extend_from_slice(d.body);
                vec![
                    ("x-configcat-webhook-id", "wh-1".to_owned()),
                    ("x-configcat-webhook-timestamp", d.now.to_string()),
                    (
                        "x-configcat-webhook-signature-v1",
                        b64(&sha256(d.secret.as_bytes(), &message)),
                    ),
                ]
            },
        },
        Recipe {
            name: "signal-sciences",
            secret: "sigsci-signing-key",
            body: JSON,
            documented: |d| {
                vec![(
                    "x-sigsci-signature",
                    hex::encode(sha256(d.secret.as_bytes(), d.body)),
                )]
            },
            misread: |d| vec![("x-sigsci-signature", b64(&sha256(d.secret.as_bytes(), d.body)))],
        },
        Recipe {
            name: "trendmicro-conformity",
            // Limited to base64 characters, used as text.
            secret: "Y29uZm9ybWl0eS10b2tlbg==",
            body: JSON,
            documented: |d| {
                vec![(
                    "x-conformity-signature",
                    hex::encode(sha256(d.secret.as_bytes(), d.body)),
                )]
            },
            misread: |d| {
                let key = STANDARD.decode(d.secret).unwrap();
                vec![("x-conformity-signature", hex::encode(sha256(&key, d.body)))]
            },
        },
        Recipe {
            name: "makeplans",
            secret: "makeplans-account-secret",
            body: br#"{"event":"booking.created","idempotency_id":"4d1f","data":{"object":"booking","id":1}}"#,
            documented: |d| {
                vec![(
                    "x-makeplans-signature",
                    format!("sha256={}", hex::encode(sha256(d.secret.as_bytes(), d.body))),
                )]
            },
            misread: |d| {
                vec![(
                    "x-makeplans-signature",
                    hex::encode(sha256(d.secret.as_bytes(), d.body)),
                )]
            },
        },
        Recipe {
            name: "brex",
            // Base64, as GET /v1/webhooks/secrets returns it.
            secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            body: JSON,
            documented: |d| {
                let key = STANDARD.decode(d.secret).unwrap();
                let mut message = format!("msg_1.{}.", d.now).into_bytes();
                message.extend_from_slice(d.body);
                vec![
                    ("webhook-id", "msg_1".to_owned()),
                    ("webhook-timestamp", d.now.to_string()),
                    ("webhook-signature", format!("v1,{}", b64(&sha256(&key, &message)))),
                ]
            },
            // The secret as text.
            misread: |d| {
                let mut message = format!("msg_1.{}.", d.now).into_bytes();
                message.extend_from_slice(d.body);
                vec![
                    ("webhook-id", "msg_1".to_owned()),
                    ("webhook-timestamp", d.now.to_string()),
                    (
                        "webhook-signature",
                        format!("v1,{}", b64(&sha256(d.secret.as_bytes(), &message))),
                    ),
                ]
            },
        },
    ]
}

/// The provider's bundle, by name, on a real server; and how often its
/// handler ran.
async fn bundle(name: &str, secret: &str) -> (SocketAddr, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let handler = post(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { "handled" }
    });
    let layer = WebhookStack::provider(name, secret)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .build()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let addr = support::serve(Router::new().route("/hook", handler.layer(layer))).await;
    (addr, runs)
}

fn header_list(headers: Headers) -> Vec<(HeaderName, HeaderValue)> {
    headers
        .into_iter()
        .map(|(name, value)| {
            (
                HeaderName::from_static(name),
                HeaderValue::from_str(&value).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn each_documented_recipe_verifies_and_its_misreadings_do_not() {
    for recipe in recipes() {
        let (addr, runs) = bundle(recipe.name, recipe.secret).await;
        let url = format!("https://{addr}/hook");
        let delivery = Delivery {
            secret: recipe.secret,
            body: recipe.body,
            now: unix_now(),
            url: &url,
        };
        let documented = header_list((recipe.documented)(&delivery));

        let reply = support::post_with(addr, "/hook", &documented, recipe.body).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}: {}",
            recipe.name,
            reply.text()
        );
        assert_eq!(reply.text(), "handled", "{}", recipe.name);
        assert_eq!(runs.load(Ordering::SeqCst), 1, "{}", recipe.name);

        // The same headers over another body.
        let mut changed = recipe.body.to_vec();
        *changed.last_mut().unwrap() ^= 0x01;
        let reply = support::post_with(addr, "/hook", &documented, &changed).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{}: changed body: {}",
            recipe.name,
            reply.text()
        );

        let misread = header_list((recipe.misread)(&delivery));
        let reply = support::post_with(addr, "/hook", &misread, recipe.body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{}: misread: {}",
            recipe.name,
            reply.text()
        );
        assert_eq!(runs.load(Ordering::SeqCst), 1, "{}", recipe.name);
    }
}

/// DocuSign and Hookdeck send one signature per active key in its own
/// header: a receiver holding only the other key still verifies.
#[tokio::test]
async fn docusign_and_hookdeck_verify_with_the_second_key_alone() {
    for (name, first, second) in [
        (
            "docusign",
            "x-docusign-signature-1",
            "x-docusign-signature-2",
        ),
        ("hookdeck", "x-hookdeck-signature", "x-hookdeck-signature-2"),
    ] {
        let (addr, runs) = bundle(name, "the-new-key").await;
        let headers = header_list(vec![
            (first, b64(&sha256(b"the-old-key", JSON))),
            (second, b64(&sha256(b"the-new-key", JSON))),
        ]);
        let reply = support::post_with(addr, "/hook", &headers, JSON).await;
        assert_eq!(reply.status, StatusCode::OK, "{name}: {}", reply.text());
        assert_eq!(runs.load(Ordering::SeqCst), 1, "{name}");

        // The old key's signature alone is no pass for the new key.
        let headers = header_list(vec![(first, b64(&sha256(b"the-old-key", b"{}")))]);
        let reply = support::post_with(addr, "/hook", &headers, b"{}").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{name}");
    }
}

const CHALLENGE: &str = "d78dd1d3-01ce-4481-81de-92b4f3aa5ab1";

fn challenge_body(challenge: &str) -> Vec<u8> {
    serde_json::json!({ "challenge": challenge, "webhookId": 2674017481058180_u64 })
        .to_string()
        .into_bytes()
}

fn challenge_headers(challenge: &str) -> Vec<(HeaderName, HeaderValue)> {
    vec![(
        HeaderName::from_static("smartsheet-hook-challenge"),
        HeaderValue::from_str(challenge).unwrap(),
    )]
}

/// Smartsheet's verification request, as its docs show it: answered `200`
/// with `{"smartsheetHookResponse": <the challenge>}`, the handler never
/// runs, and the value goes back in the body only.
#[tokio::test]
async fn smartsheet_verification_is_answered_with_smartsheet_hook_response() {
    let (addr, runs) = bundle("smartsheet", "216ejjzdnq17mq1q8xs7d4hu8b").await;
    let reply = support::post_with(
        addr,
        "/hook",
        &challenge_headers(CHALLENGE),
        &challenge_body(CHALLENGE),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");
    let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(
        answer,
        serde_json::json!({ "smartsheetHookResponse": CHALLENGE })
    );
    assert!(reply.headers.get("smartsheet-hook-response").is_none());
    assert_eq!(runs.load(Ordering::SeqCst), 0);

    // A value of JSON's special characters is escaped, not spliced.
    let tricky = r#"a"b\c"},"x":"y"#;
    let reply = support::post_with(addr, "/hook", &challenge_headers(tricky), b"{}").await;
    assert_eq!(reply.status, StatusCode::OK);
    let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(
        answer,
        serde_json::json!({ "smartsheetHookResponse": tricky })
    );

    // Two challenges: no one value to answer.
    let mut two = challenge_headers("one");
    two.extend(challenge_headers("two"));
    let reply = support::post_with(addr, "/hook", &two, b"{}").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    // Longer than any challenge: refused, not reflected.
    let long = "a".repeat(4096 + 1);
    let reply = support::post_with(addr, "/hook", &challenge_headers(&long), b"{}").await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!reply.text().contains(&long));

    // Without the challenge header, an unsigned POST is refused.
    let reply = support::post_with(addr, "/hook", &[], &challenge_body(CHALLENGE)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

/// Makeplans' signed body carries `idempotency_id`: two deliveries with the
/// same one are one delivery, even when other fields differ (a retry's
/// `generated_at`), and a new id is a new delivery.
#[tokio::test]
async fn makeplans_deduplicates_on_the_signed_idempotency_id() {
    let secret = "makeplans-account-secret";
    let (addr, runs) = bundle("makeplans", secret).await;
    let send = |body: &'static [u8]| {
        let headers = header_list(vec![(
            "x-makeplans-signature",
            format!("sha256={}", hex::encode(sha256(secret.as_bytes(), body))),
        )]);
        async move { support::post_with(addr, "/hook", &headers, body).await }
    };
    let first = send(br#"{"idempotency_id":"a1","generated_at":"2026-12-07T10:00:00Z"}"#).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let retry = send(br#"{"idempotency_id":"a1","generated_at":"2026-12-07T10:05:00Z"}"#).await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.text());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let next = send(br#"{"idempotency_id":"a2","generated_at":"2026-12-07T10:05:00Z"}"#).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.text());
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}
