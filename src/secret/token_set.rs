//! A set of accepted tokens, compared in constant time.

use std::sync::Arc;

use super::digest::Digest;
use super::Secret;

/// Accepted tokens, each with an id (recorded in the context when it
/// matches), so a rotation can accept the old and the new token together.
///
/// ```
/// use tower_webhook::{token::TokenSet, Secret};
///
/// let tokens = TokenSet::new()
///     .with("2024", Secret::new("old-token-value-123")?)
///     .with("2025", Secret::new("new-token-value-456")?);
/// assert_eq!(tokens.matching(b"new-token-value-456").as_deref(), Some("2025"));
/// assert_eq!(tokens.matching(b"guess"), None);
/// # Ok::<(), tower_webhook::secret::SecretError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct TokenSet {
    /// Only the digests are kept: the tokens themselves are zeroised when
    /// the `Secret`s given to [`with`](Self::with) drop.
    tokens: Vec<(Arc<str>, Digest)>,
}

impl TokenSet {
    /// An empty set (matches nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// Accept `token`, recorded as `id` when it matches.
    pub fn with(mut self, id: impl Into<Arc<str>>, token: Secret) -> Self {
        let digest = Digest::of(token.expose_secret());
        self.tokens.push((id.into(), digest));
        self
    }

    /// Whether no token is accepted.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The id of the token equal to `presented`, if any.
    ///
    /// Every token is compared, each in constant time, so the time taken
    /// does not tell which one (or how much of one) matched. What is
    /// compared are fixed-size keyed digests of the tokens, so it does not
    /// tell their lengths either.
    pub fn matching(&self, presented: &[u8]) -> Option<Arc<str>> {
        let presented = Digest::of(presented);
        let mut found = None;
        for (id, digest) in &self.tokens {
            if digest.matches(&presented) && found.is_none() {
                found = Some(Arc::clone(id));
            }
        }
        found
    }
}
