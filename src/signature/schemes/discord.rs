//! Discord (interactions endpoint and webhook events):
//! `X-Signature-Ed25519: <hex, 64 bytes>` over
//! `{X-Signature-Timestamp}{body}` (no separator), verified with the
//! application's **public key** (64 hex characters in the developer portal).
//!
//! Discord documents no timestamp window and its libraries check none; the
//! signed timestamp is still handed to the replay layer. It must be exactly
//! 10 digits, as the body follows it with no separator. Discord sends
//! deliberately bad signatures when the URL is saved: they get 401.
//!
//! Verifies with a public key; signs only with a private key
//! ([`signing_key`]), which Discord keeps — useful for tests.
//!
//! ```
//! use tower_webhook::signature::schemes::discord::{discord, public_key};
//! use tower_webhook::signature::{Key, Keyring, SignatureLayer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = public_key("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")?;
//! let layer = SignatureLayer::new(discord(), Keyring::new().with(Key::new("app", key)))?;
//! # let _ = layer;
//! # Ok(())
//! # }
//! ```

use ed25519_dalek::ed25519::signature::{MultipartSigner, MultipartVerifier};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use http::request::Parts;
use http::{HeaderName, HeaderValue};

use crate::rejection::{Reason, Rejection};
use crate::secret::SecretError;
use crate::signature::keyring::{KeyKind, KeyMaterial};
use crate::signature::scheme::{
    one_header, Delivery, Outgoing, Scheme, SignError, Signatures, SignedHeaders, Stamp,
};
use crate::signature::TimestampFormat;

/// `X-Signature-Ed25519`.
pub const SIGNATURE: HeaderName = HeaderName::from_static("x-signature-ed25519");
/// `X-Signature-Timestamp` (Unix seconds).
pub const TIMESTAMP: HeaderName = HeaderName::from_static("x-signature-timestamp");

/// The Discord scheme (see the [module docs](self)).
#[derive(Debug, Clone, Default)]
pub struct Discord {
    _private: (),
}

/// Discord.
pub fn discord() -> Discord {
    Discord::default()
}

/// The public key as the developer portal shows it (64 hex characters).
pub fn public_key(hex_key: &str) -> Result<KeyMaterial, SecretError> {
    let bytes: [u8; 32] = hex::decode(hex_key.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(SecretError::InvalidBase64)?;
    VerifyingKey::from_bytes(&bytes)
        .map(KeyMaterial::Ed25519)
        .map_err(|_| SecretError::InvalidBase64)
}

/// A private key from its 32-byte seed in hex, to sign (tests, examples).
pub fn signing_key(hex_seed: &str) -> Result<KeyMaterial, SecretError> {
    let seed: [u8; 32] = hex::decode(hex_seed.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(SecretError::InvalidBase64)?;
    Ok(KeyMaterial::Ed25519Signing(SigningKey::from_bytes(&seed)))
}

/// The public half of an Ed25519 key, if `key` is one.
pub(crate) fn verifying_key(key: &KeyMaterial) -> Option<VerifyingKey> {
    match key {
        KeyMaterial::Ed25519(public) => Some(*public),
        KeyMaterial::Ed25519Signing(private) => Some(private.verifying_key()),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// Whether `signature` is valid for `message` (given in parts, so the body is
/// not copied) under `key`.
pub fn verify(key: &VerifyingKey, message: &[&[u8]], signature: &[u8]) -> bool {
    let Ok(signature) = Signature::from_slice(signature) else {
        return false;
    };
    key.multipart_verify(message, &signature).is_ok()
}

/// The signature of `{timestamp}{body}`.
pub fn sign(key: &SigningKey, timestamp: &[u8], body: &[u8]) -> [u8; 64] {
    key.multipart_sign(&[timestamp, body]).to_bytes()
}

impl Scheme for Discord {
    fn name(&self) -> &str {
        "discord"
    }

    /// The interaction's id.
    fn delivery_id_field(&self) -> Option<&str> {
        Some("/id")
    }

    fn key_kind(&self) -> KeyKind {
        KeyKind::Ed25519
    }

    /// The hex public key from the developer portal.
    fn parse_key(&self, shown: &str) -> Result<KeyMaterial, SecretError> {
        public_key(shown)
    }

    /// The timestamp is signed (glued to the body), and handed to the
    /// context as signed.
    fn signs_timestamp(&self) -> bool {
        true
    }

    fn parse_head(&self, parts: &Parts) -> Result<Signatures, Rejection> {
        let value = one_header(&parts.headers, &SIGNATURE, Reason::SignatureMalformed)?
            .ok_or_else(|| Rejection::new(Reason::SignatureMissing))?;
        let bytes = hex::decode(value.trim_ascii())
            .ok()
            .filter(|bytes| bytes.len() == Signature::BYTE_SIZE)
            .ok_or_else(|| Rejection::new(Reason::SignatureMalformed))?;
        // The text is signed as sent; it must still be a timestamp to be
        // handed to the replay layer.
        let stamp =
            Stamp::from_header_fixed_width(&parts.headers, &TIMESTAMP, TimestampFormat::Seconds)?;
        let mut signatures = Signatures::new();
        signatures.push(0, bytes)?;
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
        let timestamp = &signatures.timestamp()?.text;
        signatures
            .candidates()
            .iter()
            .position(|candidate| verify(&key, &[timestamp, delivery.body], &candidate.bytes))
    }

    /// Needs a private key ([`signing_key`]); a public key is
    /// [`SignError::VerifyOnly`].
    fn sign(&self, key: &KeyMaterial, outgoing: &Outgoing<'_>) -> Result<SignedHeaders, SignError> {
        let key = match key {
            KeyMaterial::Ed25519Signing(private) => private,
            KeyMaterial::Ed25519(_) => return Err(SignError::VerifyOnly),
            #[allow(unreachable_patterns)]
            _ => return Err(SignError::WrongKeyKind),
        };
        let timestamp = TimestampFormat::Seconds
            .format_fixed_width(outgoing.timestamp)
            .ok_or(SignError::InvalidTimestamp)?;
        let signature = hex::encode(sign(key, timestamp.as_bytes(), outgoing.body));
        let value =
            |text: &str| HeaderValue::from_str(text).map_err(|_| SignError::InvalidHeaderValue);
        Ok(vec![
            (SIGNATURE, value(&signature)?),
            (TIMESTAMP, value(&timestamp)?),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8032 §7.1 TEST 1 key pair and its signature of the empty message.
    const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    const EMPTY_SIG: &str = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

    #[test]
    fn rfc8032_test_1() {
        let KeyMaterial::Ed25519(public) = public_key(PUBLIC).unwrap() else {
            unreachable!()
        };
        let signature = hex::decode(EMPTY_SIG).unwrap();
        assert!(verify(&public, &[b"", b""], &signature));
        assert!(!verify(&public, &[b"x"], &signature));
        let KeyMaterial::Ed25519Signing(private) = signing_key(SEED).unwrap() else {
            unreachable!()
        };
        assert_eq!(hex::encode(sign(&private, b"", b"")), EMPTY_SIG);
        assert_eq!(private.verifying_key(), public);
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(public_key("abc").is_err());
        assert!(public_key(&"00".repeat(31)).is_err());
        assert!(signing_key("zz").is_err());
    }
}
