//! Per-tenant policies, resolved per request.
//!
//! A service that receives webhooks for many accounts (a ticket system, a CI
//! server) holds each account to its own secret, allowlist and rules. The
//! [`TenantLayer`] reads the tenant's name from the request ([`TenantKey`]),
//! asks an async [`TenantResolver`] for its [`TenantPolicy`] (cached
//! briefly, so it may come from a database), and runs that policy's checks.
//!
//! * A tenant with no policy attached ([`TenantLookup::Legacy`]) keeps the
//!   layer's legacy policy, e.g. its old static token, so hardening rolls out
//!   tenant by tenant; giving it a policy of its own switches the legacy path
//!   off for that tenant.
//! * An unknown tenant goes through a decoy: its body is read under the
//!   same limit as a known tenant's, then it is refused with `401` by
//!   default (or `404`, [`TenantLayer::unknown_tenant_status`]). A known
//!   tenant's refusals are given the same way: a head check that fails (a
//!   missing credential, an address off the tenant's allowlist) is answered
//!   only after the body is read, and a `403` of the tenant's own allowlist
//!   is answered `401`. Status, headers, body, and whether the body was read
//!   (a `413` for an oversized one) are the same for a tenant that exists
//!   and one that does not; the audit keeps the real reason. A policy's own
//!   `WWW-Authenticate` challenge (a Bearer or Basic token check) is not
//!   sent, since an unknown tenant has none; set one challenge for every
//!   tenant with [`TenantLayer::challenge`].
//! * A tenant is recorded (audit, counters, metrics) under its name only
//!   once it resolved; every unknown one under `(unknown)`, so a
//!   stranger's made-up names never push real tenants out of the counters.
//! * A tenant of a provider is one call:
//!   [`TenantLookup::provider`] gives the provider's bundle (signature,
//!   replay window, handshake) as the tenant's policy.
//! * Tenant names are cached as spelled; [`TenantLayer::invalidate`] forgets
//!   every spelling that differs only in ASCII case, for resolvers that
//!   look names up case-insensitively.
//! * A rotated secret takes effect when the cache entry expires, or at once
//!   with [`TenantLayer::invalidate`]. No restart.
//! * Each tenant's security status (pending, secure, configuring, failed)
//!   and the numbers behind it come from the audit trail through
//!   [`TenantSecurity`].
//!
//! A policy is a [`WebhookStack`](crate::WebhookStack) without the
//! per-request layers (audit goes outside the tenant layer, idempotency
//! inside it so only a verified delivery can claim its id):
//!
//! ```
//! use axum::{routing::post, Router};
//! use http::HeaderName;
//! use tower_webhook::ip::IpFilterLayer;
//! use tower_webhook::signature::SignatureLayer;
//! use tower_webhook::tenant::{TenantKey, TenantLayer, TenantLookup};
//! use tower_webhook::token::TokenLayer;
//! use tower_webhook::{Secret, WebhookStack};
//!
//! /// Stands in for a database query.
//! async fn find_secret(tenant: &str) -> Option<Option<String>> {
//!     match tenant {
//!         "acme" => Some(Some("acme-secret-from-the-database".into())),
//!         "globex" => Some(None), // exists, not migrated yet
//!         _ => None,
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let resolver = |tenant: String| async move {
//!     Ok::<_, std::io::Error>(match find_secret(&tenant).await {
//!         Some(Some(secret)) => TenantLookup::policy(
//!             WebhookStack::new()
//!                 .ip_filter(IpFilterLayer::new().allow("10.0.0.0/8").expect("valid list"))
//!                 .signature(SignatureLayer::github(Secret::new(secret).expect("not empty")))
//!                 .into_tenant_policy()
//!                 .expect("consistent"),
//!         ),
//!         Some(None) => TenantLookup::Legacy,
//!         None => TenantLookup::Unknown,
//!     })
//! };
//! let legacy = WebhookStack::new()
//!     .token(TokenLayer::header(HeaderName::from_static("x-webhook-token"))
//!         .accept("shared", Secret::new("the-old-shared-token")?))
//!     .into_tenant_policy()?;
//! let tenants = TenantLayer::new(TenantKey::PathAfter("/hooks".into()), resolver)
//!     .legacy_policy(legacy);
//! let app: Router = Router::new().route("/hooks/{tenant}", post(|| async { "ok" }).layer(tenants));
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! Any [`RequestCheck`](crate::guard::RequestCheck) or
//! [`BodyCheck`](crate::guard::BodyCheck) can be part of a policy:
//!
//! ```
//! use axum::{routing::post, Router};
//! use tower_webhook::tenant::{StaticTenants, TenantKey, TenantLayer, TenantPolicy};
//! use tower_webhook::guard::RequestCheck;
//! use tower_webhook::{Reason, Stop, WebhookContext};
//!
//! /// Stands in for a real check (token, signature...).
//! struct RequireHeader(&'static str);
//! impl RequestCheck for RequireHeader {
//!     fn check(&self, parts: &mut http::request::Parts, _: &WebhookContext) -> Result<(), Stop> {
//!         parts.headers.contains_key(self.0).then_some(()).ok_or(Reason::TokenMissing.into())
//!     }
//! }
//!
//! let tenants = StaticTenants::new()
//!     .with_policy("acme", TenantPolicy::new().with_head_check(RequireHeader("x-acme")))
//!     .with_legacy("globex");
//!
//! let app: Router = Router::new()
//!     .route("/tenants/{tenant}", post(|| async { "ok" }))
//!     .layer(
//!         TenantLayer::new(TenantKey::PathAfter("/tenants".into()), tenants)
//!             .legacy_policy(TenantPolicy::new().with_head_check(RequireHeader("x-legacy"))),
//!     );
//! # let _ = app;
//! ```
//!
//! # Rotating a secret without restart
//!
//! The resolver reads a table that changes at runtime (here a map; in
//! production a database). After a tenant's secret changes,
//! [`TenantLayer::invalidate`] makes the next request see it:
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::{Arc, RwLock};
//! use axum::{body::Body, routing::post, Router};
//! use http::{HeaderName, Request, StatusCode};
//! use tower::ServiceExt;
//! use tower_webhook::tenant::{TenantKey, TenantLayer, TenantLookup};
//! use tower_webhook::token::TokenLayer;
//! use tower_webhook::{Secret, WebhookStack};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let table: Arc<RwLock<HashMap<String, String>>> = Arc::default();
//! table.write().unwrap().insert("acme".into(), "token-one-8f3a2c".into());
//!
//! let rows = Arc::clone(&table);
//! let resolver = move |tenant: String| {
//!     let token = rows
//!         .read()
//!         .map(|rows| rows.get(&tenant).cloned())
//!         .map_err(|_| "table poisoned");
//!     async move {
//!         let Some(token) = token? else {
//!             return Ok::<_, Box<dyn std::error::Error + Send + Sync>>(TenantLookup::Unknown);
//!         };
//!         let token = TokenLayer::header(HeaderName::from_static("x-token"))
//!             .accept("current", Secret::new(token)?);
//!         let policy = WebhookStack::new().token(token).into_tenant_policy()?;
//!         Ok(TenantLookup::policy(policy))
//!     }
//! };
//! let tenants = TenantLayer::new(TenantKey::PathAfter("/hooks".into()), resolver);
//! let route = post(|| async { "ok" }).layer(tenants.clone());
//! let app = Router::new().route("/hooks/{tenant}", route);
//! let deliver = |token: &str| {
//!     let request = Request::post("/hooks/acme").header("x-token", token);
//!     request.body(Body::empty()).unwrap()
//! };
//!
//! let status = |token| app.clone().oneshot(deliver(token));
//! assert_eq!(status("token-one-8f3a2c").await?.status(), StatusCode::OK);
//!
//! table.write().unwrap().insert("acme".into(), "token-two-61d0e7".into());
//! tenants.invalidate("acme").await;
//! assert_eq!(status("token-two-61d0e7").await?.status(), StatusCode::OK);
//! assert_eq!(status("token-one-8f3a2c").await?.status(), StatusCode::UNAUTHORIZED);
//! # Ok(())
//! # }
//! ```
//!
//! # Security status
//!
//! [`TenantSecurity`]: each tenant's security status, from what the layers
//! observe.
//!
//! An [`AuditSink`](crate::audit::AuditSink) that counts, per tenant and since the tenant's last
//! policy change, the deliveries verified with each key id, those that
//! showed the legacy token, and those that failed verification. From these
//! numbers it derives a [`SecurityStatus`], the receiver-side view of a
//! rollout: which senders have migrated, which still sign with the old key,
//! which are broken since the change.
//!
//! | status | since the last policy change |
//! |---|---|
//! | [`Pending`](SecurityStatus::Pending) | nothing verified by a signature: no delivery yet, or only the legacy token |
//! | [`Secure`](SecurityStatus::Secure) | deliveries verified with the current key |
//! | [`Configuring`](SecurityStatus::Configuring) | deliveries verified, but only with another (old) key: the sender has not switched yet |
//! | [`Failed`](SecurityStatus::Failed) | deliveries failed verification ([`failed_after`](TenantSecurity::failed_after) of them, default 1) and none verified |
//!
//! Tell it about each change with [`TenantSecurity::policy_changed`] (the
//! key id the tenant should now sign with, if known); the counts restart
//! there. Without a declared current key, any verifying key counts as
//! current. A resolver that reads the current key id from a database can
//! call [`TenantSecurity::policy_loaded`] on every load instead: the counts
//! restart only when the id differs from the one on record, so every
//! replica notices a rotation when it loads the new policy.
//!
//! Failures are attacker-controlled (anyone can send a bad signature), so
//! they never demote a tenant that verified since the last change; with
//! [`TenantSecurity::failed_after`], a pending tenant is reported failed
//! only after that many. To store the status (a tenants table),
//! [`TenantSecurity::on_change`] hands every change that traffic causes to
//! a write-back hook; `examples/tenants_sqlite.rs` writes it to SQLite.
//!
//! ```
//! use tower_webhook::audit::AuditLayer;
//! use tower_webhook::tenant::{SecurityStatus, TenantSecurity};
//!
//! let security = TenantSecurity::new();
//! security.policy_changed("acme", Some("2025-06"));
//! let audit = AuditLayer::new().sink(security.clone());
//! # let _ = audit;
//! let report = security.report("acme").unwrap();
//! assert_eq!(report.status, SecurityStatus::Pending);
//! assert_eq!(report.failures, 0);
//! ```
//!
//! # Invalidation across replicas
//!
//! A rotated tenant secret reaching every replica at once, through Redis
//! pub/sub (feature `redis`).
//!
//! Each replica's [`TenantLayer`] caches resolved policies (30 s by
//! default). [`TenantLayer::invalidate`] forgets a tenant on one replica;
//! [`TenantLayer::invalidate_everywhere`] also publishes the name on a
//! Redis channel that every replica listening with
//! [`TenantLayer::listen_for_invalidations`] acts on.
//!
//! A replica that loses its subscription (Redis restarted, the network cut)
//! cannot know what it missed: when it subscribes again it forgets every
//! cached tenant, so a rotation published meanwhile still takes effect.
//! Without Redis, or for a publish that failed, a rotation reaches the
//! other replicas when their cache entries expire
//! ([`TenantLayer::cache_for`]).
//!
//! ```no_run
//! # async fn run(tenants: tower_webhook::tenant::TenantLayer) -> Result<(), Box<dyn std::error::Error>> {
//! let url = "redis://127.0.0.1:6379/";
//! // On every replica, once at start:
//! tenants.listen_for_invalidations(url)?;
//! // Where a secret is rotated (an admin endpoint, a job):
//! tenants.invalidate_everywhere(url, "acme").await?;
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "redis")]
mod invalidation;
mod key;
mod layer;
mod policy;
mod status;

pub use key::TenantKey;
pub use layer::{Tenant, TenantLayer};
pub use policy::{ResolveFuture, StaticTenants, TenantLookup, TenantPolicy, TenantResolver};
pub use status::{SecurityStatus, TenantReport, TenantSecurity};
