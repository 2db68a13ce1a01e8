//! Shared-secret tokens, for senders that cannot sign (issue 2).
//!
//! [`TokenLayer`] refuses, with `401 Unauthorized` and before the body is
//! read, every request that does not carry an accepted token. A token can be
//! read from (see [`TokenSource`]):
//!
//! * a header of any name, whole value: `X-Gitlab-Token`, `X-Webhook-Token`;
//! * `Authorization: Bearer <token>`;
//! * `Authorization: Basic`: the password is the token, the user name must
//!   match when one is configured;
//! * the URL: a query parameter, or a path segment by position or after a
//!   prefix, optionally with a user name beside it.
//!
//! Several tokens can be accepted at once, each with an id, so a rotation
//! overlaps the old and the new token; the id of the one that matched is
//! recorded in the request's [`Verification`](crate::Verification). Tokens
//! are compared in constant time ([`TokenSet::matching`]) and never logged
//! or printed. When a layer reads several sources, the first one present
//! decides; a refused credential is `token_invalid`, none at all
//! `token_missing` (details: [`TokenLayer`]).
//!
//! # Example
//!
//! A GitLab webhook, mid-rotation: both the 2024 and the 2025 token work, and
//! the handler sees which one was used.
//!
//! ```
//! use axum::{routing::post, Router};
//! use tower_webhook::token::TokenLayer;
//! use tower_webhook::{Secret, Verification};
//!
//! async fn gitlab(verification: Verification) -> String {
//!     let key_id = verification.authentication.and_then(|auth| auth.key_id);
//!     format!("delivered with token {}", key_id.as_deref().unwrap_or("?"))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let app: Router = Router::new().route("/hooks/gitlab", post(gitlab)).layer(
//!     TokenLayer::header("X-Gitlab-Token")
//!         .accept("2024", Secret::new("glpat-token-from-2024")?)
//!         .accept("2025", Secret::new("glpat-token-from-2025")?),
//! );
//!
//! use tower::ServiceExt;
//! let request = http::Request::post("/hooks/gitlab")
//!     .header("X-Gitlab-Token", "glpat-token-from-2025")
//!     .body(axum::body::Body::empty())?;
//! let response = app.clone().oneshot(request).await?;
//! assert_eq!(response.status(), 200);
//! let body = axum::body::to_bytes(response.into_body(), 1024).await?;
//! assert_eq!(body, "delivered with token 2025");
//!
//! let request = http::Request::post("/hooks/gitlab")
//!     .header("X-Gitlab-Token", "a guess")
//!     .body(axum::body::Body::empty())?;
//! let response = app.oneshot(request).await?;
//! assert_eq!(response.status(), 401);
//! # Ok(())
//! # }
//! ```
//!
//! # Basic, Bearer and URL tokens
//!
//! ```
//! use axum::{routing::post, Router};
//! use tower_webhook::token::{TokenLayer, TokenSource};
//! use tower_webhook::Secret;
//!
//! # fn main() -> Result<(), tower_webhook::secret::SecretError> {
//! let token = Secret::new("a-long-random-shared-token")?;
//!
//! // `Authorization: Basic` with user `hooks`, or a Bearer token. Refusals
//! // carry `WWW-Authenticate: Basic realm="webhook"` and `Bearer ...`.
//! let http_auth = TokenLayer::basic()
//!     .user("hooks")
//!     .or(TokenSource::bearer())
//!     .accept("main", token.clone());
//!
//! // https://example.com/hooks/<token>, for senders that only take a URL.
//! let in_path = TokenLayer::path_after("hooks").accept("main", token);
//!
//! let app: Router = Router::new()
//!     .route("/basic", post(|| async {}).layer(http_auth))
//!     .route("/hooks/{token}", post(|| async {}).layer(in_path));
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! # No verification
//!
//! A sender that can do nothing at all is still better served by an explicit
//! choice than by leaving the layer out: [`TokenLayer::without_verification`]
//! accepts every request, records
//! [`AuthMethod::Anonymous`](crate::AuthMethod::Anonymous) for the audit
//! trail, and logs a warning when built. Pair it with an IP allowlist.

mod auth;
mod basic;
mod error;
mod layer;
mod source;
#[cfg(test)]
mod tests;
mod url;

pub use crate::secret::TokenSet;
pub use layer::{RequireToken, TokenLayer};
pub use source::TokenSource;
