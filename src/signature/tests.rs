//! The signature layer's decisions, one request at a time through the
//! layer (`oneshot`): rejection reasons, rotation, hostile headers, legacy
//! tokens, presets, custom schemes. Moved from the HTTP tests
//! (`tests/library/signature/http.rs`), which keep what needs a socket: the
//! headers judged before a body that never completes. The schemes come from
//! the provider registry, hence the `provider` feature.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, StatusCode};

use super::{DeclaredScheme, Key, Keyring, Outgoing, SignatureConfigError, SignatureLayer, Signer};
use crate::provider;
use crate::test_support::{oneshot, with_body, Reply};
use crate::token::TokenSet;
use crate::{AuthMethod, Reason, Secret, Timestamp, Verification, WebhookContext};

/// A named request (its headers) and the rejection it must get, if any.
type Case = (
    &'static str,
    Vec<(&'static str, HeaderValue)>,
    Option<Reason>,
);

/// The layer in front of a handler that answers `<method>|<key id>`; keeps
/// what every request's context held afterwards, rejections included.
struct Server {
    layer: SignatureLayer,
    seen: Mutex<Vec<Verification>>,
}

impl Server {
    async fn start(layer: SignatureLayer) -> Self {
        Self {
            layer,
            seen: Mutex::default(),
        }
    }

    /// POST `body` to `/hook` with `headers` (appended, so repeats are kept).
    async fn post(&self, headers: &[(&str, HeaderValue)], body: impl Into<Bytes>) -> Reply {
        self.post_to("/hook", headers, body).await
    }

    async fn post_to(
        &self,
        path: &str,
        headers: &[(&str, HeaderValue)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let mut request = with_body(Request::post(path), body);
        for (name, value) in headers {
            request.headers_mut().append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.clone(),
            );
        }
        let context = WebhookContext::of(&mut request);
        let mut reply = oneshot(&self.layer, request).await;
        self.seen.lock().unwrap().push(context.snapshot());
        if let Some(handled) = &reply.handled {
            let auth = handled.authentication.clone().expect("authenticated");
            let text = format!("{}|{}", auth.method, auth.key_id.as_deref().unwrap_or("-"));
            reply.body = Bytes::from(text);
        }
        reply
    }

    fn last(&self) -> Verification {
        self.seen
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request was seen")
    }

    fn last_rejection(&self) -> Option<Reason> {
        self.last().rejection
    }
}

fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap()
}

fn github_signature(secret: &str, body: &[u8]) -> HeaderValue {
    let signer = Signer::new(
        Arc::new(provider::github::github()),
        Secret::new(secret).unwrap().into(),
    );
    signer
        .sign(&Outgoing::new(body, 0, ""))
        .unwrap()
        .pop()
        .unwrap()
        .1
}

const SIG256: &str = "x-hub-signature-256";

/// A clock the test moves by hand.
#[derive(Clone, Default)]
struct Clock(Arc<AtomicU64>);

impl Clock {
    fn at(seconds: u64) -> Self {
        let clock = Self::default();
        clock.set(seconds);
        clock
    }
    fn set(&self, seconds: u64) {
        self.0.store(seconds, Ordering::SeqCst);
    }
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::SeqCst))
    }
}

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

#[tokio::test]
async fn each_rejection_reason_is_a_401_with_its_reason_recorded() {
    let clock = Clock::at(2_000);
    let keyring = Keyring::new()
        .with(Key::new("current", Secret::new("current-secret").unwrap()))
        .with(Key::new("retired", Secret::new("retired-secret").unwrap()).valid_until(at(1_000)));
    let layer = SignatureLayer::new(provider::github::github(), keyring)
        .unwrap()
        .clock({
            let clock = clock.clone();
            move || clock.now()
        });
    let server = Server::start(layer).await;
    let body = b"{\"zen\":\"Keep it logically awesome.\"}";

    let cases: Vec<Case> = vec![
        ("no signature", vec![], Some(Reason::SignatureMissing)),
        (
            "invalid hex",
            vec![(SIG256, value("sha256=zz"))],
            Some(Reason::SignatureMalformed),
        ),
        (
            "wrong prefix",
            vec![(SIG256, value(&format!("sha1={}", "ab".repeat(20))))],
            Some(Reason::SignatureMalformed),
        ),
        (
            "empty",
            vec![(SIG256, value("sha256="))],
            Some(Reason::SignatureMalformed),
        ),
        (
            "wrong secret",
            vec![(SIG256, github_signature("someone-else", body))],
            Some(Reason::SignatureMismatch),
        ),
        (
            "retired key",
            vec![(SIG256, github_signature("retired-secret", body))],
            Some(Reason::KeyExpired),
        ),
        (
            "current key",
            vec![(SIG256, github_signature("current-secret", body))],
            None,
        ),
    ];
    for (case, headers, reason) in cases {
        let reply = server.post(&headers, &body[..]).await;
        match reason {
            Some(reason) => {
                assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{case}");
                assert_eq!(server.last_rejection(), Some(reason), "{case}");
                assert_eq!(server.last().authentication, None, "{case}");
            }
            None => {
                assert_eq!(reply.status, StatusCode::OK, "{case}");
                assert_eq!(reply.text(), "signature|current");
                let seen = server.last();
                assert_eq!(seen.rejection, None);
                let auth = seen.authentication.unwrap();
                assert_eq!(auth.scheme.as_deref(), Some("github"));
                // What the signature covered is recorded; GitHub signs no
                // id and no timestamp.
                let signed = seen.signed.expect("a signed delivery");
                assert_eq!(signed.scheme().name(), "github");
                assert_eq!((signed.id(), signed.timestamp_text()), (None, None));
            }
        }
    }
}

#[tokio::test]
async fn rotation_accepts_both_keys_during_the_overlap_then_only_the_new_one() {
    let overlap_ends = 1_700_086_400;
    let clock = Clock::at(overlap_ends - 3_600);
    let keyring = Keyring::new()
        .with(
            Key::new("key-a", Secret::new("secret-a-0123456789").unwrap())
                .valid_until(at(overlap_ends)),
        )
        .with(
            Key::new("key-b", Secret::new("secret-b-0123456789").unwrap())
                .valid_from(at(overlap_ends - 86_400)),
        );
    let layer = SignatureLayer::new(provider::github::github(), keyring)
        .unwrap()
        .clock({
            let clock = clock.clone();
            move || clock.now()
        });
    let server = Server::start(layer).await;
    let body = b"rotation";
    let a = github_signature("secret-a-0123456789", body);
    let b = github_signature("secret-b-0123456789", body);

    for (signature, expected) in [(&a, "signature|key-a"), (&b, "signature|key-b")] {
        let reply = server.post(&[(SIG256, signature.clone())], &body[..]).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.text(), expected, "the handler sees the key id");
    }

    clock.set(overlap_ends + 1);
    let reply = server.post(&[(SIG256, a)], &body[..]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.last_rejection(), Some(Reason::KeyExpired));
    let reply = server.post(&[(SIG256, b)], &body[..]).await;
    assert_eq!(reply.text(), "signature|key-b");
}

fn stripe_layer() -> SignatureLayer {
    SignatureLayer::stripe(Secret::new("whsec_stripe_test_secret").unwrap())
}

fn stripe_header(body: &[u8], timestamp: i64) -> HeaderValue {
    Signer::new(
        Arc::new(provider::stripe::stripe()),
        Secret::new("whsec_stripe_test_secret").unwrap().into(),
    )
    .sign(&Outgoing::new(body, timestamp, ""))
    .unwrap()
    .pop()
    .unwrap()
    .1
}

#[tokio::test]
async fn hostile_signature_headers_are_refused_cleanly() {
    let server = Server::start(stripe_layer()).await;
    let body = b"{\"id\":\"evt_1\"}";
    let good = stripe_header(body, 1_700_000_000);
    let good_text = good.to_str().unwrap().to_owned();
    let v1 = good_text.split(",v1=").nth(1).unwrap().to_owned();
    let malformed = Some(Reason::SignatureMalformed);

    let cases: Vec<Case> = vec![
        (
            "two different values",
            vec![
                ("stripe-signature", good.clone()),
                ("stripe-signature", stripe_header(body, 1_700_000_001)),
            ],
            malformed,
        ),
        (
            "the same value twice",
            vec![
                ("stripe-signature", good.clone()),
                ("stripe-signature", good.clone()),
            ],
            None,
        ),
        (
            "64 KiB header",
            vec![(
                "stripe-signature",
                value(&format!("t=1,v1={}", "a".repeat(64 * 1024))),
            )],
            malformed,
        ),
        (
            "empty v1=",
            vec![("stripe-signature", value("t=1700000000,v1="))],
            malformed,
        ),
        (
            "only v0 (downgrade)",
            vec![("stripe-signature", value(&format!("t=1700000000,v0={v1}")))],
            malformed,
        ),
        (
            "10,000 comma-separated entries",
            vec![(
                "stripe-signature",
                value(&format!("t=1700000000{}", ",v1=ab".repeat(10_000))),
            )],
            malformed,
        ),
        (
            "17 candidates (more than the cap), the good one last",
            vec![(
                "stripe-signature",
                value(&format!("t=1700000000{},v1={v1}", ",v1=ab".repeat(16))),
            )],
            malformed,
        ),
        (
            "16 candidates, the good one last",
            vec![(
                "stripe-signature",
                value(&format!("t=1700000000{},v1={v1}", ",v1=ab".repeat(15))),
            )],
            None,
        ),
        (
            "non-ASCII bytes",
            vec![(
                "stripe-signature",
                HeaderValue::from_bytes(b"t=1700000000,v1=\xff\xfe\xc3\xa9").unwrap(),
            )],
            malformed,
        ),
        (
            "a timestamp that is not a number",
            vec![("stripe-signature", value(&format!("t=soon,v1={v1}")))],
            Some(Reason::TimestampMalformed),
        ),
        (
            "two timestamps",
            vec![(
                "stripe-signature",
                value(&format!("t=1700000000,t=1700000001,v1={v1}")),
            )],
            Some(Reason::TimestampMalformed),
        ),
        (
            "no timestamp",
            vec![("stripe-signature", value(&format!("v1={v1}")))],
            Some(Reason::TimestampMissing),
        ),
    ];
    for (case, headers, reason) in cases {
        let reply = server.post(&headers, &body[..]).await;
        let expected = if reason.is_some() {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        assert_eq!(reply.status, expected, "{case}: {}", reply.text());
        assert_eq!(server.last_rejection(), reason, "{case}");
    }
}

#[tokio::test]
async fn invalid_base64_in_a_standard_webhooks_list_is_refused() {
    let server = Server::start(SignatureLayer::standard_webhooks(
        Secret::from_whsec("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap(),
    ))
    .await;
    let headers = [
        ("webhook-id", value("msg_1")),
        ("webhook-timestamp", value("1614265330")),
        (
            "webhook-signature",
            value("v1,!!!not-base64!!! v1,also*bad"),
        ),
    ];
    let reply = server.post(&headers, "{}").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.last_rejection(), Some(Reason::SignatureMalformed));
}

#[tokio::test]
async fn a_body_that_is_not_utf8_verifies_and_the_signed_timestamp_is_recorded() {
    let server = Server::start(stripe_layer()).await;
    let body: &[u8] = b"\xff\xfe\x00binary\x80";
    let reply = server
        .post(
            &[("stripe-signature", stripe_header(body, 1_700_000_000))],
            body,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        server.last().timestamp,
        Some(Timestamp::signed(1_700_000_000_000))
    );
}

#[tokio::test]
async fn an_unsigned_timestamp_header_is_not_recorded_as_signed() {
    // A scheme that reads a timestamp header but signs only the body.
    let scheme = DeclaredScheme::new("unsigned-ts")
        .signature(crate::signature::SignatureHeader::new(
            HeaderName::from_static("x-signature"),
        ))
        .timestamp_header(
            HeaderName::from_static("x-timestamp"),
            crate::signature::TimestampFormat::Seconds,
        );
    let secret = Secret::new("unsigned-timestamp-secret").unwrap();
    let signer = Signer::new(Arc::new(scheme.clone()), secret.clone().into());
    let layer = SignatureLayer::new(scheme, Keyring::single(secret)).unwrap();
    let server = Server::start(layer).await;
    let headers: Vec<(&str, HeaderValue)> = signer
        .sign(&Outgoing::new(b"{}", 1_700_000_000, ""))
        .unwrap()
        .into_iter()
        .map(|(name, value)| {
            (
                if name == "x-timestamp" {
                    "x-timestamp"
                } else {
                    "x-signature"
                },
                value,
            )
        })
        .collect();
    let reply = server.post(&headers, "{}").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(server.last().timestamp, None);
    // Changing it does not break the signature: it is not signed.
    let mut changed = headers.clone();
    changed[0].1 = value("1800000000");
    assert_eq!(changed[0].0, "x-timestamp");
    assert_eq!(server.post(&changed, "{}").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_body_limit_applies() {
    let layer = SignatureLayer::github(Secret::new("s3cr3t-value").unwrap()).body_limit(16);
    let server = Server::start(layer).await;
    let body = vec![b'x'; 100];
    let reply = server
        .post(&[(SIG256, github_signature("s3cr3t-value", &body))], body)
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(server.last_rejection(), Some(Reason::PayloadTooLarge));
}

#[tokio::test]
async fn legacy_tokens_pass_while_senders_migrate() {
    let tokens = TokenSet::new().with("gitlab-legacy", Secret::new("legacy-token-123").unwrap());
    let layer = SignatureLayer::github(Secret::new("s3cr3t-value").unwrap())
        .accept_legacy_token(HeaderName::from_static("x-gitlab-token"), tokens);
    let server = Server::start(layer).await;

    let reply = server
        .post(&[("x-gitlab-token", value("legacy-token-123"))], "{}")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "token (legacy)|gitlab-legacy");
    assert_eq!(
        server.last().authentication.unwrap().method,
        AuthMethod::LegacyToken
    );

    let reply = server
        .post(&[("x-gitlab-token", value("wrong"))], "{}")
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.last_rejection(), Some(Reason::TokenInvalid));

    // A request with a signature is judged by it, token or not.
    let reply = server
        .post(
            &[
                ("x-gitlab-token", value("legacy-token-123")),
                (SIG256, github_signature("wrong-secret", b"{}")),
            ],
            "{}",
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.last_rejection(), Some(Reason::SignatureMismatch));

    let reply = server
        .post(&[(SIG256, github_signature("s3cr3t-value", b"{}"))], "{}")
        .await;
    assert_eq!(reply.text(), "signature|default");
}

#[tokio::test]
async fn no_verification_must_be_asked_for_by_name() {
    assert_eq!(
        SignatureLayer::new(provider::github::github(), Keyring::new()).unwrap_err(),
        SignatureConfigError::EmptyKeyring
    );
    let server = Server::start(SignatureLayer::insecure_no_verification()).await;
    let reply = server.post(&[], "anything").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "anonymous|-");
}

#[tokio::test]
async fn presets_by_name_verify_what_the_signer_produces() {
    for name in [
        "slack",
        "standard",
        "svix",
        "paddle",
        "twitch",
        "timestamped",
        "typeform",
    ] {
        let secret = if matches!(name, "standard" | "svix") {
            Secret::generate().to_whsec()
        } else {
            "preset-secret-0123456789".to_owned()
        };
        let server = Server::start(SignatureLayer::preset(name, &secret).unwrap()).await;
        let signed = Signer::preset(name, &secret)
            .unwrap()
            .sign(&Outgoing::new(b"payload", 1_700_000_000, "msg_42"))
            .unwrap();
        let names: Vec<String> = signed.iter().map(|(n, _)| n.to_string()).collect();
        let headers: Vec<(&str, HeaderValue)> = names
            .iter()
            .zip(signed.iter())
            .map(|(n, (_, v))| (n.as_str(), v.clone()))
            .collect();
        let reply = server.post(&headers, "payload").await;
        assert_eq!(reply.status, StatusCode::OK, "{name}: {}", reply.text());
        assert_eq!(reply.text(), "signature|default");
        let reply = server.post(&headers, "payloaD").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{name}");
    }
}

#[cfg(feature = "ed25519")]
#[test]
fn a_public_key_cannot_back_an_hmac_scheme() {
    use crate::signature::KeyMaterial;
    let public = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
    let error = SignatureLayer::new(
        provider::github::github(),
        Keyring::new().with(Key::new("ed", KeyMaterial::Ed25519(public))),
    )
    .unwrap_err();
    assert!(
        matches!(error, SignatureConfigError::WrongKeyKind { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn a_custom_scheme_can_sign_method_path_and_use_sha512() {
    use crate::signature::{Algorithm, Encoding, Part, SignatureHeader};
    let scheme = DeclaredScheme::new("custom")
        .signature(
            SignatureHeader::new(HeaderName::from_static("x-custom-signature"))
                .algorithm(Algorithm::Sha512)
                .encoding(Encoding::Base64)
                .prefix("v9 "),
        )
        .id_header(HeaderName::from_static("x-delivery"))
        .message([
            Part::Method,
            Part::literal("\n"),
            Part::PathAndQuery,
            Part::literal("\n"),
            Part::Id,
            Part::literal("\n"),
            Part::Body,
        ]);
    let secret = Secret::new("custom-scheme-secret").unwrap();
    let signer = Signer::new(Arc::new(scheme.clone()), secret.clone().into());
    let server = Server::start(SignatureLayer::new(scheme, Keyring::single(secret)).unwrap()).await;

    let send = |path: &'static str, signed_path: &'static str| {
        let signer = signer.clone();
        let server = &server;
        async move {
            // Sign for `signed_path`, send to `path`.
            let mut signed = Request::post(signed_path)
                .body(Bytes::from_static(b"\x00\x01 body"))
                .unwrap();
            signer
                .sign_request(&mut signed, 1_700_000_000, "d-1")
                .unwrap();
            let headers: Vec<(&str, HeaderValue)> = signed
                .headers()
                .iter()
                .map(|(name, value)| (name.as_str(), value.clone()))
                .collect();
            server.post_to(path, &headers, signed.body().clone()).await
        }
    };
    let reply = send("/hook?x=1", "/hook?x=1").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let reply = send("/hook?x=2", "/hook?x=1").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.last_rejection(), Some(Reason::SignatureMismatch));
}
