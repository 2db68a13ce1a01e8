//! Without the `json` feature no scheme can read a JSON body: these
//! stand-ins for `JwsClaims` and `JsonSigned` have no values, so a
//! declared scheme keeps one shape in both builds and the compiler proves
//! the JSON paths unreachable instead of them being cut out line by line.

use super::algorithm::Algorithm;
use super::Claimed;
use crate::rejection::Rejection;
use crate::signature::scheme::Signatures;

/// No JWS claims can be declared without the `json` feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JwsClaims {}

impl JwsClaims {
    pub(crate) fn has_issued_at(&self) -> bool {
        match *self {}
    }

    pub(crate) fn signing_input(&self, _: Algorithm, _: &[u8], _: i64, _: &str) -> Option<String> {
        match *self {}
    }

    pub(crate) fn check(&self, _: &[u8], _: &[u8]) -> Result<Claimed, Rejection> {
        match *self {}
    }
}

/// No signature inside a JSON body can be declared without the `json`
/// feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JsonSigned {}

impl JsonSigned {
    pub(crate) fn primitive(&self) -> Algorithm {
        match *self {}
    }

    pub(crate) fn read(&self, _: &[u8], _: &mut Signatures) -> Result<Vec<u8>, Rejection> {
        match *self {}
    }

    pub(crate) fn message_of(&self, _: &[u8]) -> Option<Vec<u8>> {
        match *self {}
    }
}
