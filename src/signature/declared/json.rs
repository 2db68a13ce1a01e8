//! Signatures inside a JSON body over some of its fields (Adyen's standard
//! notifications: `additionalData.hmacSignature`, an HMAC of eight fields of
//! the item joined by `:`). Only the named fields are signed; the rest of
//! the body is not.

use std::borrow::Cow;

use serde_json::Value;

use super::algorithm::{Algorithm, Encoding, DECODE_BUFFER};
use super::header::malformed;
use crate::rejection::{Reason, Rejection};
use crate::signature::scheme::{Signatures, MAX_SIGNATURE_LEN};

/// Where a JSON body carries its signature and which of its fields are
/// signed (see [`DeclaredScheme::json_signed`](super::DeclaredScheme::json_signed)).
///
/// The signed message is the fields' values joined by the separator: a
/// string as is, a number or boolean as JSON writes it, a missing field or
/// `null` as nothing. No field may hold the separator but the one named
/// with [`separator_allowed_in`](JsonSigned::separator_allowed_in): with
/// the others free of it, every cut is fixed (the fields before it take
/// the first separators, those after it the last). Otherwise the values
/// could be cut elsewhere under the same signature (a merchant reference
/// `order:2` read as an account `…:order` and a reference `2`), and the
/// delivery is `signature_malformed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonSigned {
    signature: Cow<'static, str>,
    algorithm: Algorithm,
    encoding: Encoding,
    separator: Cow<'static, str>,
    fields: Vec<Cow<'static, str>>,
    single: Option<Cow<'static, str>>,
    free: Option<Cow<'static, str>>,
}

impl JsonSigned {
    /// The primitive the signature was made with.
    pub(crate) fn primitive(&self) -> Algorithm {
        self.algorithm
    }

    /// The signature is the string at JSON `pointer`, an HMAC-SHA256 in
    /// base64. A body without it is
    /// `signature_missing`.
    pub fn new(pointer: impl Into<Cow<'static, str>>) -> Self {
        Self {
            signature: pointer.into(),
            algorithm: Algorithm::Sha256,
            encoding: Encoding::Base64,
            separator: Cow::Borrowed(":"),
            fields: Vec::new(),
            single: None,
            free: None,
        }
    }

    /// The signed fields, as JSON pointers in signing order, joined by
    /// `separator`.
    pub fn fields<I, S>(mut self, separator: impl Into<Cow<'static, str>>, pointers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Cow<'static, str>>,
    {
        self.separator = separator.into();
        self.fields = pointers.into_iter().map(Into::into).collect();
        self
    }

    /// The field at `pointer` (one of [`fields`](Self::fields)) may hold
    /// the separator (Adyen's `merchantReference`, which the merchant
    /// chooses); no other may.
    pub fn separator_allowed_in(mut self, pointer: impl Into<Cow<'static, str>>) -> Self {
        self.free = Some(pointer.into());
        self
    }

    /// The array at `pointer` must hold exactly one element (Adyen's
    /// `notificationItems`): a second one would ride along unsigned.
    pub fn single_element(mut self, pointer: impl Into<Cow<'static, str>>) -> Self {
        self.single = Some(pointer.into());
        self
    }

    /// Find the signature in `body`, push it, and return the signed
    /// message.
    pub(crate) fn read(
        &self,
        body: &[u8],
        signatures: &mut Signatures,
    ) -> Result<Vec<u8>, Rejection> {
        let document: Value =
            serde_json::from_slice(body).map_err(|_| Rejection::new(Reason::SignatureMissing))?;
        if let Some(array) = &self.single {
            match document.pointer(array) {
                Some(Value::Array(items)) if items.len() == 1 => {}
                _ => return Err(malformed()),
            }
        }
        let encoded = match document.pointer(&self.signature) {
            None | Some(Value::Null) => return Err(Rejection::new(Reason::SignatureMissing)),
            Some(Value::String(text)) => text.trim(),
            Some(_) => return Err(malformed()),
        };
        let mut buffer = [0; DECODE_BUFFER];
        let mut scratch = [0; MAX_SIGNATURE_LEN];
        let candidate = self
            .encoding
            .decode_into(encoded.as_bytes(), &mut buffer)
            .and_then(|decoded| self.algorithm.candidate(decoded, &mut scratch))
            .ok_or_else(malformed)?;
        signatures.push(0, candidate)?;
        self.message(&document).ok_or_else(malformed)
    }

    /// The signed message of `body`, if it is JSON with readable fields.
    pub(crate) fn message_of(&self, body: &[u8]) -> Option<Vec<u8>> {
        self.message(&serde_json::from_slice(body).ok()?)
    }

    fn message(&self, document: &Value) -> Option<Vec<u8>> {
        let values = self
            .fields
            .iter()
            .map(|pointer| {
                let value = match document.pointer(pointer) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(text)) => text.clone(),
                    Some(Value::Number(number)) => number.to_string(),
                    Some(Value::Bool(flag)) => flag.to_string(),
                    Some(_) => return None,
                };
                // Only the one field named may hold the separator: the
                // others, free of it, fix every cut.
                let free = self.free.as_deref() == Some(pointer.as_ref());
                let holds = !self.separator.is_empty() && value.contains(self.separator.as_ref());
                (free || !holds).then_some(value)
            })
            .collect::<Option<Vec<String>>>()?;
        Some(values.join(&self.separator).into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adyen() -> JsonSigned {
        JsonSigned::new("/sig").fields(":", ["/a", "/b", "/c"])
    }

    #[test]
    fn fields_are_joined_as_json_writes_them() {
        let body = br#"{"a":"x","b":12,"c":true,"sig":"AAAA"}"#;
        assert_eq!(adyen().message_of(body).unwrap(), b"x:12:true");
        let body = br#"{"a":"x","c":null}"#;
        assert_eq!(adyen().message_of(body).unwrap(), b"x::");
        assert!(adyen().message_of(br#"{"a":{"b":1}}"#).is_none());
    }

    #[test]
    fn only_the_named_field_may_hold_the_separator() {
        let scheme = adyen().separator_allowed_in("/b");
        assert_eq!(
            scheme
                .message_of(br#"{"a":"x","b":"y:z","c":"w"}"#)
                .unwrap(),
            b"x:y:z:w"
        );
        // The same bytes cut as `x:y` + `z`: refused.
        assert!(scheme
            .message_of(br#"{"a":"x:y","b":"z","c":"w"}"#)
            .is_none());
        assert!(adyen()
            .message_of(br#"{"a":"x","b":"y:z","c":"w"}"#)
            .is_none());
    }

    #[test]
    fn a_second_element_is_refused() {
        let scheme = JsonSigned::new("/items/0/sig")
            .fields(":", ["/items/0/a"])
            .single_element("/items");
        let mut signatures = Signatures::new();
        let two = br#"{"items":[{"a":"x","sig":"AAAA"},{"a":"y"}]}"#;
        assert_eq!(
            scheme.read(two, &mut signatures).unwrap_err().reason(),
            Reason::SignatureMalformed
        );
        let one = br#"{"items":[{"a":"x","sig":"AAAA"}]}"#;
        assert_eq!(scheme.read(one, &mut signatures).unwrap(), b"x");
    }
}
