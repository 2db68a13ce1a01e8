//! The digest key is a function of exactly the signed message, for every
//! provider in [`PROFILES`](crate::provider::ALL): two deliveries whose signed messages are equal
//! get one key, two whose signed messages differ get two. The signature is
//! the oracle: a request that verifies under another's signature has the
//! same signed message, and (the primitives being deterministic) two
//! requests signed apart have equal signatures exactly when their messages
//! are equal.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use proptest::prelude::*;

use super::mailgun;
use super::ALL as PROFILES;
use crate::context::SignedDelivery;
use crate::idempotency::key::{extract_with, Key, KeySource};
use crate::secret::Secret;
use crate::signature::keyring::{KeyKind, KeyMaterial};
use crate::signature::{Delivery, Outgoing, Scheme};

const URL: &str = "https://localhost/hook";

fn signing_key(scheme: &dyn Scheme) -> KeyMaterial {
    match scheme.key_kind() {
        KeyKind::Shared => KeyMaterial::shared(Secret::new("a-shared-secret-0123456789").unwrap()),
        #[cfg(feature = "ed25519")]
        KeyKind::Ed25519 => {
            KeyMaterial::Ed25519Signing(ed25519_dalek::SigningKey::from_bytes(&[7; 32]))
        }
        #[cfg(feature = "ecdsa")]
        KeyKind::EcdsaP256 => {
            KeyMaterial::EcdsaP256Signing(p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap())
        }
        #[allow(unreachable_patterns)]
        _ => unreachable!("a key kind without its feature"),
    }
}

/// One delivery as sent: what the sender signed, and the request.
#[derive(Clone)]
struct Sent {
    signature: HeaderMap,
    method: Method,
    url: String,
    body: Vec<u8>,
}

/// `body` (and `timestamp`, `id`) signed by `scheme` for a `POST` to [`URL`].
fn sign(scheme: &dyn Scheme, key: &KeyMaterial, body: &[u8], timestamp: i64, id: &str) -> Sent {
    let (signature, body) = if scheme.name() == "mailgun" {
        // Mailgun signs a block inside the body; the rest is event data.
        let secret = Secret::new("a-shared-secret-0123456789").unwrap();
        let block = mailgun::signature_block(&secret, timestamp, id);
        let event = String::from_utf8_lossy(body);
        let body = serde_json::json!({ "signature": block, "event-data": { "x": event } });
        (HeaderMap::new(), serde_json::to_vec(&body).unwrap())
    } else if scheme.name() == "adyen" {
        // Adyen signs eight fields of the item inside the body: the body's
        // text is the merchant reference, the timestamp the amount.
        use base64::Engine as _;
        use hmac::Mac;
        let reference = String::from_utf8_lossy(body).into_owned();
        let fields = format!("{id}::Merchant:{reference}:{timestamp}:EUR:AUTHORISATION:true");
        let mut mac = key.as_shared().unwrap().hmac_sha256();
        mac.update(fields.as_bytes());
        let signature =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let body = serde_json::json!({"notificationItems": [{"NotificationRequestItem": {
            "pspReference": id, "merchantAccountCode": "Merchant", "merchantReference": reference,
            "amount": {"value": timestamp, "currency": "EUR"}, "eventCode": "AUTHORISATION",
            "success": "true", "additionalData": {"hmacSignature": signature},
        }}]});
        (HeaderMap::new(), serde_json::to_vec(&body).unwrap())
    } else {
        let headers = scheme
            .sign(key, &Outgoing::new(body, timestamp, id).to_url(URL))
            .unwrap()
            .into_iter()
            .collect();
        (headers, body.to_vec())
    };
    Sent {
        signature,
        method: Method::POST,
        url: URL.to_owned(),
        body,
    }
}

/// What verifying `sent` shows: `None` when it does not verify, else the
/// signature (the oracle), or the signed delivery id for a scheme that
/// signs one (the provider's id is the delivery, across re-signed retries),
/// and the key the idempotency layer derives.
fn receive(scheme: &Arc<dyn Scheme>, key: &KeyMaterial, sent: &Sent) -> Option<(Vec<u8>, Key)> {
    let mut request = Request::builder()
        .method(sent.method.clone())
        .uri(&sent.url)
        .body(())
        .ok()?;
    *request.headers_mut() = sent.signature.clone();
    let parts = request.into_parts().0;
    let signatures = scheme.parse_head(&parts).ok()?;
    let signatures = scheme.parse_body(signatures, &parts, &sent.body).ok()?;
    let delivery = Delivery {
        parts: &parts,
        body: &sent.body,
    };
    let matched = scheme.verify(key, &signatures, &delivery)?;
    let signed = SignedDelivery::new(
        Arc::clone(scheme) as Arc<dyn crate::context::SignedMessage>,
        signatures.shared_id().cloned(),
        signatures.timestamp().map(|stamp| stamp.text.clone()),
    );
    let key = extract_with(
        &[KeySource::SignedDelivery],
        false,
        &parts,
        &Bytes::from(sent.body.clone()),
        Some(signed),
    )?;
    let oracle = match signatures.id() {
        Some(id) => id.to_vec(),
        None => signatures.candidates().get(matched)?.bytes().to_vec(),
    };
    Some((oracle, key))
}

/// Twilio's re-splits of a form: parameter `i` absorbs the name and value
/// of the one after it. The flat concatenation is unchanged whenever the
/// sort order is.
fn re_splits(form: &[u8]) -> Vec<Vec<u8>> {
    let params = crate::signature::declared::sorted_params(form);
    (0..params.len().saturating_sub(1))
        .map(|i| {
            let mut merged: Vec<(String, String)> = params
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            let (name, value) = merged.remove(i + 1);
            merged[i].1.push_str(&name);
            merged[i].1.push_str(&value);
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(merged)
                .finish()
                .into_bytes()
        })
        .collect()
}

/// Requests carrying `sent`'s signature with what a signature may not
/// cover changed: the method, the query, the port spelling, the order and
/// boundaries of form parameters.
fn variations(sent: &Sent) -> Vec<Sent> {
    let mut out = Vec::new();
    let with = |f: &dyn Fn(&mut Sent)| {
        let mut copy = sent.clone();
        f(&mut copy);
        copy
    };
    out.push(with(&|s| s.method = Method::PUT));
    out.push(with(&|s| s.url = format!("{URL}?x=1")));
    out.push(with(&|s| s.url = "https://localhost:443/hook".to_owned()));
    out.push(with(&|s| s.url = "https://localhost:8443/hook".to_owned()));
    let mut reversed: Vec<&[u8]> = sent.body.split(|&b| b == b'&').collect();
    reversed.reverse();
    out.push(with(&|s| s.body = reversed.join(&b'&')));
    for body in re_splits(&sent.body) {
        out.push(with(&|s| s.body = body.clone()));
    }
    out
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    // Form-like (Twilio reads bodies as parameters) or JSON-like (a body
    // glued to a URL, HubSpot's and Square's, must start with `{`).
    (
        prop_oneof![Just(""), Just("{")],
        "([A-Da-d]{1,3}=[A-Da-d0-9+%]{0,4}&){0,4}",
    )
        .prop_map(|(start, rest)| format!("{start}{rest}").into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn equal_signed_messages_give_equal_keys_and_different_ones_different_keys(
        a in body(),
        b in body(),
        same_body in any::<bool>(),
        timestamp in 1_000_000_000i64..4_000_000_000,
        later in 0i64..2,
        same_id in any::<bool>(),
    ) {
        let b = if same_body { a.clone() } else { b };
        let (id_a, id_b) = ("msg_a", if same_id { "msg_a" } else { "msg_b" });
        for profile in PROFILES {
            let scheme = (profile.scheme)();
            let key = signing_key(scheme.as_ref());
            let first = sign(scheme.as_ref(), &key, &a, timestamp, id_a);
            let Some((oracle, first_key)) = receive(&scheme, &key, &first) else {
                // A body the scheme refuses (HubSpot's URL-glued bodies).
                continue;
            };
            // Equal signed messages: whatever verifies under the first
            // signature is the same delivery.
            for copy in variations(&first) {
                if let Some((_, copy_key)) = receive(&scheme, &key, &copy) {
                    prop_assert_eq!(&copy_key, &first_key, "{}: {:?} {} {:?}", profile.name, copy.method, copy.url, String::from_utf8_lossy(&copy.body));
                }
            }
            // Signed apart: one key exactly when one signed message (or,
            // where the provider signs a delivery id, one id).
            let second = sign(scheme.as_ref(), &key, &b, timestamp + later, id_b);
            if let Some((other_oracle, second_key)) = receive(&scheme, &key, &second) {
                prop_assert_eq!(
                    oracle == other_oracle,
                    first_key == second_key,
                    "{}: {:?} / {:?}", profile.name, String::from_utf8_lossy(&a), String::from_utf8_lossy(&b)
                );
            }
        }
    }
}
