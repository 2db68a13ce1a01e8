//! Signatures: verify that a delivery was signed by a key in a keyring,
//! with a provider preset or a custom scheme, and sign deliveries.

pub mod hmac;
pub mod keyring;
pub mod scheme;
pub mod schemes;
mod time;

pub use hmac::HmacScheme;
pub use keyring::{Key, KeyKind, KeyMaterial, Keyring, Match, SharedSecret};
pub use scheme::{
    Candidate, Delivery, Outgoing, Scheme, SignError, Signatures, SignedHeaders, Stamp,
    MAX_CANDIDATES, MAX_HEADER_LEN,
};
pub use time::TimestampFormat;
