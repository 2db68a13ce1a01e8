//! [`DeclaredScheme`] and its vocabulary; documented in the
//! [`signature`](crate::signature) module.

mod algorithm;
mod header;
#[cfg(feature = "json")]
mod json;
#[cfg(feature = "json")]
mod jws;
mod keys;
mod message;
#[cfg(not(feature = "json"))]
mod no_json;

use std::borrow::Cow;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderName, HeaderValue};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

#[cfg(feature = "ecdsa")]
pub(crate) use algorithm::ecdsa;
#[cfg(feature = "ed25519")]
pub(crate) use algorithm::ed25519;
pub use algorithm::{Algorithm, Encoding};
pub use header::SignatureHeader;
#[cfg(feature = "json")]
pub(crate) use json::JsonSigned;
#[cfg(feature = "json")]
pub(crate) use jws::JwsClaims;
#[cfg(feature = "ecdsa")]
pub use keys::spki_base64;
pub use keys::KeyEncoding;
#[cfg(feature = "ed25519")]
pub use keys::{ed25519_hex, ed25519_seed_hex, to_whpk, whpk};
pub use message::decode_hubspot_escapes;
pub use message::sorted_params;
pub use message::Part;
pub(crate) use message::UrlSpelling;

use algorithm::Tag;
use header::malformed;
use message::{flat_params, param_count, query_param, MessageFields};
#[cfg(not(feature = "json"))]
use no_json::{JsonSigned, JwsClaims};

use crate::rejection::{Reason, Rejection};
use crate::secret::SecretError;
use crate::signature::keyring::{KeyKind, KeyMaterial};
use crate::signature::public_url::{
    body_and_url_split_once, other_port_spelling, url_and_body_split_once, PublicUrl,
};
use crate::signature::scheme::{
    one_header, Delivery, Outgoing, Scheme, SignError, Signatures, SignedHeaders, Stamp, Tolerance,
};
use crate::timestamp::TimestampFormat;

/// The most form parameters a request may carry for a scheme that signs
/// [`Part::FormParams`] (Twilio sends a few dozen). More is refused as
/// `payload_too_large` before they are decoded or sorted, so what a
/// stranger can make the server do before the signature is checked stays
/// proportional to the body.
pub(crate) const MAX_FORM_PARAMS: usize = 1024;

// Only a JWS scheme (the `json` feature) makes one.
#[cfg_attr(not(feature = "json"), allow(dead_code))]
/// What the claims of a JWS-signed delivery say of it, once `JwsClaims`
/// accepted them: the texts of its signing time and of
/// its id, for the schemes that ask the token for them.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Claimed {
    pub(crate) issued_at: Option<String>,
    pub(crate) id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TimestampSource {
    Header(HeaderName),
    Field(Cow<'static, str>),
}

/// A signature scheme declared as data (see the
/// [module docs](crate::signature#custom-schemes)).
///
/// Signature headers are tried in the order given and the first one present
/// is used (so a legacy SHA-1 header is only a fallback when the SHA-256
/// one is absent, never a downgrade). The signed message is the
/// concatenation of the [`Part`]s, fed to the primitive piece by piece,
/// never copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredScheme {
    name: Cow<'static, str>,
    headers: Vec<SignatureHeader>,
    refused: Vec<HeaderName>,
    timestamp: Option<(TimestampSource, TimestampFormat)>,
    id: Option<HeaderName>,
    message: Vec<Part>,
    key_encoding: KeyEncoding,
    tolerance: Option<Tolerance>,
    delivery_id_field: Option<Cow<'static, str>>,
    verbatim_whsec: bool,
    url: PublicUrl,
    url_spelling: UrlSpelling,
    either_port: bool,
    body_sha256_query: Option<Cow<'static, str>>,
    utf8_body: bool,
    every_header: bool,
    jws: Option<JwsClaims>,
    json_object_body: bool,
    json: Option<JsonSigned>,
}

impl DeclaredScheme {
    /// A scheme called `name` signing the raw body, with no signature header
    /// yet (add one with [`signature`](Self::signature)).
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            name: name.into(),
            headers: Vec::new(),
            refused: Vec::new(),
            timestamp: None,
            id: None,
            message: vec![Part::Body],
            key_encoding: KeyEncoding::Verbatim,
            delivery_id_field: None,
            tolerance: None,
            verbatim_whsec: false,
            url: PublicUrl::default(),
            url_spelling: UrlSpelling::AsCalled,
            either_port: false,
            body_sha256_query: None,
            utf8_body: false,
            every_header: false,
            jws: None,
            json_object_body: false,
            json: None,
        }
    }

    /// Signatures are found in `header` (call again for fallbacks). When
    /// signing, every signature header is sent.
    pub fn signature(mut self, header: SignatureHeader) -> Self {
        self.headers.push(header);
        self
    }

    /// Read every signature header present, not only the first: the
    /// provider sends one signature per key in its own header (Box's
    /// `box-signature-primary` and `box-signature-secondary`), and a key
    /// matching a signature in any of them verifies. Each header present
    /// must be well formed (and carry its
    /// [companions](SignatureHeader::requires)); one absent is fine. A
    /// timestamp field is read from the first header holding one.
    pub fn every_signature_header(mut self) -> Self {
        self.every_header = true;
        self
    }

    /// `name` carries a signature of the provider's that this configuration
    /// does not accept (a deprecated algorithm): a request with it and
    /// without an accepted one is `signature_malformed`, judged by the
    /// signature it carries and never passed on to a legacy token.
    pub fn refuse_signature(mut self, name: HeaderName) -> Self {
        self.refused.push(name);
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

    /// The timestamp is the first entry of the
    /// [`list`](SignatureHeader::list) signature header(s) added so far, the
    /// signatures the entries after it (Recurly's
    /// `recurly-signature: <ms>,<hex>,<hex>`; call after
    /// [`signature`](Self::signature)). An empty or unreadable first entry
    /// is `timestamp_malformed`; it is never read as a signature.
    pub fn timestamp_first_entry(mut self, format: TimestampFormat) -> Self {
        self.headers = self
            .headers
            .into_iter()
            .map(SignatureHeader::with_leading_timestamp)
            .collect();
        self.timestamp = Some((TimestampSource::Field(Cow::Borrowed("")), format));
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
    /// [`SignedMessage::delivery_id_field`](crate::context::SignedMessage::delivery_id_field)). Ignored unless the message includes
    /// the body.
    pub fn delivery_id_field(mut self, pointer: impl Into<Cow<'static, str>>) -> Self {
        self.delivery_id_field = Some(pointer.into());
        self
    }

    /// Where the URL in [`Part::Url`] comes from (default
    /// [`PublicUrl::from_request`]): set it behind a proxy that rewrites
    /// scheme, host, port or path.
    pub fn public_url(mut self, url: PublicUrl) -> Self {
        self.url = url;
        self
    }

    /// How [`Part::Url`] is spelled in the signed message (default: as
    /// called).
    pub(crate) fn url_spelling(mut self, spelling: UrlSpelling) -> Self {
        self.url_spelling = spelling;
        self
    }

    /// The provider signs the URL with or without its port, so both
    /// spellings verify: a URL without a port also with the default one
    /// (`:443`, `:80`), a URL with any port also without it (Twilio, as its
    /// SDKs do). Both are always computed, so the time taken does not tell
    /// which one matched.
    pub fn either_port_spelling(mut self) -> Self {
        self.either_port = true;
        self
    }

    /// When the URL's query carries `name=<hex SHA-256 of the body>`, the
    /// body is bound through it: the body must hash to it, and
    /// [`Part::FormParams`] is empty (Twilio's `bodySHA256` for JSON
    /// bodies). Without it the body is read as form parameters.
    pub fn body_sha256_query(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.body_sha256_query = Some(name.into());
        self
    }

    /// Refuse a body that is not UTF-8 (`signature_malformed`), before any
    /// signature is computed. For a length-extendable primitive
    /// ([`Algorithm::SecretPrefixedSha256`]) whose provider sends text
    /// (HubSpot's JSON): a length extension appends SHA-256 padding, which
    /// starts with the byte `0x80`, never valid after a complete UTF-8
    /// text, so the forged bodies are refused.
    pub fn utf8_body(mut self) -> Self {
        self.utf8_body = true;
        self
    }

    /// The signature is a JWS ([`SignatureHeader::jws`]) whose claims must
    /// say what `claims` asks of the delivery (Netlify: the body's SHA-256
    /// in `sha256`, issuer `netlify`); the signed message becomes the
    /// token's signing input ([`Part::JwsSigningInput`]). The claims are
    /// checked against the body received before any key is tried.
    #[cfg(feature = "json")]
    pub(crate) fn jws_claims(mut self, claims: JwsClaims) -> Self {
        self.jws = Some(claims);
        self.message = vec![Part::JwsSigningInput];
        self
    }

    /// The signature is inside the JSON body, over some of its fields
    /// (Adyen's standard notifications; see [`JsonSigned`]): no signature
    /// header is read, the message is those fields joined
    /// ([`Part::JsonFields`]), and the rest of the body is not signed.
    /// The crate signs no such delivery ([`SignError::SignedInBody`]).
    #[cfg(feature = "json")]
    pub(crate) fn json_signed(mut self, json: JsonSigned) -> Self {
        self.json = Some(json);
        self.message = vec![Part::JsonFields];
        self
    }

    /// Every part of the message stands for something the scheme binds:
    /// [`Part::JsonFields`] and [`Part::JwsSigningInput`] are what a
    /// JSON-signed or JWS scheme fills in. Named in a message without one,
    /// they would be empty, and one signature would pass with any body: such
    /// a scheme verifies nothing.
    fn message_is_bound(&self) -> bool {
        self.message.iter().all(|part| match part {
            Part::JsonFields => self.json.is_some(),
            Part::JwsSigningInput => self.jws.is_some(),
            _ => true,
        })
    }

    /// Refuse a body that does not start with `{` (`signature_malformed`),
    /// before any signature is computed: for a provider that only sends
    /// JSON objects and whose handshake answers a MAC, under the same key,
    /// of a value the request chose (X's CRC). The handshake refuses to
    /// answer for a value starting with `{`, so no answer is a signature of
    /// a body this scheme accepts.
    pub fn json_object_body(mut self) -> Self {
        self.json_object_body = true;
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
        !self.sends_secret_itself() && self.message.contains(part)
    }

    /// Whether the only "signatures" are the secret itself
    /// ([`Algorithm::HeaderSecret`]): then no part of the request is
    /// covered, whatever message is declared, and nothing (timestamp, id,
    /// body) may be taken as signed.
    fn sends_secret_itself(&self) -> bool {
        !self.headers.is_empty()
            && self
                .headers
                .iter()
                .all(|header| header.algorithm == Algorithm::HeaderSecret)
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
            .any(|part| !part.is_literal())
    }

    /// Whether the URL is followed by the body with nothing between
    /// (`{url}{body}`, Square and HubSpot), so that their boundary must be
    /// checked.
    fn url_is_glued_to_body(&self) -> bool {
        self.message
            .windows(2)
            .any(|pair| pair[0] == Part::Url && pair[1] == Part::Body)
    }

    /// Whether the body is followed by the URL with nothing between
    /// (`{body}{url}`, Trello), so that their boundary must be checked.
    fn body_is_glued_to_url(&self) -> bool {
        self.message
            .windows(2)
            .any(|pair| pair[0] == Part::Body && pair[1] == Part::Url)
    }

    /// Whether `id` contains a separator written next to it in the message
    /// (Standard Webhooks' `.`), which would let the id's boundary move.
    fn id_holds_separator(&self, id: &[u8]) -> bool {
        self.neighbours(&Part::Id).any(|part| match &part {
            // One byte (every preset's case) is a byte search, not a
            // comparison per window.
            Part::Literal(separator) => match &**separator {
                [] => false,
                [byte] => id.contains(byte),
                separator => id.windows(separator.len()).any(|w| w == separator),
            },
            _ => false,
        })
    }

    fn timestamp_format(&self) -> TimestampFormat {
        self.timestamp
            .as_ref()
            .map_or(TimestampFormat::Seconds, |(_, format)| *format)
    }

    /// `unix_seconds` as this scheme sends it, if it can be read back.
    fn format_timestamp(&self, unix_seconds: i64) -> Option<String> {
        let format = self.timestamp_format();
        if self.timestamp_is_glued() {
            format.format_fixed_width(unix_seconds)
        } else {
            format
                .format(unix_seconds)
                .filter(|text| format.parse(text.as_bytes()).is_some())
        }
    }

    /// Whether the URL is needed at all: signed, or carrying the body hash.
    fn uses_url(&self) -> bool {
        self.signs(&Part::Url) || self.body_sha256_query.is_some()
    }

    /// The spellings of the signed URL that verify for `parts`: one, or two
    /// with [`either_port_spelling`](Self::either_port_spelling). `None`
    /// when the URL cannot be known.
    fn signed_urls(&self, parts: &Parts) -> Option<[Option<String>; 2]> {
        if !self.signs(&Part::Url) {
            return Some([Some(String::new()), None]);
        }
        let called = self.url.resolve(parts)?;
        let other = self
            .either_port
            .then(|| other_port_spelling(&called))
            .flatten()
            .map(|other| self.url_spelling.apply(&other).into_owned());
        let called = self.url_spelling.apply(&called).into_owned();
        Some([Some(called), other])
    }

    /// Feed the message to `feed`, piece by piece.
    fn feed(&self, fields: &MessageFields<'_>, feed: &mut dyn FnMut(&[u8])) {
        for part in &self.message {
            feed(fields.piece(part));
        }
    }

    /// The message's pieces, for the public-key primitives that take them
    /// as a list.
    fn pieces<'p>(&'p self, fields: &MessageFields<'p>) -> Vec<&'p [u8]> {
        self.message.iter().map(|part| fields.piece(part)).collect()
    }
}

/// The slot of a shared-key algorithm in the per-request tag cache.
fn tag_slot(algorithm: Algorithm) -> Option<usize> {
    match algorithm {
        Algorithm::Sha1 => Some(0),
        Algorithm::Sha256 => Some(1),
        Algorithm::Sha512 => Some(2),
        Algorithm::SecretPrefixedSha256 => Some(3),
        Algorithm::HeaderSecret => Some(4),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

impl crate::context::SignedMessage for DeclaredScheme {
    fn name(&self) -> &str {
        &self.name
    }

    fn covers_body(&self) -> bool {
        // A JWS binds the body through its claimed hash.
        self.signs(&Part::Body) || self.signs(&Part::FormParams) || self.jws.is_some()
    }

    fn covers_url(&self) -> bool {
        self.signs(&Part::Method)
            || self.signs(&Part::PathAndQuery)
            || (self.signs(&Part::Url) && self.url.covers_request_uri())
    }

    fn canonical_body<'b>(&self, body: &'b [u8]) -> Cow<'b, [u8]> {
        // Form parameters exactly as signed: sorted, repeats once, flat. A
        // stricter form (length-prefixed pairs) would tell apart the
        // re-splits the signature cannot. A body bound by a hash in the
        // URL is held by the URL.
        if self.signs(&Part::FormParams) {
            Cow::Owned(flat_params(body))
        } else {
            Cow::Borrowed(body)
        }
    }

    /// The message as [`verify`](Scheme::verify) feeds it, but for the URL
    /// of a scheme accepting [either port
    /// spelling](DeclaredScheme::either_port_spelling): the called URL
    /// without its port, so both spellings of one signed URL are one key.
    fn signed_message<'a>(
        &'a self,
        parts: &'a Parts,
        body: &'a [u8],
        timestamp: &'a [u8],
        id: &'a [u8],
    ) -> Option<Vec<Cow<'a, [u8]>>> {
        let called = if self.uses_url() {
            Some(self.url.resolve(parts)?)
        } else {
            None
        };
        let url = match called.as_deref().filter(|_| self.signs(&Part::Url)) {
            Some(called) => {
                let portless = self
                    .either_port
                    .then(|| without_port(called))
                    .flatten()
                    .unwrap_or_else(|| called.to_owned());
                self.url_spelling.apply(&portless).into_owned()
            }
            None => String::new(),
        };
        let body_in_url = match (&self.body_sha256_query, called.as_deref()) {
            (Some(name), Some(called)) => query_param(called, name).ok()?.is_some(),
            _ => false,
        };
        let form = if self.signs(&Part::FormParams) && !body_in_url {
            flat_params(body)
        } else {
            Vec::new()
        };
        let path_and_query = parts
            .uri
            .path_and_query()
            .map_or(&b"/"[..], |pq| pq.as_str().as_bytes());
        let pieces = self
            .message
            .iter()
            .map(|part| match part {
                Part::Timestamp => Cow::Borrowed(timestamp),
                Part::Id => Cow::Borrowed(id),
                Part::Literal(bytes) => Cow::Borrowed(&bytes[..]),
                Part::Body => Cow::Borrowed(body),
                Part::Method => Cow::Borrowed(parts.method.as_str().as_bytes()),
                Part::PathAndQuery => Cow::Borrowed(path_and_query),
                Part::Url => Cow::Owned(url.as_bytes().to_vec()),
                Part::FormParams => Cow::Owned(form.clone()),
                // The token says nothing of the delivery but the body's
                // hash (and a fixed issuer): the body is what it signs.
                Part::JwsSigningInput => Cow::Borrowed(body),
                Part::JsonFields => Cow::Owned(
                    self.json
                        .as_ref()
                        .and_then(|json| json.message_of(body))
                        .unwrap_or_default(),
                ),
            })
            .collect();
        Some(pieces)
    }

    fn delivery_id_field(&self) -> Option<&str> {
        self.delivery_id_field
            .as_deref()
            .filter(|_| self.signs(&Part::Body) || self.jws.is_some())
    }
}

impl Scheme for DeclaredScheme {
    /// The declared signature headers and the refused ones (a refused
    /// legacy header still carries a signature).
    fn signature_headers(&self) -> Vec<HeaderName> {
        self.headers
            .iter()
            .map(|header| header.name.clone())
            .chain(self.refused.iter().cloned())
            .collect()
    }

    /// The kind of the first signature header's primitive.
    fn key_kind(&self) -> KeyKind {
        self.headers
            .first()
            .map_or(KeyKind::Shared, |header| header.algorithm.key_kind())
    }

    fn parse_key(&self, shown: &str) -> Result<KeyMaterial, SecretError> {
        self.key_encoding.parse(shown)
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
        !self.sends_secret_itself()
            && (self.timestamp.is_some() || self.jws.as_ref().is_some_and(JwsClaims::has_issued_at))
    }

    fn parse_head(&self, parts: &Parts) -> Result<Signatures, Rejection> {
        // One header in all but Box's case (one per key): kept inline, so a
        // request costs no allocation here.
        let mut found: smallvec::SmallVec<[_; 2]> = smallvec::SmallVec::new();
        for (kind, header) in self.headers.iter().enumerate() {
            if let Some(value) =
                one_header(&parts.headers, &header.name, Reason::SignatureMalformed)?
            {
                found.push((kind, header, value));
                if !self.every_header {
                    break;
                }
            }
        }
        if found.is_empty() {
            if self.json.is_some() && self.headers.is_empty() {
                // The signature is in the body.
                return Ok(Signatures::new());
            }
            if self
                .refused
                .iter()
                .any(|name| parts.headers.contains_key(name))
            {
                return Err(malformed());
            }
            return Err(Rejection::new(Reason::SignatureMissing));
        }
        let mut signatures = Signatures::new();
        let mut field_timestamps = header::FieldTimestamps::new();
        for (kind, header, value) in found {
            header.check_requirement(&parts.headers)?;
            let kind = u8::try_from(kind).map_err(|_| malformed())?;
            let read = header.read(kind, value, &mut signatures)?;
            if field_timestamps.is_empty() {
                field_timestamps = read;
            }
        }
        match &self.timestamp {
            Some((TimestampSource::Field(_), format)) if field_timestamps.len() > 1 => {
                // Sets of fields, each signed with its own timestamp.
                for (first, text) in field_timestamps {
                    if text.is_empty() {
                        return Err(Rejection::new(Reason::TimestampMissing));
                    }
                    let stamp = Stamp::read(text, *format, self.timestamp_is_glued())?;
                    if self.signs(&Part::Timestamp) {
                        signatures.set_set_timestamp(first, stamp);
                    }
                }
            }
            Some((source, format)) => {
                let text = match source {
                    TimestampSource::Header(name) => {
                        one_header(&parts.headers, name, Reason::TimestampMalformed)?
                    }
                    TimestampSource::Field(_) => field_timestamps
                        .first()
                        .map(|&(_, text)| text)
                        .filter(|text| !text.is_empty()),
                };
                let text = text.ok_or_else(|| Rejection::new(Reason::TimestampMissing))?;
                let stamp = Stamp::read(text, *format, self.timestamp_is_glued())?;
                if self.signs(&Part::Timestamp) {
                    signatures.set_timestamp(stamp);
                }
            }
            None => {}
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
                signatures.set_id(Bytes::copy_from_slice(id));
            }
        }
        Ok(signatures)
    }

    /// The checks only the body allows, done once per request rather than
    /// once per key: the URL/body boundary, the body hash in the URL, and
    /// the form parameters decoded and sorted.
    fn parse_body(
        &self,
        mut signatures: Signatures,
        parts: &Parts,
        body: &[u8],
    ) -> Result<Signatures, Rejection> {
        if self.utf8_body && std::str::from_utf8(body).is_err() {
            return Err(malformed());
        }
        if self.json_object_body && body.first() != Some(&b'{') {
            return Err(malformed());
        }
        if let Some(json) = &self.json {
            let message = json.read(body, &mut signatures)?;
            signatures.set_prepared(message);
            return Ok(signatures);
        }
        if self.headers.iter().any(SignatureHeader::is_jws) {
            // A token without claims to hold it to would authenticate no
            // part of the delivery.
            let claims = self.jws.as_ref().ok_or_else(malformed)?;
            let claimed = claims.check(signatures.prepared(), body)?;
            // Both inside the token the MAC covers: signed.
            if let Some(issued_at) = claimed.issued_at {
                signatures.set_timestamp(Stamp::read(
                    issued_at.as_bytes(),
                    TimestampFormat::Seconds,
                    false,
                )?);
            }
            if let Some(id) = claimed.id {
                signatures.set_id(Bytes::from(id));
            }
        }
        if !self.uses_url() && !self.signs(&Part::FormParams) {
            return Ok(signatures);
        }
        let called = if self.uses_url() {
            // An unknown URL verifies nothing; that is the verdict.
            let Some(called) = self.url.resolve(parts) else {
                return Ok(signatures);
            };
            Some(called)
        } else {
            None
        };
        if let Some(called) = called.as_deref().filter(|_| self.url_is_glued_to_body()) {
            if !url_and_body_split_once(&self.url_spelling.apply(called), body) {
                return Err(malformed());
            }
        }
        if let Some(called) = called.as_deref().filter(|_| self.body_is_glued_to_url()) {
            if !body_and_url_split_once(body, &self.url_spelling.apply(called)) {
                return Err(malformed());
            }
        }
        let claimed = match (&self.body_sha256_query, called.as_deref()) {
            (Some(name), Some(called)) => query_param(called, name).map_err(|()| malformed())?,
            _ => None,
        };
        if let Some(claimed) = claimed {
            let actual = hex::encode(Sha256::digest(body));
            let equal = actual
                .as_bytes()
                .ct_eq(claimed.to_ascii_lowercase().as_bytes());
            if !bool::from(equal) {
                return Err(Rejection::new(Reason::SignatureMismatch));
            }
        } else if self.signs(&Part::FormParams) {
            if param_count(body) > MAX_FORM_PARAMS {
                return Err(Rejection::new(Reason::PayloadTooLarge));
            }
            signatures.set_prepared(flat_params(body));
        }
        Ok(signatures)
    }

    fn verify(
        &self,
        key: &KeyMaterial,
        signatures: &Signatures,
        delivery: &Delivery<'_>,
    ) -> Option<usize> {
        if !self.message_is_bound() {
            return None;
        }
        let urls = self.signed_urls(delivery.parts)?;
        let base = MessageFields {
            timestamp: signatures
                .timestamp()
                .map_or(&[][..], |stamp| &stamp.text[..]),
            id: signatures.id().unwrap_or_default(),
            body: delivery.body,
            method: delivery.parts.method.as_str().as_bytes(),
            path_and_query: delivery
                .parts
                .uri
                .path_and_query()
                .map_or(&b"/"[..], |pq| pq.as_str().as_bytes()),
            url: &[],
            form: signatures.prepared(),
        };
        // One digest per algorithm and URL spelling, however many candidates
        // (per timestamp, where sets of signatures each sign their own).
        let mut tags: [[Option<Tag>; 5]; 2] = Default::default();
        // Sets are told apart by position, not by comparing their
        // timestamps: `==` on two empty slices still calls `memcmp`, whose
        // masked load from the empty slices' dangling address costs glibc's
        // AVX-512 variant about 90 ns (a tenth of a 1 KiB verify).
        let mut tags_set = 0;
        let mut matched = None;
        for (index, candidate) in signatures.candidates().iter().enumerate() {
            let set = signatures.set_of(index);
            if set != tags_set {
                tags = Default::default();
                tags_set = set;
            }
            let timestamp = signatures
                .timestamp_for(index)
                .map_or(&[][..], |stamp| &stamp.text[..]);
            let algorithm = match (self.headers.get(usize::from(candidate.kind())), &self.json) {
                (Some(header), _) => header.algorithm,
                (None, Some(json)) => json.primitive(),
                (None, None) => return None,
            };
            let mut equal = Choice::from(0);
            for (spelling, url) in urls.iter().enumerate() {
                let Some(url) = url else { continue };
                let fields = MessageFields {
                    url: url.as_bytes(),
                    timestamp,
                    ..base
                };
                equal |= match tag_slot(algorithm) {
                    Some(slot) => {
                        let cached = &mut tags[spelling][slot];
                        if cached.is_none() {
                            *cached = algorithm
                                .shared_tag(key.as_shared()?, |feed| self.feed(&fields, feed));
                        }
                        cached.as_ref().map_or(Choice::from(0), |tag| {
                            tag.as_slice().ct_eq(candidate.bytes())
                        })
                    }
                    None => Choice::from(u8::from(algorithm.verify_public(
                        key,
                        &self.pieces(&fields),
                        candidate.bytes(),
                    ))),
                };
            }
            if bool::from(equal) && matched.is_none() {
                matched = Some(index);
            }
        }
        matched
    }

    /// Signs with every signature header, after the id and timestamp
    /// headers. A scheme that signs the URL needs `outgoing.url`.
    fn sign(&self, key: &KeyMaterial, outgoing: &Outgoing<'_>) -> Result<SignedHeaders, SignError> {
        if self.json.is_some() {
            return Err(SignError::SignedInBody);
        }
        if self.headers.is_empty() {
            return Err(SignError::VerifyOnly);
        }
        for header in &self.headers {
            header.algorithm.can_sign_with(key)?;
        }
        let timestamp = match self.timestamp {
            Some(_) => self
                .format_timestamp(outgoing.timestamp)
                .ok_or(SignError::InvalidTimestamp)?,
            None => String::new(),
        };
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
        let called = match outgoing.url {
            Some(url) => url,
            None if self.uses_url() => return Err(SignError::MissingUrl),
            None => "",
        };
        let body_in_url = match &self.body_sha256_query {
            Some(name) => query_param(called, name)
                .map_err(|()| SignError::InvalidHeaderValue)?
                .is_some(),
            None => false,
        };
        let jws_input = match &self.jws {
            Some(claims) => {
                let algorithm = self
                    .headers
                    .iter()
                    .find(|header| header.is_jws())
                    .ok_or(SignError::InvalidHeaderValue)?
                    .algorithm;
                Some(
                    claims
                        .signing_input(algorithm, outgoing.body, outgoing.timestamp, outgoing.id)
                        .ok_or(SignError::InvalidHeaderValue)?,
                )
            }
            None => None,
        };
        let form = if let Some(input) = &jws_input {
            input.as_bytes().to_vec()
        } else if self.signs(&Part::FormParams) && !body_in_url {
            flat_params(outgoing.body)
        } else {
            Vec::new()
        };
        let url = self.url_spelling.apply(called);
        let fields = MessageFields {
            timestamp: timestamp.as_bytes(),
            id: outgoing.id.as_bytes(),
            body: outgoing.body,
            method: outgoing.method.as_str().as_bytes(),
            path_and_query: path_and_query.as_bytes(),
            url: url.as_bytes(),
            form: &form,
        };
        let pieces = self.pieces(&fields);
        let mut headers = SignedHeaders::new();
        if let Some(name) = &self.id {
            headers.push((name.clone(), header_value(outgoing.id)?));
        }
        if let Some((TimestampSource::Header(name), _)) = &self.timestamp {
            headers.push((name.clone(), header_value(&timestamp)?));
        }
        for header in &self.headers {
            let encoded = match (header.is_jws(), &jws_input) {
                #[cfg(feature = "json")]
                (true, Some(input)) => {
                    format!("{input}.{}", header.algorithm.sign_jws(key, &pieces)?)
                }
                _ => header.algorithm.sign(key, &pieces, header.encoding)?,
            };
            headers.push((
                header.name.clone(),
                header_value(&header.value(&encoded, &timestamp))?,
            ));
            for (name, value) in &header.requires {
                // Headers sharing a companion (Box's two signatures) send it once.
                if !headers.iter().any(|(sent, _)| sent == name) {
                    headers.push((name.clone(), header_value(value)?));
                }
            }
        }
        Ok(headers)
    }
}

/// `url` without its port, if it has one.
fn without_port(url: &str) -> Option<String> {
    url.parse::<http::Uri>()
        .ok()?
        .port_u16()
        .and_then(|_| other_port_spelling(url))
}

fn header_value(text: &str) -> Result<HeaderValue, SignError> {
    HeaderValue::from_str(text).map_err(|_| SignError::InvalidHeaderValue)
}

#[cfg(test)]
mod tests;
