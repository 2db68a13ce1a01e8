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
//! use tower_webhook::provider::discord::{discord, public_key};
//! use tower_webhook::signature::{Key, Keyring, SignatureLayer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = public_key("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")?;
//! let layer = SignatureLayer::new(discord(), Keyring::new().with(Key::new("app", key)))?;
//! # let _ = layer;
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::handshake::Handshake;
use crate::signature::declared::{
    Algorithm, DeclaredScheme, Encoding, KeyEncoding, Part, SignatureHeader,
};
use crate::signature::TimestampFormat;

pub use crate::signature::declared::ed25519::{sign, verify};
pub use crate::signature::declared::{ed25519_hex as public_key, ed25519_seed_hex as signing_key};

/// `X-Signature-Ed25519`.
pub const SIGNATURE: HeaderName = HeaderName::from_static("x-signature-ed25519");
/// `X-Signature-Timestamp` (Unix seconds).
pub const TIMESTAMP: HeaderName = HeaderName::from_static("x-signature-timestamp");

/// Discord: Ed25519 over `{timestamp}{body}`, hex, keyed with the
/// application's public key; the interaction's `/id` is its delivery id.
pub fn discord() -> DeclaredScheme {
    DeclaredScheme::new("discord")
        .signature(
            SignatureHeader::new(SIGNATURE)
                .algorithm(Algorithm::Ed25519)
                .encoding(Encoding::Hex),
        )
        .timestamp_header(TIMESTAMP, TimestampFormat::Seconds)
        .message([Part::Timestamp, Part::Body])
        .key_encoding(KeyEncoding::Ed25519Hex)
        .delivery_id_field("/id")
}

/// discord: what every way of building its receiver reads.
pub const DISCORD: Provider = Provider {
    name: "discord",
    scheme: || Arc::new(discord()),
    signed: "X-Signature-Timestamp and the raw body (Ed25519)",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the interaction id, /id in the signed body",
    handshake: Some(|_| Ok(Handshake::discord())),
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-validating-security-request-headers (Ed25519 over \"{X-Signature-Timestamp}{body}\", the application's public key)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::KeyMaterial;

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
        assert_eq!(hex::encode(sign(&private, &[b"", b""])), EMPTY_SIG);
        assert_eq!(private.verifying_key(), public);
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(public_key("abc").is_err());
        assert!(public_key(&"00".repeat(31)).is_err());
        assert!(signing_key("zz").is_err());
    }
}
