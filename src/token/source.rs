//! Where a token is read from.

use crate::invalid_setting::{header_name, InvalidSetting};
use std::fmt;
use std::sync::Arc;

use http::header::AUTHORIZATION;
use http::request::Parts;
use http::{HeaderMap, HeaderName};
use zeroize::Zeroizing;

use super::basic::BasicCredentials;
use super::error::{CredentialError, MAX_CREDENTIAL_LEN};
use super::url::UrlPart;
use crate::context::AuthMethod;
use crate::secret::digest::Digest;

/// One place a sender may put its token.
///
/// | constructor | reads | recorded as |
/// |---|---|---|
/// | [`header`](Self::header) | the whole value of a named header (`X-Gitlab-Token`) | [`AuthMethod::Token`] |
/// | [`bearer`](Self::bearer) | `Authorization: Bearer <token>` | [`AuthMethod::Bearer`] |
/// | [`basic`](Self::basic) | the password of `Authorization: Basic` | [`AuthMethod::Basic`] |
/// | [`query`](Self::query) | a query parameter, form-decoded | [`AuthMethod::UrlToken`] |
/// | [`path_segment`](Self::path_segment), [`path_after`](Self::path_after) | a path segment, percent-decoded | [`AuthMethod::UrlToken`] |
///
/// A user name can be required too: [`user`](Self::user) for Basic,
/// [`user_param`](Self::user_param) / [`user_segment`](Self::user_segment)
/// for URL tokens.
///
/// ```
/// use tower_webhook::token::TokenSource;
///
/// let gitlab = TokenSource::header("X-Gitlab-Token");
/// let basic = TokenSource::basic().user("hooks");
/// // https://example.com/hooks?user=hooks&token=...
/// let url = TokenSource::query("token").user_param("user", "hooks");
/// // https://example.com/hooks/<token>
/// let path = TokenSource::path_after("hooks");
/// # let _ = (gitlab, basic, url, path);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSource {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Header(HeaderName),
    Bearer,
    Basic {
        user: Option<Arc<str>>,
    },
    Url {
        token: UrlPart,
        user: Option<(UrlPart, Arc<str>)>,
    },
}

impl TokenSource {
    /// The position of the path segment this source reads its token from
    /// in `path`, if it reads one there (see the audit layer's redaction).
    pub(crate) fn token_segment(&self, path: &str) -> Option<usize> {
        match &self.kind {
            Kind::Url { token, .. } => token.segment_index(path),
            _ => None,
        }
    }

    /// The token is the whole value of header `name`, e.g. `X-Gitlab-Token`
    /// or `X-Webhook-Token`.
    ///
    /// # Panics
    ///
    /// If `name` is not a valid header name. For a name from configuration
    /// use [`try_header`](Self::try_header).
    pub fn header<N>(name: N) -> Self
    where
        N: TryInto<HeaderName>,
        N::Error: fmt::Debug,
    {
        let name = name
            .try_into()
            .unwrap_or_else(|error| panic!("invalid token header name: {error:?}"));
        Self::of(Kind::Header(name))
    }

    /// [`header`](Self::header) with a name from configuration (any case),
    /// refused with an [`InvalidSetting`] when it is not a header name.
    pub fn try_header(name: &str) -> Result<Self, InvalidSetting> {
        Ok(Self::of(Kind::Header(header_name("token", name)?)))
    }

    /// The token of `Authorization: Bearer <token>` (RFC 6750).
    pub fn bearer() -> Self {
        Self::of(Kind::Bearer)
    }

    /// The password of `Authorization: Basic` (RFC 7617). Any user name is
    /// accepted unless [`user`](Self::user) names one.
    pub fn basic() -> Self {
        Self::of(Kind::Basic { user: None })
    }

    /// The query parameter `name` (`?token=...`), form-decoded (`%2F` and
    /// `+` are decoded; invalid UTF-8 after decoding is replaced by U+FFFD).
    pub fn query(name: impl Into<Arc<str>>) -> Self {
        Self::url(UrlPart::Query(name.into()))
    }

    /// The path segment at 0-based `index`, percent-decoded: in
    /// `/hooks/gitlab/<token>` the token is segment 2.
    ///
    /// The path is the one this layer sees: inside an axum `nest`, the
    /// nested prefix is already stripped.
    pub fn path_segment(index: usize) -> Self {
        Self::url(UrlPart::Segment(index))
    }

    /// The path segment right after the first segment equal to `prefix`:
    /// `path_after("hooks")` reads `<token>` in `/api/hooks/<token>`.
    pub fn path_after(prefix: impl Into<Arc<str>>) -> Self {
        Self::url(UrlPart::After(prefix.into()))
    }

    /// Require the Basic credentials to carry this user name.
    ///
    /// # Panics
    ///
    /// If this is not a [`basic`](Self::basic) source (URL tokens take
    /// [`user_param`](Self::user_param) or [`user_segment`](Self::user_segment)).
    pub fn user(mut self, name: impl Into<Arc<str>>) -> Self {
        match &mut self.kind {
            Kind::Basic { user } => *user = Some(name.into()),
            _ => panic!("TokenSource::user applies to Basic credentials; use user_param or user_segment for URL tokens"),
        }
        self
    }

    /// Require the query parameter `param` to hold the user name `name`
    /// (e.g. `?user=hooks&token=...`).
    ///
    /// # Panics
    ///
    /// If this is not a URL source ([`query`](Self::query),
    /// [`path_segment`](Self::path_segment), [`path_after`](Self::path_after)).
    pub fn user_param(self, param: impl Into<Arc<str>>, name: impl Into<Arc<str>>) -> Self {
        self.url_user(UrlPart::Query(param.into()), name.into())
    }

    /// Require the path segment at 0-based `index` to be the user name
    /// `name` (e.g. `/hooks/<user>/<token>`).
    ///
    /// # Panics
    ///
    /// If this is not a URL source.
    pub fn user_segment(self, index: usize, name: impl Into<Arc<str>>) -> Self {
        self.url_user(UrlPart::Segment(index), name.into())
    }

    /// How an accepted credential from here is recorded.
    pub fn method(&self) -> AuthMethod {
        match self.kind {
            Kind::Header(_) => AuthMethod::Token,
            Kind::Bearer => AuthMethod::Bearer,
            Kind::Basic { .. } => AuthMethod::Basic,
            Kind::Url { .. } => AuthMethod::UrlToken,
        }
    }

    /// The HTTP authentication scheme of this source (`Bearer`, `Basic`),
    /// if it has one.
    pub(crate) fn scheme(&self) -> Option<Scheme> {
        match self.kind {
            Kind::Bearer => Some(Scheme::Bearer),
            Kind::Basic { .. } => Some(Scheme::Basic),
            _ => None,
        }
    }

    /// What the request presents at this place.
    pub(crate) fn read(&self, parts: &Parts) -> Presented {
        let read = match &self.kind {
            Kind::Header(name) => header_token(&parts.headers, name),
            Kind::Bearer => bearer_token(&parts.headers),
            Kind::Basic { user } => basic_token(&parts.headers, user.as_deref()),
            Kind::Url { token, user } => url_token(parts, token, user.as_ref()),
        };
        match read {
            Ok(Some(credential)) => Presented::Credential(credential),
            Ok(None) => Presented::Absent,
            Err(error) => Presented::Unusable(error),
        }
    }

    fn of(kind: Kind) -> Self {
        Self { kind }
    }

    fn url(token: UrlPart) -> Self {
        Self::of(Kind::Url { token, user: None })
    }

    fn url_user(mut self, place: UrlPart, name: Arc<str>) -> Self {
        match &mut self.kind {
            Kind::Url { user, .. } => *user = Some((place, name)),
            _ => panic!("user_param and user_segment apply to URL tokens; use user for Basic"),
        }
        self
    }
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Header(name) => write!(f, "header {name}"),
            Kind::Bearer => f.write_str("bearer"),
            Kind::Basic { .. } => f.write_str("basic"),
            Kind::Url { token, .. } => match token {
                UrlPart::Query(name) => write!(f, "query parameter {name}"),
                UrlPart::Segment(index) => write!(f, "path segment {index}"),
                UrlPart::After(prefix) => write!(f, "path segment after {prefix}"),
            },
        }
    }
}

/// An HTTP authentication scheme, for `WWW-Authenticate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Bearer,
    Basic,
}

/// What a request presents at one [`TokenSource`].
pub(crate) enum Presented {
    /// Nothing there.
    Absent,
    /// Something there, unusable before any comparison.
    Unusable(CredentialError),
    /// A credential to compare.
    Credential(Credential),
}

/// A presented token (wiped on drop) and whether the user name, where one
/// is required, matched.
pub(crate) struct Credential {
    pub(crate) token: Zeroizing<Vec<u8>>,
    pub(crate) user_matches: bool,
}

impl Credential {
    fn new(token: &[u8], user_matches: bool) -> Self {
        Self {
            token: Zeroizing::new(token.to_vec()),
            user_matches,
        }
    }
}

type Read = Result<Option<Credential>, CredentialError>;

fn header_token(headers: &HeaderMap, name: &HeaderName) -> Read {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    let token = text(first.as_bytes())?;
    // A proxy repeating the same header is harmless; two tokens are not.
    if values.any(|other| other != first) {
        return Err(CredentialError::Ambiguous);
    }
    Ok(Some(Credential::new(token, true)))
}

fn bearer_token(headers: &HeaderMap) -> Read {
    let Some((scheme, token)) = authorization(headers)? else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Ok(None);
    }
    if token.is_empty() {
        return Err(CredentialError::Empty);
    }
    if token.iter().any(|&b| b == b' ' || b == b'\t') {
        return Err(CredentialError::Malformed);
    }
    Ok(Some(Credential::new(token, true)))
}

fn basic_token(headers: &HeaderMap, expected_user: Option<&str>) -> Read {
    let Some((scheme, encoded)) = authorization(headers)? else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return Ok(None);
    }
    let credentials = BasicCredentials::parse(encoded)?;
    let user_matches = expected_user.is_none_or(|name| same(name.as_bytes(), credentials.user()));
    Ok(Some(Credential::new(credentials.password(), user_matches)))
}

fn url_token(parts: &Parts, token: &UrlPart, user: Option<&(UrlPart, Arc<str>)>) -> Read {
    let Some(token) = token.read(&parts.uri)? else {
        return Ok(None);
    };
    let user_matches = match user {
        None => true,
        // An absent or unreadable user name is a wrong one: the token was
        // presented, so the verdict is "invalid", not "missing".
        Some((place, name)) => match place.read(&parts.uri) {
            Ok(Some(presented)) => same(name.as_bytes(), &presented),
            Ok(None) | Err(_) => false,
        },
    };
    Ok(Some(Credential {
        token,
        user_matches,
    }))
}

/// The scheme and the credentials after it.
type SchemeAndCredentials<'a> = (&'a [u8], &'a [u8]);

/// The scheme and credentials of the single `Authorization` header.
fn authorization(headers: &HeaderMap) -> Result<Option<SchemeAndCredentials<'_>>, CredentialError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    // The header cannot be a list (RFC 9110 §11.6.2): two are ambiguous
    // even when equal, and a sign of a confused or hostile intermediary.
    if values.next().is_some() {
        return Err(CredentialError::Ambiguous);
    }
    let value = text(value.as_bytes())?;
    let (scheme, rest) = match value.iter().position(|&b| b == b' ') {
        Some(space) => value.split_at(space),
        None => (value, &[][..]),
    };
    Ok(Some((scheme, rest.trim_ascii_start())))
}

/// A header value fit to be a credential: bounded, non-empty, printable.
fn text(value: &[u8]) -> Result<&[u8], CredentialError> {
    if value.len() > MAX_CREDENTIAL_LEN {
        Err(CredentialError::TooLong)
    } else if value.is_empty() {
        Err(CredentialError::Empty)
    } else if !value
        .iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))
    {
        Err(CredentialError::NotVisibleAscii)
    } else {
        Ok(value)
    }
}

/// User names are not secret, but comparing them in constant time costs
/// nothing and keeps every credential comparison alike.
fn same(expected: &[u8], presented: &[u8]) -> bool {
    Digest::of(expected).matches(&Digest::of(presented))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &[u8])]) -> Parts {
        let mut request = http::Request::post("/hooks");
        for (name, value) in headers {
            request = request.header(*name, http::HeaderValue::from_bytes(value).unwrap());
        }
        request.body(()).unwrap().into_parts().0
    }

    type Outcome = Result<Vec<u8>, Option<CredentialError>>;
    type Headers<'a> = &'a [(&'a str, &'a [u8])];

    fn outcome(source: &TokenSource, headers: &[(&str, &[u8])]) -> Outcome {
        match source.read(&parts(headers)) {
            Presented::Absent => Err(None),
            Presented::Unusable(error) => Err(Some(error)),
            Presented::Credential(credential) => Ok(credential.token.to_vec()),
        }
    }

    #[test]
    fn header_values_are_vetted_before_comparison() {
        let source = TokenSource::header("x-token");
        let long = vec![b'a'; MAX_CREDENTIAL_LEN + 1];
        let cases: [(Headers<'_>, Outcome); 6] = [
            (&[("x-token", b"abc")], Ok(b"abc".to_vec())),
            (&[], Err(None)),
            (&[("x-token", b"")], Err(Some(CredentialError::Empty))),
            (
                &[("x-token", b"ab\xff")],
                Err(Some(CredentialError::NotVisibleAscii)),
            ),
            (&[("x-token", &long)], Err(Some(CredentialError::TooLong))),
            (
                &[("x-token", b"a"), ("x-token", b"b")],
                Err(Some(CredentialError::Ambiguous)),
            ),
        ];
        for (headers, expected) in cases {
            assert_eq!(outcome(&source, headers), expected, "{headers:?}");
        }
    }

    #[test]
    fn authorization_schemes() {
        let bearer = TokenSource::bearer();
        let basic = TokenSource::basic();
        let auth = |value: &'static [u8]| [("authorization", value)];
        assert_eq!(outcome(&bearer, &auth(b"Bearer  tok")), Ok(b"tok".to_vec()));
        assert_eq!(outcome(&bearer, &auth(b"Basic dTpw")), Err(None));
        assert_eq!(outcome(&basic, &auth(b"Basic dTpw")), Ok(b"p".to_vec()));
        assert_eq!(outcome(&basic, &auth(b"Bearer tok")), Err(None));
        assert_eq!(
            outcome(&bearer, &auth(b"Bearer")),
            Err(Some(CredentialError::Empty))
        );
        assert_eq!(
            outcome(&bearer, &auth(b"Bearer a b")),
            Err(Some(CredentialError::Malformed))
        );
        assert_eq!(
            outcome(&basic, &auth(b"Basic \xff")),
            Err(Some(CredentialError::NotVisibleAscii))
        );
        let twice = [
            ("authorization", &b"Bearer tok"[..]),
            ("authorization", b"Bearer tok"),
        ];
        assert_eq!(
            outcome(&bearer, &twice),
            Err(Some(CredentialError::Ambiguous))
        );
        assert_eq!(
            outcome(&basic, &twice),
            Err(Some(CredentialError::Ambiguous))
        );
    }

    #[test]
    #[should_panic(expected = "applies to Basic")]
    fn user_is_for_basic_only() {
        let _ = TokenSource::bearer().user("hooks");
    }
}
