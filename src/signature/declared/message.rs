//! The signed message: its pieces, and the request values they are read
//! from.

use std::borrow::Cow;

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
    /// The full URL the provider called (`https://host/path?query`), from
    /// the scheme's [`PublicUrl`](crate::signature::public_url::PublicUrl)
    /// spelled as the provider spells it (Twilio, Square, HubSpot).
    Url,
    /// The body read as form parameters: decoded, sorted by name then
    /// value, each distinct pair once, every name then value with nothing
    /// between (Twilio). Empty when the scheme binds the body through a
    /// hash in the URL's query instead
    /// ([`DeclaredScheme::body_sha256_query`](super::DeclaredScheme::body_sha256_query))
    /// and the URL carries one.
    FormParams,
    /// The signing input of the JWS in a JWS signature header
    /// (`header.payload`, as sent): the whole message of the JWS presets
    /// (Netlify, Vonage, Plaid), which set it.
    JwsSigningInput,
    /// The signed fields of a JSON body joined by their separator: the
    /// whole message of a preset signing inside the body (Adyen), which
    /// sets it.
    JsonFields,
}

impl Part {
    /// Fixed text.
    pub fn literal(text: &'static str) -> Self {
        Part::Literal(Cow::Borrowed(text.as_bytes()))
    }

    /// Whether the piece is fixed bytes, which mark a boundary.
    pub(crate) fn is_literal(&self) -> bool {
        matches!(self, Part::Literal(_))
    }
}

/// How a [`Part::Url`] is spelled in the signed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub(crate) enum UrlSpelling {
    /// As the provider called it (the default).
    #[default]
    AsCalled,
    /// With the percent-escapes HubSpot's v3 docs list decoded
    /// (`%3A` `%2F` `%3F` `%40` `%21` `%24` `%27` `%28` `%29` `%2A` `%2C`
    /// `%3B`, either case); other escapes kept.
    HubSpotV3,
}

impl UrlSpelling {
    /// `url` spelled this way.
    pub fn apply<'u>(self, url: &'u str) -> Cow<'u, str> {
        match self {
            UrlSpelling::AsCalled => Cow::Borrowed(url),
            UrlSpelling::HubSpotV3 => decode_hubspot_escapes(url),
        }
    }
}

/// `uri` with the percent-escapes HubSpot's v3 docs list decoded
/// (case-insensitively); other escapes are kept.
pub fn decode_hubspot_escapes(uri: &str) -> Cow<'_, str> {
    if !uri.contains('%') {
        return Cow::Borrowed(uri);
    }
    let bytes = uri.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let decoded = match (byte, bytes.get(i + 1..i + 3)) {
            (b'%', Some(pair)) => match pair.to_ascii_uppercase().as_slice() {
                b"3A" => Some(b':'),
                b"2F" => Some(b'/'),
                b"3F" => Some(b'?'),
                b"40" => Some(b'@'),
                b"21" => Some(b'!'),
                b"24" => Some(b'$'),
                b"27" => Some(b'\''),
                b"28" => Some(b'('),
                b"29" => Some(b')'),
                b"2A" => Some(b'*'),
                b"2C" => Some(b','),
                b"3B" => Some(b';'),
                _ => None,
            },
            _ => None,
        };
        match decoded {
            Some(ascii) => {
                out.push(ascii);
                i += 3;
            }
            None => {
                out.push(byte);
                i += 1;
            }
        }
    }
    // Only ASCII escapes were replaced by ASCII, so the text stays UTF-8.
    Cow::Owned(String::from_utf8(out).unwrap_or_else(|_| uri.to_owned()))
}

/// The values a message is built from, whether received or being sent.
#[derive(Clone, Copy)]
pub(crate) struct MessageFields<'a> {
    pub(crate) timestamp: &'a [u8],
    pub(crate) id: &'a [u8],
    pub(crate) body: &'a [u8],
    pub(crate) method: &'a [u8],
    pub(crate) path_and_query: &'a [u8],
    pub(crate) url: &'a [u8],
    /// What the request yielded once for every key: the sorted form
    /// parameters, a JWS's signing input, or a JSON body's signed fields.
    pub(crate) form: &'a [u8],
}

impl<'a> MessageFields<'a> {
    /// The bytes of `part`.
    pub(crate) fn piece<'p>(&self, part: &'p Part) -> &'p [u8]
    where
        'a: 'p,
    {
        match part {
            Part::Timestamp => self.timestamp,
            Part::Id => self.id,
            Part::Literal(bytes) => bytes,
            Part::Body => self.body,
            Part::Method => self.method,
            Part::PathAndQuery => self.path_and_query,
            Part::Url => self.url,
            Part::FormParams | Part::JwsSigningInput | Part::JsonFields => self.form,
        }
    }
}

/// The decoded form parameters in signing order: sorted by name then value,
/// each distinct pair once (as Twilio's SDKs do).
pub fn sorted_params(form: &[u8]) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    let mut params: Vec<_> = form_urlencoded::parse(form).collect();
    params.sort_unstable();
    params.dedup();
    params
}

/// The number of parameters in a form body (its non-empty `&`-separated
/// pieces, as `form_urlencoded` reads them), counted without decoding.
pub(crate) fn param_count(form: &[u8]) -> usize {
    form.split(|&b| b == b'&')
        .filter(|piece| !piece.is_empty())
        .count()
}

/// The parameters as signed: each name and value, in signing order, with
/// nothing between them.
pub(crate) fn flat_params(form: &[u8]) -> Vec<u8> {
    let params = sorted_params(form);
    let len = params.iter().map(|(n, v)| n.len() + v.len()).sum();
    let mut flat = Vec::with_capacity(len);
    for (name, value) in &params {
        flat.extend_from_slice(name.as_bytes());
        flat.extend_from_slice(value.as_bytes());
    }
    flat
}

/// The value of query parameter `name` in `url`: `Ok(None)` if absent,
/// `Err` if given more than once (ambiguous).
pub(crate) fn query_param<'u>(url: &'u str, name: &str) -> Result<Option<Cow<'u, str>>, ()> {
    let Some((_, query)) = url.split_once('?') else {
        return Ok(None);
    };
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    let mut found = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key == name && found.replace(value).is_some() {
            return Err(());
        }
    }
    Ok(found)
}
