//! Where the replay layer finds the timestamp.

#[cfg(feature = "json")]
use bytes::Bytes;
use http::{HeaderMap, HeaderName};
#[cfg(feature = "json")]
use serde_json::Value;

use crate::context::WebhookContext;
use crate::rejection::{Reason, Rejection};
use crate::timestamp::TimestampFormat;

/// The configured place of the timestamp.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Only the timestamp a signature layer verified.
    Signed,
    /// A request header.
    Header(HeaderName),
    /// A field of the JSON body, as a JSON pointer.
    #[cfg(feature = "json")]
    JsonField(String),
}

/// The timestamp a verified signature covers, if an outer layer recorded
/// one. An unsigned one in the context is ignored: it proves nothing.
pub(crate) fn signed(context: &WebhookContext) -> Option<i64> {
    context.update(|verification| {
        verification
            .timestamp
            .filter(|timestamp| timestamp.signed)
            .map(|timestamp| timestamp.unix_millis)
    })
}

/// The timestamp of header `name`: missing when absent, malformed when it
/// is repeated (ambiguous), not visible ASCII, or not a timestamp.
pub(crate) fn header(
    headers: &HeaderMap,
    name: &HeaderName,
    format: TimestampFormat,
) -> Result<i64, Rejection> {
    let mut values = headers.get_all(name).iter();
    let value = values
        .next()
        .ok_or(Rejection::new(Reason::TimestampMissing))?;
    if values.next().is_some() {
        return Err(Rejection::new(Reason::TimestampMalformed));
    }
    let text = value
        .to_str()
        .map_err(|_| Rejection::new(Reason::TimestampMalformed))?;
    format
        .parse_lenient(text)
        .ok_or(Rejection::new(Reason::TimestampMalformed))
}

/// The timestamp at `pointer` in the JSON `body`.
///
/// A body that is not JSON, or a JSON document without the field, lacks
/// what the configuration requires: `payload_incomplete` (400). A field that
/// is there but holds no timestamp is `timestamp_malformed` (401).
#[cfg(feature = "json")]
pub(crate) fn json_field(
    body: &Bytes,
    pointer: &str,
    format: TimestampFormat,
) -> Result<i64, Rejection> {
    // serde_json bounds nesting depth, so a hostile body cannot exhaust the
    // stack; its size is already bounded by the body limit.
    let document: Value =
        serde_json::from_slice(body).map_err(|_| Rejection::new(Reason::PayloadIncomplete))?;
    let value = document
        .pointer(pointer)
        .ok_or(Rejection::new(Reason::PayloadIncomplete))?;
    format
        .parse_json(value)
        .map_err(|_| Rejection::new(Reason::TimestampMalformed))
}

/// A JSON pointer from `field`: kept when it already is one (`/data/ts`),
/// otherwise the top-level field of that name (`created_at`).
#[cfg(feature = "json")]
pub(crate) fn pointer(field: &str) -> String {
    if field.starts_with('/') {
        field.to_owned()
    } else {
        format!("/{}", field.replace('~', "~0").replace('/', "~1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[cfg(feature = "json")]
    #[test]
    fn field_names_become_pointers() {
        assert_eq!(pointer("created_at"), "/created_at");
        assert_eq!(pointer("/data/created_at"), "/data/created_at");
        assert_eq!(pointer("a/b~c"), "/a~1b~0c");
    }

    #[test]
    fn repeated_header_is_ambiguous() {
        let name = HeaderName::from_static("x-timestamp");
        let mut headers = HeaderMap::new();
        headers.append(&name, HeaderValue::from_static("1700000000"));
        headers.append(&name, HeaderValue::from_static("1700000000"));
        let error = header(&headers, &name, TimestampFormat::Seconds).unwrap_err();
        assert_eq!(error.reason(), Reason::TimestampMalformed);
    }

    #[cfg(feature = "json")]
    #[test]
    fn body_outcomes() {
        let at = |body: &'static str| {
            json_field(
                &Bytes::from_static(body.as_bytes()),
                "/ts",
                TimestampFormat::Seconds,
            )
            .map_err(|rejection| rejection.reason())
        };
        assert_eq!(
            at(r#"{"ts":1700000000,"other":[1,2]}"#),
            Ok(1_700_000_000_000)
        );
        assert_eq!(at(r#"{"other":1}"#), Err(Reason::PayloadIncomplete));
        assert_eq!(at("ts=1700000000"), Err(Reason::PayloadIncomplete));
        assert_eq!(at(""), Err(Reason::PayloadIncomplete));
        assert_eq!(at(r#"{"ts":"soon"}"#), Err(Reason::TimestampMalformed));
    }
}
