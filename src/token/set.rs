//! A set of accepted tokens, compared in constant time.

use std::sync::Arc;

use subtle::ConstantTimeEq;

use crate::secret::Secret;

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
    tokens: Vec<(Arc<str>, Secret)>,
}

impl TokenSet {
    /// An empty set (matches nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// Accept `token`, recorded as `id` when it matches.
    pub fn with(mut self, id: impl Into<Arc<str>>, token: Secret) -> Self {
        self.tokens.push((id.into(), token));
        self
    }

    /// Whether no token is accepted.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The id of the token equal to `presented`, if any.
    ///
    /// Every token is compared, each in constant time, so the time taken
    /// does not tell which one (or how much of one) matched.
    pub fn matching(&self, presented: &[u8]) -> Option<Arc<str>> {
        let mut found = None;
        for (id, token) in &self.tokens {
            if bool::from(token.expose_secret().ct_eq(presented)) && found.is_none() {
                found = Some(Arc::clone(id));
            }
        }
        found
    }
}
