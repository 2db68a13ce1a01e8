//! Standard Webhooks `v1a` (Ed25519): `webhook-signature: v1a,<base64 of a
//! 64-byte signature>` over `{webhook-id}.{webhook-timestamp}.{body}`.
//!
//! The header is a space-separated list that may mix versions
//! (`v1,<hmac> v1a,<sig>`): this scheme checks every `v1a` entry and skips
//! the others, so one header can serve HMAC and Ed25519 receivers. Keys
//! follow Svix's forms: `whpk_<base64 of the 32-byte public key>` to verify,
//! `whsk_<base64 of seed(32) ‖ public(32)>` to sign (and verify). Pin the
//! sender's public key; never take one from the request.
//!
//! ```
//! use tower_webhook::signature::schemes::standard_ed25519::standard_ed25519;
//! use tower_webhook::signature::{Key, Keyring, Scheme, SignatureLayer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let scheme = standard_ed25519();
//! let key = scheme.parse_key("whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=")?;
//! let layer = SignatureLayer::new(scheme, Keyring::new().with(Key::new("svix", key)))?;
//! # let _ = layer;
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::ed25519::signature::MultipartSigner;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use http::request::Parts;
use http::{HeaderName, HeaderValue};

use crate::rejection::{Reason, Rejection};
use crate::secret::SecretError;
use crate::signature::keyring::{KeyKind, KeyMaterial};
use crate::signature::scheme::{
    one_header, Delivery, Outgoing, Scheme, SignError, Signatures, SignedHeaders, Stamp, Tolerance,
};
use crate::signature::schemes::discord::{verify, verifying_key};
use crate::signature::TimestampFormat;

/// `webhook-id`.
pub const ID: HeaderName = HeaderName::from_static("webhook-id");
/// `webhook-timestamp` (Unix seconds).
pub const TIMESTAMP: HeaderName = HeaderName::from_static("webhook-timestamp");
/// `webhook-signature`.
pub const SIGNATURE: HeaderName = HeaderName::from_static("webhook-signature");

const PREFIX: &[u8] = b"v1a,";

/// The Standard Webhooks `v1a` scheme (see the [module docs](self)).
#[derive(Debug, Clone, Default)]
pub struct StandardEd25519 {
    _private: (),
}

/// Standard Webhooks `v1a` (Ed25519).
pub fn standard_ed25519() -> StandardEd25519 {
    StandardEd25519::default()
}

/// A key in Svix's forms: `whpk_…` (public) or `whsk_…` (private: seed then
/// public key; the halves must agree).
pub fn parse_key(shown: &str) -> Result<KeyMaterial, SecretError> {
    let shown = shown.trim();
    let decode = |text: &str| {
        STANDARD
            .decode(text)
            .map_err(|_| SecretError::InvalidBase64)
    };
    if let Some(public) = shown.strip_prefix("whpk_") {
        let bytes: [u8; 32] = decode(public)?
            .try_into()
            .map_err(|_| SecretError::InvalidBase64)?;
        return VerifyingKey::from_bytes(&bytes)
            .map(KeyMaterial::Ed25519)
            .map_err(|_| SecretError::InvalidBase64);
    }
    if let Some(private) = shown.strip_prefix("whsk_") {
        let bytes = zeroize::Zeroizing::new(decode(private)?);
        let pair: &[u8; 64] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SecretError::InvalidBase64)?;
        // Refuses a seed whose stored public half is not its own.
        return SigningKey::from_keypair_bytes(pair)
            .map(KeyMaterial::Ed25519Signing)
            .map_err(|_| SecretError::InvalidBase64);
    }
    if shown.is_empty() {
        Err(SecretError::Empty)
    } else {
        Err(SecretError::InvalidBase64)
    }
}

/// The `whpk_…` form of a public key.
pub fn to_whpk(key: &VerifyingKey) -> String {
    format!("whpk_{}", STANDARD.encode(key.as_bytes()))
}

/// The signature of `{id}.{timestamp}.{body}`.
pub fn sign(key: &SigningKey, id: &[u8], timestamp: &[u8], body: &[u8]) -> [u8; 64] {
    key.multipart_sign(&[id, b".", timestamp, b".", body])
        .to_bytes()
}

impl Scheme for StandardEd25519 {
    fn name(&self) -> &str {
        "standard-ed25519"
    }

    fn key_kind(&self) -> KeyKind {
        KeyKind::Ed25519
    }

    /// `whpk_…` (verify) or `whsk_…` (sign and verify).
    fn parse_key(&self, shown: &str) -> Result<KeyMaterial, SecretError> {
        parse_key(shown)
    }

    fn tolerance(&self) -> Option<Tolerance> {
        Some(Tolerance::symmetric(Duration::from_secs(300)))
    }

    fn parse_head(&self, parts: &Parts) -> Result<Signatures, Rejection> {
        let value = one_header(&parts.headers, &SIGNATURE, Reason::SignatureMalformed)?
            .ok_or_else(|| Rejection::new(Reason::SignatureMissing))?;
        let mut signatures = Signatures::new();
        for entry in value
            .split(|&b| b == b' ')
            .filter(|entry| !entry.is_empty())
        {
            // Other versions (`v1`, `v2`) and undecodable entries are
            // skipped, as the spec's reference libraries do.
            let Some(bytes) = entry
                .strip_prefix(PREFIX)
                .and_then(|encoded| STANDARD.decode(encoded).ok())
                .filter(|bytes| bytes.len() == Signature::BYTE_SIZE)
            else {
                continue;
            };
            signatures.push(0, bytes)?;
        }
        if signatures.candidates().is_empty() {
            // A header without a usable `v1a` entry is not a downgrade path.
            return Err(Rejection::new(Reason::SignatureMalformed));
        }
        // The request carries a signature, so it is judged by it: a missing
        // id is a broken signature, not an absent one (which could fall
        // back to a legacy token). An id holding the `.` separator could be
        // cut elsewhere.
        let id = one_header(&parts.headers, &ID, Reason::SignatureMalformed)?
            .filter(|id| !id.contains(&b'.'))
            .ok_or_else(|| Rejection::new(Reason::SignatureMalformed))?;
        let stamp = Stamp::from_header(&parts.headers, &TIMESTAMP, TimestampFormat::Seconds)?;
        signatures.set_id(id.to_vec());
        signatures.set_timestamp(stamp);
        Ok(signatures)
    }

    fn verify(
        &self,
        key: &KeyMaterial,
        signatures: &Signatures,
        delivery: &Delivery<'_>,
    ) -> Option<usize> {
        let key = verifying_key(key)?;
        let id = signatures.id()?;
        let timestamp = &signatures.timestamp()?.text;
        let message = [id, b".", timestamp, b".", delivery.body];
        signatures
            .candidates()
            .iter()
            .position(|candidate| verify(&key, &message, &candidate.bytes))
    }

    /// Needs a `whsk_…` private key; a public key is
    /// [`SignError::VerifyOnly`].
    fn sign(&self, key: &KeyMaterial, outgoing: &Outgoing<'_>) -> Result<SignedHeaders, SignError> {
        let key = match key {
            KeyMaterial::Ed25519Signing(private) => private,
            KeyMaterial::Ed25519(_) => return Err(SignError::VerifyOnly),
            #[allow(unreachable_patterns)]
            _ => return Err(SignError::WrongKeyKind),
        };
        let timestamp = TimestampFormat::Seconds
            .format(outgoing.timestamp)
            .filter(|_| outgoing.timestamp >= 0)
            .ok_or(SignError::InvalidTimestamp)?;
        let signature = sign(
            key,
            outgoing.id.as_bytes(),
            timestamp.as_bytes(),
            outgoing.body,
        );
        let value =
            |text: &str| HeaderValue::from_str(text).map_err(|_| SignError::InvalidHeaderValue);
        Ok(vec![
            (ID, value(outgoing.id)?),
            (TIMESTAMP, value(&timestamp)?),
            (
                SIGNATURE,
                value(&format!("v1a,{}", STANDARD.encode(signature)))?,
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHSK: &str = "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==";
    const WHPK: &str = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=";
    const SIG: &str =
        "hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==";

    #[test]
    fn svix_server_vector() {
        // svix/svix-webhooks server/svix-server/src/worker.rs test_asymmetric_key_signing
        let KeyMaterial::Ed25519Signing(private) = parse_key(WHSK).unwrap() else {
            unreachable!()
        };
        let signature = sign(
            &private,
            b"msg_p5jXN8AQM9LWM0D4loKWxJek",
            b"1614265330",
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(STANDARD.encode(signature), SIG);
        assert_eq!(to_whpk(&private.verifying_key()), WHPK);
        let KeyMaterial::Ed25519(public) = parse_key(WHPK).unwrap() else {
            unreachable!()
        };
        assert_eq!(public, private.verifying_key());
    }

    #[test]
    fn bad_keys_are_refused() {
        for bad in ["", "whpk_", "whpk_AAAA", "whsec_AAAA", "whsk_!!"] {
            assert!(parse_key(bad).is_err(), "{bad}");
        }
        // A seed with someone else's public half.
        let mut pair = STANDARD.decode(&WHSK[5..]).unwrap();
        pair[63] ^= 1;
        assert!(parse_key(&format!("whsk_{}", STANDARD.encode(pair))).is_err());
    }
}
