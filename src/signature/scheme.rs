//! The [`Scheme`] trait and what it reads and writes.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use smallvec::SmallVec;

use crate::context::SignedMessage;
use crate::rejection::{Reason, Rejection};
use crate::secret::{Secret, SecretError};
use crate::signature::keyring::{KeyKind, KeyMaterial};
use crate::timestamp::TimestampFormat;

/// The most candidate signatures one request may carry. More is refused as
/// `signature_malformed`, which bounds the work a hostile header can cause.
pub(crate) const MAX_CANDIDATES: usize = 16;

/// The longest signature-bearing header value read, in bytes. Longer is
/// refused as `signature_malformed` before it is split or decoded.
pub(crate) const MAX_HEADER_LEN: usize = 8 * 1024;

/// A webhook signature scheme (a provider preset or a custom scheme).
///
/// Where a provider puts its signatures, which bytes
/// it signs, and how it signs them.
///
/// A scheme is consulted in two phases, matching
/// [`BodyCheck`](crate::guard::BodyCheck):
///
/// 1. [`Scheme::parse_head`] runs before a byte of the body is read. It finds
///    the candidate signatures (and the timestamp / delivery id the scheme
///    signs) in the headers, refusing a missing or ambiguous header there.
/// 2. [`Scheme::parse_body`] (default: nothing to do) may add candidates
///    found in the body, for providers such as Mailgun that sign inside it.
///    Then [`Scheme::verify`] is called once per usable key.
///
/// Schemes never check a timestamp's age: that is the
/// [`replay`](crate::replay) layer's business, so a user can verify re-sent
/// historic events by simply not adding it. A scheme only reports the
/// timestamp it verified.
///
/// Object safe: layers hold an `Arc<dyn Scheme>`.
pub trait Scheme: SignedMessage + fmt::Debug {
    /// Which kind of key this scheme verifies with. The layer refuses to be
    /// built with a keyring holding another kind.
    fn key_kind(&self) -> KeyKind {
        KeyKind::Shared
    }

    /// The key as the provider shows it in its dashboard (`whsec_…` for
    /// Standard Webhooks, the string verbatim for GitHub and Stripe, a hex
    /// public key for Discord). Default: the text's bytes verbatim.
    fn parse_key(&self, shown: &str) -> Result<KeyMaterial, SecretError> {
        Secret::new(shown).map(KeyMaterial::shared)
    }

    /// Find the candidate signatures in the request head, before the body is
    /// read. A scheme that finds its signatures in the body returns an empty
    /// [`Signatures`] here and fills it in [`Scheme::parse_body`].
    ///
    /// Refuse with `signature_missing` when a required header is absent and
    /// `signature_malformed` when it is ambiguous (two different values),
    /// too long (8 KiB), undecodable or holds too many
    /// candidates (16).
    fn parse_head(&self, parts: &Parts) -> Result<Signatures, Rejection>;

    /// Add what only the body reveals. Default: nothing.
    fn parse_body(
        &self,
        signatures: Signatures,
        _parts: &Parts,
        _body: &[u8],
    ) -> Result<Signatures, Rejection> {
        Ok(signatures)
    }

    /// The index of the first candidate in `signatures` made with `key` over
    /// this delivery, if any. Every candidate is compared in constant time.
    fn verify(
        &self,
        key: &KeyMaterial,
        signatures: &Signatures,
        delivery: &Delivery<'_>,
    ) -> Option<usize>;

    /// The timestamp window the provider documents, as a default for the
    /// [`replay`](crate::replay) layer. Never checked by the signature layer.
    /// Default: none documented.
    fn tolerance(&self) -> Option<Tolerance> {
        None
    }

    /// Whether a verified signature covers a timestamp, which the scheme
    /// then hands to the context for the [`replay`](crate::replay) layer.
    /// Default: whether the provider documents a window.
    fn signs_timestamp(&self) -> bool {
        self.tolerance().is_some()
    }

    /// The headers the provider would send with `outgoing`, signed with
    /// `key`, in the order the provider documents them.
    fn sign(&self, key: &KeyMaterial, outgoing: &Outgoing<'_>) -> Result<SignedHeaders, SignError>;

    /// The request headers that carry this scheme's signatures: credentials
    /// to keep out of logs. Default: none.
    fn signature_headers(&self) -> Vec<http::HeaderName> {
        Vec::new()
    }

    /// Refuse a key that is certainly in the wrong form for this provider
    /// (a Standard Webhooks key that is still the `whsec_…` text, a Stripe
    /// secret that was base64-decoded), so the mistake is a configuration
    /// error instead of every delivery failing. Default: any key.
    fn check_key(&self, _key: &KeyMaterial) -> Result<(), SecretError> {
        Ok(())
    }
}

/// The one value of header `name`, for [`Scheme::parse_head`]: absent is
/// `None`; several different values, or one longer than 8 KiB,
/// is refused with `malformed` (usually `signature_malformed`).
pub(crate) fn one_header<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
    malformed: Reason,
) -> Result<Option<&'h [u8]>, Rejection> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    // Identical repeats (a proxy duplicating a header) are harmless; any
    // other value makes the request ambiguous. Bounded: the header map
    // itself is bounded by the server's header limits.
    if values.any(|other| other != first) {
        return Err(Rejection::new(malformed));
    }
    let bytes = first.as_bytes();
    if bytes.len() > MAX_HEADER_LEN {
        return Err(Rejection::new(malformed));
    }
    Ok(Some(bytes))
}

/// How far a signed timestamp may be from now, as a provider documents it
/// (`None` on a side: unbounded on that side).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tolerance {
    /// How old a timestamp may be.
    pub past: Option<Duration>,
    /// How far in the future a timestamp may be.
    pub future: Option<Duration>,
}

impl Tolerance {
    /// `window` either side of now (Standard Webhooks, Slack).
    pub const fn symmetric(window: Duration) -> Self {
        Self {
            past: Some(window),
            future: Some(window),
        }
    }

    /// At most `window` old, any amount ahead (Stripe, Paddle, Twitch).
    pub const fn past_only(window: Duration) -> Self {
        Self {
            past: Some(window),
            future: None,
        }
    }
}

/// The headers a scheme produces when signing, in order.
pub(crate) type SignedHeaders = Vec<(HeaderName, HeaderValue)>;

/// The longest decoded signature a request may carry, in bytes: an
/// HMAC-SHA512 tag, an Ed25519 signature or a normalised ECDSA P-256 one.
pub(crate) const MAX_SIGNATURE_LEN: usize = 64;

/// One signature found in a request, decoded to raw bytes (kept inline: no
/// allocation per request).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    kind: u8,
    len: u8,
    bytes: [u8; MAX_SIGNATURE_LEN],
}

impl Candidate {
    /// A candidate of `kind` (a scheme-defined tag telling how it was made,
    /// e.g. GitHub's `sha256` header = 0 and legacy `sha1` header = 1), or
    /// `None` when `bytes` is longer than 64 bytes (no
    /// signature of any supported primitive is).
    pub fn new(kind: u8, bytes: &[u8]) -> Option<Self> {
        let mut inline = [0; MAX_SIGNATURE_LEN];
        inline.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(Self {
            kind,
            len: u8::try_from(bytes.len()).ok()?,
            bytes: inline,
        })
    }

    /// How it was made (see [`new`](Self::new)).
    pub fn kind(&self) -> u8 {
        self.kind
    }

    /// The decoded signature (MAC tag or public-key signature).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl fmt::Debug for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A signature value is not logged: a partial match leaks nothing, but
        // audit and debug output should not become an oracle either.
        f.debug_struct("Candidate")
            .field("kind", &self.kind)
            .field("len", &self.len)
            .finish()
    }
}

/// A timestamp as it appeared in the request: the exact text (which is what
/// gets signed) and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// The bytes as sent.
    pub text: Bytes,
    /// The instant, in milliseconds since the Unix epoch.
    pub unix_millis: i64,
}

impl Stamp {
    /// `text` as a `format` timestamp in its canonical spelling
    /// (`timestamp_malformed` otherwise), keeping the bytes as sent for the
    /// signed message; with `fixed_width`, also the format's fixed width, for
    /// a timestamp signed right next to another field with no separator.
    pub(crate) fn read(
        text: &[u8],
        format: TimestampFormat,
        fixed_width: bool,
    ) -> Result<Self, Rejection> {
        let text = text.trim_ascii();
        let unix_millis = if fixed_width {
            format.parse_fixed_width(text)
        } else {
            format.parse(text)
        }
        .ok_or_else(|| Rejection::new(Reason::TimestampMalformed))?;
        // Copied once, after parsing: a malformed value costs nothing, and
        // the context's record of the signed delivery shares these bytes.
        Ok(Self {
            text: Bytes::copy_from_slice(text),
            unix_millis,
        })
    }
}

/// What a scheme found in a request: the candidate signatures and the
/// signed timestamp and delivery id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signatures {
    // Two inline: one signature, or one per key during a rotation, is
    // what nearly every request carries.
    candidates: SmallVec<[Candidate; 2]>,
    timestamp: Option<Stamp>,
    // Empty but for a header of several sets, each signing its own
    // timestamp: the index of a set's first candidate and its timestamp.
    set_timestamps: Vec<(usize, Stamp)>,
    id: Option<Bytes>,
    variant: u8,
    prepared: Vec<u8>,
}

impl Signatures {
    /// Whether the request carried no signature at all (the layer then
    /// refuses with `signature_missing`, before trying a key).
    pub fn is_empty(&self) -> bool {
        self.candidates.is_empty()
    }

    /// Nothing found yet.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Add a candidate; more than 16, or one longer than
    /// 64 bytes, is `signature_malformed`.
    pub(crate) fn push(&mut self, kind: u8, bytes: &[u8]) -> Result<(), Rejection> {
        if self.candidates.len() >= MAX_CANDIDATES {
            return Err(Rejection::new(Reason::SignatureMalformed));
        }
        let candidate = Candidate::new(kind, bytes)
            .ok_or_else(|| Rejection::new(Reason::SignatureMalformed))?;
        self.candidates.push(candidate);
        Ok(())
    }

    /// The candidates, in the order found.
    pub(crate) fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// Record the timestamp the signature covers. The layer hands it to the
    /// context as signed only once a signature verified; set it only when the
    /// scheme's signed bytes include it.
    pub(crate) fn set_timestamp(&mut self, stamp: Stamp) {
        self.timestamp = Some(stamp);
    }

    /// The signed timestamp, if the scheme signs one.
    pub(crate) fn timestamp(&self) -> Option<&Stamp> {
        self.timestamp.as_ref()
    }

    /// Record that the candidates from index `first` on (up to the next
    /// set's) sign `stamp`, for a header holding several sets of a
    /// timestamp and its signatures (Persona's during a rotation). The
    /// first set's is also [`timestamp`](Self::timestamp).
    pub(crate) fn set_set_timestamp(&mut self, first: usize, stamp: Stamp) {
        if self.timestamp.is_none() {
            self.timestamp = Some(stamp.clone());
        }
        self.set_timestamps.push((first, stamp));
    }

    /// The timestamp candidate `index` signs: its set's, or the one
    /// [`timestamp`](Self::timestamp).
    pub(crate) fn timestamp_for(&self, index: usize) -> Option<&Stamp> {
        self.set_timestamps
            .iter()
            .rev()
            .find(|(first, _)| *first <= index)
            .map(|(_, stamp)| stamp)
            .or(self.timestamp.as_ref())
    }

    /// Which set candidate `index` belongs to, counted from 1; 0 for a
    /// header without sets. Candidates of one set share their digests.
    pub(crate) fn set_of(&self, index: usize) -> usize {
        self.set_timestamps
            .iter()
            .take_while(|(first, _)| *first <= index)
            .count()
    }

    /// Record the delivery id the signature covers, as sent.
    pub(crate) fn set_id(&mut self, id: impl Into<Bytes>) {
        self.id = Some(id.into());
    }

    /// The signed delivery id, if the scheme signs one.
    pub(crate) fn id(&self) -> Option<&[u8]> {
        self.id.as_deref()
    }

    /// The signed delivery id, shared.
    pub(crate) fn shared_id(&self) -> Option<&Bytes> {
        self.id.as_ref()
    }

    /// Record which of its variants the scheme found (e.g. which family of
    /// header names), so [`Scheme::verify`] builds the matching message.
    pub(crate) fn set_variant(&mut self, variant: u8) {
        self.variant = variant;
    }

    /// The variant recorded by [`set_variant`](Self::set_variant) (default 0).
    pub(crate) fn variant(&self) -> u8 {
        self.variant
    }

    /// Keep bytes the scheme derived from the request once, in
    /// [`Scheme::parse_body`], for [`Scheme::verify`] to use with every key
    /// (Twilio's sorted form parameters): pre-authentication work is then
    /// done once per request, not once per key.
    pub(crate) fn set_prepared(&mut self, prepared: Vec<u8>) {
        self.prepared = prepared;
    }

    /// The bytes kept by [`set_prepared`](Self::set_prepared) (default
    /// empty).
    pub(crate) fn prepared(&self) -> &[u8] {
        &self.prepared
    }
}

/// The received request a signature is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// Method, URI and headers.
    pub parts: &'a Parts,
    /// The raw body, exactly as received.
    pub body: &'a [u8],
}

/// A request to sign: what the sender knows when it sends a delivery.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The raw body.
    pub body: &'a [u8],
    /// Seconds since the Unix epoch.
    pub timestamp: i64,
    /// The delivery id (`msg_…`, an event id).
    pub id: &'a str,
    /// The full URL the sender calls (Twilio, Square, HubSpot).
    pub url: Option<&'a str>,
    /// The request method.
    pub method: &'a Method,
}

impl<'a> Outgoing<'a> {
    /// A `POST` of `body` at `timestamp` (Unix seconds) with delivery `id`.
    pub fn new(body: &'a [u8], timestamp: i64, id: &'a str) -> Self {
        Self {
            body,
            timestamp,
            id,
            url: None,
            method: &Method::POST,
        }
    }

    /// The URL the request is sent to.
    pub fn to_url(mut self, url: &'a str) -> Self {
        self.url = Some(url);
        self
    }

    /// Another method than `POST`.
    pub fn with_method(mut self, method: &'a Method) -> Self {
        self.method = method;
        self
    }
}

/// Why a delivery could not be signed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignError {
    /// The key is not the kind this scheme signs with.
    WrongKeyKind,
    /// This scheme only verifies (its provider keeps the private key).
    VerifyOnly,
    /// This scheme's signature travels in the body, not in headers
    /// (Mailgun: build the body with
    /// [`mailgun::signature_block`](crate::provider::mailgun::signature_block)).
    SignedInBody,
    /// This scheme signs the URL and none was given.
    MissingUrl,
    /// A value cannot be sent in a header (e.g. an id with a newline).
    InvalidHeaderValue,
    /// The timestamp cannot be represented in the scheme's format.
    InvalidTimestamp,
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignError::WrongKeyKind => "the key is not the kind this scheme signs with",
            SignError::VerifyOnly => {
                "this scheme only verifies; the provider keeps the private key"
            }
            SignError::SignedInBody => {
                "this scheme's signature travels in the body, not in headers \
                 (Mailgun: `provider::mailgun::signature_block`)"
            }
            SignError::MissingUrl => "this scheme signs the request URL and none was given",
            SignError::InvalidHeaderValue => "a value cannot be sent in an HTTP header",
            SignError::InvalidTimestamp => "the timestamp cannot be represented in this scheme",
        })
    }
}

impl std::error::Error for SignError {}
