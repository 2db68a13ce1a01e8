//! The scheme shapes and handshakes added for issue 22's providers, through
//! the registry's bundles on a real server: X's CRC (and why its answer
//! cannot sign a delivery), Trello's `{body}{url}` and `HEAD` check, Okta's
//! header secret and verification challenge, Netlify's JWS.

use crate::support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::unix_now;

use axum::routing::any;
use axum::Router;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::Full;
use sha2::{Digest, Sha256};
use tower_webhook::idempotency::REPLAYED_HEADER;
use tower_webhook::signature::{Outgoing, Signer};
use tower_webhook::WebhookStack;

/// A receiver built from the registry by name, on `/hook` and `/a`,
/// counting the requests that reach the handler.
struct Server {
    addr: SocketAddr,
    runs: Arc<AtomicUsize>,
}

impl Server {
    async fn provider(name: &str, key: &str) -> Self {
        let runs = Arc::new(AtomicUsize::new(0));
        let handler = {
            let runs = Arc::clone(&runs);
            any(move || {
                runs.fetch_add(1, Ordering::SeqCst);
                async { "handled" }
            })
        };
        let layer = WebhookStack::provider(name, key).unwrap().build().unwrap();
        let router = Router::new()
            .route("/hook", handler.clone().layer(layer.clone()))
            .route("/a", handler.layer(layer));
        let addr = support::serve(router).await;
        Self { addr, runs }
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    async fn request(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(HeaderName, HeaderValue)],
        body: &[u8],
    ) -> support::Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path_and_query}", self.addr))
            .body(Full::new(Bytes::copy_from_slice(body)))
            .unwrap();
        for (name, value) in headers {
            request.headers_mut().append(name.clone(), value.clone());
        }
        support::send(request).await
    }

    async fn post(&self, headers: &[(HeaderName, HeaderValue)], body: &[u8]) -> support::Reply {
        self.request(Method::POST, "/hook", headers, body).await
    }
}

fn header(name: &'static str, value: &str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(name),
        HeaderValue::from_str(value).unwrap(),
    )
}

fn json(reply: &support::Reply) -> serde_json::Value {
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");
    serde_json::from_slice(&reply.body).unwrap()
}

fn signed(provider: &str, key: &str, body: &[u8], url: &str) -> Vec<(HeaderName, HeaderValue)> {
    Signer::preset(provider, key)
        .unwrap()
        .sign(&Outgoing::new(body, unix_now(), "d-1").to_url(url))
        .unwrap()
        .into_iter()
        .collect()
}

const X_SECRET: &str = "x-consumer-secret";

#[tokio::test]
async fn x_crc_is_answered_with_the_hmac_of_the_token() {
    let server = Server::provider("x", X_SECRET).await;
    let reply = server
        .request(Method::GET, "/hook?crc_token=Zm9vYmFy%2B", &[], b"")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    // Computed here as X's docs do it: HMAC-SHA256(consumer secret, token).
    let mut mac = Hmac::<Sha256>::new_from_slice(X_SECRET.as_bytes()).unwrap();
    mac.update(b"Zm9vYmFy+");
    let expected = format!("sha256={}", STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(
        json(&reply),
        serde_json::json!({ "response_token": expected })
    );
    // Two different tokens mean two things: refused.
    let reply = server
        .request(Method::GET, "/hook?crc_token=a&crc_token=b", &[], b"")
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(server.runs(), 0);

    let body = br#"{"for_user_id":"2244994945","tweet_create_events":[]}"#;
    let reply = server
        .post(&signed("x", X_SECRET, body, "https://unused"), body)
        .await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "handled")
    );
}

/// The CRC answers anyone with an HMAC, under the delivery key, of a value
/// they choose. Neither a token that could be a body is answered, nor a
/// body that could have been a token is accepted.
#[tokio::test]
async fn an_x_crc_answer_never_signs_a_delivery() {
    let server = Server::provider("x", X_SECRET).await;
    let token = "forged-delivery";
    let reply = server
        .request(Method::GET, &format!("/hook?crc_token={token}"), &[], b"")
        .await;
    let answer = json(&reply)["response_token"].as_str().unwrap().to_owned();
    let reply = server
        .post(
            &[header("x-twitter-webhooks-signature", &answer)],
            token.as_bytes(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text());
    assert_eq!(server.runs(), 0);

    // A token that could be a JSON body gets no answer at all.
    let reply = server
        .request(Method::GET, "/hook?crc_token=%7B%22a%22%3A1%7D", &[], b"")
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert!(!reply.text().contains("sha256="), "{}", reply.text());
}

const TRELLO_SECRET: &str = "trello-app-secret";

#[tokio::test]
async fn trello_head_check_and_signed_body_then_url() {
    let server = Server::provider("trello", TRELLO_SECRET).await;
    let reply = server.request(Method::HEAD, "/hook", &[], b"").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.is_empty());
    assert_eq!(server.runs(), 0);

    // Trello's signature, computed here: base64 HMAC-SHA1 of body + URL.
    let body = br#"{"action":{"type":"updateCard"}}"#;
    let url = format!("https://{}/hook", server.addr);
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(TRELLO_SECRET.as_bytes()).unwrap();
    mac.update(body);
    mac.update(url.as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());
    let reply = server
        .post(&[header("x-trello-webhook", &signature)], body)
        .await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "handled")
    );
    // The same delivery sent to another path of the receiver is refused.
    let reply = server
        .request(
            Method::POST,
            "/a",
            &[header("x-trello-webhook", &signature)],
            body,
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

/// A delivery signed for `https://host/a?next=https://host/hook` must not
/// verify at `https://host/hook` with the URL's head moved into the body:
/// `{body}{url}` is the same bytes either way.
#[tokio::test]
async fn trello_bytes_cannot_move_between_body_and_url() {
    let server = Server::provider("trello", TRELLO_SECRET).await;
    let target = format!("https://{}/hook", server.addr);
    let signed_url = format!("https://{}/a?next={target}", server.addr);
    let body = br#"{"action":{"type":"updateCard"}}"#.to_vec();
    let headers = signed("trello", TRELLO_SECRET, &body, &signed_url);
    // Where it was signed for, it verifies.
    let reply = server
        .request(Method::POST, &format!("/a?next={target}"), &headers, &body)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    // Re-cut: the body takes the URL's head, the URL becomes the target.
    let mut spliced = body.clone();
    spliced.extend_from_slice(format!("https://{}/a?next=", server.addr).as_bytes());
    let reply = server.post(&headers, &spliced).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text());
    assert_eq!(server.runs(), 1);
}

const OKTA_SECRET: &str = "okta-hook-authorization-value";

#[tokio::test]
async fn okta_verification_challenge_and_authorization_secret() {
    let server = Server::provider("okta", OKTA_SECRET).await;
    let challenge = r#"sRX-2t0i"<script>"#;
    let reply = server
        .request(
            Method::GET,
            "/hook",
            &[header("x-okta-verification-challenge", challenge)],
            b"",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        json(&reply),
        serde_json::json!({ "verification": challenge })
    );
    assert_eq!(server.runs(), 0);

    let body = br#"{"eventType":"com.okta.event_hook","data":{"events":[]}}"#;
    let reply = server
        .post(&[header("authorization", OKTA_SECRET)], body)
        .await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "handled")
    );
    for wrong in [
        &[header("authorization", "okta-hook-authorization-valuE")][..],
        &[],
    ] {
        let reply = server.post(wrong, body).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{wrong:?}");
    }
    // The crate's signer sends what Okta sends.
    let reply = server
        .post(&signed("okta", OKTA_SECRET, body, "https://unused"), body)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(server.runs(), 2);
}

const NETLIFY_SECRET: &str = "netlify-jws-secret-token";

/// A token as Netlify makes one, built here from its documented parts.
fn netlify_token(alg: &str, claims: serde_json::Value, key: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(format!("{header}.{payload}").as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{header}.{payload}.{signature}")
}

#[tokio::test]
async fn netlify_jws_binds_the_body_through_its_claim() {
    let server = Server::provider("netlify", NETLIFY_SECRET).await;
    let body = br#"{"id":"5f1a","state":"ready"}"#;
    let sha = hex::encode(Sha256::digest(body));
    let claims = serde_json::json!({"iss": "netlify", "sha256": sha});
    let token = netlify_token("HS256", claims.clone(), NETLIFY_SECRET);
    let signature = |token: &str| [header("x-webhook-signature", token)];

    let reply = server.post(&signature(&token), body).await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "handled")
    );
    // The crate's signer makes a token the receiver reads the same way.
    let other = br#"{"id":"5f1b","state":"ready"}"#;
    let reply = server
        .post(
            &signed("netlify", NETLIFY_SECRET, other, "https://unused"),
            other,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

    let refused: Vec<(&str, String, &[u8])> = vec![
        (
            "another body under the token",
            token.clone(),
            &b"{\"id\":\"x\"}"[..],
        ),
        (
            "another issuer",
            netlify_token(
                "HS256",
                serde_json::json!({"iss": "not-netlify", "sha256": sha}),
                NETLIFY_SECRET,
            ),
            body,
        ),
        (
            "another key",
            netlify_token("HS256", claims.clone(), "not-the-secret"),
            body,
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            ),
            body,
        ),
        (
            "alg HS512",
            netlify_token("HS512", claims.clone(), NETLIFY_SECRET),
            body,
        ),
        (
            "no sha256 claim",
            netlify_token(
                "HS256",
                serde_json::json!({"iss": "netlify"}),
                NETLIFY_SECRET,
            ),
            body,
        ),
    ];
    for (case, token, body) in refused {
        let reply = server.post(&signature(&token), body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{case}: {}",
            reply.text()
        );
    }
    assert_eq!(server.runs(), 2);

    // Netlify documents no time claim, so none is read and no window
    // applies: a token carrying an old `iat` is judged by its documented
    // claims alone. What stops a resend is the idempotency layer.
    let later = br#"{"id":"5f1c","state":"ready"}"#;
    let dated = netlify_token(
        "HS256",
        serde_json::json!({"iss": "netlify", "sha256": hex::encode(Sha256::digest(later)), "iat": 1_500_000_000}),
        NETLIFY_SECRET,
    );
    let reply = server.post(&signature(&dated), later).await;
    assert_eq!(reply.text(), "handled");
    let again = server.post(&signature(&token), body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.headers.get(REPLAYED_HEADER).is_some());
    assert_eq!(server.runs(), 3);
}

const VONAGE_SECRET: &str = "qwertyuiopasdfghjklzxcvbnm123456";

#[tokio::test]
async fn vonage_bearer_jwt_binds_the_body_through_payload_hash() {
    let server = Server::provider("vonage", VONAGE_SECRET).await;
    let body = br#"{"message_uuid":"aaaaaaaa-bbbb","status":"delivered"}"#;
    let claims = serde_json::json!({
        "iat": unix_now(),
        "jti": "c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5",
        "iss": "Vonage",
        "payload_hash": hex::encode(Sha256::digest(body)),
        "api_key": "abcd1234",
        "application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
    });
    let token = netlify_token("HS256", claims, VONAGE_SECRET);
    let reply = server
        .post(&[header("authorization", &format!("Bearer {token}"))], body)
        .await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "handled")
    );
    // Without the scheme word, with another body: refused.
    let reply = server.post(&[header("authorization", &token)], body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = server
        .post(
            &[header("authorization", &format!("Bearer {token}"))],
            br#"{"status":"rejected"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    // Vonage's SDK test token (vonage-python-sdk jwt/tests/test_verify_jwt.py)
    // is validly signed under this secret but claims no payload_hash: it
    // authenticates no delivery, so it is refused.
    let sdk_token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJPbmxpbmUgSldUIEJ1aWxkZXIiLCJpYXQiOjE2OTc2MzQ2ODAsImV4cCI6MzMyNTQ1NDA4MjgsImF1ZCI6IiIsInN1YiI6IiJ9.88vJc3I2HhuqEDixHXVhc9R30tA6U_HQHZTC29y6CGM";
    let reply = server
        .post(
            &[header("authorization", &format!("Bearer {sdk_token}"))],
            body,
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    // The crate's signer makes a token the receiver reads the same way.
    let other = br#"{"message_uuid":"aaaaaaaa-cccc","status":"read"}"#;
    let reply = server
        .post(
            &signed("vonage", VONAGE_SECRET, other, "https://unused"),
            other,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(server.runs(), 2);
}

/// Vonage's token signs when it was issued (`iat`) and its own id (`jti`):
/// the bundle holds the first to the replay window and deduplicates on the
/// second, never on anything outside the MAC.
#[tokio::test]
async fn vonage_signed_iat_is_held_to_the_window_and_jti_is_the_delivery_id() {
    let server = Server::provider("vonage", VONAGE_SECRET).await;
    let claims = |iat: i64, jti: Option<&str>, body: &[u8]| {
        let mut claims = serde_json::json!({
            "iat": iat,
            "iss": "Vonage",
            "payload_hash": hex::encode(Sha256::digest(body)),
            "api_key": "abcd1234",
            "application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        });
        if let Some(jti) = jti {
            claims["jti"] = jti.into();
        }
        claims
    };
    let send = |claims: serde_json::Value, body: &'static [u8]| {
        let server = &server;
        async move {
            let token = netlify_token("HS256", claims, VONAGE_SECRET);
            server
                .post(&[header("authorization", &format!("Bearer {token}"))], body)
                .await
        }
    };
    let now = unix_now();
    let first: &[u8] = br#"{"message_uuid":"aaaaaaaa-0001","status":"delivered"}"#;
    let second: &[u8] = br#"{"message_uuid":"aaaaaaaa-0002","status":"read"}"#;

    // Correctly signed an hour ago: stale (the same token signed now is
    // accepted below, with jti-old unused until then).
    let reply = send(claims(now - 3600, Some("jti-old"), first), first).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text());
    // Without iat or jti the token is refused.
    let reply = send(claims(now, None, first), first).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text());
    let no_iat = {
        let mut claims = claims(now, Some("jti-no-iat"), first);
        claims.as_object_mut().unwrap().remove("iat");
        claims
    };
    let reply = send(no_iat, first).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text());
    assert_eq!(server.runs(), 0);

    let reply = send(claims(now, Some("jti-1"), first), first).await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "handled")
    );
    // The same signed jti a second later, even over another body and
    // signing time (so another signed message): a duplicate, not run.
    let reply = send(claims(now + 1, Some("jti-1"), second), second).await;
    assert!(
        reply.headers.get(REPLAYED_HEADER).is_some(),
        "{:?}: {}",
        reply.status,
        reply.text()
    );
    assert_eq!(server.runs(), 1);
    // Another jti over the first body: a delivery of its own.
    let reply = send(claims(now + 1, Some("jti-2"), first), first).await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "handled")
    );
    assert_eq!(server.runs(), 2);
    let reply = send(claims(now, Some("jti-old"), first), first).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(server.runs(), 3);
}

/// The SDK's token, checked with the same HMAC the scheme uses: the MAC the
/// scheme computes over a token's signing input is PyJWT's.
#[test]
fn vonage_sdk_token_mac_is_reproduced() {
    let sdk_token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJPbmxpbmUgSldUIEJ1aWxkZXIiLCJpYXQiOjE2OTc2MzQ2ODAsImV4cCI6MzMyNTQ1NDA4MjgsImF1ZCI6IiIsInN1YiI6IiJ9.88vJc3I2HhuqEDixHXVhc9R30tA6U_HQHZTC29y6CGM";
    let (input, signature) = sdk_token.rsplit_once('.').unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(VONAGE_SECRET.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    assert_eq!(
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()),
        signature
    );
}

/// One `t=…,v1=…` set as Persona signs it with `secret` at `t`.
fn persona_set(secret: &str, body: &[u8], t: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// During a rotation Persona sends two space-separated sets, each `v1`
/// signing its own `t`: the bundle accepts the delivery when either set
/// verifies, holds that set's `t` to the window, and never pairs one set's
/// signature with the other's time.
#[tokio::test]
async fn persona_accepts_either_rotation_set_with_its_own_timestamp() {
    let server = Server::provider("persona", "persona-new-secret").await;
    let now = unix_now();
    let stale = now - 3600;
    let send = |header_value: String, body: &'static [u8]| {
        let server = &server;
        async move {
            server
                .post(&[header("persona-signature", &header_value)], body)
                .await
        }
    };
    let (old, new) = ("persona-old-secret", "persona-new-secret");
    // Two sets over `body`: `(secret, t)` each.
    let two = |body: &[u8], first: (&str, i64), second: (&str, i64)| {
        format!(
            "{} {}",
            persona_set(first.0, body, first.1),
            persona_set(second.0, body, second.1)
        )
    };
    let bodies: [&'static [u8]; 6] = [
        br#"{"data":{"id":"evt_1"}}"#,
        br#"{"data":{"id":"evt_2"}}"#,
        br#"{"data":{"id":"evt_3"}}"#,
        br#"{"data":{"id":"evt_4"}}"#,
        br#"{"data":{"id":"evt_5"}}"#,
        br#"{"data":{"id":"evt_6"}}"#,
    ];
    // The new secret's signature at `now`, moved into a set saying `stale`.
    let borrowed_time = format!(
        "t={stale},{} {}",
        persona_set(new, bodies[5], now).split_once(',').unwrap().1,
        persona_set(old, bodies[5], now)
    );
    let cases = [
        (
            "only the second set verifies",
            bodies[0],
            two(bodies[0], (old, now), (new, now)),
            StatusCode::OK,
        ),
        (
            "only the first set verifies",
            bodies[1],
            two(bodies[1], (new, now), (old, now)),
            StatusCode::OK,
        ),
        (
            "only the second verifies, the sets signed at different times",
            bodies[2],
            two(bodies[2], (old, now - 2), (new, now)),
            StatusCode::OK,
        ),
        (
            "only the first verifies, the sets signed at different times",
            bodies[3],
            two(bodies[3], (new, now), (old, now - 2)),
            StatusCode::OK,
        ),
        (
            "the verifying set is stale beside a fresh one",
            bodies[4],
            two(bodies[4], (old, now), (new, stale)),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "a signature under the other set's time",
            bodies[5],
            borrowed_time,
            StatusCode::UNAUTHORIZED,
        ),
    ];
    let mut runs = 0;
    for (case, body, value, expected) in cases {
        let reply = send(value, body).await;
        assert_eq!(reply.status, expected, "{case}: {}", reply.text());
        if expected == StatusCode::OK {
            runs += 1;
            assert_eq!(reply.text(), "handled", "{case}");
        }
        assert_eq!(server.runs(), runs, "{case}");
    }
}

/// Smartsheet's documented Java sample prints the HMAC as a number in base
/// 16 (`BigInteger.toString(16)`), without its leading zeros: for a digest
/// whose hex starts with `0` the header is shorter than 64 digits, and the
/// bundle reads it as that number. The 64-digit form verifies too.
#[tokio::test]
async fn smartsheet_hmac_without_its_leading_zeros_verifies() {
    const SECRET: &str = "216ejjzdnq17mq1q8xs7d4hu8b";
    let server = Server::provider("smartsheet", SECRET).await;
    let hmac_hex = |body: &[u8]| {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    };
    // The first callbacks (by nonce) whose HMAC's hex starts with `0`.
    let mut leading_zero = (0..4096).map(|n| {
        format!(r#"{{"nonce":"{n}","webhookId":4503604829677444,"scope":"sheet","events":[]}}"#)
            .into_bytes()
    });
    let mut next = || {
        leading_zero
            .find(|body| hmac_hex(body).starts_with('0'))
            .unwrap()
    };
    let (first, second, third) = (next(), next(), next());
    let send = |value: String, body: Vec<u8>| {
        let server = &server;
        async move {
            server
                .post(&[header("smartsheet-hmac-sha256", &value)], &body)
                .await
        }
    };

    let java = hmac_hex(&first).trim_start_matches('0').to_owned();
    assert!(java.len() < 64);
    let reply = send(java.clone(), first.clone()).await;
    assert_eq!(reply.text(), "handled", "BigInteger form {java}");
    let reply = send(hmac_hex(&second), second.clone()).await;
    assert_eq!(reply.text(), "handled", "64-digit form");
    // Shorter, but not the same number: a digit dropped from the end, or
    // another digit changed.
    let full = hmac_hex(&third);
    let short = full.trim_start_matches('0');
    for wrong in [
        format!("0{}", &full[..63]),
        short[..short.len() - 1].to_owned(),
        format!(
            "{}{}",
            if short.starts_with('1') { "2" } else { "1" },
            &short[1..]
        ),
    ] {
        let reply = send(wrong.clone(), third.clone()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{wrong}");
    }
    assert_eq!(server.runs(), 2);
}

/// ConfigCat signs `X-ConfigCat-Webhook-ID`, "a unique ID for the webhook
/// request ... different for every request": the bundle deduplicates on it,
/// so the same request again is a duplicate while another request over the
/// same body and second runs.
#[tokio::test]
async fn configcat_deduplicates_on_its_signed_request_id() {
    const KEY: &str = "configcat_whsk_VN3juirnVh5pNvCKd81RYRYchxUX4j3NykbZG2fAy88=";
    let server = Server::provider("configcat", KEY).await;
    let now = unix_now();
    let body = br#"{"config":"main","environment":"production"}"#;
    let request = |id: &str| {
        let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
        mac.update(format!("{id}{now}").as_bytes());
        mac.update(body);
        vec![
            header("x-configcat-webhook-id", id),
            header("x-configcat-webhook-timestamp", &now.to_string()),
            header(
                "x-configcat-webhook-signature-v1",
                &STANDARD.encode(mac.finalize().into_bytes()),
            ),
        ]
    };
    let first = request("b616ca659d154a5fb907dd8475792eeb");
    let reply = server.post(&first, body).await;
    assert_eq!(reply.text(), "handled");
    let again = server.post(&first, body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.headers.get(REPLAYED_HEADER).is_some());
    let reply = server
        .post(&request("c727db760e265b6ac018ee9586803ffc"), body)
        .await;
    assert_eq!(reply.text(), "handled");
    assert!(reply.headers.get(REPLAYED_HEADER).is_none());
    assert_eq!(server.runs(), 2);
}

const ADYEN_KEY: &str = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056";

/// An Adyen notification whose items carry `fields` (the eight signed ones
/// in signing order), each item signed over its fields.
fn adyen_body(items: &[[&str; 8]]) -> Vec<u8> {
    let items: Vec<serde_json::Value> = items
        .iter()
        .map(|f| {
            let mut mac = Hmac::<Sha256>::new_from_slice(&hex::decode(ADYEN_KEY).unwrap()).unwrap();
            mac.update(f.join(":").as_bytes());
            serde_json::json!({"NotificationRequestItem": {
                "pspReference": f[0], "originalReference": f[1],
                "merchantAccountCode": f[2], "merchantReference": f[3],
                "amount": {"value": f[4].parse::<u64>().unwrap(), "currency": f[5]},
                "eventCode": f[6], "success": f[7],
                "additionalData": {"hmacSignature": STANDARD.encode(mac.finalize().into_bytes())},
            }})
        })
        .collect();
    serde_json::json!({"live": "false", "notificationItems": items})
        .to_string()
        .into_bytes()
}

#[tokio::test]
async fn adyen_signed_fields_cannot_be_recut_and_a_second_item_is_refused() {
    let server = Server::provider("adyen", ADYEN_KEY).await;
    let item = [
        "7914073381342284",
        "",
        "TestMerchant",
        "order:1",
        "1130",
        "EUR",
        "AUTHORISATION",
        "true",
    ];
    let reply = server.post(&[], &adyen_body(&[item])).await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "handled")
    );

    // Signed as `...:TestMerchant:order:1:...`, then re-cut so the merchant
    // account reads `TestMerchant:order` and the reference `1`: the joined
    // fields are the same bytes, but two fields now hold the separator.
    let body = String::from_utf8(adyen_body(&[[
        "7914073381342285",
        "",
        "TestMerchant",
        "order:2",
        "1130",
        "EUR",
        "AUTHORISATION",
        "true",
    ]]))
    .unwrap()
    .replace(
        r#""merchantAccountCode":"TestMerchant""#,
        r#""merchantAccountCode":"TestMerchant:order""#,
    )
    .replace(
        r#""merchantReference":"order:2""#,
        r#""merchantReference":"2""#,
    );
    let reply = server.post(&[], body.as_bytes()).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text());

    // A second item, signed or not, would ride along with the first.
    let first = [
        "7914073381342287",
        "",
        "TestMerchant",
        "order-4",
        "1130",
        "EUR",
        "AUTHORISATION",
        "true",
    ];
    let second = [
        "7914073381342286",
        "",
        "TestMerchant",
        "order-3",
        "99",
        "EUR",
        "REFUND",
        "true",
    ];
    let reply = server.post(&[], &adyen_body(&[first, second])).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text());
    assert_eq!(server.runs(), 1);
}

/// Plaid's ES256 token: signed with a P-256 key whose JWK the receiver
/// holds, `iat` within five minutes, the body bound by its hash.
#[cfg(feature = "ecdsa")]
#[tokio::test]
async fn plaid_es256_token_with_a_jwk_and_a_five_minute_iat() {
    use p256::ecdsa::signature::Signer as _;
    use support::to_jwk_p256;

    let private = p256::ecdsa::SigningKey::from_slice(&[9; 32]).unwrap();
    let jwk = to_jwk_p256(private.verifying_key());
    let server = Server::provider("plaid", &jwk).await;
    let token = |alg: &str, claims: serde_json::Value, raw: bool| {
        let header = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"alg":"{alg}","kid":"6c5516e1-92dc-479e-a8ff-5a51992e0001","typ":"JWT"}}"#
        ));
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{payload}");
        let signature: p256::ecdsa::Signature = private.sign(input.as_bytes());
        let bytes = if raw {
            signature.to_bytes().to_vec()
        } else {
            signature.to_der().as_bytes().to_vec()
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes))
    };
    let body = br#"{"webhook_type":"TRANSACTIONS","webhook_code":"SYNC_UPDATES_AVAILABLE"}"#;
    let claims = |iat: i64, body: &[u8]| serde_json::json!({"iat": iat, "request_body_sha256": hex::encode(Sha256::digest(body))});
    let now = unix_now();
    let send = |token: String| {
        let server = &server;
        async move {
            server
                .post(&[header("plaid-verification", &token)], body)
                .await
        }
    };
    let reply = send(token("ES256", claims(now, body), true)).await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "handled")
    );
    for (case, token) in [
        (
            "six minutes old",
            token("ES256", claims(now - 360, body), true),
        ),
        (
            "another body's hash",
            token("ES256", claims(now, b"{}"), true),
        ),
        (
            "a DER signature",
            token("ES256", claims(now + 1, body), false),
        ),
        (
            "no iat",
            token(
                "ES256",
                serde_json::json!({"request_body_sha256": hex::encode(Sha256::digest(body))}),
                true,
            ),
        ),
        // The public key used as an HMAC secret (algorithm confusion).
        (
            "HS256 keyed with the JWK",
            netlify_token("HS256", claims(now, body), &jwk),
        ),
    ] {
        let reply = send(token).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{case}: {}",
            reply.text()
        );
    }
    // Another key's token.
    let other = p256::ecdsa::SigningKey::from_slice(&[8; 32]).unwrap();
    let signer = Signer::new(
        (tower_webhook::provider::PLAID.scheme)(),
        tower_webhook::signature::KeyMaterial::EcdsaP256Signing(other),
    );
    let headers: Vec<_> = signer
        .sign(&Outgoing::new(body, now, "d-2"))
        .unwrap()
        .into_iter()
        .collect();
    let reply = server.post(&headers, body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.runs(), 1);
}

/// Asana hands its signing key over in the handshake: the application
/// decides whether to take it, and only an inert token is echoed back in
/// the header Asana reads.
#[tokio::test]
async fn asana_hook_secret_is_echoed_once_the_application_takes_it() {
    use std::sync::Mutex;
    use tower_webhook::handshake::Handshake;

    let taken: Arc<Mutex<Vec<String>>> = Arc::default();
    let creating = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let handshake = {
        let (taken, creating) = (Arc::clone(&taken), Arc::clone(&creating));
        Handshake::asana(move |secret| {
            let accept = creating.load(Ordering::SeqCst);
            if accept {
                taken.lock().unwrap().push(secret.to_owned());
            }
            accept
        })
    };
    let runs = Arc::new(AtomicUsize::new(0));
    let handler = {
        let runs = Arc::clone(&runs);
        any(move || {
            runs.fetch_add(1, Ordering::SeqCst);
            async { "handled" }
        })
    };
    let layer = WebhookStack::provider("asana", "7f1a6bd1b3e9c5e8a4f0d2c6b8e0a1f3")
        .unwrap()
        .handshake(handshake)
        .build()
        .unwrap();
    let addr = support::serve(Router::new().route("/hook", handler.layer(layer))).await;
    let server = Server { addr, runs };

    let secret = "7f1a6bd1b3e9c5e8a4f0d2c6b8e0a1f3";
    let reply = server.post(&[header("x-hook-secret", secret)], b"").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.headers["x-hook-secret"], secret);
    assert_eq!(*taken.lock().unwrap(), [secret]);

    // A value that is not an inert token is neither echoed nor offered.
    for bad in ["a b", "a,b", "x".repeat(257).as_str()] {
        let reply = server.post(&[header("x-hook-secret", bad)], b"").await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(!reply.headers.contains_key("x-hook-secret"));
    }
    // Outside a creation call, a stranger's handshake is refused.
    creating.store(false, Ordering::SeqCst);
    let reply = server
        .post(&[header("x-hook-secret", "strangers-key")], b"")
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(!reply.headers.contains_key("x-hook-secret"));
    assert_eq!(taken.lock().unwrap().len(), 1);
    assert_eq!(server.runs(), 0);

    // Events are signed with the secret.
    let body = br#"{"events":[{"action":"changed"}]}"#;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let signature = hex::encode(mac.finalize().into_bytes());
    let reply = server
        .post(&[header("x-hook-signature", &signature)], body)
        .await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "handled")
    );
    // A signed event that also carries X-Hook-Secret is an event, not a
    // handshake.
    let reply = server
        .post(
            &[
                header("x-hook-signature", &signature),
                header("x-hook-secret", "ignored"),
            ],
            br#"{"events":[]}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.runs(), 1);
}
