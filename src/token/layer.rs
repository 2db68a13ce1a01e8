//! The token check as a tower layer.

use std::sync::Arc;

use tower_layer::Layer;

use super::auth::TokenAuth;
use super::source::TokenSource;
use crate::guard::Guard;
use crate::secret::Secret;
use crate::secret::TokenSet;

/// Refuses requests without an accepted token, with `401 Unauthorized`,
/// before the body is read.
///
/// Start from where the token is read, then say which tokens are accepted:
///
/// ```
/// use tower_webhook::token::{TokenLayer, TokenSource};
/// use tower_webhook::Secret;
///
/// # fn main() -> Result<(), tower_webhook::secret::SecretError> {
/// let gitlab = TokenLayer::header("X-Gitlab-Token").accept("2024", Secret::new("glpat-2024-token-value")?);
/// let bearer = TokenLayer::bearer()
///     .accept("old", Secret::new("bearer-token-being-retired")?)
///     .accept("new", Secret::new("bearer-token-replacing-it")?);
/// let basic = TokenLayer::basic().user("hooks").accept("basic", Secret::new("basic-password-value")?);
/// let url = TokenLayer::query("token").user_param("user", "hooks").accept("url", Secret::new("url-token-value")?);
/// let either = TokenLayer::bearer()
///     .or(TokenSource::header("X-Webhook-Token"))
///     .accept("shared", Secret::new("shared-token-value")?);
/// # let _ = (gitlab, bearer, basic, url, either);
/// # Ok(())
/// # }
/// ```
///
/// # Several sources
///
/// The sources are tried in order and the **first one present decides**:
///
/// * its credential matches an accepted token (and the user name, where
///   one is required): accepted, recorded with that source's
///   [`AuthMethod`](crate::AuthMethod) and the token's id;
/// * its credential matches nothing, or is unusable (empty, not printable
///   ASCII, longer than 4 KiB, malformed Basic, a header repeated with
///   different values, `Authorization` given twice):
///   [`Reason::TokenInvalid`](crate::Reason::TokenInvalid); later sources
///   are **not** consulted, so a wrong token cannot be rescued by a second
///   guess elsewhere;
/// * no source present: [`Reason::TokenMissing`](crate::Reason::TokenMissing),
///   except when the layer reads `Authorization` and the request has one in
///   another scheme (`Digest ...`): a credential this layer cannot use,
///   `token_invalid`.
///
/// Every rejection carries a `WWW-Authenticate` challenge per HTTP scheme
/// among the sources (`Bearer realm="webhook"`, `Basic realm="webhook"`;
/// the Bearer one gains `error="invalid_token"` when a Bearer token was
/// refused). Header and URL tokens have no standard scheme, so a layer
/// reading only those sends none. See the [module docs](super) for a
/// complete server.
#[derive(Debug, Clone)]
pub struct TokenLayer {
    auth: Arc<TokenAuth>,
}

impl TokenLayer {
    /// Read the token from `source`.
    pub fn new(source: TokenSource) -> Self {
        Self::with_auth(TokenAuth::new(source))
    }

    fn with_auth(auth: TokenAuth) -> Self {
        Self {
            auth: Arc::new(auth),
        }
    }

    /// Read the token from header `name`; see [`TokenSource::header`].
    ///
    /// # Panics
    ///
    /// If `name` is not a valid header name. For a name from configuration
    /// use [`try_header`](Self::try_header).
    pub fn header<N>(name: N) -> Self
    where
        N: TryInto<http::HeaderName>,
        N::Error: std::fmt::Debug,
    {
        Self::new(TokenSource::header(name))
    }

    /// Read the token from header `name`, a value from configuration (any
    /// case): refused with an [`InvalidSetting`](crate::InvalidSetting) when it is
    /// not a header name.
    pub fn try_header(name: &str) -> Result<Self, crate::InvalidSetting> {
        Ok(Self::new(TokenSource::try_header(name)?))
    }

    /// Read `Authorization: Bearer`; see [`TokenSource::bearer`].
    pub fn bearer() -> Self {
        Self::new(TokenSource::bearer())
    }

    /// Read `Authorization: Basic`; see [`TokenSource::basic`].
    pub fn basic() -> Self {
        Self::new(TokenSource::basic())
    }

    /// Read query parameter `name`; see [`TokenSource::query`].
    pub fn query(name: impl Into<Arc<str>>) -> Self {
        Self::new(TokenSource::query(name))
    }

    /// Read the path segment at `index`; see [`TokenSource::path_segment`].
    pub fn path_segment(index: usize) -> Self {
        Self::new(TokenSource::path_segment(index))
    }

    /// Read the path segment after `prefix`; see [`TokenSource::path_after`].
    pub fn path_after(prefix: impl Into<Arc<str>>) -> Self {
        Self::new(TokenSource::path_after(prefix))
    }

    /// Let every request through unverified, recorded as
    /// [`AuthMethod::Anonymous`](crate::AuthMethod::Anonymous); see
    /// for senders that cannot authenticate at all, behind another
    /// protection (an IP allowlist). Logs a warning when built.
    ///
    /// The methods adding sources or tokens panic on this layer: it cannot
    /// both verify and not verify.
    pub fn without_verification() -> Self {
        Self::with_auth(TokenAuth::without_verification())
    }

    /// Also read a token from `source`, after the sources given before.
    ///
    /// # Panics
    ///
    /// On a layer built [`without_verification`](Self::without_verification).
    pub fn or(self, source: TokenSource) -> Self {
        self.map(|auth| auth.or(source))
    }

    /// Require this Basic user name; see [`TokenSource::user`]. Applies to
    /// the source added last.
    ///
    /// # Panics
    ///
    /// If the source added last is not [`basic`](Self::basic).
    pub fn user(self, name: impl Into<Arc<str>>) -> Self {
        self.map(|auth| auth.map_last_source(|source| source.user(name)))
    }

    /// Require the user name `name` in query parameter `param`; see
    /// [`TokenSource::user_param`]. Applies to the source added last.
    ///
    /// # Panics
    ///
    /// If the source added last is not a URL source.
    pub fn user_param(self, param: impl Into<Arc<str>>, name: impl Into<Arc<str>>) -> Self {
        self.map(|auth| auth.map_last_source(|source| source.user_param(param, name)))
    }

    /// Require the user name `name` in path segment `index`; see
    /// [`TokenSource::user_segment`]. Applies to the source added last.
    ///
    /// # Panics
    ///
    /// If the source added last is not a URL source.
    pub fn user_segment(self, index: usize, name: impl Into<Arc<str>>) -> Self {
        self.map(|auth| auth.map_last_source(|source| source.user_segment(index, name)))
    }

    /// Accept `token`, recorded as key id `id` when it matches. Call it
    /// again to accept several tokens at once, e.g. the old and the new one
    /// of a rotation.
    ///
    /// # Panics
    ///
    /// On a layer built [`without_verification`](Self::without_verification).
    pub fn accept(self, id: impl Into<Arc<str>>, token: Secret) -> Self {
        self.map(|auth| auth.accept(id, token))
    }

    /// Accept exactly the tokens of `tokens`, replacing those accepted so
    /// far.
    ///
    /// # Panics
    ///
    /// On a layer built [`without_verification`](Self::without_verification).
    pub fn with_tokens(self, tokens: TokenSet) -> Self {
        self.map(|auth| auth.with_tokens(tokens))
    }

    /// The realm named in `WWW-Authenticate` challenges. Default: `webhook`.
    ///
    /// # Panics
    ///
    /// On a realm that is not printable ASCII or holds `"` or `\`; for a
    /// realm from configuration use [`try_realm`](Self::try_realm).
    pub fn realm(self, realm: &str) -> Self {
        self.map(|auth| auth.realm(realm))
    }

    /// [`realm`](Self::realm) with a value from configuration, refused with
    /// an [`InvalidSetting`](crate::InvalidSetting) instead of a panic.
    pub fn try_realm(self, realm: &str) -> Result<Self, crate::InvalidSetting> {
        crate::invalid_setting::check_realm(realm)?;
        Ok(self.realm(realm))
    }

    pub(crate) fn auth(&self) -> &TokenAuth {
        &self.auth
    }

    /// Whether the layer verifies and accepts at least one token. `false`
    /// for a layer no token was given to (it refuses every request) and for
    /// [`without_verification`](Self::without_verification) (it accepts
    /// every request): neither authenticates anyone.
    pub fn has_credentials(&self) -> bool {
        self.auth.has_credentials()
    }

    pub(crate) fn shared_auth(&self) -> Arc<TokenAuth> {
        Arc::clone(&self.auth)
    }

    fn map(self, f: impl FnOnce(TokenAuth) -> TokenAuth) -> Self {
        let auth = Arc::unwrap_or_clone(self.auth);
        Self::with_auth(f(auth))
    }
}

impl<S> Layer<S> for TokenLayer {
    type Service = RequireToken<S>;

    fn layer(&self, inner: S) -> Self::Service {
        if self.auth.verifies() && self.auth.tokens().is_empty() {
            tracing::warn!("TokenLayer accepts no token: every request will be refused");
        }
        Guard::new(Arc::clone(&self.auth), inner)
    }
}

/// The service of [`TokenLayer`].
pub type RequireToken<S> = Guard<TokenAuth, S>;
