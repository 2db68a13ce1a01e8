//! Every official vector (tests/vectors/official.json) for the HMAC schemes
//! of this module, checked at the scheme level and through a real HTTP
//! server, plus sign → verify round trips and tamper tests for every preset.

use crate::support;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use http_body_util::Full;
use serde_json::Value;
use tower_webhook::provider;
use tower_webhook::signature::{
    Delivery, Key, KeyMaterial, Keyring, Outgoing, Scheme, SignatureLayer, Signer, TimestampFormat,
};
use tower_webhook::{Reason, Secret};

/// Schemes of the vector file handled elsewhere (the asymmetric and
/// URL-signing presets have their own test file).
const OTHER_SCHEMES: &[&str] = &[
    "standard-webhooks-v1a",
    "twilio-form",
    "twilio-json",
    "square-hmac-sha256",
    "sendgrid-ecdsa",
    "hubspot-v1",
    "hubspot-v2",
    "hubspot-v3",
];

/// A key as a provider that shows hex keys (Adyen) shows it.
const HEX_KEY: &str = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056";

struct Vector {
    id: String,
    scheme: String,
    expected_valid: bool,
    secret: String,
    secret_bytes: Vec<u8>,
    headers: HeaderMap,
    body: Vec<u8>,
    verify_at: SystemTime,
    tolerance: Option<Duration>,
    extra: Value,
}

fn vectors() -> Vec<Vector> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/official.json"
    ))
    .unwrap();
    let all: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(all.len(), 36, "the vector file changed");
    all.into_iter()
        .map(|v| {
            let mut headers = HeaderMap::new();
            for (name, value) in v["headers"].as_object().unwrap() {
                headers.append(
                    HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value.as_str().unwrap()).unwrap(),
                );
            }
            let body = match v["body_hex"].as_str() {
                Some(hex_body) => hex::decode(hex_body).unwrap(),
                None => {
                    let generator = &v["extra"]["body_generator"];
                    generator["repeat"]
                        .as_str()
                        .unwrap()
                        .repeat(generator["count"].as_u64().unwrap() as usize)
                        .into_bytes()
                }
            };
            Vector {
                id: v["id"].as_str().unwrap().to_owned(),
                scheme: v["scheme"].as_str().unwrap().to_owned(),
                expected_valid: v["expected_valid"].as_bool().unwrap(),
                secret: v["secret"].as_str().unwrap().to_owned(),
                secret_bytes: hex::decode(v["secret_bytes_hex"].as_str().unwrap()).unwrap(),
                headers,
                body,
                verify_at: UNIX_EPOCH + Duration::from_secs(v["verify_at"].as_u64().unwrap_or(0)),
                tolerance: v["tolerance_seconds"].as_u64().map(Duration::from_secs),
                extra: v["extra"].clone(),
            }
        })
        .collect()
}

/// The preset(s) that must accept vector `v` (Svix's names are also
/// accepted by the Svix preset when unbranded).
fn presets_for(v: &Vector) -> Option<Vec<Arc<dyn Scheme>>> {
    let presets: Vec<Arc<dyn Scheme>> = match v.scheme.as_str() {
        "github-sha256" => vec![
            Arc::new(provider::github::github()),
            Arc::new(provider::github::github_with_sha1()),
        ],
        "github-sha1-legacy" => vec![
            Arc::new(provider::github::github_sha1_only()),
            Arc::new(provider::github::github_with_sha1()),
        ],
        "standard-webhooks-v1" if v.headers.contains_key("svix-signature") => {
            vec![Arc::new(provider::svix::svix())]
        }
        "standard-webhooks-v1" => vec![
            Arc::new(provider::standard::standard_webhooks()),
            Arc::new(provider::gitlab::gitlab()),
            Arc::new(provider::svix::svix()),
        ],
        "slack-v0" => vec![Arc::new(provider::slack::slack())],
        "shopify-hmac" => vec![Arc::new(provider::shopify::shopify())],
        "paddle-h1" => vec![Arc::new(provider::paddle::paddle())],
        other => {
            assert!(
                OTHER_SCHEMES.contains(&other),
                "vector scheme `{other}` is not covered"
            );
            return None;
        }
    };
    Some(presets)
}

fn parts(headers: &HeaderMap) -> http::request::Parts {
    let mut request = Request::post("https://example.com/hook?x=1")
        .body(())
        .unwrap();
    *request.headers_mut() = headers.clone();
    request.into_parts().0
}

/// Verify at the scheme level, as the layer does.
fn verify(
    scheme: &dyn Scheme,
    keyring: &Keyring,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<String, Reason> {
    let parts = parts(headers);
    let signatures = scheme.parse_head(&parts).map_err(|r| r.reason())?;
    let signatures = scheme
        .parse_body(signatures, &parts, body)
        .map_err(|r| r.reason())?;
    let delivery = Delivery {
        parts: &parts,
        body,
    };
    keyring
        .verify(scheme, &signatures, &delivery, now)
        .map(|m| m.key_id.to_string())
}

fn keyring_of(scheme: &dyn Scheme, shown: &str) -> Keyring {
    Keyring::new().with(Key::new("k", scheme.parse_key(shown).unwrap()))
}

#[test]
fn every_owned_vector_verifies_or_fails_as_published() {
    let mut checked = 0;
    let mut skipped = Vec::new();
    for v in vectors() {
        let Some(presets) = presets_for(&v) else {
            skipped.push(v.id.clone());
            continue;
        };
        for scheme in presets {
            let key = scheme.parse_key(&v.secret).unwrap();
            let KeyMaterial::Shared(shared) = &key else {
                panic!("{}: not a shared key", v.id)
            };
            assert_eq!(
                shared.secret().expose_secret(),
                v.secret_bytes,
                "{}: key bytes",
                v.id
            );
            // The documented window the replay layer defaults to.
            assert_eq!(
                scheme.tolerance().and_then(|t| t.past),
                v.tolerance,
                "{}: tolerance of {}",
                v.id,
                scheme.name()
            );
            let keyring = Keyring::new().with(Key::new("k", key));
            let result = verify(scheme.as_ref(), &keyring, &v.headers, &v.body, v.verify_at);
            if v.expected_valid {
                assert_eq!(
                    result,
                    Ok("k".to_owned()),
                    "{} with {}",
                    v.id,
                    scheme.name()
                );
            } else {
                assert_eq!(result, Err(Reason::SignatureMismatch), "{}", v.id);
            }
            if let Some(others) = v.extra["other_secrets_that_fail"].as_array() {
                for other in others {
                    let keyring = keyring_of(scheme.as_ref(), other.as_str().unwrap());
                    let result =
                        verify(scheme.as_ref(), &keyring, &v.headers, &v.body, v.verify_at);
                    assert_eq!(
                        result,
                        Err(Reason::SignatureMismatch),
                        "{}: other secret",
                        v.id
                    );
                }
            }
            checked += 1;
        }
    }
    // 6 GitHub vectors × 2 presets, 4 unbranded Standard Webhooks × 3, 4 Svix,
    // Slack, Shopify, 5 Paddle.
    assert_eq!(checked, 35, "vectors × presets checked");
    assert_eq!(
        skipped,
        [
            "standardwebhooks-v1a-ed25519",
            "twilio-form-params",
            "twilio-repeated-params",
            "twilio-port-https-443",
            "twilio-port-http-80",
            "twilio-port-http-1234",
            "twilio-json-body-bodySHA256",
            "square-sdk-test-notification",
            "square-sdk-escaped-chars",
            "sendgrid-sdk-dropped-event",
            "hubspot-v1-sdk",
            "hubspot-v1-docs",
            "hubspot-v2-post-sdk",
            "hubspot-v2-get-docs",
            "hubspot-v3-sdk",
        ]
    );
}

/// The signing side reproduces each published single-signature header
/// byte for byte.
#[test]
fn signing_reproduces_the_published_headers() {
    let mut compared = 0;
    for v in vectors().into_iter().filter(|v| v.expected_valid) {
        let Some(presets) = presets_for(&v) else {
            continue;
        };
        let scheme = &presets[0];
        let key = scheme.parse_key(&v.secret).unwrap();
        let timestamp = v.verify_at.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        let id = ["webhook-id", "svix-id"]
            .iter()
            .find_map(|name| v.headers.get(*name))
            .map_or("", |id| id.to_str().unwrap());
        let signed = scheme
            .sign(&key, &Outgoing::new(&v.body, timestamp, id))
            .unwrap();
        let (name, value) = signed.last().unwrap();
        let published = v.headers.get(name).unwrap();
        // Multi-signature headers (rotation examples) cannot be reproduced
        // by one key; their single signature must be among them.
        let one = !published.to_str().unwrap().contains(' ')
            && published.to_str().unwrap().matches("h1=").count() <= 1;
        if one {
            assert_eq!(value, published, "{}", v.id);
            compared += 1;
        } else {
            let value = value.to_str().unwrap();
            let sig = value.rsplit(['=', ',', ';']).next().unwrap();
            assert!(published.to_str().unwrap().contains(sig), "{}", v.id);
        }
        for (name, value) in &signed[..signed.len() - 1] {
            if let Some(published) = v.headers.get(name) {
                assert_eq!(value, published, "{}: {name}", v.id);
            }
        }
    }
    assert!(compared >= 14, "compared {compared}");
}

/// Every vector also passes through the layer on a real server.
#[tokio::test]
async fn owned_vectors_over_http() {
    for v in vectors() {
        let Some(presets) = presets_for(&v) else {
            continue;
        };
        let scheme = Arc::clone(&presets[0]);
        let keyring = keyring_of(scheme.as_ref(), &v.secret);
        let layer = SignatureLayer::from_arc(scheme, keyring)
            .unwrap()
            .body_limit(2 << 20);
        let addr =
            support::serve(Router::new().route("/hook", post(|| async { "ok" }).layer(layer)))
                .await;
        let mut request = support::post(addr, "/hook")
            .body(Full::new(Bytes::from(v.body.clone())))
            .unwrap();
        request.headers_mut().extend(v.headers.clone());
        let reply = support::send(request).await;
        let expected = if v.expected_valid {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(reply.status, expected, "{}: {}", v.id, reply.text());
    }
}

/// The presets round-trip: what a scheme signs, it verifies; and a changed
/// body, timestamp, id or key fails.
#[test]
fn every_preset_round_trips_and_detects_tampering() {
    let timestamp = 1_700_000_000;
    let id = "msg_2b9f0c";
    let body = b"{\"event\":\"ping\",\"bytes\":\"\xff\xfe not utf-8\"}";
    let mut covered = Vec::new();
    let mut extra: Vec<(&str, Arc<dyn Scheme>)> = vec![
        (
            "github+sha1",
            Arc::new(provider::github::github_with_sha1()),
        ),
        ("gitlab", Arc::new(provider::gitlab::gitlab())),
    ];
    for name in tower_webhook::provider::SHARED_SECRET_SCHEMES {
        if let Ok(scheme) = tower_webhook::provider::scheme_by_name(name) {
            extra.push((name, scheme));
        }
    }
    for (name, scheme) in extra {
        let secret = if matches!(name, "standard" | "svix" | "gitlab") {
            Secret::generate().to_whsec()
        } else {
            // Text, else hex (Adyen shows its key as hex).
            ["a-provider-secret-0123456789", HEX_KEY]
                .into_iter()
                .find(|shown| scheme.parse_key(shown).is_ok())
                .unwrap_or_else(|| panic!("{name}: no key form fits"))
                .to_owned()
        };
        let keyring = keyring_of(scheme.as_ref(), &secret);
        let signer = Signer::new(Arc::clone(&scheme), scheme.parse_key(&secret).unwrap());
        let outgoing = Outgoing::new(body, timestamp, id).to_url("https://example.com/hook?x=1");
        let signed = signer.sign(&outgoing).unwrap();
        let headers: HeaderMap = signed.iter().cloned().collect();
        let now = SystemTime::now();
        assert_eq!(
            verify(scheme.as_ref(), &keyring, &headers, body, now),
            Ok("k".to_owned()),
            "{name}"
        );

        // The last byte: flipping the first (`{` into `z`) would make the
        // body continue the URL, which HubSpot and Square refuse as
        // malformed before any key is tried.
        let mut tampered_body = body.to_vec();
        let last = tampered_body.len() - 1;
        tampered_body[last] ^= 1;
        assert_eq!(
            verify(scheme.as_ref(), &keyring, &headers, &tampered_body, now),
            Err(Reason::SignatureMismatch),
            "{name}: body"
        );

        // Another key in the same form (whsec_ or text, base64, hex).
        let other_key = [
            Secret::generate().to_whsec(),
            "b3RoZXIta2V5".to_owned(),
            "00".repeat(32),
        ]
        .into_iter()
        .find(|key| scheme.parse_key(key).is_ok())
        .unwrap();
        let other = keyring_of(scheme.as_ref(), &other_key);
        assert_eq!(
            verify(scheme.as_ref(), &other, &headers, body, now),
            Err(Reason::SignatureMismatch),
            "{name}: key"
        );

        // Change the timestamp or the id wherever they appear (their own
        // headers, or a field of the signature header).
        let replacements = [
            TimestampFormat::Seconds,
            TimestampFormat::Millis,
            TimestampFormat::Rfc3339,
        ]
        .map(|format| {
            (
                format.format(timestamp).unwrap(),
                format.format(timestamp + 1).unwrap(),
            )
        });
        let mut tampered_fields = 0;
        for (from, to) in replacements
            .iter()
            .cloned()
            .chain([(id.to_owned(), "msg_2b9f0d".to_owned())])
        {
            for (header, value) in &signed {
                let text = value.to_str().unwrap();
                if !text.contains(&from) {
                    continue;
                }
                let mut headers = headers.clone();
                headers.insert(
                    header.clone(),
                    HeaderValue::from_str(&text.replace(&from, &to)).unwrap(),
                );
                assert_eq!(
                    verify(scheme.as_ref(), &keyring, &headers, body, now),
                    Err(Reason::SignatureMismatch),
                    "{name}: {header} {from} -> {to}"
                );
                tampered_fields += 1;
            }
        }
        covered.push((name.to_owned(), tampered_fields));
    }
    // Schemes that sign a timestamp and/or an id had them tampered.
    for (name, fields) in &covered {
        let expected = match name.as_str() {
            "standard" | "svix" | "gitlab" | "twitch" => 2,
            "stripe" | "slack" | "zoom" | "paddle" | "timestamped" => 1,
            _ => 0,
        };
        assert!(*fields >= expected, "{name}: {fields} fields tampered");
    }
    assert!(covered.len() >= 20, "{covered:?}");
}

#[test]
fn rotation_window_at_the_scheme_level() {
    let scheme = provider::github::github();
    let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let keyring = Keyring::new()
        .with(Key::new("old", Secret::new("old-secret").unwrap()).valid_until(t0))
        .with(
            Key::new("new", Secret::new("new-secret").unwrap())
                .valid_from(t0 - Duration::from_secs(3600)),
        );
    let sign = |secret: &str| -> HeaderMap {
        Signer::new(
            Arc::new(provider::github::github()),
            Secret::new(secret).unwrap().into(),
        )
        .sign(&Outgoing::new(b"{}", 0, ""))
        .unwrap()
        .into_iter()
        .collect()
    };
    let old = sign("old-secret");
    let new = sign("new-secret");
    let during = t0 - Duration::from_secs(60);
    assert_eq!(
        verify(&scheme, &keyring, &old, b"{}", during),
        Ok("old".into())
    );
    assert_eq!(
        verify(&scheme, &keyring, &new, b"{}", during),
        Ok("new".into())
    );
    let after = t0 + Duration::from_secs(1);
    assert_eq!(
        verify(&scheme, &keyring, &old, b"{}", after),
        Err(Reason::KeyExpired)
    );
    assert_eq!(
        verify(&scheme, &keyring, &new, b"{}", after),
        Ok("new".into())
    );
    let before = t0 - Duration::from_secs(7200);
    assert_eq!(
        verify(&scheme, &keyring, &new, b"{}", before),
        Err(Reason::KeyExpired)
    );
}

#[test]
fn the_clock_is_read_only_when_a_key_has_a_window() {
    let scheme = provider::github::github();
    let headers: HeaderMap = Signer::new(
        Arc::new(provider::github::github()),
        Secret::new("plain-secret").unwrap().into(),
    )
    .sign(&Outgoing::new(b"{}", 0, ""))
    .unwrap()
    .into_iter()
    .collect();
    let parts = parts(&headers);
    let signatures = scheme.parse_head(&parts).unwrap();
    let delivery = Delivery {
        parts: &parts,
        body: b"{}",
    };
    let reads = std::cell::Cell::new(0);
    let clock = || {
        reads.set(reads.get() + 1);
        SystemTime::now()
    };
    let plain = Keyring::new().with(Key::new("plain", Secret::new("plain-secret").unwrap()));
    let matched = plain.verify_with_clock(&scheme, &signatures, &delivery, clock);
    assert_eq!(matched.map(|m| m.key_id.to_string()), Ok("plain".into()));
    assert_eq!(reads.get(), 0, "no window, no clock");

    let until = SystemTime::now() + Duration::from_secs(3600);
    let windowed =
        plain.with(Key::new("old", Secret::new("old-secret").unwrap()).valid_until(until));
    let matched = windowed.verify_with_clock(&scheme, &signatures, &delivery, clock);
    assert_eq!(matched.map(|m| m.key_id.to_string()), Ok("plain".into()));
    assert_eq!(reads.get(), 1);
    // Past the window: the old key is not tried, and the plain one still is.
    let later = windowed.verify_with_clock(&scheme, &signatures, &delivery, || {
        until + Duration::from_secs(1)
    });
    assert_eq!(later.map(|m| m.key_id.to_string()), Ok("plain".into()));
}
