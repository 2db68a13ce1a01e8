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
use crate::signature::provider_headers::provider_headers;
use crate::signature::scheme::{Outgoing, Scheme, SignError, SignedHeaders};

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
    /// No provider or scheme has this name: the message names the valid
    /// ones and the closest.
    UnknownScheme(String),
    /// The secret could not be read.
    InvalidSecret(SecretError),
}

impl fmt::Display for SignerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignerError::UnknownScheme(message) => f.write_str(message),
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

    /// The scheme.
    pub fn scheme(&self) -> &dyn Scheme {
        self.scheme.as_ref()
    }

    /// The headers for `outgoing`.
    pub fn sign(&self, outgoing: &Outgoing<'_>) -> Result<SignedHeaders, SignError> {
        self.scheme.sign(&self.key, outgoing)
    }

    /// Every header the provider sends with `outgoing`: the signed ones
    /// ([`sign`](Self::sign)), then its delivery id, event name and retry
    /// headers (`X-GitHub-Delivery`, `X-GitHub-Event: ping`,
    /// `X-Shopify-Topic`, `Linear-Delivery`, ...), with a harmless default
    /// where the value depends on the event.
    ///
    /// ```
    /// use tower_webhook::signature::{Outgoing, Signer};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let signer = Signer::preset("github", "It's a Secret to Everybody")?;
    /// let headers = signer.delivery_headers(&Outgoing::new(b"{}", 0, "72d3162e"))?;
    /// assert!(headers.iter().any(|(name, value)| name == "x-github-delivery" && value == "72d3162e"));
    /// assert!(headers.iter().any(|(name, value)| name == "x-github-event" && value == "ping"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn delivery_headers(&self, outgoing: &Outgoing<'_>) -> Result<SignedHeaders, SignError> {
        let mut headers = self.sign(outgoing)?;
        headers.extend(provider_headers(self.scheme.name(), outgoing));
        Ok(headers)
    }

    /// Sign `request` in place: its method, URI (as the URL) and body, at
    /// `timestamp` (Unix seconds) with delivery `id`, adding every header
    /// the provider sends ([`delivery_headers`](Self::delivery_headers)).
    /// A non-signature header the request already has (e.g. your own
    /// `X-GitHub-Event: push`) is kept.
    pub fn sign_request<B: AsRef<[u8]>>(
        &self,
        request: &mut Request<B>,
        timestamp: i64,
        id: &str,
    ) -> Result<(), SignError> {
        let url = request.uri().to_string();
        let method = request.method().clone();
        // Taken out so the body can be read while the headers are written.
        let mut headers = std::mem::take(request.headers_mut());
        let outgoing = Outgoing::new(request.body().as_ref(), timestamp, id)
            .to_url(&url)
            .with_method(&method);
        let signed = self.sign_into(&mut headers, &outgoing);
        *request.headers_mut() = headers;
        signed
    }

    /// Write the headers of `outgoing` into `headers`: the signed ones
    /// replace what is there, the provider's others only fill what is not.
    pub(crate) fn sign_into(
        &self,
        headers: &mut http::HeaderMap,
        outgoing: &Outgoing<'_>,
    ) -> Result<(), SignError> {
        for (name, value) in self.sign(outgoing)? {
            headers.insert(name, value);
        }
        for (name, value) in provider_headers(self.scheme.name(), outgoing) {
            if !headers.contains_key(&name) {
                headers.insert(name, value);
            }
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
