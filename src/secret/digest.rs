//! Fixed-size digests for comparing credentials in constant time.
//!
//! A byte-wise constant-time comparison still returns at once when the
//! lengths differ, which tells a guesser the token's length. Both sides are
//! therefore first reduced to an HMAC-SHA256 under a key drawn once per
//! process: the comparison then always sees 32 bytes against 32 bytes, and
//! the accepted token's digest is computed once, when it is configured, so
//! no per-request work depends on its length either.

use std::fmt;
use std::sync::OnceLock;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The digest of a credential under this process's key.
#[derive(Clone)]
pub(crate) struct Digest([u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub(crate) fn of(bytes: &[u8]) -> Self {
        let mut mac = process_key().clone();
        mac.update(bytes);
        Self(mac.finalize().into_bytes().into())
    }

    /// Whether two digests are equal, in constant time.
    pub(crate) fn matches(&self, other: &Digest) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Digest(<redacted>)")
    }
}

fn process_key() -> &'static Hmac<Sha256> {
    static KEY: OnceLock<Hmac<Sha256>> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = Zeroizing::new([0u8; 32]);
        // Without an OS random source the key stays zero: the digests still
        // have a fixed size (what hides the length), only less secret.
        if getrandom::fill(&mut *key).is_err() {
            tracing::warn!("no OS randomness for the credential digest key");
        }
        <Hmac<Sha256> as KeyInit>::new_from_slice(&*key).unwrap_or_else(|_| unreachable!())
    })
}

#[cfg(test)]
mod tests {
    use super::Digest;

    #[test]
    fn equal_inputs_match_and_lengths_do_not_matter() {
        assert!(Digest::of(b"token").matches(&Digest::of(b"token")));
        for other in [
            &b""[..],
            b"t",
            b"toke",
            b"tokenn",
            b"token\0",
            &[b'x'; 4096],
        ] {
            assert!(!Digest::of(b"token").matches(&Digest::of(other)));
        }
    }
}
