//! Mailgun: the signature travels **in the body**,
//! `{"signature": {"timestamp": "…", "token": "…", "signature": "<hex>"},
//! "event-data": {…}}` (legacy form-encoded webhooks send `timestamp`,
//! `token` and `signature` as form fields). The signature is HMAC-SHA256
//! (the HTTP webhook signing key) of `{timestamp}{token}`, hex. With no
//! separator between them, the timestamp must be exactly 10 digits.
//!
//! **The event data is not signed**: whoever captures one valid signature
//! block can attach any event data to it. The signed token is therefore the
//! delivery's id: the idempotency layer's default
//! key, so a captured block runs the handler at most once whatever event
//! data or headers come with it, and the scheme reports
//! [`SignedMessage::covers_body`](crate::context::SignedMessage::covers_body) `false`, so no body field can be used as a key.
//! The signed timestamp goes to the replay layer. Treat the event data as
//! untrusted input; fetch the event from Mailgun's API by its id where it
//! matters.
//!
//! Signing returns [`SignError::SignedInBody`]: the signature cannot be sent
//! in headers. Build a signed body with [`signature_block`] instead.
//!
//! ```
//! use tower_webhook::provider::mailgun::{mailgun, signature_block};
//! use tower_webhook::signature::{Keyring, SignatureLayer};
//! use tower_webhook::Secret;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = Secret::new("key-mailgun-signing-key")?;
//! let layer = SignatureLayer::new(mailgun(), Keyring::single(key.clone()))?;
//! # let _ = layer;
//! let block = signature_block(&key, 1_700_000_000, "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0");
//! let body = serde_json::json!({ "signature": block, "event-data": { "event": "delivered" } });
//! # let _ = body;
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;

use hmac::Mac;
use http::header::CONTENT_TYPE;
use http::request::Parts;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::rejection::{Reason, Rejection};
use crate::secret::Secret;
use crate::signature::keyring::{KeyMaterial, SharedSecret};
use crate::signature::scheme::{
    Delivery, Outgoing, Scheme, SignError, Signatures, SignedHeaders, Stamp,
};
use crate::signature::TimestampFormat;

/// The longest token accepted (Mailgun's are 50 characters); longer is
/// `signature_malformed`, so the idempotency store never holds huge keys.
pub const MAX_TOKEN_LEN: usize = 256;

/// The Mailgun scheme (see the [module docs](self)).
#[derive(Debug, Clone, Default)]
pub struct Mailgun {
    _private: (),
}

/// Mailgun (JSON webhooks, and legacy form-encoded ones).
pub fn mailgun() -> Mailgun {
    Mailgun::default()
}

/// The HMAC-SHA256 of `{timestamp}{token}`.
pub fn mac(key: &SharedSecret, timestamp: &[u8], token: &[u8]) -> [u8; 32] {
    let mut mac = key.hmac_sha256();
    mac.update(timestamp);
    mac.update(token);
    mac.finalize().into_bytes().into()
}

/// The `signature` object Mailgun puts in a JSON webhook body, signed with
/// `key`, for tests and senders.
pub fn signature_block(key: &Secret, timestamp: i64, token: &str) -> serde_json::Value {
    let timestamp = timestamp.to_string();
    let signature = mac(
        &SharedSecret::new(key.clone()),
        timestamp.as_bytes(),
        token.as_bytes(),
    );
    serde_json::json!({
        "timestamp": timestamp,
        "token": token,
        "signature": hex::encode(signature),
    })
}

#[derive(Deserialize)]
struct Envelope {
    signature: Option<Block>,
}

#[derive(Deserialize)]
struct Block {
    timestamp: Timestamp,
    token: String,
    signature: String,
    /// Events of a subaccount are also signed with the parent account's
    /// key, over the same bytes.
    #[serde(rename = "parent-signature", default)]
    parent_signature: Option<String>,
}

/// What a body says about its signature.
struct Fields {
    timestamp: String,
    token: String,
    signature: String,
    parent_signature: Option<String>,
}

/// Mailgun sends the timestamp as a string; a number is accepted too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Timestamp {
    Text(String),
    Number(u64),
}

impl Timestamp {
    fn into_text(self) -> String {
        match self {
            Timestamp::Text(text) => text,
            Timestamp::Number(number) => number.to_string(),
        }
    }
}

/// Whether the body is `application/x-www-form-urlencoded`.
fn is_form(parts: &Parts) -> bool {
    parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// `timestamp`, `token`, `signature` from a form body; `Err` when one is
/// given twice (ambiguous).
fn form_fields(body: &[u8]) -> Result<Option<Fields>, Rejection> {
    let (mut timestamp, mut token, mut signature) = (None, None, None);
    for (name, value) in form_urlencoded::parse(body) {
        let slot = match name.as_ref() {
            "timestamp" => &mut timestamp,
            "token" => &mut token,
            "signature" => &mut signature,
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(Rejection::new(Reason::SignatureMalformed));
        }
    }
    Ok(match (timestamp, token, signature) {
        (Some(timestamp), Some(token), Some(signature)) => Some(Fields {
            timestamp,
            token,
            signature,
            parent_signature: None,
        }),
        (None, None, None) => None,
        _ => return Err(Rejection::new(Reason::SignatureMalformed)),
    })
}

fn json_fields(body: &[u8]) -> Result<Option<Fields>, Rejection> {
    // Only the signature block is read; event data is skipped unparsed.
    // A body that is not JSON carries no signature.
    let Ok(envelope) = serde_json::from_slice::<Envelope>(body) else {
        return match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => Err(Rejection::new(Reason::SignatureMalformed)),
            Err(_) => Ok(None),
        };
    };
    Ok(envelope.signature.map(|block| Fields {
        timestamp: block.timestamp.into_text(),
        token: block.token,
        signature: block.signature,
        parent_signature: block.parent_signature,
    }))
}

impl crate::context::SignedMessage for Mailgun {
    fn name(&self) -> &str {
        "mailgun"
    }

    /// The event data next to the signature block is not signed: only
    /// the timestamp and the token are.
    fn covers_body(&self) -> bool {
        false
    }
}

impl Scheme for Mailgun {
    /// The timestamp is signed (with the token, not the event data) and
    /// handed to the context as signed.
    fn signs_timestamp(&self) -> bool {
        true
    }

    /// Nothing in the head: the signature is in the body.
    fn parse_head(&self, _parts: &Parts) -> Result<Signatures, Rejection> {
        Ok(Signatures::new())
    }

    fn parse_body(
        &self,
        mut signatures: Signatures,
        parts: &Parts,
        body: &[u8],
    ) -> Result<Signatures, Rejection> {
        let fields = if is_form(parts) {
            form_fields(body)?
        } else {
            json_fields(body)?
        };
        let Some(Fields {
            timestamp,
            token,
            signature,
            parent_signature,
        }) = fields
        else {
            return Err(Rejection::new(Reason::SignatureMissing));
        };
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(Rejection::new(Reason::SignatureMalformed));
        }
        let bytes = (!signature.is_empty())
            .then(|| hex::decode(signature.trim()).ok())
            .flatten()
            .ok_or_else(|| Rejection::new(Reason::SignatureMalformed))?;
        // `{timestamp}{token}` has no separator: a fixed-width timestamp
        // keeps the token's first bytes from passing for digits of it.
        let unix_millis = TimestampFormat::Seconds
            .parse_fixed_width(timestamp.as_bytes())
            .ok_or_else(|| Rejection::new(Reason::TimestampMalformed))?;
        signatures.push(0, &bytes)?;
        // An undecodable parent signature only loses the parent key's chance.
        if let Some(parent) =
            parent_signature.and_then(|hex_text| hex::decode(hex_text.trim()).ok())
        {
            signatures.push(1, &parent)?;
        }
        signatures.set_timestamp(Stamp {
            text: timestamp.into_bytes().into(),
            unix_millis,
        });
        signatures.set_id(token.into_bytes());
        Ok(signatures)
    }

    fn verify(
        &self,
        key: &KeyMaterial,
        signatures: &Signatures,
        _delivery: &Delivery<'_>,
    ) -> Option<usize> {
        let key = key.as_shared()?;
        let expected = mac(key, &signatures.timestamp()?.text, signatures.id()?);
        let mut matched = None;
        for (index, candidate) in signatures.candidates().iter().enumerate() {
            if bool::from(expected.ct_eq(candidate.bytes())) && matched.is_none() {
                matched = Some(index);
            }
        }
        matched
    }

    /// Always [`SignError::SignedInBody`]: Mailgun's signature is in the
    /// body; see [`signature_block`].
    fn sign(
        &self,
        _key: &KeyMaterial,
        _outgoing: &Outgoing<'_>,
    ) -> Result<SignedHeaders, SignError> {
        Err(SignError::SignedInBody)
    }
}

/// mailgun: what every way of building its receiver reads.
pub const MAILGUN: Provider = Provider {
    name: "mailgun",
    scheme: || Arc::new(mailgun()),
    signed: "signature.timestamp and signature.token only: the event data is NOT signed",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the signed token (single use)",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/#securing-webhooks (HMAC-SHA256 hex of \"{timestamp}{token}\", in the body)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(content_type: &str) -> Parts {
        http::Request::builder()
            .header("content-type", content_type)
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    #[test]
    fn reads_json_and_form_bodies() {
        let json = br#"{"signature":{"timestamp":"1529006854","token":"tok","signature":"0a0b"},"event-data":{"x":[1,2]}}"#;
        let found = mailgun()
            .parse_body(Signatures::new(), &parts("application/json"), json)
            .unwrap();
        assert_eq!(found.id(), Some(&b"tok"[..]));
        assert_eq!(found.timestamp().unwrap().unix_millis, 1_529_006_854_000);
        assert_eq!(found.candidates()[0].bytes(), [0x0a, 0x0b]);

        let form = b"timestamp=1529006854&token=tok&signature=0a0b&event=delivered";
        let found = mailgun()
            .parse_body(
                Signatures::new(),
                &parts("application/x-www-form-urlencoded; charset=utf-8"),
                form,
            )
            .unwrap();
        assert_eq!(found.id(), Some(&b"tok"[..]));
    }

    #[test]
    fn refuses_missing_and_malformed_blocks() {
        let cases: [(&[u8], Reason); 6] = [
            (b"not json", Reason::SignatureMissing),
            (br#"{"event-data":{}}"#, Reason::SignatureMissing),
            (
                br#"{"signature":{"timestamp":"1","token":"t"}}"#,
                Reason::SignatureMalformed,
            ),
            (
                br#"{"signature":{"timestamp":"1","token":"t","signature":"zz"}}"#,
                Reason::SignatureMalformed,
            ),
            (
                br#"{"signature":{"timestamp":"x","token":"t","signature":"00"}}"#,
                Reason::TimestampMalformed,
            ),
            (
                br#"{"signature":{"timestamp":"1","token":"t","signature":"00"},"signature":{}}"#,
                Reason::SignatureMalformed,
            ),
        ];
        for (body, reason) in cases {
            let error = mailgun()
                .parse_body(Signatures::new(), &parts("application/json"), body)
                .unwrap_err();
            assert_eq!(error.reason(), reason, "{}", String::from_utf8_lossy(body));
        }
    }
}
