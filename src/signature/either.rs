//! [`FirstPresent`]: one scheme out of several, chosen by which one's
//! signature the request carries (Svix's `svix-*` or `webhook-*` names).

use std::borrow::Cow;
use std::sync::Arc;

use http::request::Parts;

use crate::rejection::{Reason, Rejection};
use crate::secret::SecretError;
use crate::signature::keyring::{KeyKind, KeyMaterial};
use crate::signature::scheme::{
    Delivery, Outgoing, Scheme, SignError, Signatures, SignedHeaders, Tolerance,
};

/// The first of several schemes whose signature is present.
///
/// The choice is recorded as the [`Signatures::variant`], so the inner
/// schemes must not use variants of their own. All inner schemes should
/// take the same kind of key; the first one signs and parses keys.
#[derive(Debug, Clone)]
pub(crate) struct FirstPresent {
    name: Cow<'static, str>,
    schemes: Vec<Arc<dyn Scheme>>,
}

impl FirstPresent {
    /// Try `schemes` in order (at most 256 are considered).
    pub fn new(name: impl Into<Cow<'static, str>>, schemes: Vec<Arc<dyn Scheme>>) -> Self {
        Self {
            name: name.into(),
            schemes,
        }
    }

    fn chosen(&self, signatures: &Signatures) -> Option<&Arc<dyn Scheme>> {
        self.schemes.get(usize::from(signatures.variant()))
    }
}

impl crate::context::SignedMessage for FirstPresent {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Scheme for FirstPresent {
    fn signature_headers(&self) -> Vec<http::HeaderName> {
        self.schemes
            .iter()
            .flat_map(|scheme| scheme.signature_headers())
            .collect()
    }

    fn key_kind(&self) -> KeyKind {
        self.schemes
            .first()
            .map_or(KeyKind::Shared, |scheme| scheme.key_kind())
    }

    fn parse_key(&self, shown: &str) -> Result<KeyMaterial, SecretError> {
        match self.schemes.first() {
            Some(scheme) => scheme.parse_key(shown),
            None => Err(SecretError::Empty),
        }
    }

    fn tolerance(&self) -> Option<Tolerance> {
        self.schemes.first().and_then(|scheme| scheme.tolerance())
    }

    fn check_key(&self, key: &KeyMaterial) -> Result<(), SecretError> {
        self.schemes
            .iter()
            .try_for_each(|scheme| scheme.check_key(key))
    }

    fn signs_timestamp(&self) -> bool {
        self.schemes.iter().all(|scheme| scheme.signs_timestamp())
    }

    fn parse_head(&self, parts: &Parts) -> Result<Signatures, Rejection> {
        for (index, scheme) in self.schemes.iter().enumerate().take(256) {
            match scheme.parse_head(parts) {
                Err(rejection) if rejection.reason() == Reason::SignatureMissing => continue,
                Err(rejection) => return Err(rejection),
                Ok(mut signatures) => {
                    signatures.set_variant(u8::try_from(index).unwrap_or(u8::MAX));
                    return Ok(signatures);
                }
            }
        }
        Err(Rejection::new(Reason::SignatureMissing))
    }

    fn parse_body(
        &self,
        signatures: Signatures,
        parts: &Parts,
        body: &[u8],
    ) -> Result<Signatures, Rejection> {
        match self.chosen(&signatures) {
            Some(scheme) => scheme.parse_body(signatures, parts, body),
            None => Ok(signatures),
        }
    }

    fn verify(
        &self,
        key: &KeyMaterial,
        signatures: &Signatures,
        delivery: &Delivery<'_>,
    ) -> Option<usize> {
        self.chosen(signatures)?.verify(key, signatures, delivery)
    }

    fn sign(&self, key: &KeyMaterial, outgoing: &Outgoing<'_>) -> Result<SignedHeaders, SignError> {
        self.schemes
            .first()
            .ok_or(SignError::VerifyOnly)?
            .sign(key, outgoing)
    }
}
