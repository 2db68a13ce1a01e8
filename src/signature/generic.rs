//! The two generic patterns many smaller providers use.

use std::time::Duration;

use http::HeaderName;

use crate::signature::declared::{DeclaredScheme, Encoding, Part, SignatureHeader};
use crate::signature::scheme::Tolerance;
use crate::timestamp::TimestampFormat;

/// `X-Timestamp: <unix s>` and
/// `X-Signature-SHA256: sha256=<hex of HMAC-SHA256(secret, "{timestamp}.{body}")>`.
pub fn timestamped() -> DeclaredScheme {
    DeclaredScheme::new("timestamped")
        .signature(
            SignatureHeader::new(HeaderName::from_static("x-signature-sha256")).prefix("sha256="),
        )
        .timestamp_header(
            HeaderName::from_static("x-timestamp"),
            TimestampFormat::Seconds,
        )
        .message([Part::Timestamp, Part::literal("."), Part::Body])
        .tolerance(Tolerance::symmetric(Duration::from_secs(300)))
}

/// `{header}: <base64 of HMAC-SHA256(secret, body)>` (e.g. `X-Synaps-Signature`).
pub fn body_hmac_base64(header: HeaderName) -> DeclaredScheme {
    DeclaredScheme::new("body-hmac-base64")
        .signature(SignatureHeader::new(header).encoding(Encoding::Base64))
}

/// `{header}: <hex of HMAC-SHA256(secret, body)>`.
pub fn body_hmac_hex(header: HeaderName) -> DeclaredScheme {
    DeclaredScheme::new("body-hmac-hex").signature(SignatureHeader::new(header))
}

/// The header [`provider::scheme_by_name`](crate::provider::scheme_by_name) uses for the body-HMAC patterns.
pub(crate) const DEFAULT_HEADER: HeaderName = HeaderName::from_static("x-signature");
