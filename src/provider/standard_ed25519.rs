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
//! use tower_webhook::provider::standard_ed25519::standard_ed25519;
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

use std::sync::Arc;

use http::HeaderName;

use super::standard::signed_as_standard;
use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, NO_RETRIES_DOCUMENTED, UNDOCUMENTED};
use crate::signature::declared::{
    Algorithm, DeclaredScheme, Encoding, KeyEncoding, SignatureHeader,
};

pub use crate::signature::declared::ed25519::{sign, verify};
pub use crate::signature::declared::{to_whpk, whpk as parse_key};

/// `webhook-id`.
pub const ID: HeaderName = HeaderName::from_static("webhook-id");
/// `webhook-timestamp` (Unix seconds).
pub const TIMESTAMP: HeaderName = HeaderName::from_static("webhook-timestamp");
/// `webhook-signature`.
pub const SIGNATURE: HeaderName = HeaderName::from_static("webhook-signature");

/// Standard Webhooks `v1a` (Ed25519).
pub fn standard_ed25519() -> DeclaredScheme {
    signed_as_standard(
        DeclaredScheme::new("standard-ed25519")
            .signature(
                SignatureHeader::new(SIGNATURE)
                    .algorithm(Algorithm::Ed25519)
                    .encoding(Encoding::Base64)
                    .list(' ', "v1a,"),
            )
            .key_encoding(KeyEncoding::Whpk),
        ID,
        TIMESTAMP,
    )
}

/// standard-ed25519: what every way of building its receiver reads.
pub const STANDARD_WEBHOOKS_ED25519: Provider = Provider {
    name: "standard-ed25519",
    scheme: || Arc::new(standard_ed25519()),
    signed: "webhook-id, webhook-timestamp and the raw body (Ed25519, v1a)",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the signed webhook-id",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "github.com/standard-webhooks/standard-webhooks spec/standard-webhooks.md (v1a: Ed25519 over \"{id}.{ts}.{body}\", keys whpk_/whsk_)",
    vectors: Vectors::Published(&[
        "svix/svix-webhooks server/svix-server/src/worker.rs test_asymmetric_key_signing",
    ]),
    ip_ranges: &[],
    ip_ranges_source: "not applicable: a specification, not a sender",
    sends: &[],
    requires: &[],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::KeyMaterial;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;

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
            &[
                b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.",
                br#"{"test": 2432232314}"#,
            ],
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
