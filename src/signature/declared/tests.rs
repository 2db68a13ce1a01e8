//! A provider the crate has no preset for, declared here, checked end to
//! end: what the declaration promises (the boundaries it pins, the URL it
//! signs) must hold without provider code.

use crate::context::SignedMessage;
use std::sync::Arc;

use http::HeaderName;

use super::*;
use crate::signature::{Delivery, Outgoing, Signer};

const SIGNATURE: HeaderName = HeaderName::from_static("x-acme-signature");
const URL: &str = "https://hooks.example.com/acme?tenant=7";

/// A made-up provider: HMAC-SHA256 of `{METHOD}{URL}{body}`, base64.
fn acme() -> DeclaredScheme {
    DeclaredScheme::new("acme")
        .signature(SignatureHeader::new(SIGNATURE).encoding(Encoding::Base64))
        .message([Part::Method, Part::Url, Part::Body])
        .public_url(PublicUrl::base("https://hooks.example.com").unwrap())
}

/// The verdict on a request to `path` carrying `headers` and `body`.
fn judge(
    scheme: &DeclaredScheme,
    key: &KeyMaterial,
    path: &str,
    headers: &SignedHeaders,
    body: &[u8],
) -> Result<usize, Reason> {
    let mut request = http::Request::post(path);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let (parts, ()) = request.body(()).unwrap().into_parts();
    let signatures = scheme
        .parse_head(&parts)
        .and_then(|signatures| scheme.parse_body(signatures, &parts, body))
        .map_err(|rejection| rejection.reason())?;
    let delivery = Delivery {
        parts: &parts,
        body,
    };
    scheme
        .verify(key, &signatures, &delivery)
        .ok_or(Reason::SignatureMismatch)
}

#[test]
fn a_declared_url_signing_scheme_verifies_what_it_signs() {
    let scheme = acme();
    let key = scheme.parse_key("acme-secret").unwrap();
    let body = br#"{"id":1}"#;
    let headers = Signer::new(Arc::new(acme()), key.clone())
        .sign(&Outgoing::new(body, 0, "").to_url(URL))
        .unwrap();
    assert_eq!(
        judge(&scheme, &key, "/acme?tenant=7", &headers, body),
        Ok(0)
    );
    // Another path, query or body: the URL and body are signed.
    for (path, body) in [
        ("/acme?tenant=8", &body[..]),
        ("/acme2?tenant=7", &body[..]),
        ("/acme?tenant=7", br#"{"id":2}"#),
    ] {
        assert_eq!(
            judge(&scheme, &key, path, &headers, body),
            Err(Reason::SignatureMismatch),
            "{path}"
        );
    }
    assert!(scheme.covers_url());
}

#[test]
fn a_url_glued_to_the_body_keeps_its_boundary() {
    // `?tenant=7` + `0…` could be read as `?tenant=70` + `…`: a body that
    // starts with a URL byte is refused, for any scheme declared so.
    let scheme = acme();
    let key = scheme.parse_key("acme-secret").unwrap();
    let headers = Signer::new(Arc::new(acme()), key.clone())
        .sign(&Outgoing::new(b"0123", 0, "").to_url(URL))
        .unwrap();
    assert_eq!(
        judge(&scheme, &key, "/acme?tenant=7", &headers, b"0123"),
        Err(Reason::SignatureMalformed)
    );
}

#[test]
fn a_message_of_parts_nothing_fills_verifies_nothing() {
    // `JsonFields` and `JwsSigningInput` are filled by a JSON-signed or JWS
    // scheme. Declared without one, they are empty: a signature of the
    // empty message must not pass with any body.
    use hmac::{KeyInit, Mac};
    for part in [Part::JsonFields, Part::JwsSigningInput] {
        let scheme = DeclaredScheme::new("acme")
            .signature(SignatureHeader::new(SIGNATURE).encoding(Encoding::Base64))
            .message([part.clone()]);
        let key = scheme.parse_key("acme-secret").unwrap();
        let empty = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"acme-secret")
            .unwrap()
            .finalize()
            .into_bytes();
        use base64::Engine as _;
        let signature = base64::engine::general_purpose::STANDARD.encode(empty);
        let headers = vec![(SIGNATURE, http::HeaderValue::from_str(&signature).unwrap())];
        assert_eq!(
            judge(&scheme, &key, "/acme", &headers, b"{\"any\":\"body\"}"),
            Err(Reason::SignatureMismatch),
            "{part:?}"
        );
    }
}

#[test]
fn a_refused_signature_is_judged_not_ignored() {
    let legacy = HeaderName::from_static("x-acme-legacy");
    let scheme = acme().refuse_signature(legacy.clone());
    let key = scheme.parse_key("acme-secret").unwrap();
    let headers = vec![(legacy, http::HeaderValue::from_static("c2ln"))];
    assert_eq!(
        judge(&scheme, &key, "/acme", &headers, b"{}"),
        Err(Reason::SignatureMalformed)
    );
    assert_eq!(
        judge(&acme(), &key, "/acme", &headers, b"{}"),
        Err(Reason::SignatureMissing)
    );
}

#[test]
fn a_companion_header_must_say_what_is_required() {
    let version = HeaderName::from_static("x-acme-version");
    let scheme = DeclaredScheme::new("acme-v2")
        .signature(SignatureHeader::new(SIGNATURE).requires(version.clone(), "v2"));
    let key = scheme.parse_key("acme-secret").unwrap();
    let mut headers = Signer::new(Arc::new(scheme.clone()), key.clone())
        .sign(&Outgoing::new(b"{}", 0, ""))
        .unwrap();
    assert_eq!(headers[1].0, version);
    assert_eq!(judge(&scheme, &key, "/", &headers, b"{}"), Ok(0));
    headers[1].1 = http::HeaderValue::from_static("v1");
    assert_eq!(
        judge(&scheme, &key, "/", &headers, b"{}"),
        Err(Reason::SignatureMalformed)
    );
    headers.pop();
    assert_eq!(
        judge(&scheme, &key, "/", &headers, b"{}"),
        Err(Reason::SignatureMalformed)
    );
}

#[cfg(feature = "ed25519")]
#[test]
fn a_declared_ed25519_scheme_signs_and_verifies_pieces() {
    let scheme = DeclaredScheme::new("acme-ed25519")
        .signature(
            SignatureHeader::new(SIGNATURE)
                .algorithm(Algorithm::Ed25519)
                .encoding(Encoding::Base64),
        )
        .message([
            Part::Method,
            Part::literal(" "),
            Part::Url,
            Part::literal("\n"),
            Part::Body,
        ])
        .public_url(PublicUrl::base("https://hooks.example.com").unwrap());
    let private =
        ed25519_seed_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .unwrap();
    let headers = Signer::new(Arc::new(scheme.clone()), private)
        .sign(
            &Outgoing::new(b"0{}", 0, "")
                .to_url(URL)
                .with_method(&http::Method::POST),
        )
        .unwrap();
    let public =
        ed25519_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a").unwrap();
    assert_eq!(scheme.key_kind(), KeyKind::Ed25519);
    // A literal separates URL and body, so a body starting with a digit is
    // fine here.
    assert_eq!(
        judge(&scheme, &public, "/acme?tenant=7", &headers, b"0{}"),
        Ok(0)
    );
    assert_eq!(
        judge(&scheme, &public, "/acme?tenant=7", &headers, b"1{}"),
        Err(Reason::SignatureMismatch)
    );
    // The public key verifies but cannot sign.
    assert_eq!(
        Signer::new(Arc::new(scheme), public)
            .sign(&Outgoing::new(b"{}", 0, "").to_url(URL))
            .unwrap_err(),
        SignError::VerifyOnly
    );
}

proptest::proptest! {
    /// Whatever the headers hold, reading them is a verdict, never a panic,
    /// whatever the syntax, encoding and primitive.
    #[test]
    fn any_header_bytes_get_a_verdict(
        value in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        version in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..8),
        shape in 0..4usize,
        decoded in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100),
        well_formed in proptest::prelude::any::<bool>(),
    ) {
        use base64::Engine as _;
        // Half the time, values that decode: every length around the
        // primitives' own, in every syntax.
        let value = if well_formed {
            let b64 = base64::engine::general_purpose::STANDARD.encode(&decoded);
            let hex = hex::encode(&decoded);
            match shape {
                0 => format!("v0=00,v1={hex}"),
                1 => format!("v2,x v1,{b64}"),
                2 => format!("v1,x v1a,{b64}"),
                3 => b64,
                _ => format!("sha256={hex}"),
            }
            .into_bytes()
        } else {
            value
        };
        let name = HeaderName::from_static("x-acme-any");
        let header = match shape {
            0 => SignatureHeader::new(name.clone())
                .fields(',', "v1")
                .requires(HeaderName::from_static("x-acme-version"), "v1"),
            1 => SignatureHeader::new(name.clone()).encoding(Encoding::Base64).list(' ', "v1,"),
            #[cfg(feature = "ed25519")]
            2 => SignatureHeader::new(name.clone())
                .algorithm(Algorithm::Ed25519)
                .encoding(Encoding::Base64)
                .list(' ', "v1a,"),
            #[cfg(feature = "ecdsa")]
            3 => SignatureHeader::new(name.clone())
                .algorithm(Algorithm::EcdsaP256Sha256)
                .encoding(Encoding::Base64),
            _ => SignatureHeader::new(name.clone()).prefix("sha256="),
        };
        let scheme = acme().signature(header);
        let key = match shape {
            #[cfg(feature = "ed25519")]
            2 => ed25519_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
                .unwrap(),
            _ => scheme.parse_key("acme-secret").unwrap(),
        };
        let mut headers = SignedHeaders::new();
        if let Ok(value) = http::HeaderValue::from_bytes(&value) {
            headers.push((name, value));
        }
        if let Ok(version) = http::HeaderValue::from_bytes(&version) {
            headers.push((HeaderName::from_static("x-acme-version"), version));
        }
        let verdict = judge(&scheme, &key, "/acme", &headers, b"{}");
        // Nothing random verifies.
        proptest::prop_assert!(verdict.is_err());
    }
}

/// Two signature headers read together (one per key, as Box sends them):
/// either key verifies, and a header holding no usable signature is
/// malformed even when the other holds one.
#[test]
fn every_signature_header_is_read_and_each_must_hold_a_signature() {
    let primary = HeaderName::from_static("x-acme-primary");
    let secondary = HeaderName::from_static("x-acme-secondary");
    let scheme = DeclaredScheme::new("acme-two-keys")
        .signature(SignatureHeader::new(primary.clone()).list(' ', "v1="))
        .signature(SignatureHeader::new(secondary.clone()).list(' ', "v1="))
        .every_signature_header();
    let body = b"{}";
    let old = scheme.parse_key("old-key").unwrap();
    let new = scheme.parse_key("new-key").unwrap();
    let signed_by = |key: &KeyMaterial| {
        let headers = Signer::new(Arc::new(scheme.clone()), key.clone())
            .sign(&Outgoing::new(body, 0, ""))
            .unwrap();
        headers[0].1.clone()
    };
    let both: SignedHeaders = vec![
        (primary.clone(), signed_by(&old)),
        (secondary.clone(), signed_by(&new)),
    ];
    assert!(judge(&scheme, &old, "/", &both, body).is_ok());
    assert!(judge(&scheme, &new, "/", &both, body).is_ok());
    let broken: SignedHeaders = vec![
        (primary, signed_by(&old)),
        (secondary, HeaderValue::from_static("v0=deadbeef")),
    ];
    assert_eq!(
        judge(&scheme, &old, "/", &broken, body),
        Err(Reason::SignatureMalformed)
    );
}

/// A header carrying the secret itself covers nothing, whatever message or
/// timestamp is declared next to it: nothing downstream may treat the
/// body, URL or timestamp as signed.
#[test]
fn a_header_secret_scheme_claims_to_sign_nothing() {
    let scheme = DeclaredScheme::new("shared-header")
        .signature(
            SignatureHeader::new(HeaderName::from_static("authorization"))
                .algorithm(Algorithm::HeaderSecret),
        )
        .timestamp_header(HeaderName::from_static("x-ts"), TimestampFormat::Seconds)
        .message([Part::Timestamp, Part::Method, Part::Body]);
    assert!(!scheme.covers_body());
    assert!(!scheme.covers_url());
    assert!(!scheme.signs_timestamp());
}

/// Sets of `t=…,v1=…` (Persona's rotation): each signature is checked
/// against its own set's time, a set without one refuses the request, and a
/// repeated `t` inside one set is malformed as before.
#[test]
fn field_sets_each_sign_their_own_timestamp() {
    let header = HeaderName::from_static("x-sets-signature");
    let scheme = DeclaredScheme::new("sets")
        .signature(
            SignatureHeader::new(header.clone())
                .fields(',', "v1")
                .field_sets(' '),
        )
        .timestamp_field("t", TimestampFormat::Seconds)
        .message([Part::Timestamp, Part::literal("."), Part::Body]);
    let key = scheme.parse_key("sets-secret").unwrap();
    let body = b"{}";
    let set = |t: i64| {
        let signed = Signer::new(Arc::new(scheme.clone()), key.clone())
            .sign(&Outgoing::new(body, t, ""))
            .unwrap();
        signed[0].1.to_str().unwrap().to_owned()
    };
    let judge_value = |value: &str| {
        let headers: SignedHeaders =
            [(header.clone(), http::HeaderValue::from_str(value).unwrap())]
                .into_iter()
                .collect();
        judge(&scheme, &key, "/", &headers, body)
    };
    let other = "t=1700000000,v1=".to_owned() + &"ab".repeat(32);
    assert_eq!(
        judge_value(&format!("{other} {}", set(1_700_000_100))),
        Ok(1)
    );
    assert_eq!(
        judge_value(&format!("{} {other}", set(1_700_000_100))),
        Ok(0)
    );
    // The second set's signature under the first set's time does not verify.
    let (_, mine) = set(1_700_000_100)
        .split_once(',')
        .map(|(t, v)| (t.to_owned(), v.to_owned()))
        .unwrap();
    assert_eq!(
        judge_value(&format!("t=1700000000,{mine} {other}")),
        Err(Reason::SignatureMismatch)
    );
    assert_eq!(
        judge_value(&format!("{mine} {}", set(1_700_000_100))),
        Err(Reason::TimestampMissing)
    );
    assert_eq!(
        judge_value(&format!("t=1,t=2,{mine} {other}")),
        Err(Reason::TimestampMalformed)
    );
}
