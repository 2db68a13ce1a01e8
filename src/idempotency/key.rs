//! Where the idempotency key of a delivery comes from.
//!
//! The rule: for a request a signature authenticated, only what that
//! signature covered decides the key. A header the signature did not cover
//! can be rewritten by anyone who captured the request, and every rewrite
//! would be a new delivery to the layer.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderName};
use sha2::{Digest, Sha256};

use crate::context::SignedDelivery;
#[cfg(test)]
use crate::context::WebhookContext;
use crate::path::percent_decoded;

/// The longest key kept as sent, in bytes. Longer keys (and keys with
/// control characters) are replaced by `sha256:` and the hex SHA-256 of the
/// key: still one key per delivery, but a bounded, printable one.
pub(crate) const MAX_KEY_LEN: usize = 256;

/// The unsigned headers [`IdempotencyLayer::new`](super::IdempotencyLayer::new)
/// falls back to for requests no signature authenticated (a token, a legacy
/// token, an allowlisted address), in order: the generic `Idempotency-Key`,
/// Standard Webhooks' `webhook-id`, Svix's `svix-id` and GitHub's
/// `X-GitHub-Delivery`.
pub(crate) const DEFAULT_KEY_HEADERS: [&str; 4] = [
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
    /// The delivery the signature layer verified: the delivery id its
    /// signature covers (Standard Webhooks' `webhook-id`, Twitch's message
    /// id, Mailgun's token), else the provider's id field in the signed body
    /// ([`SignedMessage::delivery_id_field`](crate::context::SignedMessage::delivery_id_field):
    /// Stripe's `/id`), else a SHA-256 digest of the signed message. Yields
    /// nothing for a request no signature authenticated.
    SignedDelivery,
    /// A request header no signature covers. Used only when it has exactly
    /// one value (identical repeats count as one) that is non-empty visible
    /// ASCII, and — unless the layer
    /// [accepts unsigned keys](super::IdempotencyLayer::accept_unsigned_keys_for_signed_requests)
    /// — only for requests no signature authenticated.
    UnsignedHeader(HeaderName),
    /// A field of the JSON body, as a JSON pointer (`/id`, `/data/event_id`).
    /// Strings and numbers are keys; anything else (or a body that is not
    /// JSON) is no key. Yields nothing when a signature authenticated the
    /// request without covering the body (Mailgun).
    JsonField(Arc<str>),
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

    /// Whether this source can yield a key for a request a signature
    /// authenticated, given whether that signature covers the body and
    /// whether unsigned keys were accepted.
    pub(crate) fn serves_signed(&self, covers_body: bool, unsigned_accepted: bool) -> bool {
        match self {
            KeySource::SignedDelivery => true,
            KeySource::UnsignedHeader(_) => unsigned_accepted,
            KeySource::JsonField(_) => covers_body,
        }
    }
}

/// A key and whether a signature vouches for it. Signed and unsigned keys
/// live apart in the store, so a weaker credential (a leaked legacy token)
/// cannot claim a signed delivery's id before the delivery arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) text: Arc<str>,
    pub(crate) signed: bool,
}

/// The key of this request from the first source that has one, normalised.
#[cfg(test)]
pub(crate) fn extract(
    sources: &[KeySource],
    unsigned_accepted: bool,
    parts: &Parts,
    body: &Bytes,
    context: &WebhookContext,
) -> Option<Key> {
    let signed = context.update(|v| v.signed.clone());
    extract_with(sources, unsigned_accepted, parts, body, signed)
}

/// [`extract`], given what the signature layer recorded (read by the caller
/// with the rest of the context, under one lock).
pub(crate) fn extract_with(
    sources: &[KeySource],
    unsigned_accepted: bool,
    parts: &Parts,
    body: &Bytes,
    signed: Option<SignedDelivery>,
) -> Option<Key> {
    // Parsed at most once, and only if a JSON source is reached.
    let mut json: Option<Option<serde_json::Value>> = None;
    let mut field = |pointer: &str| {
        json.get_or_insert_with(|| serde_json::from_slice(body).ok())
            .as_ref()
            .and_then(|document| from_json(document, pointer))
    };
    sources.iter().find_map(|source| {
        // The same rule the stack checks when it is built.
        if let Some(signed) = &signed {
            if !source.serves_signed(signed.scheme().covers_body(), unsigned_accepted) {
                return None;
            }
        }
        let text = match source {
            KeySource::SignedDelivery => {
                let signed = signed.as_ref()?;
                match signed.id() {
                    Some(id) => String::from_utf8_lossy(id),
                    None => Cow::Owned(
                        signed
                            .scheme()
                            .delivery_id_field()
                            .and_then(&mut field)
                            .unwrap_or_else(|| message_digest(signed, parts, body)),
                    ),
                }
            }
            KeySource::UnsignedHeader(name) => Cow::Borrowed(from_header(&parts.headers, name)?),
            KeySource::JsonField(pointer) => Cow::Owned(field(pointer)?),
        };
        let vouched = match source {
            KeySource::UnsignedHeader(_) => false,
            KeySource::SignedDelivery | KeySource::JsonField(_) => signed.is_some(),
        };
        Some(Key {
            text: normalise(&text),
            signed: vouched,
        })
    })
}

/// A digest of the message the signature covered
/// ([`SignedMessage::signed_message`](crate::context::SignedMessage::signed_message)),
/// so bytes the signature does not bind (an unsigned header, a query string
/// a body-only scheme ignores, the method where it is not signed, a moved
/// Twilio parameter boundary) cannot make a new key, while a new signed
/// message always does.
fn message_digest(signed: &SignedDelivery, parts: &Parts, body: &[u8]) -> String {
    // Length-prefixed, so no bytes can move from one field to the next.
    fn field(digest: &mut Sha256, bytes: &[u8]) {
        digest.update((bytes.len() as u64).to_be_bytes());
        digest.update(bytes);
    }
    let scheme = signed.scheme();
    let mut digest = Sha256::new();
    field(&mut digest, scheme.name().as_bytes());
    let timestamp = signed.timestamp_text().unwrap_or_default();
    field(&mut digest, timestamp);
    let id = signed.id().unwrap_or_default();
    if let Some(pieces) = scheme.signed_message(parts, body, timestamp, id) {
        // The signed bytes themselves, as one field: for a scheme signing
        // the body alone, the same digest as the length-prefixed body.
        let len: usize = pieces.iter().map(|piece| piece.len()).sum();
        digest.update((len as u64).to_be_bytes());
        for piece in &pieces {
            digest.update(piece);
        }
    } else {
        if scheme.covers_url() {
            field(&mut digest, parts.method.as_str().as_bytes());
            let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
            // Decoded, so two spellings a scheme may sign alike are one key.
            field(&mut digest, &percent_decoded(path_and_query));
        }
        if scheme.covers_body() {
            field(&mut digest, &scheme.canonical_body(body));
        }
    }
    format!("sha256:{}", hex::encode(digest.finalize()))
}

/// The longest key header read, as the signature layer bounds the headers
/// it reads: longer is no key.
const MAX_KEY_HEADER_LEN: usize = 8 * 1024;

fn from_header<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h str> {
    // The same rule as every other layer: identical repeats are one value,
    // different ones make the request ambiguous (no key).
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.any(|other| other != value) || value.len() > MAX_KEY_HEADER_LEN {
        return None;
    }
    let value = std::str::from_utf8(value.as_bytes()).ok()?.trim();
    (!value.is_empty()).then_some(value)
}

fn from_json(document: &serde_json::Value, pointer: &str) -> Option<String> {
    match document.pointer(pointer)? {
        serde_json::Value::String(text) if !text.is_empty() => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Keys longer than 256 bytes or with control characters become their
/// hash, so the store and the logs only ever see bounded, printable keys.
/// Copied once, into the `Arc` the context keeps.
pub(crate) fn normalise(key: &str) -> Arc<str> {
    if key.len() <= MAX_KEY_LEN && !key.chars().any(char::is_control) {
        key.into()
    } else {
        format!("sha256:{}", hex::encode(Sha256::digest(key.as_bytes()))).into()
    }
}

/// The key in the store: tenant, scope (route or namespace) and delivery
/// key with its kind, each length-prefixed so no choice of values makes two
/// tuples collide.
pub(crate) fn store_key(tenant: Option<&str>, scope: &str, key: &Key) -> String {
    // One allocation per request: the lengths are known, the digits short.
    // Written piece by piece (`t{len}:{tenant}|s{len}:{scope}|{kind}:{key}`,
    // or `t-|s…` without a tenant): the formatting machinery cost more than
    // the rest of the function.
    let tenant_len = tenant.map_or(0, str::len);
    let mut stored = String::with_capacity(48 + tenant_len + scope.len() + key.text.len());
    match tenant {
        Some(tenant) => {
            stored.push('t');
            push_decimal(&mut stored, tenant.len());
            stored.push(':');
            stored.push_str(tenant);
        }
        None => stored.push_str("t-"),
    }
    stored.push_str("|s");
    push_decimal(&mut stored, scope.len());
    stored.push(':');
    stored.push_str(scope);
    stored.push_str(if key.signed { "|s:" } else { "|u:" });
    stored.push_str(&key.text);
    stored
}

/// `n` in decimal, as `write!(text, "{n}")` would.
fn push_decimal(text: &mut String, n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        text.push(char::from(digit));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderValue, Request};
    use proptest::prelude::*;

    fn parts(headers: &[(&'static str, &'static str)]) -> Parts {
        let mut request = Request::post("/hooks");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    fn unsigned_sources() -> Vec<KeySource> {
        vec![
            KeySource::UnsignedHeader(HeaderName::from_static("webhook-id")),
            KeySource::json_field("id"),
        ]
    }

    fn key(text: &str, signed: bool) -> Key {
        Key {
            text: text.into(),
            signed,
        }
    }

    #[test]
    fn first_source_with_a_key_wins() {
        let context = WebhookContext::new();
        let body = Bytes::from_static(br#"{"id":"evt_1"}"#);
        assert_eq!(
            extract(&unsigned_sources(), false, &parts(&[]), &body, &context),
            Some(key("evt_1", false))
        );
        let with_header = parts(&[("webhook-id", "msg_1")]);
        assert_eq!(
            extract(&unsigned_sources(), false, &with_header, &body, &context),
            Some(key("msg_1", false))
        );
    }

    #[test]
    fn signed_delivery_yields_nothing_without_a_signature() {
        let context = WebhookContext::new();
        let sources = [KeySource::SignedDelivery];
        assert_eq!(
            extract(&sources, false, &parts(&[]), &Bytes::new(), &context),
            None
        );
    }

    #[test]
    fn identical_repeats_are_one_value_and_different_ones_no_key() {
        let context = WebhookContext::new();
        let mut request = parts(&[]);
        request
            .headers
            .append("webhook-id", HeaderValue::from_static("a"));
        request
            .headers
            .append("webhook-id", HeaderValue::from_static("a"));
        assert_eq!(
            extract(
                &unsigned_sources(),
                false,
                &request,
                &Bytes::new(),
                &context
            ),
            Some(key("a", false))
        );
        request
            .headers
            .append("webhook-id", HeaderValue::from_static("b"));
        assert_eq!(
            extract(
                &unsigned_sources(),
                false,
                &request,
                &Bytes::new(),
                &context
            ),
            None
        );
        let blank = parts(&[("webhook-id", "  ")]);
        assert_eq!(
            extract(&unsigned_sources(), false, &blank, &Bytes::new(), &context),
            None
        );
    }

    #[test]
    fn a_key_header_past_the_header_bound_is_no_key() {
        let context = WebhookContext::new();
        let sources = [KeySource::UnsignedHeader(HeaderName::from_static(
            "webhook-id",
        ))];
        let with = |len: usize| {
            let mut request = parts(&[]);
            let value = HeaderValue::from_str(&"k".repeat(len)).unwrap();
            request.headers.insert("webhook-id", value);
            extract(&sources, false, &request, &Bytes::new(), &context)
        };
        let longest = with(MAX_KEY_HEADER_LEN).expect("a key at the bound");
        assert!(longest.text.starts_with("sha256:"));
        assert_eq!(with(MAX_KEY_HEADER_LEN + 1), None);
    }

    #[test]
    fn json_numbers_are_keys_and_objects_are_not() {
        let context = WebhookContext::new();
        let pointer = [KeySource::json_field("/data/id")];
        let body = Bytes::from_static(br#"{"data":{"id":42}}"#);
        assert_eq!(
            extract(&pointer, false, &parts(&[]), &body, &context),
            Some(key("42", false))
        );
        let body = Bytes::from_static(br#"{"data":{"id":{"nested":1}}}"#);
        assert_eq!(extract(&pointer, false, &parts(&[]), &body, &context), None);
    }

    #[test]
    fn store_keys_do_not_collide_across_tenants_routes_and_kinds() {
        let k = key("k", false);
        assert_ne!(
            store_key(Some("a"), "/x", &k),
            store_key(Some("b"), "/x", &k)
        );
        assert_ne!(store_key(Some("a"), "/x", &k), store_key(None, "/x", &k));
        assert_ne!(store_key(None, "/x", &k), store_key(None, "/y", &k));
        assert_ne!(
            store_key(None, "/x", &k),
            store_key(None, "/x", &key("k", true))
        );
        // A separator inside a value cannot shift the boundaries.
        assert_ne!(
            store_key(Some("a|s2:/x"), "/y", &k),
            store_key(Some("a"), "/x|s2:/y", &k)
        );
    }

    /// The store key as it was first written, with `write!`: the text is
    /// what a shared store (Redis) holds, so it must not change.
    fn store_key_formatted(tenant: Option<&str>, scope: &str, key: &Key) -> String {
        let tenant = match tenant {
            Some(tenant) => format!("t{}:{tenant}", tenant.len()),
            None => "t-".to_owned(),
        };
        let kind = if key.signed { 's' } else { 'u' };
        format!("{tenant}|s{}:{scope}|{kind}:{}", scope.len(), key.text)
    }

    proptest! {
        #[test]
        fn store_keys_keep_their_text(
            tenant in proptest::option::of(".{0,40}"),
            scope in ".{0,300}",
            text in ".{0,20}",
            signed in any::<bool>(),
        ) {
            let key = key(&text, signed);
            prop_assert_eq!(
                store_key(tenant.as_deref(), &scope, &key),
                store_key_formatted(tenant.as_deref(), &scope, &key)
            );
        }

        #[test]
        fn normalised_keys_are_bounded_and_printable(text in any::<String>()) {
            let normalised = normalise(&text);
            prop_assert!(normalised.len() <= MAX_KEY_LEN);
            prop_assert!(!normalised.chars().any(char::is_control));
            prop_assert_eq!(&normalised, &normalise(&text));
        }

        #[test]
        fn any_body_and_header_bytes_are_handled(
            body in proptest::collection::vec(any::<u8>(), 0..512),
            header in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let context = WebhookContext::new();
            let mut request = parts(&[]);
            if let Ok(value) = HeaderValue::from_bytes(&header) {
                request.headers.insert("webhook-id", value);
            }
            if let Some(key) = extract(&unsigned_sources(), false, &request, &Bytes::from(body), &context) {
                prop_assert!(!key.text.is_empty() && key.text.len() <= MAX_KEY_LEN);
            }
        }

        #[test]
        fn distinct_tuples_give_distinct_store_keys(
            a in (proptest::option::of(".{0,8}"), ".{0,8}", ".{0,8}", any::<bool>()),
            b in (proptest::option::of(".{0,8}"), ".{0,8}", ".{0,8}", any::<bool>()),
        ) {
            prop_assume!(a != b);
            prop_assert_ne!(
                store_key(a.0.as_deref(), &a.1, &key(&a.2, a.3)),
                store_key(b.0.as_deref(), &b.1, &key(&b.2, b.3))
            );
        }
    }
}
