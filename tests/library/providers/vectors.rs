//! The providers' own published examples (tests/vectors/published.json for
//! the providers added from research/, tests/vectors/official.json for the
//! first ones), run through each provider's registry scheme and through its
//! signature layer on a real server; and the registry's `verified` marks
//! held to them: a provider is verified exactly when examples it published
//! are here, under the sources the registry names. A community library's
//! example (Airtable's, from pyairtable) is run too, but never counts.

use crate::support;

use std::collections::BTreeSet;
use std::time::SystemTime;

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use http_body_util::Full;
use serde_json::Value;
use tower_webhook::provider::{self, Vectors};
use tower_webhook::signature::{Delivery, Key, Keyring, Scheme, SignatureLayer};
use tower_webhook::Reason;

struct Vector {
    id: String,
    provider: String,
    expected_valid: bool,
    secret: String,
    headers: HeaderMap,
    body: Vec<u8>,
    origin: String,
    source: String,
}

fn read(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn published() -> Vec<Vector> {
    read("published.json")
        .into_iter()
        .map(|v| {
            let mut headers = HeaderMap::new();
            for (name, value) in v["headers"].as_object().unwrap() {
                headers.append(
                    HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value.as_str().unwrap()).unwrap(),
                );
            }
            let text = |field: &str| v[field].as_str().unwrap().to_owned();
            Vector {
                id: text("id"),
                provider: text("provider"),
                expected_valid: v["expected_valid"].as_bool().unwrap(),
                secret: text("secret"),
                headers,
                body: hex::decode(text("body_hex")).unwrap(),
                origin: text("origin"),
                source: format!("{} {}", text("source_repo"), text("source_path")),
            }
        })
        .collect()
}

/// The registry provider of an official.json vector, and its source (the
/// HubSpot v1/v2 vectors belong to variants no provider is built on).
fn official() -> Vec<(&'static str, bool, String)> {
    read("official.json")
        .into_iter()
        .filter_map(|v| {
            let provider = match (v["provider"].as_str()?, v["scheme"].as_str()?) {
                ("standard-webhooks", "standard-webhooks-v1a") => "standard-ed25519",
                ("standard-webhooks", _) => "standard",
                ("hubspot", "hubspot-v3") => "hubspot-v3",
                ("hubspot", _) => return None,
                (name, _) => provider::by_name(name).ok()?.name,
            };
            Some((
                provider,
                v["expected_valid"].as_bool()?,
                v["source"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

fn scheme_of(v: &Vector) -> std::sync::Arc<dyn Scheme> {
    (provider::by_name(&v.provider)
        .unwrap_or_else(|e| panic!("{}: {e}", v.id))
        .scheme)()
}

/// The verdict of the provider's scheme on a vector, as the layer reaches it.
fn verify(v: &Vector, body: &[u8]) -> Result<(), Reason> {
    let scheme = scheme_of(v);
    let key = scheme
        .parse_key(&v.secret)
        .unwrap_or_else(|e| panic!("{}: key: {e}", v.id));
    let keyring = Keyring::new().with(Key::new("k", key));
    let mut request = Request::post("https://receiver.example/hook")
        .body(())
        .unwrap();
    *request.headers_mut() = v.headers.clone();
    let parts = request.into_parts().0;
    let signatures = scheme.parse_head(&parts).map_err(|r| r.reason())?;
    let signatures = scheme
        .parse_body(signatures, &parts, body)
        .map_err(|r| r.reason())?;
    let delivery = Delivery {
        parts: &parts,
        body,
    };
    keyring
        .verify(scheme.as_ref(), &signatures, &delivery, SystemTime::now())
        .map(|_| ())
}

#[test]
fn every_published_vector_verifies_or_fails_as_published() {
    let vectors = published();
    assert_eq!(vectors.len(), 66, "the vector file changed");
    for v in &vectors {
        let verdict = verify(v, &v.body);
        if v.expected_valid {
            assert_eq!(verdict, Ok(()), "{}", v.id);
            // Any change to the signed bytes is refused. Adyen signs fields
            // inside the body, not its last byte: one of them is changed.
            let mut tampered = v.body.clone();
            if v.provider == "adyen" {
                tampered = String::from_utf8(tampered)
                    .unwrap()
                    .replacen(r#""pspReference": ""#, r#""pspReference": "9"#, 1)
                    .into_bytes();
                assert_ne!(tampered, v.body, "{}", v.id);
            } else if let Some(last) = tampered.last_mut() {
                *last ^= 0x20;
            }
            assert_eq!(
                verify(v, &tampered),
                Err(Reason::SignatureMismatch),
                "{}: tampered body",
                v.id
            );
        } else {
            // A value that is not a signature at all (Orb's
            // `my_invalid_signature`) is malformed; the rest mismatch.
            assert!(
                matches!(
                    verdict,
                    Err(Reason::SignatureMismatch | Reason::SignatureMalformed)
                ),
                "{}: {verdict:?}",
                v.id
            );
        }
    }
}

#[test]
fn box_verifies_with_either_key_and_refuses_a_broken_second_signature() {
    let vectors = published();
    let primary = vectors.iter().find(|v| v.id == "box-1").unwrap();
    let secondary = vectors.iter().find(|v| v.id == "box-2").unwrap();
    assert_ne!(primary.secret, secondary.secret);
    assert_eq!(verify(primary, &primary.body), Ok(()));
    assert_eq!(verify(secondary, &secondary.body), Ok(()));
    // Box sends both headers; one that holds no signature is not ignored
    // because the other does.
    let mut broken = clone(secondary);
    broken.headers.insert(
        "box-signature-primary",
        HeaderValue::from_static("not base64!"),
    );
    assert_eq!(
        verify(&broken, &broken.body),
        Err(Reason::SignatureMalformed)
    );
    // Both companions are required.
    for companion in ["box-signature-version", "box-signature-algorithm"] {
        let mut missing = clone(primary);
        missing.headers.remove(companion);
        assert_eq!(
            verify(&missing, &missing.body),
            Err(Reason::SignatureMalformed),
            "{companion}"
        );
    }
}

fn clone(v: &Vector) -> Vector {
    Vector {
        id: v.id.clone(),
        provider: v.provider.clone(),
        expected_valid: v.expected_valid,
        secret: v.secret.clone(),
        headers: v.headers.clone(),
        body: v.body.clone(),
        origin: v.origin.clone(),
        source: v.source.clone(),
    }
}

/// Every vector also passes through the provider's signature layer, by
/// name, on a real server.
#[tokio::test]
async fn published_vectors_over_http() {
    for v in published() {
        let layer = SignatureLayer::preset(&v.provider, &v.secret).unwrap();
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

/// Verified means published: a provider marked verified names sources that
/// its valid vectors come from, and a provider with a published vector is
/// marked verified. A derived (tampered) vector never counts.
#[test]
fn the_registry_marks_verified_exactly_the_providers_with_published_vectors() {
    let published = published();
    let official = official();
    // (provider, valid, source) for every vector the provider published.
    let mut from_provider: Vec<(String, bool, String)> = published
        .iter()
        .filter(|v| v.origin == "official-sdk" || v.origin == "provider-docs")
        .map(|v| (v.provider.clone(), v.expected_valid, v.source.clone()))
        .collect();
    from_provider.extend(
        official
            .iter()
            .map(|(p, valid, source)| ((*p).to_owned(), *valid, source.clone())),
    );
    let with_vectors: BTreeSet<&str> = from_provider
        .iter()
        .filter(|(_, valid, _)| *valid)
        .map(|(p, _, _)| p.as_str())
        .collect();
    for provider in provider::ALL {
        if let Vectors::Published(sources) = provider.vectors {
            assert!(!sources.is_empty(), "{}: no source named", provider.name);
            for source in sources {
                assert!(
                    from_provider
                        .iter()
                        .any(|(p, valid, s)| p == provider.name && *valid && s.starts_with(source)),
                    "{}: no valid vector from `{source}`",
                    provider.name
                );
            }
        }
        assert_eq!(
            provider.vectors.is_verified(),
            with_vectors.contains(provider.name),
            "{}",
            provider.name
        );
    }
    // Each provider of the new file has a failing example too (its own, or
    // one derived from its valid one).
    for name in published.iter().map(|v| v.provider.as_str()) {
        assert!(
            published
                .iter()
                .any(|v| v.provider == name && !v.expected_valid),
            "{name}: no failing vector"
        );
    }
}

/// Every published address list is a valid allowlist, names its source, and
/// GitHub's is the crate's `GITHUB_HOOK_RANGES` (which the GitHub-delivery
/// key opt-in checks the IP filter against).
#[test]
fn every_ip_range_parses_and_githubs_is_the_allowlist_constant() {
    use tower_webhook::ip::IpFilterLayer;
    use tower_webhook::provider::github::GITHUB_HOOK_RANGES;

    for provider in provider::ALL {
        assert!(
            !provider.ip_ranges_source.is_empty(),
            "{}: no IP source",
            provider.name
        );
        if provider.ip_ranges.is_empty() {
            continue;
        }
        IpFilterLayer::new()
            .allow(&provider.ip_ranges.join(", "))
            .unwrap_or_else(|e| panic!("{}: {e}", provider.name));
        assert_ne!(provider.ip_ranges_source, "none published");
    }
    let constant: Vec<&str> = GITHUB_HOOK_RANGES.split(',').map(str::trim).collect();
    assert_eq!(provider::GITHUB.ip_ranges, constant.as_slice());
    let with_ranges: Vec<&str> = provider::ALL
        .iter()
        .filter(|p| !p.ip_ranges.is_empty())
        .map(|p| p.name)
        .collect();
    assert_eq!(with_ranges, ["github", "stripe", "paddle"]);
}
