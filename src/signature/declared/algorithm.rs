//! Which primitive made a signature, how it is written, and how it is
//! computed or checked over a message given in pieces.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::Mac;
use sha2::{Digest, Sha256};

use crate::signature::keyring::{KeyKind, KeyMaterial, SharedSecret};
use crate::signature::scheme::{SignError, MAX_SIGNATURE_LEN};

/// The primitive that made a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC-SHA1 (legacy GitHub, Intercom, Twilio).
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
    /// A plain SHA-256 of the secret followed by the message (HubSpot's
    /// legacy v1/v2). Weaker than an HMAC; only for providers that still
    /// send it. The secret is always the first thing hashed, so no
    /// configuration can leave it out.
    SecretPrefixedSha256,
    /// No signature: the header carries the shared secret itself (Okta's
    /// event hooks send the value configured for them in `Authorization`).
    /// Nothing of the request is covered, so anyone who sees one delivery
    /// can send others. Compared as SHA-256 digests of the value and the
    /// secret, so neither's length nor content shows in the time taken.
    HeaderSecret,
    /// Ed25519 (Discord, Standard Webhooks `v1a`): a 64-byte signature,
    /// verified with the sender's public key.
    #[cfg(feature = "ed25519")]
    Ed25519,
    /// ECDSA over P-256 with SHA-256, the signature DER-encoded (SendGrid).
    /// Both spellings of a signature (`s` and `n − s`) verify, and both are
    /// read as the same low-S candidate, so nothing keyed on a candidate
    /// sees two deliveries.
    #[cfg(feature = "ecdsa")]
    EcdsaP256Sha256,
}

/// The decoding buffer: room for every signature of the 64 bytes a candidate
/// allows, and for the longest DER signature, with base64's slack.
pub(crate) const DECODE_BUFFER: usize = 96;

/// The longest DER ECDSA P-256 signature, in bytes; longer is malformed.
#[cfg(feature = "ecdsa")]
const MAX_DER_LEN: usize = 72;

impl Algorithm {
    /// The kind of key that verifies this algorithm's signatures.
    pub fn key_kind(self) -> KeyKind {
        match self {
            Algorithm::Sha1
            | Algorithm::Sha256
            | Algorithm::Sha512
            | Algorithm::SecretPrefixedSha256
            | Algorithm::HeaderSecret => KeyKind::Shared,
            #[cfg(feature = "ed25519")]
            Algorithm::Ed25519 => KeyKind::Ed25519,
            #[cfg(feature = "ecdsa")]
            Algorithm::EcdsaP256Sha256 => KeyKind::EcdsaP256,
        }
    }

    /// The decoded signature as a candidate, or `None` when it cannot be one
    /// of this algorithm's (a public-key signature of the wrong length, a
    /// DER signature that is not strict DER, anything longer than
    /// 64 bytes). MAC tags of another length are kept: they
    /// simply never match. `scratch` holds a re-encoded signature.
    pub(crate) fn candidate<'a>(
        self,
        decoded: &'a [u8],
        #[allow(unused_variables)] scratch: &'a mut [u8; MAX_SIGNATURE_LEN],
    ) -> Option<&'a [u8]> {
        match self {
            #[cfg(feature = "ed25519")]
            Algorithm::Ed25519 => {
                (decoded.len() == ed25519_dalek::Signature::BYTE_SIZE).then_some(decoded)
            }
            #[cfg(feature = "ecdsa")]
            Algorithm::EcdsaP256Sha256 => {
                if decoded.is_empty() || decoded.len() > MAX_DER_LEN {
                    return None;
                }
                *scratch = ecdsa::normalized(decoded)?;
                Some(&scratch[..])
            }
            _ => (decoded.len() <= MAX_SIGNATURE_LEN).then_some(decoded),
        }
    }

    /// The signature of a JWS as a candidate: an ES256 token carries
    /// `r ‖ s` (64 bytes), not DER, and is read into the same low-S form
    /// as [`candidate`](Self::candidate) gives; the rest as there.
    #[cfg(feature = "json")]
    pub(crate) fn jws_candidate<'a>(
        self,
        decoded: &'a [u8],
        scratch: &'a mut [u8; MAX_SIGNATURE_LEN],
    ) -> Option<&'a [u8]> {
        match self {
            #[cfg(feature = "ecdsa")]
            Algorithm::EcdsaP256Sha256 => {
                *scratch = ecdsa::normalized_raw(decoded)?;
                Some(&scratch[..])
            }
            _ => self.candidate(decoded, scratch),
        }
    }

    /// The signature of `message` as a JWS writes it: base64url, and for
    /// ES256 `r ‖ s` rather than DER.
    #[cfg(feature = "json")]
    pub(crate) fn sign_jws(
        self,
        key: &KeyMaterial,
        message: &[&[u8]],
    ) -> Result<String, SignError> {
        match self {
            #[cfg(feature = "ecdsa")]
            Algorithm::EcdsaP256Sha256 => {
                let der = ecdsa::sign_with(key, message)?;
                let raw = ecdsa::normalized(&der).ok_or(SignError::InvalidHeaderValue)?;
                Ok(Encoding::Base64UrlNoPad.encode(&raw))
            }
            _ => self.sign(key, message, Encoding::Base64UrlNoPad),
        }
    }

    /// The digest of a shared-key algorithm over `message`, or `None` for
    /// a public-key algorithm.
    // Inlined into the verify loop: out of line (as it went when the
    // function grew), the keyed MAC state, a few hundred bytes, moves
    // through the call by value. Measured on `signature/*/tower-webhook`
    // at 1 KiB: GitHub 1,099 -> 1,029-1,043 ns, Standard 1,191 -> 1,069-1,130.
    #[inline]
    pub(crate) fn shared_tag(
        self,
        key: &SharedSecret,
        message: impl Fn(&mut dyn FnMut(&[u8])),
    ) -> Option<Tag> {
        #[inline(always)]
        fn run<M: Mac>(mut mac: M, message: impl Fn(&mut dyn FnMut(&[u8]))) -> Tag {
            message(&mut |piece| mac.update(piece));
            Tag::from(mac.finalize().into_bytes().as_slice())
        }
        Some(match self {
            Algorithm::Sha1 => run(key.hmac_sha1(), message),
            Algorithm::Sha256 => run(key.hmac_sha256(), message),
            Algorithm::Sha512 => run(key.hmac_sha512(), message),
            Algorithm::SecretPrefixedSha256 => {
                let mut hash = Sha256::new();
                hash.update(key.secret().expose_secret());
                message(&mut |piece| hash.update(piece));
                Tag::from(hash.finalize().as_slice())
            }
            // The message is not used: the value sent is the secret.
            Algorithm::HeaderSecret => {
                Tag::from(secret_digest(key.secret().expose_secret()).as_slice())
            }
            #[allow(unreachable_patterns)]
            _ => return None,
        })
    }

    /// Whether `candidate` is a valid public-key signature of `message`
    /// under `key` (always `false` for shared-key algorithms, which are
    /// compared as tags instead).
    #[allow(unused_variables)]
    pub(crate) fn verify_public(
        self,
        key: &KeyMaterial,
        message: &[&[u8]],
        candidate: &[u8],
    ) -> bool {
        match self {
            #[cfg(feature = "ed25519")]
            Algorithm::Ed25519 => ed25519::verifying_key(key)
                .is_some_and(|key| ed25519::verify(&key, message, candidate)),
            #[cfg(feature = "ecdsa")]
            Algorithm::EcdsaP256Sha256 => ecdsa::verify_normalized(key, message, candidate),
            _ => false,
        }
    }

    /// Whether `key` can make this algorithm's signatures: a public key
    /// only verifies ([`SignError::VerifyOnly`]).
    pub(crate) fn can_sign_with(self, key: &KeyMaterial) -> Result<(), SignError> {
        match (self.key_kind(), key.kind()) {
            (wanted, held) if wanted != held => Err(SignError::WrongKeyKind),
            #[cfg(feature = "ed25519")]
            (_, _) if matches!(key, KeyMaterial::Ed25519(_)) => Err(SignError::VerifyOnly),
            #[cfg(feature = "ecdsa")]
            (_, _) if matches!(key, KeyMaterial::EcdsaP256(_)) => Err(SignError::VerifyOnly),
            _ => Ok(()),
        }
    }

    /// The signature of `message` with `key`, encoded for the header.
    pub(crate) fn sign(
        self,
        key: &KeyMaterial,
        message: &[&[u8]],
        encoding: Encoding,
    ) -> Result<String, SignError> {
        let bytes: Vec<u8> = match self {
            #[cfg(feature = "ed25519")]
            Algorithm::Ed25519 => ed25519::sign_with(key, message)?.to_vec(),
            #[cfg(feature = "ecdsa")]
            Algorithm::EcdsaP256Sha256 => ecdsa::sign_with(key, message)?,
            // What is sent is the secret itself, whatever the encoding.
            Algorithm::HeaderSecret => {
                let key = key.as_shared().ok_or(SignError::WrongKeyKind)?;
                return std::str::from_utf8(key.secret().expose_secret())
                    .map(str::to_owned)
                    .map_err(|_| SignError::InvalidHeaderValue);
            }
            shared => {
                let key = key.as_shared().ok_or(SignError::WrongKeyKind)?;
                let tag = shared
                    .shared_tag(key, |feed| message.iter().for_each(|piece| feed(piece)))
                    .ok_or(SignError::WrongKeyKind)?;
                tag.as_slice().to_vec()
            }
        };
        Ok(encoding.encode(&bytes))
    }
}

/// The SHA-256 of a header secret (sent or held), the form in which the
/// two are compared.
pub(crate) fn secret_digest(value: &[u8]) -> [u8; 32] {
    Sha256::digest(value).into()
}

/// How the signature is written in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// Hex (lowercase when signing; either case accepted).
    Hex,
    /// Standard base64 with padding.
    Base64,
    /// The URL-safe base64 alphabet (`-`, `_`) without `=` padding
    /// (Sanity). Only that spelling is accepted: a padded or standard-alphabet
    /// value is not this encoding.
    Base64UrlNoPad,
}

impl Encoding {
    /// `text` decoded into `buffer`, or `None` if it is not this encoding
    /// or does not fit.
    pub(crate) fn decode_into<'b>(
        self,
        text: &[u8],
        buffer: &'b mut [u8; DECODE_BUFFER],
    ) -> Option<&'b [u8]> {
        if text.is_empty() {
            return None;
        }
        match self {
            Encoding::Hex => {
                let bytes = buffer.get_mut(..text.len() / 2)?;
                hex::decode_to_slice(text, bytes).ok()?;
                Some(bytes)
            }
            Encoding::Base64 => {
                // Longer text cannot decode into the buffer; refusing it
                // first keeps a hostile value from being decoded at all.
                if text.len() > DECODE_BUFFER / 3 * 4 {
                    return None;
                }
                let len = STANDARD.decode_slice(text, buffer).ok()?;
                buffer.get(..len)
            }
            Encoding::Base64UrlNoPad => {
                if text.len() > DECODE_BUFFER / 3 * 4 {
                    return None;
                }
                let len = URL_SAFE_NO_PAD.decode_slice(text, buffer).ok()?;
                buffer.get(..len)
            }
        }
    }

    pub(crate) fn encode(self, bytes: &[u8]) -> String {
        match self {
            Encoding::Hex => hex::encode(bytes),
            Encoding::Base64 => STANDARD.encode(bytes),
            Encoding::Base64UrlNoPad => URL_SAFE_NO_PAD.encode(bytes),
        }
    }
}

/// A digest on the stack (SHA-512 is the longest: 64 bytes).
pub(crate) struct Tag {
    bytes: [u8; 64],
    len: usize,
}

impl From<&[u8]> for Tag {
    fn from(slice: &[u8]) -> Self {
        let mut bytes = [0u8; 64];
        let len = slice.len().min(64);
        bytes[..len].copy_from_slice(&slice[..len]);
        Self { bytes, len }
    }
}

impl Tag {
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Ed25519 keys and signatures over messages given in pieces.
#[cfg(feature = "ed25519")]
pub mod ed25519 {
    use ed25519_dalek::ed25519::signature::{MultipartSigner, MultipartVerifier};
    use ed25519_dalek::{Signature, SigningKey, VerifyingKey};

    use crate::signature::keyring::KeyMaterial;
    use crate::signature::scheme::SignError;

    /// Whether `signature` is valid for `message` (given in pieces, so the
    /// body is not copied) under `key`.
    pub fn verify(key: &VerifyingKey, message: &[&[u8]], signature: &[u8]) -> bool {
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        key.multipart_verify(message, &signature).is_ok()
    }

    /// The signature of `message` (given in pieces).
    pub fn sign(key: &SigningKey, message: &[&[u8]]) -> [u8; 64] {
        key.multipart_sign(message).to_bytes()
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

    pub(super) fn sign_with(key: &KeyMaterial, message: &[&[u8]]) -> Result<[u8; 64], SignError> {
        match key {
            KeyMaterial::Ed25519Signing(private) => Ok(sign(private, message)),
            KeyMaterial::Ed25519(_) => Err(SignError::VerifyOnly),
            #[allow(unreachable_patterns)]
            _ => Err(SignError::WrongKeyKind),
        }
    }
}

/// ECDSA P-256 (SHA-256) keys and DER signatures over messages given in
/// pieces.
#[cfg(feature = "ecdsa")]
pub mod ecdsa {
    use p256::ecdsa::signature::{MultipartSigner, MultipartVerifier};
    use p256::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};

    use crate::signature::keyring::KeyMaterial;
    use crate::signature::scheme::SignError;

    /// Whether the DER `signature` is valid for `message` under `key`.
    pub fn verify(key: &VerifyingKey, message: &[&[u8]], signature: &[u8]) -> bool {
        let Ok(signature) = DerSignature::from_bytes(signature) else {
            return false;
        };
        key.multipart_verify(message, &signature).is_ok()
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

    /// The fixed-size `r ‖ s` signature (a JWS's ES256), with `s` in the
    /// lower half of the group order; `None` if it is not one.
    pub fn normalized_raw(raw: &[u8]) -> Option<[u8; 64]> {
        let signature = Signature::from_slice(raw).ok()?.normalize_s();
        Some(signature.to_bytes().into())
    }

    /// The DER signature of `message` (deterministic, RFC 6979).
    pub fn sign(key: &SigningKey, message: &[&[u8]]) -> Vec<u8> {
        let signature: Signature = key.multipart_sign(message);
        signature.to_der().as_bytes().to_vec()
    }

    /// Whether the normalised `r ‖ s` candidate verifies `message`.
    pub(super) fn verify_normalized(
        key: &KeyMaterial,
        message: &[&[u8]],
        candidate: &[u8],
    ) -> bool {
        let key = match key {
            KeyMaterial::EcdsaP256(public) => *public,
            KeyMaterial::EcdsaP256Signing(private) => *private.verifying_key(),
            #[allow(unreachable_patterns)]
            _ => return false,
        };
        Signature::from_slice(candidate)
            .is_ok_and(|signature| key.multipart_verify(message, &signature).is_ok())
    }

    pub(super) fn sign_with(key: &KeyMaterial, message: &[&[u8]]) -> Result<Vec<u8>, SignError> {
        match key {
            KeyMaterial::EcdsaP256Signing(private) => Ok(sign(private, message)),
            KeyMaterial::EcdsaP256(_) => Err(SignError::VerifyOnly),
            #[allow(unreachable_patterns)]
            _ => Err(SignError::WrongKeyKind),
        }
    }
}
