//! How a provider's dashboard shows the key, and reading it.

use crate::secret::{Secret, SecretError};
use crate::signature::keyring::KeyMaterial;

/// How the provider's dashboard shows the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyEncoding {
    /// The text's bytes are the key (GitHub, Stripe's `whsec_…`, Slack).
    Verbatim,
    /// Base64 after an optional `whsec_` (Standard Webhooks, Svix).
    Whsec,
    /// Base64 (Finch; Airtable's `macSecretBase64`; Microsoft Teams'
    /// security token).
    Base64,
    /// Hex: the dashboard shows the key's bytes as hex digits (Adyen's HMAC
    /// key).
    Hex,
    /// An Ed25519 public key as 64 hex characters (Discord's developer
    /// portal).
    #[cfg(feature = "ed25519")]
    Ed25519Hex,
    /// Svix's Ed25519 forms: `whpk_<base64 of the 32-byte public key>` to
    /// verify, `whsk_<base64 of seed ‖ public key>` to sign (Standard
    /// Webhooks `v1a`).
    #[cfg(feature = "ed25519")]
    Whpk,
    /// An ECDSA P-256 public key as base64 DER SubjectPublicKeyInfo, with or
    /// without PEM armour (SendGrid).
    #[cfg(feature = "ecdsa")]
    SpkiBase64,
    /// An ECDSA P-256 public key as a JSON Web Key (`"kty":"EC"`,
    /// `"crv":"P-256"`, `x` and `y` in base64url), as Plaid's
    /// `/webhook_verification_key/get` returns it.
    #[cfg(all(feature = "ecdsa", feature = "json"))]
    #[cfg_attr(docsrs, doc(cfg(all(feature = "ecdsa", feature = "json"))))]
    JwkP256,
}

impl KeyEncoding {
    /// Read `shown` as this encoding.
    pub fn parse(self, shown: &str) -> Result<KeyMaterial, SecretError> {
        match self {
            KeyEncoding::Verbatim => Secret::new(shown).map(KeyMaterial::shared),
            KeyEncoding::Whsec => Secret::from_whsec(shown).map(KeyMaterial::shared),
            KeyEncoding::Base64 => Secret::from_base64(shown).map(KeyMaterial::shared),
            KeyEncoding::Hex => Secret::from_hex(shown).map(KeyMaterial::shared),
            #[cfg(feature = "ed25519")]
            KeyEncoding::Ed25519Hex => ed25519_hex(shown),
            #[cfg(feature = "ed25519")]
            KeyEncoding::Whpk => whpk(shown),
            #[cfg(feature = "ecdsa")]
            KeyEncoding::SpkiBase64 => spki_base64(shown),
            #[cfg(all(feature = "ecdsa", feature = "json"))]
            KeyEncoding::JwkP256 => jwk_p256(shown),
        }
    }
}

/// An Ed25519 public key from 64 hex characters.
#[cfg(feature = "ed25519")]
pub fn ed25519_hex(hex_key: &str) -> Result<KeyMaterial, SecretError> {
    let bytes: [u8; 32] = hex::decode(hex_key.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(SecretError::InvalidBase64)?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map(KeyMaterial::Ed25519)
        .map_err(|_| SecretError::InvalidBase64)
}

/// An Ed25519 private key from its 32-byte seed in hex, to sign (tests,
/// examples).
#[cfg(feature = "ed25519")]
pub fn ed25519_seed_hex(hex_seed: &str) -> Result<KeyMaterial, SecretError> {
    let seed = zeroize::Zeroizing::new(
        hex::decode(hex_seed.trim()).map_err(|_| SecretError::InvalidBase64)?,
    );
    let seed: &[u8; 32] = seed
        .as_slice()
        .try_into()
        .map_err(|_| SecretError::InvalidBase64)?;
    Ok(KeyMaterial::Ed25519Signing(
        ed25519_dalek::SigningKey::from_bytes(seed),
    ))
}

/// A key in Svix's forms: `whpk_…` (public) or `whsk_…` (private: seed then
/// public key; the halves must agree).
#[cfg(feature = "ed25519")]
pub fn whpk(shown: &str) -> Result<KeyMaterial, SecretError> {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use ed25519_dalek::{SigningKey, VerifyingKey};

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
#[cfg(feature = "ed25519")]
pub fn to_whpk(key: &ed25519_dalek::VerifyingKey) -> String {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    format!("whpk_{}", STANDARD.encode(key.as_bytes()))
}

/// An ECDSA P-256 public key as base64 DER SubjectPublicKeyInfo, with or
/// without PEM armour.
#[cfg(feature = "ecdsa")]
pub fn spki_base64(shown: &str) -> Result<KeyMaterial, SecretError> {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use p256::pkcs8::DecodePublicKey;

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
    p256::ecdsa::VerifyingKey::from_public_key_der(&der)
        .map(KeyMaterial::EcdsaP256)
        .map_err(|_| SecretError::InvalidBase64)
}

/// An ECDSA P-256 public key from a JSON Web Key: `kty` `EC`, `crv`
/// `P-256`, `x` and `y` (32 bytes each, base64url), and if it names one,
/// `alg` `ES256`. Other members (`kid`, `use`, Plaid's `created_at`) are
/// ignored.
#[cfg(all(feature = "ecdsa", feature = "json"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "ecdsa", feature = "json"))))]
pub fn jwk_p256(shown: &str) -> Result<KeyMaterial, SecretError> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    #[derive(serde::Deserialize)]
    struct Jwk {
        kty: String,
        crv: String,
        x: String,
        y: String,
        alg: Option<String>,
    }
    if shown.trim().is_empty() {
        return Err(SecretError::Empty);
    }
    let jwk: Jwk = serde_json::from_str(shown).map_err(|_| SecretError::InvalidBase64)?;
    if jwk.kty != "EC" || jwk.crv != "P-256" || jwk.alg.as_deref().is_some_and(|a| a != "ES256") {
        return Err(SecretError::InvalidBase64);
    }
    let coordinate = |text: &str| -> Result<Vec<u8>, SecretError> {
        URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .filter(|bytes| bytes.len() == 32)
            .ok_or(SecretError::InvalidBase64)
    };
    // SEC1 uncompressed: 0x04, x, y; a point off the curve is refused.
    let mut sec1 = vec![4u8];
    sec1.extend(coordinate(&jwk.x)?);
    sec1.extend(coordinate(&jwk.y)?);
    p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
        .map(KeyMaterial::EcdsaP256)
        .map_err(|_| SecretError::InvalidBase64)
}
