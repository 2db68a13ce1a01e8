//! The sending side: the exact headers a provider would send, for tests,
//! for the `tower-webhook sign` command, and for services that send webhooks themselves.
//!
//! ```
//! use tower_webhook::signature::{Outgoing, Signer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let signer = Signer::preset("github", "It's a Secret to Everybody")?;
//! let headers = signer.sign(&Outgoing::new(b"Hello, World!", 0, "delivery-1"))?;
//! assert_eq!(headers[0].0, "x-hub-signature-256");
//! assert_eq!(
//!     headers[0].1,
//!     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
//! );
//! # Ok(())
//! # }
//! ```
//!
//! Symmetric schemes all sign. Asymmetric ones sign given a private key
//! ([`KeyMaterial`] has private-key variants behind the `ed25519` / `ecdsa`
//! features) or, where the provider keeps its key, are verify-only and return
//! [`SignError::VerifyOnly`].

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use http::Request;

use crate::secret::SecretError;
use crate::signature::keyring::KeyMaterial;
use crate::signature::scheme::{Outgoing, Scheme, SignError, SignedHeaders};
use crate::signature::schemes::{self, UnknownScheme};

/// A scheme and a key, ready to sign deliveries.
#[derive(Debug, Clone)]
pub struct Signer {
    scheme: Arc<dyn Scheme>,
    key: KeyMaterial,
}

/// Why a [`Signer`] could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignerError {
    /// No preset has this name.
    UnknownScheme(UnknownScheme),
    /// The secret could not be read.
    InvalidSecret(SecretError),
}

impl fmt::Display for SignerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignerError::UnknownScheme(unknown) => unknown.fmt(f),
            SignerError::InvalidSecret(error) => write!(f, "invalid secret: {error}"),
        }
    }
}

impl std::error::Error for SignerError {}

impl Signer {
    /// Sign with `scheme` and `key`.
    pub fn new(scheme: Arc<dyn Scheme>, key: KeyMaterial) -> Self {
        Self { scheme, key }
    }

    /// The preset `name` with the secret as the provider shows it
    /// (`whsec_…` for `standard`/`svix`, verbatim for `stripe`).
    pub fn preset(name: &str, shown_secret: &str) -> Result<Self, SignerError> {
        let scheme = schemes::by_name(name).map_err(SignerError::UnknownScheme)?;
        let key = scheme
            .parse_key(shown_secret)
            .map_err(SignerError::InvalidSecret)?;
        Ok(Self::new(scheme, key))
    }

    /// The scheme.
    pub fn scheme(&self) -> &dyn Scheme {
        self.scheme.as_ref()
    }

    /// The headers for `outgoing`.
    pub fn sign(&self, outgoing: &Outgoing<'_>) -> Result<SignedHeaders, SignError> {
        self.scheme.sign(&self.key, outgoing)
    }

    /// Sign `request` in place: its method, URI (as the URL) and body, at
    /// `timestamp` (Unix seconds) with delivery `id`.
    pub fn sign_request<B: AsRef<[u8]>>(
        &self,
        request: &mut Request<B>,
        timestamp: i64,
        id: &str,
    ) -> Result<(), SignError> {
        let url = request.uri().to_string();
        let method = request.method().clone();
        let outgoing = Outgoing::new(request.body().as_ref(), timestamp, id)
            .to_url(&url)
            .with_method(&method);
        let headers = self.sign(&outgoing)?;
        for (name, value) in headers {
            request.headers_mut().insert(name, value);
        }
        Ok(())
    }
}

/// Now, in Unix seconds (0 if the clock is before 1970).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}
