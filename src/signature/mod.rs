//! Signatures: verify that a delivery was signed by a key in a keyring,
//! with a provider preset or a custom scheme, and sign deliveries.
//!
//! * [`SignatureLayer`] verifies (headers before the body, then the MAC
//!   over the raw bytes).
//! * [`Keyring`] / [`Key`] hold the secrets (or public keys), each with an id
//!   and an optional validity window for rotation.
//! * [`Scheme`] is what a provider does; the [`provider`](crate::provider) module has the presets and
//!   [`DeclaredScheme`] declares custom ones (HMAC, Ed25519, ECDSA, signed
//!   URLs).
//! * [`Signer`] produces the headers a provider would send.
//!
//! ```
//! use tower_webhook::signature::{Outgoing, SignatureLayer, Signer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
//! let layer = SignatureLayer::preset("standard", secret)?;
//! let headers = Signer::preset("standard", secret)?
//!     .sign(&Outgoing::new(br#"{"test": 2432232314}"#, 1614265330, "msg_p5jXN8AQM9LWM0D4loKWxJek"))?;
//! assert_eq!(headers[2].1, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
//! # let _ = layer;
//! # Ok(())
//! # }
//! ```
//!
//! # Custom schemes
//!
//! [`DeclaredScheme`]: a signature scheme written down as data — which
//! headers carry the signatures, which primitive made them, which bytes
//! were signed — instead of code. Every preset in
//! [provider](crate::provider) but Mailgun (which signs inside the body) is
//! one, so a new provider is a short declaration, and the checks that keep
//! a concatenation unambiguous apply to it by construction.
//!
//! An HMAC provider:
//!
//! ```
//! use http::HeaderName;
//! use tower_webhook::signature::{DeclaredScheme, Part, SignatureHeader};
//! use tower_webhook::signature::TimestampFormat;
//!
//! // `X-Timestamp` + `X-Signature-SHA256: sha256=<hex of HMAC(secret, "<ts>.<body>")>`
//! let scheme = DeclaredScheme::new("my-provider")
//!     .signature(
//!         SignatureHeader::new(HeaderName::from_static("x-signature-sha256"))
//!             .prefix("sha256="),
//!     )
//!     .timestamp_header(HeaderName::from_static("x-timestamp"), TimestampFormat::Seconds)
//!     .message([Part::Timestamp, Part::literal("."), Part::Body]);
//! # let _ = scheme;
//! ```
//!
//! A provider signing the URL it called, with a public key (feature
//! `ed25519`):
//!
//! ```
//! # #[cfg(feature = "ed25519")] {
//! use http::HeaderName;
//! use tower_webhook::signature::{
//!     Algorithm, DeclaredScheme, Encoding, KeyEncoding, Part, SignatureHeader,
//! };
//! use tower_webhook::signature::PublicUrl;
//!
//! let scheme = DeclaredScheme::new("acme")
//!     .signature(
//!         SignatureHeader::new(HeaderName::from_static("x-acme-signature"))
//!             .algorithm(Algorithm::Ed25519)
//!             .encoding(Encoding::Base64),
//!     )
//!     .key_encoding(KeyEncoding::Ed25519Hex)
//!     .message([Part::Method, Part::literal(" "), Part::Url, Part::literal("\n"), Part::Body])
//!     .public_url(PublicUrl::base("https://hooks.example.com").unwrap());
//! # let _ = scheme;
//! # }
//! ```
//!
//! Beyond header MACs over pieces of the request, the presets also declare
//! a compact JWS in a header whose claim binds the body's hash (Netlify,
//! Vonage, Plaid), a signature inside a JSON body over some of its fields
//! (Adyen), and a header carrying the secret itself
//! ([`Algorithm::HeaderSecret`]: Okta), which signs nothing.
//!
//! Where two variable pieces touch with no literal between them, the
//! scheme pins the boundary itself: a timestamp next to one must have its
//! format's fixed width, an id may not hold the literal written next to it,
//! and a [`Part::Url`] next to the [`Part::Body`] (either order) is refused
//! when the two could be cut elsewhere. Put a literal between any other
//! pair.
//!
//! # The public URL
//!
//! [`PublicUrl`]: the URL a provider signed, for the schemes that sign it
//! (Twilio, Square, HubSpot v2/v3).
//!
//! The provider signs the URL *it* called, e.g.
//! `https://hooks.example.com/twilio/sms?tenant=7`. Behind a TLS-terminating
//! proxy or load balancer the request reaching the service says
//! `http://10.0.0.5:8080/sms?tenant=7`: scheme, host, port and sometimes a
//! path prefix were rewritten. Forwarded headers (`X-Forwarded-Proto`,
//! `X-Forwarded-Host`) are sent by whoever connects, so they are not trusted
//! here; configure the public URL instead.
//!
//! ```
//! use tower_webhook::signature::PublicUrl;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The proxy serves `https://hooks.example.com/twilio/...` and forwards
//! // `/...` to this service: the prefix belongs in the base.
//! let url = PublicUrl::base("https://hooks.example.com/twilio")?;
//! # let _ = url;
//! // Square signs the notification URL exactly as configured in the
//! // subscription, whatever path the request arrives on.
//! let url = PublicUrl::exact("https://hooks.example.com/square")?;
//! # let _ = url;
//! # Ok(())
//! # }
//! ```

pub(crate) mod declared;
pub(crate) mod either;
pub(crate) mod generic;
pub(crate) mod keyring;
mod layer;
pub(crate) mod public_url;
pub(crate) mod scheme;
pub(crate) mod sign;
// The presets the tests verify against are the provider registry's.
#[cfg(test)]
#[cfg(feature = "provider")]
mod tests;

#[doc(no_inline)]
pub use crate::TimestampFormat;
pub use declared::{Algorithm, DeclaredScheme, Encoding, KeyEncoding, Part, SignatureHeader};
pub(crate) use either::FirstPresent;
pub use keyring::{Key, KeyKind, KeyMaterial, Keyring, Match};
pub use layer::{SignatureCheck, SignatureConfigError, SignatureLayer, VerifySignature};
pub use public_url::PublicUrl;
pub use scheme::{Delivery, Outgoing, Scheme, SignError, Signatures, Tolerance};
pub(crate) use sign::unix_now;
pub use sign::Signer;
