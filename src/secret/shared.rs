//! [`SharedSecret`]: a secret with its HMAC states prepared.

use std::fmt;

use hmac::{Hmac, KeyInit};
use sha1::Sha1;
use sha2::{Sha256, Sha512};

use super::Secret;

/// A shared secret with its keyed HMAC states prepared once, so a request
/// costs one clone of the keyed state instead of a key schedule.
#[derive(Clone)]
pub struct SharedSecret {
    secret: Secret,
    sha1: Hmac<Sha1>,
    sha256: Hmac<Sha256>,
    sha512: Hmac<Sha512>,
}

impl SharedSecret {
    /// Prepare `secret` for HMAC-SHA1, -SHA256 and -SHA512.
    pub fn new(secret: Secret) -> Self {
        let key = secret.expose_secret();
        // HMAC accepts keys of any length, so these never fail.
        let sha1 = <Hmac<Sha1> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        let sha256 =
            <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        let sha512 =
            <Hmac<Sha512> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        Self {
            secret,
            sha1,
            sha256,
            sha512,
        }
    }

    /// The secret itself (for schemes that hash it rather than key a MAC).
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// A fresh HMAC-SHA1 keyed with this secret.
    pub fn hmac_sha1(&self) -> Hmac<Sha1> {
        self.sha1.clone()
    }

    /// A fresh HMAC-SHA256 keyed with this secret.
    pub fn hmac_sha256(&self) -> Hmac<Sha256> {
        self.sha256.clone()
    }

    /// A fresh HMAC-SHA512 keyed with this secret.
    pub fn hmac_sha512(&self) -> Hmac<Sha512> {
        self.sha512.clone()
    }
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedSecret(<redacted>)")
    }
}
