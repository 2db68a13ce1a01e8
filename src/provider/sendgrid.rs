//! SendGrid (Twilio SendGrid signed Event Webhook):
//! `X-Twilio-Email-Event-Webhook-Signature: <base64 of a DER ECDSA
//! signature>` over `{X-Twilio-Email-Event-Webhook-Timestamp}{body}` (no
//! separator; the body's trailing `\r\n` is signed too), ECDSA P-256 with
//! SHA-256.
//!
//! The verification key is shown in Mail Settings → Signed Event Webhook as
//! base64 DER SubjectPublicKeyInfo; a PEM-armoured key is accepted too.
//! SendGrid keeps the private key, so this scheme signs only with a private
//! key of your own ([`KeyMaterial::EcdsaP256Signing`](crate::signature::KeyMaterial::EcdsaP256Signing)), for tests. No
//! timestamp window is documented; the signed timestamp is handed to the
//! [`replay`](crate::replay) layer. It must be exactly 10 digits, as the
//! body follows it with no separator.
//!
//! ```
//! use tower_webhook::provider::sendgrid::sendgrid;
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

use std::sync::Arc;

use http::HeaderName;

use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, NO_RETRIES_DOCUMENTED, UNDOCUMENTED};
use crate::signature::declared::{
    Algorithm, DeclaredScheme, Encoding, KeyEncoding, Part, SignatureHeader,
};
use crate::signature::TimestampFormat;

pub use crate::signature::declared::ecdsa::{normalized, sign, verify};
pub use crate::signature::declared::spki_base64 as public_key;

/// `X-Twilio-Email-Event-Webhook-Signature`.
pub const SIGNATURE: HeaderName = HeaderName::from_static("x-twilio-email-event-webhook-signature");
/// `X-Twilio-Email-Event-Webhook-Timestamp` (Unix seconds).
pub const TIMESTAMP: HeaderName = HeaderName::from_static("x-twilio-email-event-webhook-timestamp");

/// SendGrid's signed Event Webhook.
pub fn sendgrid() -> DeclaredScheme {
    DeclaredScheme::new("sendgrid")
        .signature(
            SignatureHeader::new(SIGNATURE)
                .algorithm(Algorithm::EcdsaP256Sha256)
                .encoding(Encoding::Base64),
        )
        .timestamp_header(TIMESTAMP, TimestampFormat::Seconds)
        .message([Part::Timestamp, Part::Body])
        .key_encoding(KeyEncoding::SpkiBase64)
}

/// sendgrid: what every way of building its receiver reads.
pub const SENDGRID: Provider = Provider {
    name: "sendgrid",
    scheme: || Arc::new(sendgrid()),
    signed: "X-Twilio-Email-Event-Webhook-Timestamp and the raw body (ECDSA P-256)",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none (the body is a batch of events): the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features (ECDSA P-256 over \"{timestamp}{body}\", base64 DER)",
    vectors: Vectors::Published(&[
        "sendgrid/sendgrid-python test/unit/test_eventwebhook.py",
    ]),
    ip_ranges: &[],
    ip_ranges_source: "not published: SendGrid says \"Our IPs change often since we constantly add more machines.\"",
    sends: &[],
    requires: &[],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::KeyMaterial;
    use p256::ecdsa::{Signature, SigningKey};

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
        let der = sign(&private, &[b"1600112502", b"[]\r\n"]);
        let low = Signature::from_der(&der).unwrap().normalize_s();
        let high = Signature::from_scalars(low.r(), -*low.s()).unwrap();
        assert_ne!(high.to_bytes(), low.to_bytes());
        let high_der = high.to_der();
        let public = *private.verifying_key();
        assert!(verify(
            &public,
            &[b"1600112502", b"[]\r\n"],
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
        let der = sign(&private, &[b"1600112502", b"[]\r\n"]);
        let public = *private.verifying_key();
        assert!(verify(&public, &[b"1600112502", b"[]\r\n"], &der));
        assert!(!verify(&public, &[b"1600112503", b"[]\r\n"], &der));
        assert!(!verify(&public, &[b"1600112502", b"[]"], &der));
    }
}
