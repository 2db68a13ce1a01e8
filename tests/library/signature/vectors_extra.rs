//! The schemes that are not "an HMAC of body/timestamp in a header": Twilio,
//! Square, HubSpot v1/v2/v3, Mailgun, Discord, Standard Webhooks `v1a`,
//! SendGrid. Every official vector of theirs in tests/vectors/official.json,
//! signing reproduces the official values, tampering fails, property tests,
//! and real HTTP servers (Twilio behind a rewritten public URL, Mailgun with
//! its signature in the body).
#![cfg(all(feature = "ed25519", feature = "ecdsa"))]

use crate::support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use http_body_util::Full;
use proptest::prelude::*;
use serde_json::Value;
use tower_webhook::provider;
use tower_webhook::provider::{
    discord, hubspot, mailgun, sendgrid, square, standard_ed25519, twilio,
};
use tower_webhook::signature::PublicUrl;
use tower_webhook::signature::{
    Delivery, Key, KeyMaterial, Keyring, Match, Outgoing, Scheme, SignatureLayer, Signer,
};
use tower_webhook::{Reason, Secret, Verification, WebhookContext};

/// The vector-file schemes this file owns, with how many vectors each has.
const MINE: &[(&str, usize)] = &[
    ("twilio-form", 5),
    ("twilio-json", 1),
    ("square-hmac-sha256", 2),
    ("hubspot-v1", 2),
    ("hubspot-v2", 2),
    ("hubspot-v3", 1),
    ("standard-webhooks-v1a", 1),
    ("sendgrid-ecdsa", 1),
];

/// Any URL will do for schemes that do not sign one.
const UNSIGNED_URL: &str = "https://receiver.example/hook";

struct Vector {
    id: String,
    scheme: String,
    expected_valid: bool,
    secret: String,
    headers: HeaderMap,
    body: Vec<u8>,
    timestamp: Option<String>,
    extra: Value,
}

impl Vector {
    /// The URL the provider called (and the receiver sees).
    fn url(&self) -> String {
        ["url", "uri", "notification_url"]
            .iter()
            .find_map(|field| self.extra[field].as_str())
            .unwrap_or(UNSIGNED_URL)
            .to_owned()
    }

    /// The URL the provider signed (Twilio's port vectors differ).
    fn signed_url(&self) -> String {
        self.extra["signed_url"]
            .as_str()
            .map_or_else(|| self.url(), str::to_owned)
    }

    fn method(&self) -> Method {
        self.extra["method"]
            .as_str()
            .map_or(Method::POST, |m| m.parse().unwrap())
    }

    fn content_type(&self) -> &'static str {
        match self.scheme.as_str() {
            "twilio-form" => "application/x-www-form-urlencoded",
            _ => "application/json",
        }
    }

    /// The preset configured as a receiver of this vector would be: the
    /// public URL is the one the provider called.
    fn scheme(&self) -> Arc<dyn Scheme> {
        let origin = origin(&self.url());
        match self.scheme.as_str() {
            "twilio-form" | "twilio-json" => {
                Arc::new(twilio::twilio().public_url(PublicUrl::base(&origin).unwrap()))
            }
            "square-hmac-sha256" => {
                Arc::new(square::square().public_url(PublicUrl::exact(&self.url()).unwrap()))
            }
            "hubspot-v1" => Arc::new(hubspot::hubspot_v1()),
            "hubspot-v2" => {
                Arc::new(hubspot::hubspot_v2().public_url(PublicUrl::base(&origin).unwrap()))
            }
            "hubspot-v3" => {
                Arc::new(hubspot::hubspot_v3().public_url(PublicUrl::base(&origin).unwrap()))
            }
            "standard-webhooks-v1a" => Arc::new(standard_ed25519::standard_ed25519()),
            "sendgrid-ecdsa" => Arc::new(sendgrid::sendgrid()),
            other => panic!("not a scheme of this file: {other}"),
        }
    }

    /// The registry name of the preset.
    fn preset_name(&self) -> &'static str {
        match self.scheme.as_str() {
            "twilio-form" | "twilio-json" => "twilio",
            "square-hmac-sha256" => "square",
            "hubspot-v1" => "insecure-hubspot-v1",
            "hubspot-v2" => "insecure-hubspot-v2",
            "hubspot-v3" => "hubspot-v3",
            "standard-webhooks-v1a" => "standard-ed25519",
            "sendgrid-ecdsa" => "sendgrid",
            other => panic!("not a scheme of this file: {other}"),
        }
    }

    /// The key to sign with: the secret, or the private key the vector
    /// names; `None` when the provider keeps it (SendGrid).
    fn signing_key(&self) -> Option<KeyMaterial> {
        let scheme = self.scheme();
        match self.extra["signing_key"].as_str() {
            Some(private) => Some(scheme.parse_key(private).unwrap()),
            None if scheme.key_kind() == tower_webhook::signature::KeyKind::Shared => {
                Some(scheme.parse_key(&self.secret).unwrap())
            }
            None => None,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

fn vectors() -> Vec<Vector> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/official.json"
    ))
    .unwrap();
    let all: Vec<Value> = serde_json::from_str(&text).unwrap();
    all.into_iter()
        .filter(|v| MINE.iter().any(|(name, _)| v["scheme"] == *name))
        .map(|v| {
            let mut headers = HeaderMap::new();
            for (name, value) in v["headers"].as_object().unwrap() {
                headers.append(
                    HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value.as_str().unwrap()).unwrap(),
                );
            }
            Vector {
                id: v["id"].as_str().unwrap().to_owned(),
                scheme: v["scheme"].as_str().unwrap().to_owned(),
                expected_valid: v["expected_valid"].as_bool().unwrap(),
                secret: v["secret"].as_str().unwrap().to_owned(),
                headers,
                body: hex::decode(v["body_hex"].as_str().unwrap()).unwrap(),
                timestamp: v["timestamp"].as_str().map(str::to_owned),
                extra: v["extra"].clone(),
            }
        })
        .collect()
}

fn origin(url: &str) -> String {
    let uri: Uri = url.parse().unwrap();
    format!("{}://{}", uri.scheme().unwrap(), uri.authority().unwrap())
}

/// The request head a receiver sees for `url` (origin-form URI + `Host`).
fn parts(method: Method, url: &str, content_type: &str, headers: &HeaderMap) -> Parts {
    let uri: Uri = url.parse().unwrap();
    let mut request = http::Request::builder()
        .method(method)
        .uri(uri.path_and_query().map_or("/", |pq| pq.as_str()))
        .header(http::header::HOST, uri.authority().unwrap().as_str())
        .header(http::header::CONTENT_TYPE, content_type)
        .body(())
        .unwrap();
    for (name, value) in headers {
        request.headers_mut().append(name, value.clone());
    }
    request.into_parts().0
}

/// What the layer does, minus HTTP: head, then body, then every key.
fn judge(
    scheme: &dyn Scheme,
    keyring: &Keyring,
    parts: &Parts,
    body: &[u8],
) -> Result<Match, Reason> {
    let signatures = scheme.parse_head(parts).map_err(|r| r.reason())?;
    let signatures = scheme
        .parse_body(signatures, parts, body)
        .map_err(|r| r.reason())?;
    if signatures.is_empty() {
        return Err(Reason::SignatureMissing);
    }
    keyring.verify(
        scheme,
        &signatures,
        &Delivery { parts, body },
        std::time::SystemTime::now(),
    )
}

fn keyring_for(vector: &Vector) -> Keyring {
    let key = vector.scheme().parse_key(&vector.secret).unwrap();
    Keyring::new().with(Key::new("vector", key))
}

fn judge_vector(
    vector: &Vector,
    url: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Match, Reason> {
    let parts = parts(vector.method(), url, vector.content_type(), headers);
    judge(vector.scheme().as_ref(), &keyring_for(vector), &parts, body)
}

#[test]
fn every_vector_of_these_schemes_is_checked() {
    let mut counts = BTreeMap::new();
    for vector in vectors() {
        *counts.entry(vector.scheme.clone()).or_insert(0) += 1;
    }
    let expected: BTreeMap<String, usize> = MINE
        .iter()
        .map(|(name, n)| ((*name).to_owned(), *n))
        .collect();
    assert_eq!(counts, expected, "the vector file changed");
}

#[test]
fn official_vectors_verify() {
    for vector in vectors() {
        let result = judge_vector(&vector, &vector.url(), &vector.headers, &vector.body);
        assert_eq!(
            result.is_ok(),
            vector.expected_valid,
            "{}: {result:?}",
            vector.id
        );
    }
}

#[test]
fn official_vectors_verify_with_the_registry_preset() {
    // `by_name` presets rebuild the URL from the request (`https://` + Host),
    // which is right for every vector called over https on the default port.
    for vector in vectors().iter().filter(|v| v.url().starts_with("https://")) {
        let scheme = tower_webhook::provider::scheme_by_name(vector.preset_name()).unwrap();
        let parts = parts(
            vector.method(),
            &vector.url(),
            vector.content_type(),
            &vector.headers,
        );
        let result = judge(scheme.as_ref(), &keyring_for(vector), &parts, &vector.body);
        assert_eq!(
            result.is_ok(),
            vector.expected_valid,
            "{}: {result:?}",
            vector.id
        );
    }
}

#[test]
fn signing_reproduces_the_official_headers() {
    let mut signed = 0;
    for vector in vectors().iter().filter(|v| v.expected_valid) {
        let Some(key) = vector.signing_key() else {
            continue;
        };
        let timestamp = vector
            .timestamp
            .as_deref()
            .map_or(0, |t| t.parse::<i64>().unwrap());
        // HubSpot's header is in milliseconds; `Outgoing` takes seconds.
        let timestamp = if vector.scheme == "hubspot-v3" {
            timestamp / 1000
        } else {
            timestamp
        };
        let url = vector.signed_url();
        let method = vector.method();
        let id = vector.header("webhook-id").unwrap_or("");
        let headers = Signer::new(vector.scheme(), key)
            .sign(
                &Outgoing::new(&vector.body, timestamp, id)
                    .to_url(&url)
                    .with_method(&method),
            )
            .unwrap();
        assert_eq!(headers.len(), vector.headers.len(), "{}", vector.id);
        for (name, value) in headers {
            assert_eq!(
                vector.headers.get(&name),
                Some(&value),
                "{}: {name}",
                vector.id
            );
        }
        signed += 1;
    }
    // All but SendGrid, whose private key SendGrid keeps.
    assert_eq!(signed, 14);
}

#[test]
fn sendgrid_signs_only_with_a_private_key() {
    let public = sendgrid::sendgrid()
        .parse_key("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==")
        .unwrap();
    let error = Signer::new(Arc::new(sendgrid::sendgrid()), public)
        .sign(&Outgoing::new(b"[]", 1, ""))
        .unwrap_err();
    assert_eq!(error, tower_webhook::signature::SignError::VerifyOnly);
}

/// One change to a signed input of a valid vector, which must then fail.
fn tampered(vector: &Vector) -> Vec<(&'static str, String, HeaderMap, Vec<u8>)> {
    let mut cases = Vec::new();
    let url = vector.url();
    let mut body = vector.body.clone();
    match body.last_mut() {
        Some(last) => *last ^= 1,
        // Not a URL byte: HubSpot and Square refuse a body that could
        // continue the signed URL as malformed, before any key is tried.
        None => body.push(b'{'),
    }
    cases.push(("body", url.clone(), vector.headers.clone(), body));
    if vector.scheme.starts_with("twilio")
        || vector.scheme == "hubspot-v2"
        || vector.scheme == "hubspot-v3"
    {
        let other = if url.contains('?') {
            url.replacen("foo=1", "foo=2", 1)
        } else {
            format!("{url}x")
        };
        let other = if other == url {
            format!("{url}x")
        } else {
            other
        };
        cases.push(("url", other, vector.headers.clone(), vector.body.clone()));
    }
    for name in [
        "x-hubspot-request-timestamp",
        "webhook-timestamp",
        "x-twilio-email-event-webhook-timestamp",
    ] {
        if let Some(value) = vector.header(name) {
            let mut headers = vector.headers.clone();
            let bumped = (value.parse::<u64>().unwrap() + 1).to_string();
            headers.insert(name, bumped.parse().unwrap());
            cases.push(("timestamp", url.clone(), headers, vector.body.clone()));
        }
    }
    if let Some(id) = vector.header("webhook-id") {
        let mut headers = vector.headers.clone();
        headers.insert("webhook-id", format!("{id}x").parse().unwrap());
        cases.push(("id", url.clone(), headers, vector.body.clone()));
    }
    cases
}

#[test]
fn tampered_vectors_fail() {
    let mut checked = 0;
    for vector in vectors().iter().filter(|v| v.expected_valid) {
        for (what, url, headers, body) in tampered(vector) {
            let result = judge_vector(vector, &url, &headers, &body);
            assert_eq!(
                result.unwrap_err(),
                Reason::SignatureMismatch,
                "{} with its {what} changed",
                vector.id
            );
            checked += 1;
        }
    }
    // 15 bodies, 9 URLs, 3 timestamps, 1 id.
    assert_eq!(checked, 28);
}

#[test]
fn square_signs_the_configured_notification_url_not_the_request_path() {
    let vector = vectors()
        .into_iter()
        .find(|v| v.id == "square-sdk-escaped-chars")
        .unwrap();
    let keyring = keyring_for(&vector);
    let head = parts(
        Method::POST,
        "https://internal:8080/other",
        "application/json",
        &vector.headers,
    );
    let exact = square::square().public_url(PublicUrl::exact(&vector.url()).unwrap());
    assert!(judge(&exact, &keyring, &head, &vector.body).is_ok());
    let wrong =
        square::square().public_url(PublicUrl::exact("https://webhook.site/webhook").unwrap());
    assert_eq!(
        judge(&wrong, &keyring, &head, &vector.body).unwrap_err(),
        Reason::SignatureMismatch
    );
}

#[test]
fn a_wrong_key_fails_every_vector() {
    let sendgrid_other = KeyMaterial::EcdsaP256(
        *p256::ecdsa::SigningKey::from_slice(&[9; 32])
            .unwrap()
            .verifying_key(),
    );
    let ed_other =
        KeyMaterial::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key());
    for vector in vectors().iter().filter(|v| v.expected_valid) {
        let key = match vector.scheme.as_str() {
            "sendgrid-ecdsa" => sendgrid_other.clone(),
            "standard-webhooks-v1a" => ed_other.clone(),
            _ => Secret::new(format!("{}x", vector.secret)).unwrap().into(),
        };
        let parts = parts(
            vector.method(),
            &vector.url(),
            vector.content_type(),
            &vector.headers,
        );
        let result = judge(
            vector.scheme().as_ref(),
            &Keyring::new().with(Key::new("other", key)),
            &parts,
            &vector.body,
        );
        assert_eq!(
            result.unwrap_err(),
            Reason::SignatureMismatch,
            "{}",
            vector.id
        );
    }
}

// ---------------------------------------------------------------- Discord

// No official fixed vector exists: discord/discord-interactions-python ships
// no tests (its files are discord_interactions/__init__.py and an example),
// and discord-interactions-js generates key pairs at test time. The Ed25519
// primitive is checked against RFC 8032 §7.1 TEST 2 (the key pair and
// signature of the one-byte message 0x72), and the scheme by round trips.
const RFC8032_TEST2_SEED: &str = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
const RFC8032_TEST2_PUBLIC: &str =
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
const RFC8032_TEST2_SIG: &str = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

#[test]
fn discord_primitive_matches_rfc8032() {
    let KeyMaterial::Ed25519(public) = discord::public_key(RFC8032_TEST2_PUBLIC).unwrap() else {
        unreachable!()
    };
    let signature = hex::decode(RFC8032_TEST2_SIG).unwrap();
    assert!(discord::verify(
        &public,
        &[b"".as_slice(), b"r"],
        &signature
    ));
    assert!(!discord::verify(
        &public,
        &[b"".as_slice(), b"s"],
        &signature
    ));
    let KeyMaterial::Ed25519Signing(private) = discord::signing_key(RFC8032_TEST2_SEED).unwrap()
    else {
        unreachable!()
    };
    assert_eq!(
        hex::encode(discord::sign(&private, &[b"".as_slice(), b"r"])),
        RFC8032_TEST2_SIG
    );
}

fn signed_discord(body: &[u8], timestamp: i64) -> HeaderMap {
    let signer = Signer::new(
        Arc::new(discord::discord()),
        discord::signing_key(RFC8032_TEST2_SEED).unwrap(),
    );
    signer
        .sign(&Outgoing::new(body, timestamp, ""))
        .unwrap()
        .into_iter()
        .collect()
}

#[test]
fn discord_round_trip_and_tampering() {
    let scheme = discord::discord();
    let keyring = Keyring::new().with(Key::new(
        "app",
        scheme.parse_key(RFC8032_TEST2_PUBLIC).unwrap(),
    ));
    let body = br#"{"type":1}"#;
    let headers = signed_discord(body, 1_700_000_000);
    let check = |headers: &HeaderMap, body: &[u8]| {
        judge(
            &scheme,
            &keyring,
            &parts(Method::POST, UNSIGNED_URL, "application/json", headers),
            body,
        )
    };
    let matched = check(&headers, body).unwrap();
    assert_eq!(&*matched.key_id, "app");
    assert_eq!(
        check(&headers, br#"{"type":2}"#).unwrap_err(),
        Reason::SignatureMismatch
    );
    let mut later = headers.clone();
    later.insert(
        "x-signature-timestamp",
        HeaderValue::from_static("1700000001"),
    );
    assert_eq!(check(&later, body).unwrap_err(), Reason::SignatureMismatch);
    let mut flipped = headers.clone();
    let mut signature = hex::decode(headers["x-signature-ed25519"].as_bytes()).unwrap();
    signature[10] ^= 1;
    flipped.insert(
        "x-signature-ed25519",
        hex::encode(signature).parse().unwrap(),
    );
    assert_eq!(
        check(&flipped, body).unwrap_err(),
        Reason::SignatureMismatch
    );
    let other = Keyring::new().with(Key::new(
        "other",
        discord::public_key(&hex::encode(
            ed25519_dalek::SigningKey::from_bytes(&[1; 32])
                .verifying_key()
                .as_bytes(),
        ))
        .unwrap(),
    ));
    let head = parts(Method::POST, UNSIGNED_URL, "application/json", &headers);
    assert_eq!(
        judge(&scheme, &other, &head, body).unwrap_err(),
        Reason::SignatureMismatch
    );
    // A public key cannot sign.
    let error = Signer::new(
        Arc::new(discord::discord()),
        scheme.parse_key(RFC8032_TEST2_PUBLIC).unwrap(),
    )
    .sign(&Outgoing::new(body, 1, ""))
    .unwrap_err();
    assert_eq!(error, tower_webhook::signature::SignError::VerifyOnly);
}

#[test]
fn discord_refuses_bad_headers() {
    let scheme = discord::discord();
    let good = signed_discord(b"{}", 1_700_000_000);
    let cases: [(&str, Option<&str>, Reason); 5] = [
        ("x-signature-ed25519", None, Reason::SignatureMissing),
        (
            "x-signature-ed25519",
            Some("abcd"),
            Reason::SignatureMalformed,
        ),
        (
            "x-signature-ed25519",
            Some("zz"),
            Reason::SignatureMalformed,
        ),
        ("x-signature-timestamp", None, Reason::TimestampMissing),
        (
            "x-signature-timestamp",
            Some("soon"),
            Reason::TimestampMalformed,
        ),
    ];
    for (name, value, reason) in cases {
        let mut headers = good.clone();
        match value {
            Some(value) => headers.insert(name, value.parse().unwrap()),
            None => headers.remove(name),
        };
        let head = parts(Method::POST, UNSIGNED_URL, "application/json", &headers);
        assert_eq!(
            scheme.parse_head(&head).unwrap_err().reason(),
            reason,
            "{name}={value:?}"
        );
    }
}

// ---------------------------------------------------- Standard Webhooks v1a

#[test]
fn v1a_entries_verify_among_v1_entries_in_one_header() {
    let vector = vectors()
        .into_iter()
        .find(|v| v.id == "standardwebhooks-v1a-ed25519")
        .unwrap();
    let v1a = vector.header("webhook-signature").unwrap().to_owned();
    // The official v1 signature of the same message (Standard Webhooks'
    // libraries' shared `sign` test, key whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw).
    let v1 = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    let mut headers = vector.headers.clone();
    headers.insert(
        "webhook-signature",
        format!("v2,AAAA {v1} v1a,bm90IGEgc2lnbmF0dXJl {v1a}")
            .parse()
            .unwrap(),
    );
    let head = parts(Method::POST, UNSIGNED_URL, "application/json", &headers);
    let ed = judge(
        &standard_ed25519::standard_ed25519(),
        &keyring_for(&vector),
        &head,
        &vector.body,
    )
    .unwrap();
    assert_eq!(
        ed.candidate, 0,
        "only the decodable v1a entry is a candidate"
    );
    let hmac = judge(
        &provider::standard::standard_webhooks(),
        &Keyring::single(Secret::from_whsec("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()),
        &head,
        &vector.body,
    );
    assert!(hmac.is_ok(), "{hmac:?}");
    // Only v1 entries: nothing for an Ed25519 receiver, and no downgrade.
    headers.insert("webhook-signature", v1.parse().unwrap());
    let head = parts(Method::POST, UNSIGNED_URL, "application/json", &headers);
    assert_eq!(
        standard_ed25519::standard_ed25519()
            .parse_head(&head)
            .unwrap_err()
            .reason(),
        Reason::SignatureMalformed
    );
}

// ---------------------------------------------------------------- Mailgun

const MAILGUN_KEY: &str = "key-7d2f1e0c9b8a";
// The shape of Mailgun's documented signature block (docs, "Securing
// Webhooks": https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks).
// The docs publish no signing key and an illustrative signature, so the
// signature here is computed; the token and timestamp are the docs' own.
const DOCS_TOKEN: &str = "e0b5477167110d68991efc6b9f89f0a11066af27834600e123";
const DOCS_TIMESTAMP: i64 = 1_770_920_772;

fn mailgun_body(block: Value, event: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "signature": block,
        "event-data": { "event": event, "id": "CPgfbmQMTCKtHW6uIWtuVe" },
    }))
    .unwrap()
}

fn mailgun_judge(body: &[u8], key: &str) -> Result<Match, Reason> {
    let head = parts(
        Method::POST,
        UNSIGNED_URL,
        "application/json",
        &HeaderMap::new(),
    );
    judge(
        &mailgun::mailgun(),
        &Keyring::single(Secret::new(key).unwrap()),
        &head,
        body,
    )
}

#[test]
fn mailgun_round_trip_and_tampering() {
    let key = Secret::new(MAILGUN_KEY).unwrap();
    let block = mailgun::signature_block(&key, DOCS_TIMESTAMP, DOCS_TOKEN);
    assert_eq!(block["timestamp"], "1770920772");
    assert_eq!(block["signature"].as_str().unwrap().len(), 64);
    assert!(mailgun_judge(&mailgun_body(block.clone(), "delivered"), MAILGUN_KEY).is_ok());
    // Documented weakness: the event data is not signed.
    assert!(mailgun_judge(&mailgun_body(block.clone(), "failed"), MAILGUN_KEY).is_ok());
    for (field, value) in [
        ("token", Value::from(format!("{DOCS_TOKEN}x"))),
        ("timestamp", Value::from("1770920773")),
        ("signature", Value::from("00".repeat(32))),
    ] {
        let mut changed = block.clone();
        changed[field] = value;
        assert_eq!(
            mailgun_judge(&mailgun_body(changed, "delivered"), MAILGUN_KEY).unwrap_err(),
            Reason::SignatureMismatch,
            "{field}"
        );
    }
    assert_eq!(
        mailgun_judge(&mailgun_body(block, "delivered"), "key-other").unwrap_err(),
        Reason::SignatureMismatch
    );
}

#[test]
fn mailgun_parent_signature_verifies_with_the_parent_key() {
    let sub = Secret::new("key-subaccount").unwrap();
    let parent = Secret::new("key-parent").unwrap();
    let mut block = mailgun::signature_block(&sub, DOCS_TIMESTAMP, DOCS_TOKEN);
    block["parent-signature"] =
        mailgun::signature_block(&parent, DOCS_TIMESTAMP, DOCS_TOKEN)["signature"].clone();
    let body = mailgun_body(block, "delivered");
    assert_eq!(mailgun_judge(&body, "key-subaccount").unwrap().candidate, 0);
    assert_eq!(mailgun_judge(&body, "key-parent").unwrap().candidate, 1);
}

#[test]
fn mailgun_signs_only_through_the_body() {
    let error = Signer::new(
        Arc::new(mailgun::mailgun()),
        Secret::new(MAILGUN_KEY).unwrap().into(),
    )
    .sign(&Outgoing::new(b"{}", 1, ""))
    .unwrap_err();
    assert_eq!(error, tower_webhook::signature::SignError::SignedInBody);
}

// ---------------------------------------------------------- property tests

/// Every scheme of this file with a key that signs and the keyring that
/// verifies it.
fn signing_setups() -> Vec<(Arc<dyn Scheme>, KeyMaterial, Keyring)> {
    let shared = |scheme: Arc<dyn Scheme>| {
        let key = scheme.parse_key("prop-secret").unwrap();
        (scheme, key.clone(), Keyring::new().with(Key::new("k", key)))
    };
    let ed_private = discord::signing_key(RFC8032_TEST2_SEED).unwrap();
    let ed_public = discord::public_key(RFC8032_TEST2_PUBLIC).unwrap();
    let ec_private =
        KeyMaterial::EcdsaP256Signing(p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap());
    let ec_public = KeyMaterial::EcdsaP256(
        *p256::ecdsa::SigningKey::from_slice(&[7; 32])
            .unwrap()
            .verifying_key(),
    );
    vec![
        shared(Arc::new(twilio::twilio())),
        shared(Arc::new(square::square_with_legacy_sha1())),
        shared(Arc::new(square::square())),
        shared(Arc::new(hubspot::hubspot_v1())),
        shared(Arc::new(hubspot::hubspot_v2())),
        shared(Arc::new(hubspot::hubspot_v3())),
        (
            Arc::new(discord::discord()),
            ed_private.clone(),
            Keyring::new().with(Key::new("k", ed_public.clone())),
        ),
        (
            Arc::new(standard_ed25519::standard_ed25519()),
            ed_private,
            Keyring::new().with(Key::new("k", ed_public)),
        ),
        (
            Arc::new(sendgrid::sendgrid()),
            ec_private,
            Keyring::new().with(Key::new("k", ec_public)),
        ),
    ]
}

thread_local! {
    static SETUPS: Vec<(Arc<dyn Scheme>, KeyMaterial, Keyring)> = signing_setups();
}

fn form_body() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(("[A-Za-z]{1,6}", "[ -~]{0,8}"), 0..6).prop_map(|pairs| {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
            .into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn sign_then_verify_round_trips(
        body in prop_oneof![form_body(), proptest::collection::vec(any::<u8>(), 0..300)],
        // Ten digits of seconds: HubSpot, SendGrid and Discord glue the
        // timestamp to the body and accept only fixed-width ones.
        timestamp in 1_000_000_000i64..4_000_000_000,
        id in "[a-zA-Z0-9_]{1,24}",
        path in "/[a-z]{0,8}(\\?[a-z]=[a-z0-9]{0,4})?",
        flip in any::<prop::sample::Index>(),
    ) {
        let url = format!("https://hooks.example.com{path}");
        for (scheme, key, keyring) in SETUPS.with(Clone::clone) {
            let headers: HeaderMap = Signer::new(Arc::clone(&scheme), key)
                .sign(&Outgoing::new(&body, timestamp, &id).to_url(&url))
                .unwrap()
                .into_iter()
                .collect();
            let content_type = "application/x-www-form-urlencoded";
            let head = parts(Method::POST, &url, content_type, &headers);
            let matched = judge(scheme.as_ref(), &keyring, &head, &body);
            // `{URL}{body}` (HubSpot v2/v3, Square) has one reading only
            // when the body cannot continue the URL; others are refused.
            let glued_to_url = |body: &[u8]| {
                matches!(scheme.name(), "hubspot-v2" | "hubspot-v3" | "square")
                    && body.first().is_some_and(|&b| {
                        b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b)
                    })
            };
            // HubSpot's forgeable v1/v2 refuse a body that is not UTF-8
            // (what a length extension's padding makes).
            let refused = |body: &[u8]| {
                glued_to_url(body)
                    || (matches!(scheme.name(), "hubspot-v1" | "hubspot-v2")
                        && std::str::from_utf8(body).is_err())
            };
            if refused(&body) {
                prop_assert_eq!(matched.unwrap_err(), Reason::SignatureMalformed, "{}", scheme.name());
                continue;
            }
            prop_assert!(matched.is_ok(), "{}: {:?}", scheme.name(), matched);
            // Any change to the signed bytes fails (v1 ignores the URL, and
            // a form body's change may be a no-op on the sorted parameters).
            if !body.is_empty() && scheme.name() != "twilio" {
                let mut changed = body.clone();
                let i = flip.index(changed.len());
                changed[i] ^= 0x01;
                let result = judge(scheme.as_ref(), &keyring, &head, &changed);
                let expected = if refused(&changed) {
                    Reason::SignatureMalformed
                } else {
                    Reason::SignatureMismatch
                };
                prop_assert_eq!(result.unwrap_err(), expected, "{}", scheme.name());
            }
        }
    }

    #[test]
    fn twilio_params_change_fails(
        pairs in proptest::collection::vec(("[A-Za-z]{1,6}", "[a-z0-9]{0,8}"), 1..6),
        extra in "[a-z]{1,4}",
    ) {
        let url = "https://hooks.example.com/sms";
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
        let key = twilio::twilio().parse_key("prop-secret").unwrap();
        let headers: HeaderMap = Signer::new(Arc::new(twilio::twilio()), key.clone())
            .sign(&Outgoing::new(body.as_bytes(), 0, "").to_url(url))
            .unwrap()
            .into_iter()
            .collect();
        let head = parts(Method::POST, url, "application/x-www-form-urlencoded", &headers);
        let keyring = Keyring::new().with(Key::new("k", key));
        // Parameter order on the wire does not matter...
        let reversed = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().rev())
            .finish();
        prop_assert!(judge(&twilio::twilio(), &keyring, &head, reversed.as_bytes()).is_ok());
        // ...but a new parameter does.
        let added = format!("{body}&Zz{extra}=1");
        prop_assert_eq!(
            judge(&twilio::twilio(), &keyring, &head, added.as_bytes()).unwrap_err(),
            Reason::SignatureMismatch
        );
    }

    #[test]
    fn parsers_never_panic(
        values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 8),
        body in proptest::collection::vec(any::<u8>(), 0..400),
        json_ish in "\\{\"signature\":\\{\"timestamp\":\"[0-9a-z]{0,12}\",\"token\":\"[ -~]{0,12}\",\"signature\":\"[0-9a-fz]{0,70}\"\\}\\}",
    ) {
        let names = [
            "x-twilio-signature",
            "x-square-hmacsha256-signature",
            "x-hubspot-signature-v3",
            "x-hubspot-request-timestamp",
            "x-signature-ed25519",
            "webhook-signature",
            "x-twilio-email-event-webhook-signature",
            "x-twilio-email-event-webhook-timestamp",
        ];
        let mut headers = HeaderMap::new();
        for (name, value) in names.iter().zip(&values) {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                headers.insert(*name, value);
            }
        }
        for name in ["x-signature-timestamp", "webhook-timestamp", "webhook-id", "x-hubspot-signature", "x-hubspot-signature-version"] {
            headers.insert(name, HeaderValue::from_static("1700000000"));
        }
        let mut all = SETUPS.with(Clone::clone);
        let shared = all[0].2.clone();
        all.push((Arc::new(mailgun::mailgun()), Secret::new("k").unwrap().into(), shared));
        for content_type in ["application/json", "application/x-www-form-urlencoded"] {
            for url in ["https://hooks.example.com/x?bodySHA256=00", "https://hooks.example.com/x"] {
                let head = parts(Method::POST, url, content_type, &headers);
                for (scheme, _, keyring) in &all {
                    let _ = judge(scheme.as_ref(), keyring, &head, &body);
                    let _ = judge(scheme.as_ref(), keyring, &head, json_ish.as_bytes());
                }
            }
        }
    }
}

// ---------------------------------------------------------------- over HTTP

type Seen = Arc<Mutex<Vec<Verification>>>;

async fn capture(State(seen): State<Seen>, mut request: Request, next: Next) -> Response {
    let context = WebhookContext::of(&mut request);
    let response = next.run(request).await;
    seen.lock().unwrap().push(context.snapshot());
    response
}

async fn accepted(verification: Verification) -> String {
    let auth = verification.authentication.expect("authenticated");
    format!(
        "{}|{}|{}",
        auth.scheme.as_deref().unwrap_or("-"),
        auth.key_id.as_deref().unwrap_or("-"),
        // The delivery id the signature covers (Mailgun's token).
        verification
            .signed
            .and_then(|signed| signed
                .id()
                .map(|id| String::from_utf8_lossy(id).into_owned()))
            .unwrap_or_else(|| "-".into())
    )
}

async fn serve(path: &str, layer: SignatureLayer) -> (std::net::SocketAddr, Seen) {
    let seen = Seen::default();
    let router = Router::new()
        .route(path, post(accepted).layer(layer))
        .layer(middleware::from_fn_with_state(Arc::clone(&seen), capture));
    (support::serve(router).await, seen)
}

async fn send(
    addr: std::net::SocketAddr,
    path: &str,
    content_type: &str,
    headers: &HeaderMap,
    body: impl Into<Bytes>,
) -> support::Reply {
    let mut request = support::post(addr, path)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(Full::new(body.into()))
        .unwrap();
    for (name, value) in headers {
        request.headers_mut().append(name, value.clone());
    }
    support::send(request).await
}

fn last(seen: &Seen) -> Verification {
    seen.lock()
        .unwrap()
        .last()
        .cloned()
        .expect("a request was seen")
}

#[tokio::test]
async fn twilio_behind_a_proxy_that_rewrites_the_url() {
    // Twilio calls https://hooks.example.com/twilio/sms?tenant=7; the proxy
    // terminates TLS, strips `/twilio` and forwards to 127.0.0.1:<port>/sms.
    let public = "https://hooks.example.com/twilio";
    let token = "0123456789abcdef0123456789abcdef";
    let scheme = twilio::twilio().public_url(PublicUrl::base(public).unwrap());
    let layer = SignatureLayer::new(scheme, Keyring::single(Secret::new(token).unwrap())).unwrap();
    let (addr, seen) = serve("/sms", layer).await;
    let signer = Signer::preset("twilio", token).unwrap();
    let form = "From=%2B14158675309&Body=Hello+%C3%A9&To=%2B18005551212";
    let sign = |url: &str, body: &[u8]| -> HeaderMap {
        signer
            .sign(&Outgoing::new(body, 0, "").to_url(url))
            .unwrap()
            .into_iter()
            .collect()
    };
    let form_type = "application/x-www-form-urlencoded";

    let headers = sign(
        "https://hooks.example.com/twilio/sms?tenant=7",
        form.as_bytes(),
    );
    let reply = send(addr, "/sms?tenant=7", form_type, &headers, form).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.text(), "twilio|default|-");

    // Twilio's back end may sign the explicit default port.
    let headers = sign(
        "https://hooks.example.com:443/twilio/sms?tenant=7",
        form.as_bytes(),
    );
    let reply = send(addr, "/sms?tenant=7", form_type, &headers, form).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

    // Signed for the URL the service sees, not the public one: refused.
    let internal = format!("http://{addr}/sms?tenant=7");
    let headers = sign(&internal, form.as_bytes());
    let reply = send(addr, "/sms?tenant=7", form_type, &headers, form).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(last(&seen).rejection, Some(Reason::SignatureMismatch));

    // Another query, or a changed parameter: refused.
    let headers = sign(
        "https://hooks.example.com/twilio/sms?tenant=7",
        form.as_bytes(),
    );
    let reply = send(addr, "/sms?tenant=8", form_type, &headers, form).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = send(
        addr,
        "/sms?tenant=7",
        form_type,
        &headers,
        form.replace("Hello", "Hullo"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(last(&seen).rejection, Some(Reason::SignatureMismatch));

    // No signature at all.
    let reply = send(addr, "/sms?tenant=7", form_type, &HeaderMap::new(), form).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(last(&seen).rejection, Some(Reason::SignatureMissing));

    // JSON variant: the URL carries the body's hash.
    let json = br#"{"CallSid":"CA1","Status":"completed"}"#;
    let url = twilio::json_url("https://hooks.example.com/twilio/sms?tenant=7", json);
    let headers = sign(&url, json);
    let path = url.trim_start_matches(public).to_owned();
    let reply = send(addr, &path, "application/json", &headers, &json[..]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let reply = send(
        addr,
        &path,
        "application/json",
        &headers,
        &br#"{"CallSid":"CA2","Status":"completed"}"#[..],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(last(&seen).rejection, Some(Reason::SignatureMismatch));
}

#[tokio::test]
async fn mailgun_signature_in_the_body_over_http() {
    let key = Secret::new(MAILGUN_KEY).unwrap();
    let layer = SignatureLayer::new(mailgun::mailgun(), Keyring::single(key.clone())).unwrap();
    let (addr, seen) = serve("/mailgun", layer).await;
    let block = mailgun::signature_block(&key, DOCS_TIMESTAMP, DOCS_TOKEN);
    let json = "application/json";

    let reply = send(
        addr,
        "/mailgun",
        json,
        &HeaderMap::new(),
        mailgun_body(block.clone(), "delivered"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.text(), format!("mailgun|default|{DOCS_TOKEN}"));
    let verification = last(&seen);
    let timestamp = verification.timestamp.expect("timestamp recorded");
    assert_eq!(timestamp.unix_millis, DOCS_TIMESTAMP * 1000);
    assert!(timestamp.signed);

    // The legacy form-encoded webhook.
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("timestamp", block["timestamp"].as_str().unwrap())
        .append_pair("token", DOCS_TOKEN)
        .append_pair("signature", block["signature"].as_str().unwrap())
        .append_pair("event", "delivered")
        .finish();
    let reply = send(
        addr,
        "/mailgun",
        "application/x-www-form-urlencoded",
        &HeaderMap::new(),
        form,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

    let mut forged = block.clone();
    forged["token"] = Value::from("f".repeat(50));
    let reply = send(
        addr,
        "/mailgun",
        json,
        &HeaderMap::new(),
        mailgun_body(forged, "delivered"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(last(&seen).rejection, Some(Reason::SignatureMismatch));

    let reply = send(
        addr,
        "/mailgun",
        json,
        &HeaderMap::new(),
        r#"{"event-data":{}}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(last(&seen).rejection, Some(Reason::SignatureMissing));

    let mut bad = block;
    bad["signature"] = Value::from("not hex");
    let reply = send(
        addr,
        "/mailgun",
        json,
        &HeaderMap::new(),
        mailgun_body(bad, "delivered"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(last(&seen).rejection, Some(Reason::SignatureMalformed));
}

#[tokio::test]
async fn asymmetric_presets_over_http() {
    // SendGrid's official vector and Standard Webhooks v1a's, each through
    // its preset layer built from the key as the provider shows it.
    for vector in vectors().into_iter().filter(|v| {
        matches!(
            v.scheme.as_str(),
            "sendgrid-ecdsa" | "standard-webhooks-v1a"
        )
    }) {
        let layer = SignatureLayer::preset(vector.preset_name(), &vector.secret).unwrap();
        let (addr, seen) = serve("/hook", layer).await;
        let reply = send(
            addr,
            "/hook",
            "application/json",
            &vector.headers,
            vector.body.clone(),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}: {}",
            vector.id,
            reply.text()
        );
        let mut body = vector.body.clone();
        body.push(b' ');
        let reply = send(addr, "/hook", "application/json", &vector.headers, body).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", vector.id);
        assert_eq!(last(&seen).rejection, Some(Reason::SignatureMismatch));
    }
}
