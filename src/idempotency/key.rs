//! Where the idempotency key of a delivery comes from.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName};
use sha2::{Digest, Sha256};

use crate::context::WebhookContext;

/// The longest key kept as sent, in bytes. Longer keys (and keys with
/// control characters) are replaced by `sha256:` and the hex SHA-256 of the
/// key: still one key per delivery, but a bounded, printable one.
pub const MAX_KEY_LEN: usize = 256;

/// The headers [`IdempotencyLayer::new`](super::IdempotencyLayer::new) reads,
/// in order: the generic `Idempotency-Key`, Standard Webhooks' `webhook-id`,
/// Svix's `svix-id` and GitHub's `X-GitHub-Delivery`.
pub const DEFAULT_KEY_HEADERS: [&str; 4] = [
    "idempotency-key",
    "webhook-id",
    "svix-id",
    "x-github-delivery",
];

/// One place a key may come from. The layer tries its sources in order and
/// uses the first that yields a key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySource {
    /// A request header. Used only when it appears exactly once with a
    /// non-empty, visible-ASCII value.
    Header(HeaderName),
    /// A field of the JSON body, as a JSON pointer (`/id`, `/data/event_id`).
    /// Strings and numbers are keys; anything else (or a body that is not
    /// JSON) is no key.
    JsonField(Arc<str>),
    /// The signature that matched, as recorded in the context by the
    /// signature layer (SHA-256, hex). For senders that give no delivery id:
    /// a retry carries the same signature only if the sender re-signs the
    /// same bytes with the same timestamp, which most do.
    Signature,
}

impl KeySource {
    /// A JSON pointer source; a bare name (`id`) means the top-level field.
    pub fn json_field(pointer: &str) -> Self {
        if pointer.starts_with('/') {
            KeySource::JsonField(pointer.into())
        } else {
            KeySource::JsonField(format!("/{pointer}").into())
        }
    }
}

/// The key of this request from the first source that has one, normalised.
pub(crate) fn extract(
    sources: &[KeySource],
    headers: &HeaderMap,
    body: &Bytes,
    context: &WebhookContext,
) -> Option<String> {
    // Parsed at most once, and only if a JSON source is reached.
    let mut json: Option<Option<serde_json::Value>> = None;
    sources
        .iter()
        .find_map(|source| match source {
            KeySource::Header(name) => from_header(headers, name),
            KeySource::JsonField(pointer) => {
                let document = json.get_or_insert_with(|| serde_json::from_slice(body).ok());
                document
                    .as_ref()
                    .and_then(|document| from_json(document, pointer))
            }
            KeySource::Signature => context
                .update(|v| v.signature.clone())
                .filter(|signature| !signature.is_empty())
                .map(|signature| format!("sig:{}", hex::encode(Sha256::digest(&signature)))),
        })
        .map(normalise)
}

fn from_header(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        // Two ids for one delivery: trust neither.
        return None;
    }
    let value = value.to_str().ok()?.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

fn from_json(document: &serde_json::Value, pointer: &str) -> Option<String> {
    match document.pointer(pointer)? {
        serde_json::Value::String(text) if !text.is_empty() => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Keys longer than [`MAX_KEY_LEN`] or with control characters become their
/// hash, so the store and the logs only ever see bounded, printable keys.
pub(crate) fn normalise(key: String) -> String {
    if key.len() <= MAX_KEY_LEN && !key.chars().any(char::is_control) {
        key
    } else {
        format!("sha256:{}", hex::encode(Sha256::digest(key.as_bytes())))
    }
}

/// The key in the store: tenant, scope (route or namespace) and delivery
/// key, each length-prefixed so no choice of values makes two triples
/// collide.
pub(crate) fn store_key(tenant: Option<&str>, scope: &str, key: &str) -> String {
    let tenant = match tenant {
        Some(tenant) => format!("t{}:{tenant}", tenant.len()),
        None => "t-".to_owned(),
    };
    format!("{tenant}|s{}:{scope}|k:{key}", scope.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use proptest::prelude::*;

    fn sources() -> Vec<KeySource> {
        vec![
            KeySource::Header(HeaderName::from_static("webhook-id")),
            KeySource::json_field("id"),
            KeySource::Signature,
        ]
    }

    #[test]
    fn first_source_with_a_key_wins() {
        let context = WebhookContext::new();
        context.set_signature(Bytes::from_static(b"sig"));
        let body = Bytes::from_static(br#"{"id":"evt_1"}"#);
        let mut headers = HeaderMap::new();
        assert_eq!(
            extract(&sources(), &headers, &body, &context).as_deref(),
            Some("evt_1")
        );
        headers.insert("webhook-id", HeaderValue::from_static("msg_1"));
        assert_eq!(
            extract(&sources(), &headers, &body, &context).as_deref(),
            Some("msg_1")
        );
        let key = extract(&sources(), &HeaderMap::new(), &Bytes::new(), &context).unwrap();
        assert!(key.starts_with("sig:") && key.len() == 4 + 64, "{key}");
    }

    #[test]
    fn duplicate_or_empty_headers_are_no_key() {
        let context = WebhookContext::new();
        let mut headers = HeaderMap::new();
        headers.append("webhook-id", HeaderValue::from_static("a"));
        headers.append("webhook-id", HeaderValue::from_static("b"));
        assert_eq!(extract(&sources(), &headers, &Bytes::new(), &context), None);
        headers.insert("webhook-id", HeaderValue::from_static("  "));
        assert_eq!(extract(&sources(), &headers, &Bytes::new(), &context), None);
    }

    #[test]
    fn json_numbers_are_keys_and_objects_are_not() {
        let context = WebhookContext::new();
        let pointer = [KeySource::json_field("/data/id")];
        let body = Bytes::from_static(br#"{"data":{"id":42}}"#);
        assert_eq!(
            extract(&pointer, &HeaderMap::new(), &body, &context).as_deref(),
            Some("42")
        );
        let body = Bytes::from_static(br#"{"data":{"id":{"nested":1}}}"#);
        assert_eq!(extract(&pointer, &HeaderMap::new(), &body, &context), None);
    }

    #[test]
    fn store_keys_do_not_collide_across_tenants_and_routes() {
        assert_ne!(
            store_key(Some("a"), "/x", "k"),
            store_key(Some("b"), "/x", "k")
        );
        assert_ne!(store_key(Some("a"), "/x", "k"), store_key(None, "/x", "k"));
        assert_ne!(store_key(None, "/x", "k"), store_key(None, "/y", "k"));
        // A separator inside a value cannot shift the boundaries.
        assert_ne!(
            store_key(Some("a|s2:/x"), "/y", "k"),
            store_key(Some("a"), "/x|s2:/y", "k")
        );
    }

    proptest! {
        #[test]
        fn normalised_keys_are_bounded_and_printable(key in any::<String>()) {
            let normalised = normalise(key.clone());
            prop_assert!(normalised.len() <= MAX_KEY_LEN);
            prop_assert!(!normalised.chars().any(char::is_control));
            prop_assert_eq!(&normalised, &normalise(key));
        }

        #[test]
        fn any_body_and_header_bytes_are_handled(
            body in proptest::collection::vec(any::<u8>(), 0..512),
            header in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let context = WebhookContext::new();
            let mut headers = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_bytes(&header) {
                headers.insert("webhook-id", value);
            }
            if let Some(key) = extract(&sources(), &headers, &Bytes::from(body), &context) {
                prop_assert!(!key.is_empty() && key.len() <= MAX_KEY_LEN);
            }
        }

        #[test]
        fn distinct_triples_give_distinct_store_keys(
            a in (proptest::option::of(".{0,8}"), ".{0,8}", ".{0,8}"),
            b in (proptest::option::of(".{0,8}"), ".{0,8}", ".{0,8}"),
        ) {
            prop_assume!(a != b);
            prop_assert_ne!(
                store_key(a.0.as_deref(), &a.1, &a.2),
                store_key(b.0.as_deref(), &b.1, &b.2)
            );
        }
    }
}
