//! Keys and the keyring: the secrets (or public keys) a signature may be
//! made with, each with an id and an optional validity window for rotation.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use crate::rejection::Reason;
use crate::secret::Secret;
pub use crate::secret::SharedSecret;
use crate::signature::scheme::{Delivery, Scheme, Signatures};

/// The kinds of key a [`Scheme`] verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// A shared secret (HMAC, or a hash of secret and message).
    Shared,
    /// An Ed25519 public key (or private key, to sign).
    Ed25519,
    /// An ECDSA P-256 public key (or private key, to sign).
    EcdsaP256,
}

/// What a key is.
#[derive(Clone)]
#[non_exhaustive]
pub enum KeyMaterial {
    /// A shared secret (boxed: the prepared HMAC states are large).
    Shared(Arc<SharedSecret>),
    /// An Ed25519 public key: verifies only.
    #[cfg(feature = "ed25519")]
    Ed25519(ed25519_dalek::VerifyingKey),
    /// An Ed25519 private key: signs, and verifies with its public half.
    #[cfg(feature = "ed25519")]
    Ed25519Signing(ed25519_dalek::SigningKey),
    /// An ECDSA P-256 public key: verifies only.
    #[cfg(feature = "ecdsa")]
    EcdsaP256(p256::ecdsa::VerifyingKey),
    /// An ECDSA P-256 private key: signs, and verifies with its public half.
    #[cfg(feature = "ecdsa")]
    EcdsaP256Signing(p256::ecdsa::SigningKey),
}

impl KeyMaterial {
    /// A shared secret, HMAC states prepared.
    pub fn shared(secret: Secret) -> Self {
        KeyMaterial::Shared(Arc::new(SharedSecret::new(secret)))
    }

    /// Which kind of key this is.
    pub fn kind(&self) -> KeyKind {
        match self {
            KeyMaterial::Shared(_) => KeyKind::Shared,
            #[cfg(feature = "ed25519")]
            KeyMaterial::Ed25519(_) | KeyMaterial::Ed25519Signing(_) => KeyKind::Ed25519,
            #[cfg(feature = "ecdsa")]
            KeyMaterial::EcdsaP256(_) | KeyMaterial::EcdsaP256Signing(_) => KeyKind::EcdsaP256,
        }
    }

    /// The shared secret, if this is one.
    pub fn as_shared(&self) -> Option<&SharedSecret> {
        match self {
            KeyMaterial::Shared(shared) => Some(shared),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyMaterial::{:?}(<redacted>)", self.kind())
    }
}

impl From<Secret> for KeyMaterial {
    fn from(secret: Secret) -> Self {
        KeyMaterial::shared(secret)
    }
}

/// A key with an id and an optional validity window.
#[derive(Debug, Clone)]
pub struct Key {
    id: Arc<str>,
    material: KeyMaterial,
    not_before: Option<SystemTime>,
    not_after: Option<SystemTime>,
}

impl Key {
    /// A key valid at all times.
    pub fn new(id: impl Into<Arc<str>>, material: impl Into<KeyMaterial>) -> Self {
        Self {
            id: id.into(),
            material: material.into(),
            not_before: None,
            not_after: None,
        }
    }

    /// Not accepted before `instant` (a new key published ahead of use).
    pub fn valid_from(mut self, instant: SystemTime) -> Self {
        self.not_before = Some(instant);
        self
    }

    /// Not accepted after `instant` (an old key at the end of a rotation).
    pub fn valid_until(mut self, instant: SystemTime) -> Self {
        self.not_after = Some(instant);
        self
    }

    /// The key's id, recorded in the context when it matches.
    pub fn id(&self) -> &Arc<str> {
        &self.id
    }

    /// The key itself.
    pub fn material(&self) -> &KeyMaterial {
        &self.material
    }

    /// The start of the validity window, if any.
    pub fn not_before(&self) -> Option<SystemTime> {
        self.not_before
    }

    /// The end of the validity window, if any.
    pub fn not_after(&self) -> Option<SystemTime> {
        self.not_after
    }

    /// Whether the key may be used at `now` (both window ends inclusive).
    pub fn is_valid_at(&self, now: SystemTime) -> bool {
        self.not_before.is_none_or(|start| now >= start)
            && self.not_after.is_none_or(|end| now <= end)
    }
}

/// The signature matched this key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The key's id.
    pub key_id: Arc<str>,
    /// Index of the matching candidate among the signatures the request
    /// carried.
    pub candidate: usize,
}

/// The keys a layer accepts signatures from.
///
/// During a rotation both the old and the new key are present, the old one
/// with a [`Key::valid_until`], so each is accepted for the overlap.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    keys: Vec<Key>,
}

impl Keyring {
    /// An empty keyring (a layer refuses to be built with one).
    pub fn new() -> Self {
        Self::default()
    }

    /// A keyring of one shared secret with id `"default"`.
    pub fn single(secret: Secret) -> Self {
        Self::new().with(Key::new("default", secret))
    }

    /// Add a key.
    pub fn with(mut self, key: Key) -> Self {
        self.keys.push(key);
        self
    }

    /// Add a shared secret valid at all times.
    pub fn with_secret(self, id: impl Into<Arc<str>>, secret: Secret) -> Self {
        self.with(Key::new(id, secret))
    }

    /// The keys, in the order added.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Check `signatures` against every key valid at `now`.
    ///
    /// Every valid key is tried (the first match wins), so the time taken
    /// says nothing about which key matched. Only when none does are the
    /// keys outside their window tried, to tell `key_expired` (a sender
    /// still on a retired key) from `signature_mismatch`.
    pub fn verify(
        &self,
        scheme: &dyn Scheme,
        signatures: &Signatures,
        delivery: &Delivery<'_>,
        now: SystemTime,
    ) -> Result<Match, Reason> {
        self.verify_with_clock(scheme, signatures, delivery, || now)
    }

    /// [`verify`](Self::verify), reading the time from `clock` only if a
    /// key has a validity window: most keyrings have none, and the clock is
    /// a system call's worth of every verification.
    pub fn verify_with_clock(
        &self,
        scheme: &dyn Scheme,
        signatures: &Signatures,
        delivery: &Delivery<'_>,
        clock: impl FnOnce() -> SystemTime,
    ) -> Result<Match, Reason> {
        let windowed = self
            .keys
            .iter()
            .any(|key| key.not_before.is_some() || key.not_after.is_some());
        // Without windows every key is valid at any instant.
        let now = if windowed {
            clock()
        } else {
            SystemTime::UNIX_EPOCH
        };
        let mut found = None;
        for key in self.keys.iter().filter(|key| key.is_valid_at(now)) {
            let matched = scheme.verify(&key.material, signatures, delivery);
            if let (None, Some(candidate)) = (&found, matched) {
                found = Some(Match {
                    key_id: Arc::clone(&key.id),
                    candidate,
                });
            }
        }
        if let Some(found) = found {
            return Ok(found);
        }
        let expired = self
            .keys
            .iter()
            .filter(|key| !key.is_valid_at(now))
            .any(|key| scheme.verify(&key.material, signatures, delivery).is_some());
        Err(if expired {
            Reason::KeyExpired
        } else {
            Reason::SignatureMismatch
        })
    }
}
