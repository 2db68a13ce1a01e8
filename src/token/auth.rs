//! The token check behind [`TokenLayer`](super::TokenLayer).

use std::sync::Arc;

use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::request::Parts;
use http::HeaderValue;

use super::source::{Presented, Scheme, TokenSource};
use crate::context::{AuthMethod, Authentication, WebhookContext};
use crate::guard::RequestCheck;
use crate::rejection::{Reason, Rejection, Stop};
use crate::secret::Secret;
use crate::secret::TokenSet;

/// The check behind [`TokenLayer`](super::TokenLayer): where tokens are read
/// ([`TokenSource`]s, tried in order) and which are accepted ([`TokenSet`]).
#[derive(Debug, Clone)]
pub struct TokenAuth {
    sources: Vec<TokenSource>,
    tokens: TokenSet,
    challenges: Challenges,
    verify: bool,
}

impl TokenAuth {
    /// Read the token from `source`. No token is accepted until
    /// [`accept`](Self::accept) adds one.
    pub fn new(source: TokenSource) -> Self {
        Self {
            sources: vec![source],
            tokens: TokenSet::new(),
            challenges: Challenges::new(DEFAULT_REALM),
            verify: true,
        }
    }

    /// Accept every request without looking for a credential, recording
    /// [`AuthMethod::Anonymous`]: for senders that cannot authenticate at
    /// all, behind another protection (an IP allowlist). Logs a warning.
    ///
    /// The builder methods adding sources or tokens panic on this value: a
    /// check cannot both verify and not verify.
    pub fn without_verification() -> Self {
        tracing::warn!(
            "token check built without verification: every request is accepted as anonymous"
        );
        Self {
            sources: Vec::new(),
            tokens: TokenSet::new(),
            challenges: Challenges::new(DEFAULT_REALM),
            verify: false,
        }
    }

    /// Also read a token from `source`, after the sources given before.
    ///
    /// # Panics
    ///
    /// On a check built [`without_verification`](Self::without_verification).
    pub fn or(mut self, source: TokenSource) -> Self {
        self.verifying("or").sources.push(source);
        self
    }

    /// Accept `token`, recorded as key id `id` when it matches. Call it
    /// again to accept several tokens at once, e.g. the old and the new one
    /// of a rotation.
    ///
    /// # Panics
    ///
    /// On a check built [`without_verification`](Self::without_verification).
    pub fn accept(mut self, id: impl Into<Arc<str>>, token: Secret) -> Self {
        let verifying = self.verifying("accept");
        verifying.tokens = std::mem::take(&mut verifying.tokens).with(id, token);
        self
    }

    /// Accept exactly the tokens of `tokens`, replacing those accepted so far.
    ///
    /// # Panics
    ///
    /// On a check built [`without_verification`](Self::without_verification).
    pub fn with_tokens(mut self, tokens: TokenSet) -> Self {
        self.verifying("with_tokens").tokens = tokens;
        self
    }

    /// Change the source added last, e.g. to require a user name.
    ///
    /// # Panics
    ///
    /// On a check built [`without_verification`](Self::without_verification).
    pub fn map_last_source(mut self, f: impl FnOnce(TokenSource) -> TokenSource) -> Self {
        let verifying = self.verifying("map_last_source");
        if let Some(last) = verifying.sources.pop() {
            verifying.sources.push(f(last));
        }
        self
    }

    /// The realm named in `WWW-Authenticate` challenges. Default: `webhook`.
    ///
    /// # Panics
    ///
    /// If `realm` holds a `"`, a `\` or a byte that is not printable ASCII
    /// (a configuration error); [`try_realm`](Self::try_realm) answers an
    /// error instead.
    pub fn realm(mut self, realm: &str) -> Self {
        self.challenges = Challenges::new(realm);
        self
    }

    /// [`realm`](Self::realm) with a value from configuration, refused with
    /// an [`InvalidSetting`](crate::InvalidSetting) instead of a panic.
    pub fn try_realm(self, realm: &str) -> Result<Self, crate::InvalidSetting> {
        crate::invalid_setting::check_realm(realm)?;
        Ok(self.realm(realm))
    }

    /// Where tokens are read, in the order they are tried.
    pub fn sources(&self) -> &[TokenSource] {
        &self.sources
    }

    /// The accepted tokens.
    pub fn tokens(&self) -> &TokenSet {
        &self.tokens
    }

    /// Whether this check verifies anything (`false` only for
    /// [`without_verification`](Self::without_verification)).
    pub fn verifies(&self) -> bool {
        self.verify
    }

    /// Whether this check can authenticate someone: it verifies, reads at
    /// least one source and accepts at least one token. A check with no
    /// token refuses every request (a stack should refuse to be built with
    /// it), one [`without_verification`](Self::without_verification)
    /// accepts every request as anonymous.
    pub fn has_credentials(&self) -> bool {
        self.verify && !self.sources.is_empty() && !self.tokens.is_empty()
    }

    /// Authenticate the request head.
    ///
    /// The sources are tried in order and the **first one present decides**:
    ///
    /// * its credential matches an accepted token (and the user name, where
    ///   one is required): accepted, recorded with that source's
    ///   [`AuthMethod`] and the token's id;
    /// * its credential matches nothing, or is unusable (empty, not printable
    ///   ASCII, longer than 4 KiB, malformed Basic, a header repeated with
    ///   different values, `Authorization` given twice):
    ///   [`Reason::TokenInvalid`]; later sources are **not** consulted, so a
    ///   wrong token cannot be rescued by a second guess elsewhere;
    /// * no source present: [`Reason::TokenMissing`], except when the layer
    ///   reads `Authorization` and the request has one in another scheme
    ///   (`Digest ...`): a credential this layer cannot use,
    ///   [`Reason::TokenInvalid`].
    ///
    /// Every rejection carries a `WWW-Authenticate` challenge per HTTP
    /// scheme among the sources (`Bearer realm="webhook"`,
    /// `Basic realm="webhook"`; the Bearer one gains
    /// `error="invalid_token"` when a Bearer token was refused). Header and
    /// URL tokens have no standard scheme, so a layer reading only those
    /// sends none.
    pub fn authenticate(&self, parts: &Parts) -> Result<Authentication, Rejection> {
        self.attempt(parts).map_err(|(rejection, _)| rejection)
    }

    /// [`authenticate`](Self::authenticate), and on refusal which method
    /// was attempted: the source whose credential was refused, or, with
    /// none presented, the first source's.
    fn attempt(&self, parts: &Parts) -> Result<Authentication, (Rejection, AuthMethod)> {
        let asked = self
            .sources
            .first()
            .map_or(AuthMethod::Token, TokenSource::method);
        if !self.verify {
            return Ok(Authentication::new(AuthMethod::Anonymous));
        }
        // Every path segment a source would read is a credential, or a guess
        // at one: the audit trail must not record it, whatever the verdict.
        for source in &self.sources {
            if let Some(index) = source.token_segment(parts.uri.path()) {
                if let Some(context) = WebhookContext::get(&parts.extensions) {
                    context.mark_secret_segment(index);
                }
            }
        }
        for source in &self.sources {
            let credential = match source.read(parts) {
                Presented::Absent => continue,
                Presented::Credential(credential) => credential,
                Presented::Unusable(error) => {
                    tracing::debug!(%source, %error, "webhook token refused");
                    return Err((
                        self.reject(Reason::TokenInvalid, source.scheme()),
                        source.method(),
                    ));
                }
            };
            // Compare even when the user name is wrong, so the time taken
            // does not tell which of the two was.
            return match self.tokens.matching(&credential.token) {
                Some(id) if credential.user_matches => {
                    Ok(Authentication::new(source.method()).with_key_id(id))
                }
                _ => {
                    tracing::debug!(%source, "webhook token matched no accepted token");
                    Err((
                        self.reject(Reason::TokenInvalid, source.scheme()),
                        source.method(),
                    ))
                }
            };
        }
        let authorization = self.sources.iter().find(|s| s.scheme().is_some());
        if let Some(source) = authorization.filter(|_| parts.headers.contains_key(AUTHORIZATION)) {
            tracing::debug!("webhook credential in an Authorization scheme not accepted here");
            return Err((self.reject(Reason::TokenInvalid, None), source.method()));
        }
        Err((self.reject(Reason::TokenMissing, None), asked))
    }

    /// The rejection for `reason`, with the challenges; `refused` is the
    /// scheme whose credential was refused, if any.
    fn reject(&self, reason: Reason, refused: Option<Scheme>) -> Rejection {
        let mut rejection = Rejection::new(reason);
        let mut bearer = false;
        let mut basic = false;
        for scheme in self.sources.iter().filter_map(TokenSource::scheme) {
            match scheme {
                Scheme::Bearer => bearer = true,
                Scheme::Basic => basic = true,
            }
        }
        if bearer {
            let challenge = if refused == Some(Scheme::Bearer) {
                &self.challenges.bearer_invalid
            } else {
                &self.challenges.bearer
            };
            rejection = rejection.with_header(WWW_AUTHENTICATE, challenge.clone());
        }
        if basic {
            rejection = rejection.with_header(WWW_AUTHENTICATE, self.challenges.basic.clone());
        }
        rejection
    }

    fn verifying(&mut self, method: &str) -> &mut Self {
        assert!(
            self.verify,
            "TokenAuth::{method} on a check built without_verification()"
        );
        self
    }
}

impl RequestCheck for TokenAuth {
    fn check(&self, parts: &mut Parts, context: &WebhookContext) -> Result<(), Stop> {
        match self.attempt(parts) {
            Ok(authentication) => {
                context.set_authentication(authentication);
                Ok(())
            }
            Err((rejection, attempted)) => {
                context.refuse_credential(attempted);
                Err(rejection.into())
            }
        }
    }
}

const DEFAULT_REALM: &str = "webhook";

/// The `WWW-Authenticate` values, built once from the realm.
#[derive(Debug, Clone)]
struct Challenges {
    bearer: HeaderValue,
    bearer_invalid: HeaderValue,
    basic: HeaderValue,
}

impl Challenges {
    fn new(realm: &str) -> Self {
        if let Err(error) = crate::invalid_setting::check_realm(realm) {
            panic!("{error}");
        }
        let value = |text: String| {
            HeaderValue::try_from(text).unwrap_or_else(|_| unreachable!("checked above"))
        };
        Self {
            bearer: value(format!("Bearer realm=\"{realm}\"")),
            bearer_invalid: value(format!("Bearer realm=\"{realm}\", error=\"invalid_token\"")),
            basic: value(format!("Basic realm=\"{realm}\"")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn every_source() -> TokenAuth {
        TokenAuth::new(TokenSource::header("x-token"))
            .or(TokenSource::bearer())
            .or(TokenSource::basic().user("hooks"))
            .or(TokenSource::query("token").user_param("user", "hooks"))
            .or(TokenSource::path_after("hooks").user_segment(0, "api"))
            .accept("main", Secret::new("right-token").unwrap())
    }

    #[test]
    fn anonymous_accepts_without_reading() {
        let (parts, ()) = http::Request::new(()).into_parts();
        let auth = TokenAuth::without_verification().authenticate(&parts);
        assert_eq!(auth.unwrap().method, AuthMethod::Anonymous);
    }

    #[test]
    #[should_panic(expected = "without_verification")]
    fn anonymous_takes_no_tokens() {
        let _ = TokenAuth::without_verification().accept("id", Secret::new("x").unwrap());
    }

    #[test]
    fn rejections_carry_every_challenge() {
        let (parts, ()) = http::Request::new(()).into_parts();
        let rejection = every_source().authenticate(&parts).unwrap_err();
        assert_eq!(rejection.reason(), Reason::TokenMissing);
        let challenges: Vec<_> = rejection
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .collect();
        assert_eq!(
            challenges,
            ["Bearer realm=\"webhook\"", "Basic realm=\"webhook\""]
        );
    }

    #[test]
    #[should_panic(expected = "realm")]
    fn realm_cannot_break_the_header() {
        let _ = every_source().realm("a\"b");
    }

    proptest! {
        #[test]
        fn arbitrary_requests_never_panic(
            header in proptest::collection::vec(any::<u8>(), 0..64),
            authorization in proptest::collection::vec(any::<u8>(), 0..64),
            path in "(/[a-zA-Z0-9%+=&._~-]{0,8}){0,5}",
            query in "[a-z0-9%+=&]{0,40}",
        ) {
            let mut request = http::Request::builder();
            if let Ok(uri) = format!("{path}?{query}").parse::<http::Uri>() {
                request = request.uri(uri);
            }
            if let Ok(value) = HeaderValue::from_bytes(&header) {
                request = request.header("x-token", value);
            }
            if let Ok(value) = HeaderValue::from_bytes(&authorization) {
                request = request.header(AUTHORIZATION, value);
            }
            if let Ok(request) = request.body(()) {
                let (parts, ()) = request.into_parts();
                let verdict = every_source().authenticate(&parts);
                // Arbitrary input never carries the right token.
                prop_assert!(verdict.is_err());
            }
        }
    }
}
