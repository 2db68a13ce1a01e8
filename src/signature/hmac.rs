//! [`HmacScheme`]: a configurable HMAC scheme covering every shape the
//! HMAC providers use. The presets in [`schemes`](super::schemes) are
//! configurations of it.
//!
//! ```
//! use http::HeaderName;
//! use tower_webhook::signature::hmac::{Algorithm, Encoding, HmacScheme, Part, SignatureHeader};
//! use tower_webhook::signature::TimestampFormat;
//!
//! // `X-Timestamp` + `X-Signature-SHA256: sha256=<hex of HMAC(secret, "<ts>.<body>")>`
//! let scheme = HmacScheme::new("my-provider")
//!     .signature(
//!         SignatureHeader::new(HeaderName::from_static("x-signature-sha256"))
//!             .prefix("sha256="),
//!     )
//!     .timestamp_header(HeaderName::from_static("x-timestamp"), TimestampFormat::Seconds)
//!     .message([Part::Timestamp, Part::literal("."), Part::Body]);
//! # let _ = scheme;
//! ```

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::Mac;
use http::request::Parts;
use http::{HeaderName, HeaderValue};
use subtle::ConstantTimeEq;

use crate::rejection::{Reason, Rejection};
use crate::secret::{Secret, SecretError};
use crate::signature::keyring::{KeyMaterial, SharedSecret};
use crate::signature::scheme::{
    one_header, Delivery, Outgoing, Scheme, SignError, Signatures, SignedHeaders, Stamp, Tolerance,
};
use crate::signature::time::TimestampFormat;

/// The hash under the HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC-SHA1 (legacy GitHub, Intercom, Twilio).
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

/// How the MAC is written in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// Hex (lowercase when signing; either case accepted).
    Hex,
    /// Standard base64 with padding.
    Base64,
}

impl Encoding {
    fn decode(self, text: &[u8]) -> Option<Vec<u8>> {
        if text.is_empty() {
            return None;
        }
        match self {
            // Sized up front: `hex::decode` grows its vector as it goes.
            Encoding::Hex => {
                let mut bytes = vec![0; text.len() / 2];
                hex::decode_to_slice(text, &mut bytes).ok()?;
                Some(bytes)
            }
            Encoding::Base64 => STANDARD.decode(text).ok(),
        }
    }

    fn encode(self, bytes: &[u8]) -> String {
        match self {
            Encoding::Hex => hex::encode(bytes),
            Encoding::Base64 => STANDARD.encode(bytes),
        }
    }
}

/// How the provider's dashboard shows the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyEncoding {
    /// The text's bytes are the key (GitHub, Stripe's `whsec_…`, Slack).
    Verbatim,
    /// Base64 after an optional `whsec_` (Standard Webhooks, Svix).
    Whsec,
    /// Base64.
    Base64,
}

/// One piece of the signed message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    /// The timestamp, exactly as sent.
    Timestamp,
    /// The delivery id, exactly as sent.
    Id,
    /// Fixed bytes (separators such as `.` or `v0:`).
    Literal(Cow<'static, [u8]>),
    /// The raw body.
    Body,
    /// The request method (`POST`).
    Method,
    /// The request path and query, as received (`/hooks?x=1`).
    PathAndQuery,
}

impl Part {
    /// Fixed text.
    pub fn literal(text: &'static str) -> Self {
        Part::Literal(Cow::Borrowed(text.as_bytes()))
    }
}

/// The syntax of a signature header's value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Syntax {
    /// One signature, after an optional prefix: `sha256=<hex>`, `<b64>`.
    Single { prefix: Cow<'static, str> },
    /// Entries split by `separator`; those starting with `prefix` are
    /// signatures, others (other versions) are skipped: `v1,<b64> v1,<b64>`.
    List {
        separator: u8,
        prefix: Cow<'static, str>,
    },
    /// `key=value` fields split by `separator`: `t=…,v1=…,v1=…` (Stripe),
    /// `ts=…;h1=…` (Paddle). Other keys are skipped.
    Fields {
        separator: u8,
        signature_key: Cow<'static, str>,
        timestamp_key: Option<Cow<'static, str>>,
    },
}

/// Where one kind of signature lives and how it is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    name: HeaderName,
    algorithm: Algorithm,
    encoding: Encoding,
    syntax: Syntax,
}

impl SignatureHeader {
    /// A header holding one HMAC-SHA256, hex, no prefix. Refine with the
    /// builder methods.
    pub fn new(name: HeaderName) -> Self {
        Self {
            name,
            algorithm: Algorithm::Sha256,
            encoding: Encoding::Hex,
            syntax: Syntax::Single {
                prefix: Cow::Borrowed(""),
            },
        }
    }

    /// Made with this hash (default SHA-256).
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Written in this encoding (default hex).
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// One signature after `prefix` (`sha256=`, `v0=`). A value without the
    /// prefix is `signature_malformed`.
    pub fn prefix(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.syntax = Syntax::Single {
            prefix: prefix.into(),
        };
        self
    }

    /// Several entries split by `separator`; those starting with `prefix`
    /// (`v1,`) are signatures, others are skipped (Standard Webhooks). An
    /// entry that does not decode is skipped too; a header with no usable
    /// entry is `signature_malformed`. `separator` must be ASCII (anything
    /// else is read as `,`).
    pub fn list(mut self, separator: char, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.syntax = Syntax::List {
            separator: ascii(separator),
            prefix: prefix.into(),
        };
        self
    }

    /// `key=value` fields split by `separator`; every `signature_key` is a
    /// signature, other keys are skipped (Stripe's `v1` among `t`, `v0`),
    /// as are values that do not decode (Paddle's `h1=dummy`). A header with
    /// no usable signature is `signature_malformed`. `separator` must be
    /// ASCII (anything else is read as `,`).
    pub fn fields(mut self, separator: char, signature_key: impl Into<Cow<'static, str>>) -> Self {
        self.syntax = Syntax::Fields {
            separator: ascii(separator),
            signature_key: signature_key.into(),
            timestamp_key: None,
        };
        self
    }

    /// With [`fields`](Self::fields): the timestamp is the field `key`
    /// (Stripe's `t`, Paddle's `ts`); set through
    /// [`HmacScheme::timestamp_field`].
    fn with_timestamp_key(mut self, key: Cow<'static, str>) -> Self {
        if let Syntax::Fields { timestamp_key, .. } = &mut self.syntax {
            *timestamp_key = Some(key);
        }
        self
    }

    /// The header's name.
    pub fn name(&self) -> &HeaderName {
        &self.name
    }
}

/// A separator must be one byte; anything else would never match a
/// header byte, so it falls back to a comma.
fn ascii(separator: char) -> u8 {
    u8::try_from(separator)
        .ok()
        .filter(u8::is_ascii)
        .unwrap_or(b',')
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TimestampSource {
    Header(HeaderName),
    Field(Cow<'static, str>),
}

/// A configurable HMAC scheme.
///
/// Signature headers are tried in the order given and the first one present
/// is used (so a legacy SHA-1 header is only a fallback when the SHA-256
/// one is absent, never a downgrade). The signed message is the
/// concatenation of the [`Part`]s, fed to the MAC piece by piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacScheme {
    name: Cow<'static, str>,
    headers: Vec<SignatureHeader>,
    timestamp: Option<(TimestampSource, TimestampFormat)>,
    id: Option<HeaderName>,
    message: Vec<Part>,
    key_encoding: KeyEncoding,
    tolerance: Option<Tolerance>,
    delivery_id_field: Option<Cow<'static, str>>,
    verbatim_whsec: bool,
}

impl HmacScheme {
    /// A scheme called `name` signing the raw body, with no signature header
    /// yet (add one with [`signature`](Self::signature)).
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            name: name.into(),
            headers: Vec::new(),
            timestamp: None,
            id: None,
            message: vec![Part::Body],
            key_encoding: KeyEncoding::Verbatim,
            delivery_id_field: None,
            tolerance: None,
            verbatim_whsec: false,
        }
    }

    /// Signatures are found in `header` (call again for fallbacks).
    pub fn signature(mut self, header: SignatureHeader) -> Self {
        self.headers.push(header);
        self
    }

    /// The timestamp is in the header `name`: a missing header is
    /// `timestamp_missing`, an unreadable one `timestamp_malformed`. Only a
    /// timestamp the [`message`](Self::message) includes is handed to the
    /// context (as signed).
    pub fn timestamp_header(mut self, name: HeaderName, format: TimestampFormat) -> Self {
        self.timestamp = Some((TimestampSource::Header(name), format));
        self
    }

    /// The timestamp is the field `key` of the
    /// [`fields`](SignatureHeader::fields) signature header(s) added so far
    /// (call after [`signature`](Self::signature)). A missing field is
    /// `timestamp_missing`, a repeated or unreadable one `timestamp_malformed`.
    pub fn timestamp_field(
        mut self,
        key: impl Into<Cow<'static, str>>,
        format: TimestampFormat,
    ) -> Self {
        let key = key.into();
        self.headers = self
            .headers
            .into_iter()
            .map(|header| header.with_timestamp_key(key.clone()))
            .collect();
        self.timestamp = Some((TimestampSource::Field(key), format));
        self
    }

    /// The delivery id is in the header `name`.
    pub fn id_header(mut self, name: HeaderName) -> Self {
        self.id = Some(name);
        self
    }

    /// The signed message, piece by piece (default: the body alone).
    pub fn message(mut self, parts: impl IntoIterator<Item = Part>) -> Self {
        self.message = parts.into_iter().collect();
        self
    }

    /// How the dashboard shows the key (default: verbatim).
    pub fn key_encoding(mut self, encoding: KeyEncoding) -> Self {
        self.key_encoding = encoding;
        self
    }

    /// The provider shows a `whsec_…` secret and keys with that text
    /// verbatim (Stripe): a key read with
    /// [`Secret::from_whsec`](crate::Secret::from_whsec) is refused.
    pub fn verbatim_whsec(mut self) -> Self {
        self.verbatim_whsec = true;
        self
    }

    /// The provider's documented timestamp window (see [`Scheme::tolerance`]).
    pub fn tolerance(mut self, tolerance: Tolerance) -> Self {
        self.tolerance = Some(tolerance);
        self
    }

    /// The provider's delivery id is the field at JSON `pointer` of the
    /// signed body (`/id` for Stripe), for the idempotency layer (see
    /// [`Scheme::delivery_id_field`]). Ignored unless the message includes
    /// the body.
    pub fn delivery_id_field(mut self, pointer: impl Into<Cow<'static, str>>) -> Self {
        self.delivery_id_field = Some(pointer.into());
        self
    }

    /// Rename (for presets built on another preset, e.g. Svix on Standard Webhooks).
    pub fn named(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// The signature headers, in the order tried.
    pub fn signature_headers(&self) -> &[SignatureHeader] {
        &self.headers
    }

    fn signs(&self, part: &Part) -> bool {
        self.message.contains(part)
    }

    /// The neighbours of every occurrence of `part` in the message (`None`
    /// at either end).
    fn neighbours<'a>(&'a self, part: &'a Part) -> impl Iterator<Item = &'a Part> + 'a {
        self.message
            .iter()
            .enumerate()
            .filter(move |(_, p)| *p == part)
            .flat_map(move |(i, _)| {
                let before = i.checked_sub(1).and_then(|j| self.message.get(j));
                [before, self.message.get(i + 1)].into_iter().flatten()
            })
    }

    /// Whether the timestamp touches a field of variable content with no
    /// separator between them (HubSpot's `{body}{timestamp}`): it must then
    /// have its format's fixed width, or digits could move across.
    fn timestamp_is_glued(&self) -> bool {
        self.neighbours(&Part::Timestamp)
            .any(|part| !matches!(part, Part::Literal(_)))
    }

    /// Whether `id` contains a separator written next to it in the message
    /// (Standard Webhooks' `.`), which would let the id's boundary move.
    fn id_holds_separator(&self, id: &[u8]) -> bool {
        self.neighbours(&Part::Id).any(|part| match part {
            Part::Literal(separator) => {
                !separator.is_empty() && id.windows(separator.len()).any(|w| w == &**separator)
            }
            _ => false,
        })
    }

    fn timestamp_format(&self) -> TimestampFormat {
        self.timestamp
            .as_ref()
            .map_or(TimestampFormat::Seconds, |(_, format)| *format)
    }

    /// Feed the message to `mac`, piece by piece, never copying the body.
    fn feed(&self, mac: &mut impl Mac, fields: &MessageFields<'_>) {
        for part in &self.message {
            match part {
                Part::Timestamp => mac.update(fields.timestamp),
                Part::Id => mac.update(fields.id),
                Part::Literal(bytes) => mac.update(bytes),
                Part::Body => mac.update(fields.body),
                Part::Method => mac.update(fields.method),
                Part::PathAndQuery => mac.update(fields.path_and_query),
            }
        }
    }

    /// The HMAC of the message with `key`'s prepared state for `algorithm`.
    fn tag(&self, algorithm: Algorithm, key: &SharedSecret, fields: &MessageFields<'_>) -> Tag {
        match algorithm {
            Algorithm::Sha1 => {
                let mut mac = key.hmac_sha1();
                self.feed(&mut mac, fields);
                Tag::from(mac.finalize().into_bytes().as_slice())
            }
            Algorithm::Sha256 => {
                let mut mac = key.hmac_sha256();
                self.feed(&mut mac, fields);
                Tag::from(mac.finalize().into_bytes().as_slice())
            }
            Algorithm::Sha512 => {
                let mut mac = key.hmac_sha512();
                self.feed(&mut mac, fields);
                Tag::from(mac.finalize().into_bytes().as_slice())
            }
        }
    }
}

/// A MAC tag on the stack (SHA-512 is the longest: 64 bytes).
struct Tag {
    bytes: [u8; 64],
    len: usize,
}

impl From<&[u8]> for Tag {
    fn from(slice: &[u8]) -> Self {
        let mut bytes = [0u8; 64];
        let len = slice.len().min(64);
        bytes[..len].copy_from_slice(&slice[..len]);
        Self { bytes, len }
    }
}

impl Tag {
    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The values a message is built from, whether received or being sent.
struct MessageFields<'a> {
    timestamp: &'a [u8],
    id: &'a [u8],
    body: &'a [u8],
    method: &'a [u8],
    path_and_query: &'a [u8],
}

fn split_once(bytes: &[u8], separator: u8) -> Option<(&[u8], &[u8])> {
    let at = bytes.iter().position(|&b| b == separator)?;
    let (before, after) = bytes.split_at(at);
    Some((before, after.get(1..).unwrap_or_default()))
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

fn malformed() -> Rejection {
    Rejection::new(Reason::SignatureMalformed)
}

impl Scheme for HmacScheme {
    fn name(&self) -> &str {
        &self.name
    }

    fn parse_key(&self, shown: &str) -> Result<KeyMaterial, SecretError> {
        let secret = match self.key_encoding {
            KeyEncoding::Verbatim => Secret::new(shown)?,
            KeyEncoding::Whsec => Secret::from_whsec(shown)?,
            KeyEncoding::Base64 => Secret::from_base64(shown)?,
        };
        Ok(KeyMaterial::shared(secret))
    }

    fn covers_body(&self) -> bool {
        self.signs(&Part::Body)
    }

    fn covers_url(&self) -> bool {
        self.signs(&Part::Method) || self.signs(&Part::PathAndQuery)
    }

    fn delivery_id_field(&self) -> Option<&str> {
        self.delivery_id_field
            .as_deref()
            .filter(|_| self.covers_body())
    }

    fn tolerance(&self) -> Option<Tolerance> {
        self.tolerance
    }

    fn check_key(&self, key: &KeyMaterial) -> Result<(), SecretError> {
        let Some(shared) = key.as_shared() else {
            return Ok(());
        };
        let secret = shared.secret();
        match self.key_encoding {
            KeyEncoding::Whsec if secret.is_whsec_text() => Err(SecretError::WhsecNotDecoded),
            KeyEncoding::Verbatim if self.verbatim_whsec && secret.is_decoded_whsec() => {
                Err(SecretError::WhsecDecoded)
            }
            _ => Ok(()),
        }
    }

    fn signs_timestamp(&self) -> bool {
        self.timestamp.is_some()
    }

    fn parse_head(&self, parts: &Parts) -> Result<Signatures, Rejection> {
        let mut found = None;
        for (kind, header) in self.headers.iter().enumerate() {
            if let Some(value) =
                one_header(&parts.headers, &header.name, Reason::SignatureMalformed)?
            {
                found = Some((kind, header, value));
                break;
            }
        }
        let Some((kind, header, value)) = found else {
            return Err(Rejection::new(Reason::SignatureMissing));
        };
        let kind = u8::try_from(kind).map_err(|_| malformed())?;
        let mut signatures = Signatures::new();
        let mut field_timestamp = None;
        match &header.syntax {
            Syntax::Single { prefix } => {
                let encoded = trim(value)
                    .strip_prefix(prefix.as_bytes())
                    .ok_or_else(malformed)?;
                let bytes = header.encoding.decode(encoded).ok_or_else(malformed)?;
                signatures.push(kind, bytes)?;
            }
            Syntax::List { separator, prefix } => {
                for entry in value.split(|b| b == separator).map(trim) {
                    // An undecodable entry is skipped, not fatal: rotation
                    // placeholders exist in the wild (Paddle's `h1=dummy`).
                    let decoded = entry
                        .strip_prefix(prefix.as_bytes())
                        .and_then(|encoded| header.encoding.decode(encoded));
                    if let Some(bytes) = decoded {
                        signatures.push(kind, bytes)?;
                    }
                }
            }
            Syntax::Fields {
                separator,
                signature_key,
                timestamp_key,
            } => {
                for field in value.split(|b| b == separator).map(trim) {
                    // A field without `=` says nothing we use; skip it like
                    // the providers' SDKs do.
                    let Some((key, encoded)) = split_once(field, b'=') else {
                        continue;
                    };
                    let (key, encoded) = (trim(key), trim(encoded));
                    if key == signature_key.as_bytes() {
                        if let Some(bytes) = header.encoding.decode(encoded) {
                            signatures.push(kind, bytes)?;
                        }
                    } else if timestamp_key.as_ref().is_some_and(|t| key == t.as_bytes())
                        && field_timestamp.replace(encoded).is_some()
                    {
                        return Err(Rejection::new(Reason::TimestampMalformed));
                    }
                }
            }
        }
        if signatures.candidates().is_empty() {
            // The header is there but holds no decodable signature of a
            // version we accept (`v0=` only, `v1=` empty or not hex): a
            // downgrade is not a pass.
            return Err(malformed());
        }
        if let Some((source, format)) = &self.timestamp {
            let text = match source {
                TimestampSource::Header(name) => {
                    one_header(&parts.headers, name, Reason::TimestampMalformed)?
                }
                TimestampSource::Field(_) => field_timestamp,
            };
            let text = trim(text.ok_or_else(|| Rejection::new(Reason::TimestampMissing))?);
            let stamp = if self.timestamp_is_glued() {
                Stamp::parse_fixed_width(text, *format)?
            } else {
                Stamp::parse(text, *format)?
            };
            if self.signs(&Part::Timestamp) {
                signatures.set_timestamp(stamp);
            }
        }
        if let Some(name) = &self.id {
            if self.signs(&Part::Id) {
                // A signature is present, so the request is judged by it: a
                // missing id is a broken signature (`signature_malformed`),
                // never an absent one that could fall back to a legacy token.
                let id = one_header(&parts.headers, name, Reason::SignatureMalformed)?
                    .ok_or_else(malformed)?;
                // An id holding its own separator (`msg.1` in `{id}.{ts}.`)
                // could be cut elsewhere: Standard Webhooks forbids it.
                if self.id_holds_separator(id) {
                    return Err(malformed());
                }
                signatures.set_id(id.to_vec());
            }
        }
        Ok(signatures)
    }

    fn verify(
        &self,
        key: &KeyMaterial,
        signatures: &Signatures,
        delivery: &Delivery<'_>,
    ) -> Option<usize> {
        let key = key.as_shared()?;
        let fields = MessageFields {
            timestamp: signatures.timestamp().map_or(&[][..], |stamp| &stamp.text),
            id: signatures.id().unwrap_or_default(),
            body: delivery.body,
            method: delivery.parts.method.as_str().as_bytes(),
            path_and_query: delivery
                .parts
                .uri
                .path_and_query()
                .map_or(&b"/"[..], |pq| pq.as_str().as_bytes()),
        };
        let mut tags: [Option<Tag>; 3] = [None, None, None];
        let mut matched = None;
        for (index, candidate) in signatures.candidates().iter().enumerate() {
            let header = self.headers.get(usize::from(candidate.kind))?;
            let slot = match header.algorithm {
                Algorithm::Sha1 => 0,
                Algorithm::Sha256 => 1,
                Algorithm::Sha512 => 2,
            };
            // One MAC per algorithm, however many candidates.
            let tag = tags[slot].get_or_insert_with(|| self.tag(header.algorithm, key, &fields));
            let equal = bool::from(tag.as_slice().ct_eq(&candidate.bytes));
            if equal && matched.is_none() {
                matched = Some(index);
            }
        }
        matched
    }

    fn sign(&self, key: &KeyMaterial, outgoing: &Outgoing<'_>) -> Result<SignedHeaders, SignError> {
        let key = key.as_shared().ok_or(SignError::WrongKeyKind)?;
        let header = self.headers.first().ok_or(SignError::VerifyOnly)?;
        let format = self.timestamp_format();
        let timestamp = if self.timestamp_is_glued() {
            format.format_fixed_width(outgoing.timestamp)
        } else {
            format.format(outgoing.timestamp)
        }
        .ok_or(SignError::InvalidTimestamp)?;
        if self.signs(&Part::Id) && self.id_holds_separator(outgoing.id.as_bytes()) {
            return Err(SignError::InvalidHeaderValue);
        }
        let path_and_query = match outgoing.url {
            Some(url) => url
                .parse::<http::Uri>()
                .map_err(|_| SignError::InvalidHeaderValue)?
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned()),
            None if self.signs(&Part::PathAndQuery) => return Err(SignError::MissingUrl),
            None => String::new(),
        };
        let fields = MessageFields {
            timestamp: timestamp.as_bytes(),
            id: outgoing.id.as_bytes(),
            body: outgoing.body,
            method: outgoing.method.as_str().as_bytes(),
            path_and_query: path_and_query.as_bytes(),
        };
        let encoded = header
            .encoding
            .encode(self.tag(header.algorithm, key, &fields).as_slice());
        let value = match &header.syntax {
            Syntax::Single { prefix } => format!("{prefix}{encoded}"),
            Syntax::List { prefix, .. } => format!("{prefix}{encoded}"),
            Syntax::Fields {
                separator,
                signature_key,
                timestamp_key,
            } => match timestamp_key {
                Some(t) => format!(
                    "{t}={timestamp}{}{signature_key}={encoded}",
                    char::from(*separator)
                ),
                None => format!("{signature_key}={encoded}"),
            },
        };
        let mut headers = SignedHeaders::new();
        if let Some(name) = &self.id {
            headers.push((name.clone(), header_value(outgoing.id)?));
        }
        if let Some((TimestampSource::Header(name), _)) = &self.timestamp {
            headers.push((name.clone(), header_value(&timestamp)?));
        }
        headers.push((header.name.clone(), header_value(&value)?));
        Ok(headers)
    }
}

fn header_value(text: &str) -> Result<HeaderValue, SignError> {
    HeaderValue::from_str(text).map_err(|_| SignError::InvalidHeaderValue)
}
