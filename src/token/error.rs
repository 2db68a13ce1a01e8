//! Why a presented credential could not be used.

use std::fmt;

/// A credential was presented but is unusable before any comparison: every
/// variant becomes [`Reason::TokenInvalid`](crate::Reason::TokenInvalid).
///
/// Kept apart from a plain mismatch so operators can tell, in debug logs, a
/// broken client from a wrong token. The messages never include the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CredentialError {
    /// The place was given twice with different values (or `Authorization`
    /// twice at all): which one to check is ambiguous.
    Ambiguous,
    /// The value holds bytes other than visible ASCII (obs-text, controls).
    NotVisibleAscii,
    /// The value is longer than any token this crate accepts.
    TooLong,
    /// The value is empty.
    Empty,
    /// The value is not a single token (e.g. `Bearer a b`).
    Malformed,
    /// `Authorization: Basic` whose payload is not base64.
    MalformedBase64,
    /// `Authorization: Basic` whose decoded payload has no `:`.
    MissingColon,
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialError::Ambiguous => "credential given more than once",
            CredentialError::NotVisibleAscii => "credential is not visible ASCII",
            CredentialError::TooLong => "credential is too long",
            CredentialError::Empty => "credential is empty",
            CredentialError::Malformed => "credential is not a single token",
            CredentialError::MalformedBase64 => "Basic credentials are not valid base64",
            CredentialError::MissingColon => "Basic credentials have no ':' separator",
        })
    }
}

impl std::error::Error for CredentialError {}

/// The longest credential looked at, in bytes (before decoding). Real tokens
/// are far shorter; refusing longer values up front bounds the work a
/// hostile header can cause.
pub(crate) const MAX_CREDENTIAL_LEN: usize = 4096;
