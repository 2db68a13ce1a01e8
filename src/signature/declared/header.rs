//! [`SignatureHeader`]: where one kind of signature lives, how its value is
//! written, and which primitive made it.

use std::borrow::Cow;

use http::{HeaderMap, HeaderName};

use super::algorithm::{Algorithm, Encoding, DECODE_BUFFER};
use crate::rejection::{Reason, Rejection};
use crate::signature::scheme::{one_header, Signatures, MAX_SIGNATURE_LEN};

/// The syntax of a signature header's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// One signature, after an optional prefix: `sha256=<hex>`, `<b64>`.
    Single { prefix: Cow<'static, str> },
    /// Entries split by `separator`; those starting with `prefix` are
    /// signatures, others (other versions) are skipped: `v1,<b64> v1,<b64>`.
    /// With `leading_timestamp`, the first entry is the timestamp and never
    /// a signature (Recurly's `<ms>,<hex>,<hex>`).
    List {
        separator: u8,
        prefix: Cow<'static, str>,
        leading_timestamp: bool,
    },
    /// `key=value` fields split by `separator`: `t=…,v1=…,v1=…` (Stripe),
    /// `ts=…;h1=…` (Paddle). Other keys are skipped.
    Fields {
        separator: u8,
        signature_key: Cow<'static, str>,
        timestamp_key: Option<Cow<'static, str>>,
        /// Whole sets of fields split by this byte, each with its own
        /// timestamp (Persona's `t=…,v1=… t=…,v1=…` during a rotation).
        set_separator: Option<u8>,
    },
    /// A compact JWS whose MAC covers its own header and payload
    /// (Netlify), after an optional prefix (Vonage's `Bearer `): see
    /// [`SignatureHeader::jws`].
    #[cfg(feature = "json")]
    Jws { prefix: Cow<'static, str> },
}

/// The timestamp fields one signature header held, each with the index of
/// the first candidate signed with it; an empty text is a set that held
/// none. One, inline, in every header but a rotating Persona's.
pub(crate) type FieldTimestamps<'v> = smallvec::SmallVec<[(usize, &'v [u8]); 2]>;

/// Where one kind of signature lives and how it is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub(crate) name: HeaderName,
    pub(crate) algorithm: Algorithm,
    pub(crate) encoding: Encoding,
    pub(crate) syntax: Syntax,
    pub(crate) requires: Vec<(HeaderName, Cow<'static, str>)>,
    /// A hex signature may come without its leading zeros, as a number
    /// printed in base 16 (Smartsheet's Java `BigInteger`): shorter values
    /// are read as if padded with zeros to this many digits.
    pub(crate) hex_digits: Option<usize>,
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
            requires: Vec::new(),
            hex_digits: None,
        }
    }

    /// Made with this primitive (default HMAC-SHA256).
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
            leading_timestamp: false,
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
            set_separator: None,
        };
        self
    }

    /// The hex signature is a number in base 16 that may have lost its
    /// leading zeros (Smartsheet's documented Java sample prints the HMAC
    /// with `BigInteger.toString(16)`): a value of fewer than `digits` hex
    /// digits is read as that number, padded with zeros on the left. The
    /// full-width value is read too, and the signer writes it.
    pub(crate) fn hex_leading_zeros_optional(mut self, digits: usize) -> Self {
        self.hex_digits = Some(digits);
        self
    }

    /// With [`fields`](Self::fields): the value may hold several sets of
    /// fields split by `separator`, each with its own timestamp field that
    /// only its own signatures sign (Persona's two space-separated
    /// `t=…,v1=…` sets while a secret rotates). A signature verifies with
    /// its set's timestamp, and that timestamp is the one the replay window
    /// holds. With more than one set, a set without its timestamp is
    /// `timestamp_missing`.
    pub(crate) fn field_sets(mut self, separator: char) -> Self {
        if let Syntax::Fields { set_separator, .. } = &mut self.syntax {
            *set_separator = Some(ascii(separator));
        }
        self
    }

    /// The header holds a compact JWS, `header.payload.signature` in
    /// base64url, signed HS256 (change with [`algorithm`](Self::algorithm):
    /// HMAC-SHA512 is HS512), as Netlify sends: the MAC covers the token's
    /// signing input, and the body is bound by a claim the scheme names with
    /// [`DeclaredScheme::jws_claims`](super::DeclaredScheme::jws_claims),
    /// without which a scheme refuses every delivery. A token whose `alg`
    /// is any other (`none`, an asymmetric one) is `signature_malformed`.
    #[cfg(feature = "json")]
    pub(crate) fn jws(name: HeaderName) -> Self {
        Self {
            encoding: Encoding::Base64UrlNoPad,
            syntax: Syntax::Jws {
                prefix: Cow::Borrowed(""),
            },
            ..Self::new(name)
        }
    }

    /// With [`jws`](Self::jws): the token follows `prefix` (Vonage's
    /// `Authorization: Bearer <token>`); a value without it is
    /// `signature_malformed`.
    #[cfg(feature = "json")]
    pub(crate) fn jws_prefix(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        if let Syntax::Jws { prefix: current } = &mut self.syntax {
            *current = prefix.into();
        }
        self
    }

    /// Whether the header holds a JWS ([`jws`](Self::jws)).
    #[cfg(feature = "json")]
    pub(crate) fn is_jws(&self) -> bool {
        matches!(self.syntax, Syntax::Jws { .. })
    }

    /// No header holds a JWS without the `json` feature.
    #[cfg(not(feature = "json"))]
    pub(crate) fn is_jws(&self) -> bool {
        false
    }

    /// The signature counts only next to `header: value` (HubSpot's
    /// `X-HubSpot-Signature-Version: v2`); with any other value, or none,
    /// the request is `signature_malformed`. Call again for more companions
    /// (Box's `box-signature-version: 1` and
    /// `box-signature-algorithm: HmacSHA256`). Sent with the signature when
    /// signing.
    pub fn requires(mut self, header: HeaderName, value: impl Into<Cow<'static, str>>) -> Self {
        self.requires.push((header, value.into()));
        self
    }

    /// With [`fields`](Self::fields): the timestamp is the field `key`
    /// (Stripe's `t`, Paddle's `ts`); set through
    /// [`DeclaredScheme::timestamp_field`](super::DeclaredScheme::timestamp_field).
    pub(crate) fn with_timestamp_key(mut self, key: Cow<'static, str>) -> Self {
        if let Syntax::Fields { timestamp_key, .. } = &mut self.syntax {
            *timestamp_key = Some(key);
        }
        self
    }

    /// With [`list`](Self::list): the first entry is the timestamp; set
    /// through
    /// [`DeclaredScheme::timestamp_first_entry`](super::DeclaredScheme::timestamp_first_entry).
    pub(crate) fn with_leading_timestamp(mut self) -> Self {
        if let Syntax::List {
            leading_timestamp, ..
        } = &mut self.syntax
        {
            *leading_timestamp = true;
        }
        self
    }

    /// The header's name.
    pub fn name(&self) -> &HeaderName {
        &self.name
    }

    /// Decode `encoded` and push it as a candidate of `kind`: `Ok(false)`
    /// when it is not one of this header's signatures.
    fn push(
        &self,
        kind: u8,
        encoded: &[u8],
        signatures: &mut Signatures,
    ) -> Result<bool, Rejection> {
        if self.algorithm == Algorithm::HeaderSecret {
            // The value is the secret itself, of any length: only its
            // digest is kept, the form the held secret is compared in.
            if encoded.is_empty() {
                return Ok(false);
            }
            return signatures
                .push(kind, &super::algorithm::secret_digest(encoded))
                .map(|()| true);
        }
        // Two hex digits per byte of the longest signature decoded.
        let mut padded = [b'0'; DECODE_BUFFER * 2];
        let encoded = match self.hex_digits {
            Some(digits)
                if self.encoding == Encoding::Hex
                    && !encoded.is_empty()
                    && encoded.len() < digits
                    && digits <= padded.len() =>
            {
                let start = digits - encoded.len();
                padded[start..digits].copy_from_slice(encoded);
                &padded[..digits]
            }
            _ => encoded,
        };
        let mut buffer = [0; DECODE_BUFFER];
        let mut scratch = [0; MAX_SIGNATURE_LEN];
        let candidate = self
            .encoding
            .decode_into(encoded, &mut buffer)
            .and_then(|decoded| self.algorithm.candidate(decoded, &mut scratch));
        match candidate {
            Some(candidate) => signatures.push(kind, candidate).map(|()| true),
            None => Ok(false),
        }
    }

    /// Refuse the request unless the companion header says what
    /// [`requires`](Self::requires) asks.
    pub(crate) fn check_requirement(&self, headers: &HeaderMap) -> Result<(), Rejection> {
        for (name, expected) in &self.requires {
            match one_header(headers, name, Reason::SignatureMalformed)? {
                Some(value) if value.trim_ascii() == expected.as_bytes() => {}
                // A signature of another version (or none named) is still a
                // signature this request carries: it is judged by it and
                // refused, never passed on to a legacy token.
                _ => return Err(malformed()),
            }
        }
        Ok(())
    }

    /// Push the candidates in `value` (found as header number `kind`) onto
    /// `signatures`, and return the timestamp field's text if the syntax has
    /// one: one per [set](Self::field_sets), each with the index of the
    /// first candidate it signs.
    pub(crate) fn read<'v>(
        &self,
        kind: u8,
        value: &'v [u8],
        signatures: &mut Signatures,
    ) -> Result<FieldTimestamps<'v>, Rejection> {
        let mut field_timestamp = None;
        let mut sets = FieldTimestamps::new();
        let before = signatures.candidates().len();
        match &self.syntax {
            Syntax::Single { prefix } => {
                let encoded = strip_prefix(value.trim_ascii(), prefix).ok_or_else(malformed)?;
                if !self.push(kind, encoded, signatures)? {
                    return Err(malformed());
                }
            }
            #[cfg(feature = "json")]
            Syntax::Jws { prefix } => {
                // One token per request: its signing input is what every
                // key's MAC is computed over.
                if !signatures.prepared().is_empty() {
                    return Err(malformed());
                }
                let token = strip_prefix(value.trim_ascii(), prefix).ok_or_else(malformed)?;
                let (input, signature) = super::jws::read_token(self.algorithm, token)?;
                let mut buffer = [0; DECODE_BUFFER];
                let mut scratch = [0; MAX_SIGNATURE_LEN];
                let candidate = self
                    .encoding
                    .decode_into(signature, &mut buffer)
                    .and_then(|decoded| self.algorithm.jws_candidate(decoded, &mut scratch))
                    .ok_or_else(malformed)?;
                signatures.push(kind, candidate)?;
                signatures.set_prepared(input.to_vec());
            }
            Syntax::List {
                separator,
                prefix,
                leading_timestamp,
            } => {
                let mut entries = value.split(|b| b == separator).map(<[u8]>::trim_ascii);
                if *leading_timestamp {
                    // Never a signature, even one that would decode: the
                    // position says what it is.
                    field_timestamp = entries.next();
                }
                for entry in entries {
                    // An undecodable entry is skipped, not fatal: rotation
                    // placeholders exist in the wild (Paddle's `h1=dummy`),
                    // and other versions share the header.
                    if let Some(encoded) = strip_prefix(entry, prefix) {
                        self.push(kind, encoded, signatures)?;
                    }
                }
            }
            Syntax::Fields {
                separator,
                signature_key,
                timestamp_key,
                set_separator,
            } => {
                let (mut split, mut whole);
                let set_values: &mut dyn Iterator<Item = &'v [u8]> = match set_separator {
                    Some(set_separator) => {
                        split = value
                            .split(move |b| b == set_separator)
                            .map(<[u8]>::trim_ascii)
                            .filter(|set| !set.is_empty());
                        &mut split
                    }
                    None => {
                        whole = std::iter::once(value);
                        &mut whole
                    }
                };
                for set in set_values {
                    let first = signatures.candidates().len();
                    let mut set_timestamp = None;
                    for field in set.split(|b| b == separator).map(<[u8]>::trim_ascii) {
                        // A field without `=` says nothing we use; skip it
                        // like the providers' SDKs do.
                        let Some((key, encoded)) = split_once(field, b'=') else {
                            continue;
                        };
                        let (key, encoded) = (key.trim_ascii(), encoded.trim_ascii());
                        if key == signature_key.as_bytes() {
                            self.push(kind, encoded, signatures)?;
                        } else if timestamp_key.as_ref().is_some_and(|t| key == t.as_bytes())
                            && set_timestamp.replace(encoded).is_some()
                        {
                            return Err(Rejection::new(Reason::TimestampMalformed));
                        }
                    }
                    match set_timestamp {
                        Some(text) => sets.push((first, text)),
                        // Its signatures would be checked against another
                        // set's time, which is not what they sign.
                        None if set_separator.is_some() && timestamp_key.is_some() => {
                            sets.push((first, &[]));
                        }
                        None => {}
                    }
                }
            }
        }
        if signatures.candidates().len() == before {
            // The header is there but holds no decodable signature of a
            // version we accept (`v0=` only, `v1=` empty or not hex): a
            // downgrade is not a pass, even beside another header's.
            return Err(malformed());
        }
        if let Some(text) = field_timestamp {
            sets.push((before, text));
        }
        Ok(sets)
    }

    /// The header's value carrying `encoded` (and the timestamp, for a
    /// `fields` syntax that holds it).
    pub(crate) fn value(&self, encoded: &str, timestamp: &str) -> String {
        match &self.syntax {
            Syntax::Single { prefix }
            | Syntax::List {
                prefix,
                leading_timestamp: false,
                ..
            } => format!("{prefix}{encoded}"),
            Syntax::List {
                separator,
                prefix,
                leading_timestamp: true,
            } => format!("{timestamp}{}{prefix}{encoded}", char::from(*separator)),
            // The whole token, made by the scheme.
            #[cfg(feature = "json")]
            Syntax::Jws { prefix } => format!("{prefix}{encoded}"),
            // One set: a sender signs with one key.
            Syntax::Fields {
                separator,
                signature_key,
                timestamp_key,
                ..
            } => match timestamp_key {
                Some(t) => format!(
                    "{t}={timestamp}{}{signature_key}={encoded}",
                    char::from(*separator)
                ),
                None => format!("{signature_key}={encoded}"),
            },
        }
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

/// `value` after `prefix`. Most schemes have none, and `strip_prefix` with
/// an empty one still calls `memcmp` on its dangling address, which glibc's
/// AVX-512 variant pays for with a fault-suppression assist (about 45 ns).
fn strip_prefix<'v>(value: &'v [u8], prefix: &str) -> Option<&'v [u8]> {
    if prefix.is_empty() {
        return Some(value);
    }
    value.strip_prefix(prefix.as_bytes())
}

fn split_once(bytes: &[u8], separator: u8) -> Option<(&[u8], &[u8])> {
    let at = bytes.iter().position(|&b| b == separator)?;
    let (before, after) = bytes.split_at(at);
    Some((before, after.get(1..).unwrap_or_default()))
}

pub(crate) fn malformed() -> Rejection {
    Rejection::new(Reason::SignatureMalformed)
}
