//! SendGrid (Twilio SendGrid signed Event Webhook):
//! `X-Twilio-Email-Event-Webhook-Signature: <base64 of a DER ECDSA
//! signature>` over `{X-Twilio-Email-Event-Webhook-Timestamp}{body}` (no
//! separator; the body's trailing `\r\n` is signed too), ECDSA P-256 with
//! SHA-256.
//!
//! The verification key is shown in Mail Settings → Signed Event Webhook as
//! base64 DER SubjectPublicKeyInfo; a PEM-armoured key is accepted too.
//! SendGrid keeps the private key, so this scheme signs only with a private
//! key of your own ([`KeyMaterial::EcdsaP256Signing`]), for tests. No
//! timestamp window is documented; the signed timestamp is handed to the
//! [`replay`](crate::replay) layer. It must be exactly 10 digits, as the
//! body follows it with no separator.
//!
//! ```
//! use tower_webhook::signature::schemes::sendgrid::sendgrid;
//! use tower_webhook::signature::{Key, Keyring, Scheme, SignatureLayer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let scheme = sendgrid();
//! let key = scheme.parse_key(
//!     "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==",
//! )?;
//! let layer = SignatureLayer::new(scheme, Keyring::new().with(Key::new("sendgrid", key)))?;
//! # let _ = layer;
//! # Ok(())
//! # }
//! ```

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::request::Parts;
use http::{HeaderName, HeaderValue};
use p256::ecdsa::signature::{MultipartSigner, MultipartVerifier};
use p256::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};
use p256::pkcs8::DecodePublicKey;

use crate::rejection::{Reason, Rejection};
use crate::secret::SecretError;
use crate::signature::keyring::{KeyKind, KeyMaterial};
use crate::signature::scheme::{
    one_header, Delivery, Outgoing, Scheme, SignError, Signatures, SignedHeaders, Stamp,
};
use crate::signature::TimestampFormat;

/// `X-Twilio-Email-Event-Webhook-Signature`.
pub const SIGNATURE: HeaderName = HeaderName::from_static("x-twilio-email-event-webhook-signature");
/// `X-Twilio-Email-Event-Webhook-Timestamp` (Unix seconds).
pub const TIMESTAMP: HeaderName = HeaderName::from_static("x-twilio-email-event-webhook-timestamp");

/// A DER ECDSA P-256 signature is at most 72 bytes; longer is malformed.
const MAX_DER_LEN: usize = 72;

/// The SendGrid scheme (see the [module docs](self)).
#[derive(Debug, Clone, Default)]
pub struct SendGrid {
    _private: (),
}

/// SendGrid's signed Event Webhook.
pub fn sendgrid() -> SendGrid {
    SendGrid::default()
}

/// The verification key as SendGrid shows it: base64 DER
/// SubjectPublicKeyInfo, with or without PEM armour.
pub fn public_key(shown: &str) -> Result<KeyMaterial, SecretError> {
    let base64: String = shown
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("-----"))
        .collect();
    if base64.is_empty() {
        return Err(SecretError::Empty);
    }
    let der = STANDARD
        .decode(base64)
        .map_err(|_| SecretError::InvalidBase64)?;
    VerifyingKey::from_public_key_der(&der)
        .map(KeyMaterial::EcdsaP256)
        .map_err(|_| SecretError::InvalidBase64)
}

/// Whether the DER `signature` is valid for `{timestamp}{body}` under `key`.
pub fn verify(key: &VerifyingKey, timestamp: &[u8], body: &[u8], signature: &[u8]) -> bool {
    let Ok(signature) = DerSignature::from_bytes(signature) else {
        return false;
    };
    key.multipart_verify(&[timestamp, body], &signature).is_ok()
}

/// The signature in DER, as the fixed-size `r ‖ s` with `s` in the lower
/// half of the group order; `None` if it is not strict DER.
///
/// ECDSA is malleable: `(r, n − s)` verifies wherever `(r, s)` does, so
/// anyone can re-spell a captured signature. Both spellings are accepted
/// (SendGrid does not promise low-S), but they become the same candidate
/// bytes, so nothing keyed on the signature sees two deliveries.
pub fn normalized(der: &[u8]) -> Option<[u8; 64]> {
    let signature = Signature::from_der(der).ok()?.normalize_s();
    Some(signature.to_bytes().into())
}

/// The DER signature of `{timestamp}{body}` (deterministic, RFC 6979).
pub fn sign(key: &SigningKey, timestamp: &[u8], body: &[u8]) -> Vec<u8> {
    let signature: Signature = key.multipart_sign(&[timestamp, body]);
    signature.to_der().as_bytes().to_vec()
}

fn verifying_key(key: &KeyMaterial) -> Option<VerifyingKey> {
    match key {
        KeyMaterial::EcdsaP256(public) => Some(*public),
        KeyMaterial::EcdsaP256Signing(private) => Some(*private.verifying_key()),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

impl Scheme for SendGrid {
    fn name(&self) -> &str {
        "sendgrid"
    }

    fn key_kind(&self) -> KeyKind {
        KeyKind::EcdsaP256
    }

    /// The base64 DER public key from the SendGrid dashboard.
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
        let bytes = STANDARD
            .decode(value.trim_ascii())
            .ok()
            .filter(|der| !der.is_empty() && der.len() <= MAX_DER_LEN)
            .and_then(|der| normalized(&der))
            .ok_or_else(|| Rejection::new(Reason::SignatureMalformed))?;
        let stamp =
            Stamp::from_header_fixed_width(&parts.headers, &TIMESTAMP, TimestampFormat::Seconds)?;
        let mut signatures = Signatures::new();
        signatures.push(0, bytes.to_vec())?;
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
        // Candidates are normalised `r ‖ s` (see [`normalized`]).
        signatures.candidates().iter().position(|candidate| {
            Signature::from_slice(&candidate.bytes).is_ok_and(|signature| {
                key.multipart_verify(&[timestamp, delivery.body], &signature)
                    .is_ok()
            })
        })
    }

    /// Needs a private key; SendGrid's public key is
    /// [`SignError::VerifyOnly`].
    fn sign(&self, key: &KeyMaterial, outgoing: &Outgoing<'_>) -> Result<SignedHeaders, SignError> {
        let key = match key {
            KeyMaterial::EcdsaP256Signing(private) => private,
            KeyMaterial::EcdsaP256(_) => return Err(SignError::VerifyOnly),
            #[allow(unreachable_patterns)]
            _ => return Err(SignError::WrongKeyKind),
        };
        let timestamp = TimestampFormat::Seconds
            .format_fixed_width(outgoing.timestamp)
            .ok_or(SignError::InvalidTimestamp)?;
        let signature = STANDARD.encode(sign(key, timestamp.as_bytes(), outgoing.body));
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

    const KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";

    #[test]
    fn pem_and_bare_keys_agree() {
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----\n",
            &KEY[..64],
            &KEY[64..]
        );
        let (KeyMaterial::EcdsaP256(a), KeyMaterial::EcdsaP256(b)) =
            (public_key(KEY).unwrap(), public_key(&pem).unwrap())
        else {
            unreachable!()
        };
        assert_eq!(a, b);
        assert!(public_key("").is_err());
        assert!(public_key("AAAA").is_err());
    }

    #[test]
    fn high_s_and_low_s_spellings_are_one_candidate() {
        let private = SigningKey::from_slice(&[0x42; 32]).unwrap();
        let der = sign(&private, b"1600112502", b"[]\r\n");
        let low = Signature::from_der(&der).unwrap().normalize_s();
        let high = Signature::from_scalars(low.r(), -*low.s()).unwrap();
        assert_ne!(high.to_bytes(), low.to_bytes());
        let high_der = high.to_der();
        let public = *private.verifying_key();
        assert!(verify(
            &public,
            b"1600112502",
            b"[]\r\n",
            high_der.as_bytes()
        ));
        assert_eq!(
            normalized(high_der.as_bytes()),
            normalized(low.to_der().as_bytes())
        );
    }

    #[test]
    fn signs_and_verifies_with_an_own_key() {
        let private = SigningKey::from_slice(&[0x42; 32]).unwrap();
        let der = sign(&private, b"1600112502", b"[]\r\n");
        let public = *private.verifying_key();
        assert!(verify(&public, b"1600112502", b"[]\r\n", &der));
        assert!(!verify(&public, b"1600112503", b"[]\r\n", &der));
        assert!(!verify(&public, b"1600112502", b"[]", &der));
    }
}
