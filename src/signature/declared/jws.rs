//! JWS-signed deliveries: the signature header holds a compact JWS
//! (`header.payload.signature`, base64url) whose payload claims the body's
//! SHA-256 (Netlify's `X-Webhook-Signature`). The MAC covers the JWS's
//! signing input, not the body; the body is bound through the claim, which
//! is checked against the body received before any key is tried.

use std::borrow::Cow;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::algorithm::Algorithm;
use super::header::malformed;
use super::Claimed;
use crate::rejection::{Reason, Rejection};

/// The longest JWS header or payload decoded, in bytes: Netlify's are a few
/// dozen. Longer is `signature_malformed`, refused before it is decoded.
const MAX_SEGMENT: usize = 1024;

/// What the claims of a JWS-signed delivery must say (see
/// [`DeclaredScheme::jws_claims`](super::DeclaredScheme::jws_claims)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JwsClaims {
    body_sha256: Cow<'static, str>,
    issuer: Option<Cow<'static, str>>,
    issued_at: Option<Cow<'static, str>>,
    id: Option<Cow<'static, str>>,
}

impl JwsClaims {
    /// The claim `name` holds the lowercase hex SHA-256 of the raw body
    /// (Netlify's `sha256`): a delivery whose body does not hash to it is
    /// `signature_mismatch`, as is one without the claim.
    pub fn body_sha256(name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            body_sha256: name.into(),
            issuer: None,
            issued_at: None,
            id: None,
        }
    }

    /// The claim `name` (Plaid's `iat`) holds the signing time in Unix
    /// seconds: the scheme's signed timestamp, held to its
    /// [`tolerance`](super::DeclaredScheme::tolerance) by the replay
    /// window. A token without it is `timestamp_missing`.
    pub fn issued_at(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.issued_at = Some(name.into());
        self
    }

    /// The string claim `name` (Vonage's `jti`) is the delivery's id, signed
    /// with the token: the idempotency layer keys on it. A token without it
    /// (or with one that is not a non-empty string) is `signature_malformed`.
    pub fn id(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.id = Some(name.into());
        self
    }

    /// Whether the token carries the signing time.
    pub(crate) fn has_issued_at(&self) -> bool {
        self.issued_at.is_some()
    }

    /// The `iss` claim must be exactly `issuer` (Netlify's `netlify`).
    pub fn issuer(mut self, issuer: impl Into<Cow<'static, str>>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The JWS signing input (`header.payload`) a sender writes for `body`
    /// at `unix_seconds` with delivery `id`.
    pub(crate) fn signing_input(
        &self,
        algorithm: Algorithm,
        body: &[u8],
        unix_seconds: i64,
        id: &str,
    ) -> Option<String> {
        let header = serde_json::json!({ "alg": alg_name(algorithm)?, "typ": "JWT" });
        let mut claims = serde_json::Map::new();
        if let Some(issuer) = &self.issuer {
            claims.insert("iss".into(), issuer.as_ref().into());
        }
        if let Some(issued_at) = &self.issued_at {
            claims.insert(issued_at.clone().into_owned(), unix_seconds.into());
        }
        if let Some(name) = &self.id {
            if id.is_empty() {
                return None;
            }
            claims.insert(name.clone().into_owned(), id.into());
        }
        claims.insert(
            self.body_sha256.clone().into_owned(),
            hex::encode(Sha256::digest(body)).into(),
        );
        Some(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(serde_json::Value::Object(claims).to_string())
        ))
    }

    /// Refuse the delivery unless the claims in `signing_input` (as read by
    /// [`read_token`]) say what this asks of `body`; the signing time's
    /// and the id's texts when the token is asked to carry them.
    pub(crate) fn check(&self, signing_input: &[u8], body: &[u8]) -> Result<Claimed, Rejection> {
        let payload = signing_input
            .split(|&b| b == b'.')
            .nth(1)
            .ok_or_else(malformed)?;
        let claims: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&decode_segment(payload)?).map_err(|_| malformed())?;
        let mismatch = || Rejection::new(Reason::SignatureMismatch);
        if let Some(issuer) = &self.issuer {
            if claims.get("iss").and_then(serde_json::Value::as_str) != Some(issuer.as_ref()) {
                return Err(mismatch());
            }
        }
        let claimed = claims
            .get(self.body_sha256.as_ref())
            .and_then(serde_json::Value::as_str)
            .ok_or_else(mismatch)?;
        let actual = hex::encode(Sha256::digest(body));
        if !bool::from(actual.as_bytes().ct_eq(claimed.as_bytes())) {
            return Err(mismatch());
        }
        let id = match &self.id {
            None => None,
            Some(name) => match claims.get(name.as_ref()) {
                Some(serde_json::Value::String(id)) if !id.is_empty() => Some(id.clone()),
                // Never a digest in its place: the id the sender signed or none.
                _ => return Err(malformed()),
            },
        };
        let issued_at = match &self.issued_at {
            None => None,
            Some(name) => match claims.get(name.as_ref()) {
                None => return Err(Rejection::new(Reason::TimestampMissing)),
                // Whole seconds only: `1.5e9` or `"1500000000"` is not one.
                Some(serde_json::Value::Number(n)) if n.is_i64() => Some(n.to_string()),
                Some(_) => return Err(Rejection::new(Reason::TimestampMalformed)),
            },
        };
        Ok(Claimed { issued_at, id })
    }
}

/// The JWS `alg` that names `algorithm`; `None` for one JWS has no name for
/// here (the crate only reads HMAC-signed tokens).
fn alg_name(algorithm: Algorithm) -> Option<&'static str> {
    match algorithm {
        Algorithm::Sha256 => Some("HS256"),
        Algorithm::Sha512 => Some("HS512"),
        #[cfg(feature = "ecdsa")]
        Algorithm::EcdsaP256Sha256 => Some("ES256"),
        _ => None,
    }
}

fn decode_segment(segment: &[u8]) -> Result<Vec<u8>, Rejection> {
    if segment.is_empty() || segment.len() > MAX_SEGMENT {
        return Err(malformed());
    }
    URL_SAFE_NO_PAD.decode(segment).map_err(|_| malformed())
}

/// A compact JWS split into its signing input and its encoded signature,
/// once its header names exactly `algorithm` and asks for nothing this
/// reader does not do (`crit`). Anything else (`none`, an asymmetric
/// `alg` whose public key could be used as an HMAC secret, a token in
/// JSON serialisation, a fourth segment) is `signature_malformed`.
pub(crate) fn read_token(algorithm: Algorithm, token: &[u8]) -> Result<(&[u8], &[u8]), Rejection> {
    #[derive(Deserialize)]
    struct Header<'a> {
        #[serde(borrow)]
        alg: Cow<'a, str>,
        crit: Option<serde::de::IgnoredAny>,
        b64: Option<serde::de::IgnoredAny>,
    }
    let mut segments = token.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(malformed());
    };
    let decoded = decode_segment(header)?;
    let header_fields: Header<'_> = serde_json::from_slice(&decoded).map_err(|_| malformed())?;
    let expected = alg_name(algorithm).ok_or_else(malformed)?;
    if header_fields.alg != expected
        || header_fields.crit.is_some()
        || header_fields.b64.is_some()
        || payload.is_empty()
    {
        return Err(malformed());
    }
    let input_len = header.len() + 1 + payload.len();
    Ok((token.get(..input_len).ok_or_else(malformed)?, signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn only_the_configured_hmac_alg_is_read() {
        let ok = token(r#"{"alg":"HS256","typ":"JWT"}"#, r#"{"iss":"netlify"}"#);
        assert!(read_token(Algorithm::Sha256, ok.as_bytes()).is_ok());
        for header in [
            r#"{"alg":"none"}"#,
            r#"{"alg":"RS256"}"#,
            r#"{"alg":"HS512"}"#,
            r#"{"alg":"hs256"}"#,
            r#"{"alg":"HS256","crit":["exp"]}"#,
            r#"{"alg":"HS256","b64":false}"#,
            r#"{"typ":"JWT"}"#,
            "not json",
        ] {
            let bad = token(header, "{}");
            assert!(
                read_token(Algorithm::Sha256, bad.as_bytes()).is_err(),
                "{header}"
            );
        }
        assert!(read_token(Algorithm::Sha256, format!("{ok}.x").as_bytes()).is_err());
        assert!(read_token(Algorithm::Sha256, b"a.b").is_err());
    }

    #[test]
    fn the_claims_bind_body_and_issuer() {
        let claims = JwsClaims::body_sha256("sha256").issuer("netlify");
        let input = claims
            .signing_input(Algorithm::Sha256, b"{}", 0, "")
            .unwrap();
        assert!(claims.check(input.as_bytes(), b"{}").is_ok());
        assert_eq!(
            claims.check(input.as_bytes(), b"{ }").unwrap_err().reason(),
            Reason::SignatureMismatch
        );
        let elsewhere = JwsClaims::body_sha256("sha256").issuer("other");
        assert_eq!(
            elsewhere
                .check(input.as_bytes(), b"{}")
                .unwrap_err()
                .reason(),
            Reason::SignatureMismatch
        );
    }

    #[test]
    fn the_id_claim_is_a_signed_non_empty_string_or_the_token_is_refused() {
        let claims = JwsClaims::body_sha256("payload_hash")
            .issued_at("iat")
            .id("jti");
        let input = claims
            .signing_input(Algorithm::Sha256, b"{}", 1_700_000_000, "jti-1")
            .unwrap();
        assert_eq!(
            claims.check(input.as_bytes(), b"{}").unwrap(),
            Claimed {
                issued_at: Some("1700000000".to_owned()),
                id: Some("jti-1".to_owned()),
            }
        );
        // A signer without an id cannot make such a token.
        assert!(claims
            .signing_input(Algorithm::Sha256, b"{}", 0, "")
            .is_none());
        let sha = hex::encode(Sha256::digest(b"{}"));
        for payload in [
            serde_json::json!({"payload_hash": sha, "iat": 1}),
            serde_json::json!({"payload_hash": sha, "iat": 1, "jti": ""}),
            serde_json::json!({"payload_hash": sha, "iat": 1, "jti": 7}),
        ] {
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
                URL_SAFE_NO_PAD.encode(payload.to_string())
            );
            assert_eq!(
                claims.check(input.as_bytes(), b"{}").unwrap_err().reason(),
                Reason::SignatureMalformed,
                "{payload}"
            );
        }
    }
}
