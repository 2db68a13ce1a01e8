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

pub mod declared;
mod either;
pub mod generic;
pub mod keyring;
mod layer;
pub mod public_url;
pub mod scheme;
mod sign;
mod time;

pub use crate::context::SignedMessage;
pub use declared::DeclaredScheme;
pub use either::FirstPresent;
pub use keyring::{Key, KeyKind, KeyMaterial, Keyring, Match, SharedSecret};
pub use layer::{
    SignatureCheck, SignatureConfigError, SignatureLayer, SignaturePending, VerifySignature,
};
pub use scheme::{
    one_header, Candidate, Delivery, Outgoing, Scheme, SignError, Signatures, SignedHeaders, Stamp,
};
pub use sign::{unix_now, Sent, Signer, SignerError};
pub use time::TimestampFormat;
