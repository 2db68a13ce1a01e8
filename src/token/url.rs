//! Reading a token (or user name) from the request URL.

use crate::path::segments;
use std::sync::Arc;

use http::Uri;
use percent_encoding::percent_decode_str;
use zeroize::Zeroizing;

use super::error::{CredentialError, MAX_CREDENTIAL_LEN};

/// A place in the URL that holds a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UrlPart {
    /// The query parameter of this name (`application/x-www-form-urlencoded`).
    Query(Arc<str>),
    /// The path segment at this 0-based position: in `/hooks/gitlab/abc`,
    /// segment 2 is `abc`.
    Segment(usize),
    /// The path segment right after the first segment equal to this one.
    After(Arc<str>),
}

/// A decoded value, wiped from memory on drop.
pub(crate) type UrlValue = Zeroizing<Vec<u8>>;

impl UrlPart {
    /// The decoded value; `Ok(None)` when the URL does not have it.
    ///
    /// An empty path segment counts as absent (`/hooks/` has no token after
    /// `hooks`); an empty query value (`?token=`) is a presented, empty token.
    pub(crate) fn read(&self, uri: &Uri) -> Result<Option<UrlValue>, CredentialError> {
        match self {
            UrlPart::Query(name) => query_value(uri.query().unwrap_or_default(), name),
            UrlPart::Segment(index) => segment(segments(uri.path()).nth(*index)),
            UrlPart::After(prefix) => {
                let mut segments = segments(uri.path());
                let found = segments.by_ref().any(|s| s == &**prefix);
                segment(if found { segments.next() } else { None })
            }
        }
    }
}

impl UrlPart {
    /// For a path part, the 0-based position of the segment it reads in
    /// `path` (whether or not that segment is empty), so the audit trail can
    /// redact it; `None` for a query parameter or an absent segment.
    pub(crate) fn segment_index(&self, path: &str) -> Option<usize> {
        match self {
            UrlPart::Query(_) => None,
            UrlPart::Segment(index) => (*index < segments(path).count()).then_some(*index),
            UrlPart::After(prefix) => {
                let at = segments(path).position(|s| s == &**prefix)?;
                (at + 1 < segments(path).count()).then_some(at + 1)
            }
        }
    }
}

fn segment(raw: Option<&str>) -> Result<Option<UrlValue>, CredentialError> {
    match raw {
        None | Some("") => Ok(None),
        Some(raw) if raw.len() > MAX_CREDENTIAL_LEN => Err(CredentialError::TooLong),
        // Path segments are percent-decoded only: `+` stays a plus sign.
        Some(raw) => Ok(Some(Zeroizing::new(percent_decode_str(raw).collect()))),
    }
}

/// The value of parameter `name`. A parameter repeated with different values
/// is ambiguous; repeated with the same value it is harmless.
fn query_value(query: &str, name: &str) -> Result<Option<UrlValue>, CredentialError> {
    let mut found: Option<UrlValue> = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key != name {
            continue;
        }
        if value.len() > MAX_CREDENTIAL_LEN {
            return Err(CredentialError::TooLong);
        }
        match &found {
            None if value.is_empty() => return Err(CredentialError::Empty),
            None => found = Some(Zeroizing::new(value.into_owned().into_bytes())),
            Some(previous) if previous.as_slice() == value.as_bytes() => {}
            Some(_) => return Err(CredentialError::Ambiguous),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    use proptest::prelude::*;

    fn read(part: UrlPart, uri: &str) -> Result<Option<Vec<u8>>, CredentialError> {
        let uri: Uri = uri.parse().unwrap();
        part.read(&uri).map(|value| value.map(|v| v.to_vec()))
    }

    fn query(name: &str) -> UrlPart {
        UrlPart::Query(name.into())
    }

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(
            read(query("token"), "/h?a=1&token=t%2Fo+k%3D"),
            Ok(Some(b"t/o k=".to_vec()))
        );
        assert_eq!(read(query("token"), "/h?a=1"), Ok(None));
        assert_eq!(read(query("token"), "/h"), Ok(None));
        assert_eq!(
            read(query("token"), "/h?token="),
            Err(CredentialError::Empty)
        );
        assert_eq!(
            read(query("token"), "/h?token=a&token=b"),
            Err(CredentialError::Ambiguous)
        );
        assert_eq!(
            read(query("token"), "/h?token=a&token=%61"),
            Ok(Some(b"a".to_vec()))
        );
    }

    #[test]
    fn segments_by_position_and_prefix() {
        let after = |p: &str| UrlPart::After(p.into());
        assert_eq!(
            read(UrlPart::Segment(2), "/hooks/gitlab/a%2Bb+c"),
            Ok(Some(b"a+b+c".to_vec()))
        );
        assert_eq!(read(UrlPart::Segment(3), "/hooks/gitlab/abc"), Ok(None));
        assert_eq!(read(UrlPart::Segment(1), "/hooks/"), Ok(None));
        assert_eq!(
            read(after("hooks"), "/api/hooks/abc/x"),
            Ok(Some(b"abc".to_vec()))
        );
        assert_eq!(read(after("hooks"), "/api/hooks"), Ok(None));
        assert_eq!(read(after("hooks"), "/api/other/abc"), Ok(None));
    }

    proptest! {
        #[test]
        fn never_panics(path in "(/[a-zA-Z0-9%+=&?._~-]{0,12}){0,6}", query_text in "[a-z0-9%+=&;]{0,64}") {
            if let Ok(uri) = format!("{path}?{query_text}").parse::<Uri>() {
                for part in [query("token"), UrlPart::Segment(1), UrlPart::After("a".into())] {
                    let _ = part.read(&uri);
                }
            }
        }

        #[test]
        fn query_round_trips(token in "\\PC{1,40}", other in "\\PC{0,10}") {
            let encoded: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("other", &other)
                .append_pair("token", &token)
                .finish();
            prop_assert_eq!(
                read(query("token"), &format!("/h?{encoded}")),
                Ok(Some(token.into_bytes()))
            );
        }

        #[test]
        fn segment_round_trips(token in "\\PC{1,40}") {
            let encoded = utf8_percent_encode(&token, NON_ALPHANUMERIC).to_string();
            let uri = format!("/hooks/{encoded}/tail");
            prop_assert_eq!(read(UrlPart::Segment(1), &uri), Ok(Some(token.clone().into_bytes())));
            prop_assert_eq!(
                read(UrlPart::After("hooks".into()), &uri),
                Ok(Some(token.into_bytes()))
            );
        }
    }
}
