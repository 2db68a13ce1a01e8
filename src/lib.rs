//! Composable [`tower`] layers that make a webhook endpoint safe.
//!
//! Each protection is its own layer; stack the ones a sender calls for:
//!
//! | layer | refuses with | checks |
//! |---|---|---|
//! | [`ip::IpFilterLayer`] | 403 | client address against an allowlist, proxies handled |
//! | [`token::TokenLayer`] | 401 | static header token, Bearer, Basic, URL token |
//! | [`signature::SignatureLayer`] | 401 | HMAC / Ed25519 / ECDSA signature, provider presets |
//! | [`replay::ReplayLayer`] | 401 | timestamp inside a window |
//! | [`idempotency::IdempotencyLayer`] | 200 ack / 409 / 503 | each delivery handled once |
//! | [`audit::AuditLayer`] | never | one record per request, accepted or rejected |
//! | [`tenant::TenantLayer`] | per policy | each tenant's own secrets and rules |
//! | [`handshake::HandshakeLayer`] | answers | provider handshakes (Slack, Twitch, Zoom, Discord, Dropbox, Meta, Graph) |
//! | [`inbox::InboxLayer`] | 202 once durable / 503 | in place of the handler: the delivery is kept, [`inbox::Worker`]s run the handler later |
//!
//! [`WebhookStack::github`], [`WebhookStack::stripe`], [`WebhookStack::slack`],
//! ... configure all of them for one provider in one call, from its
//! [`provider::Provider`] value; [`client::SigningLayer`] is the sending side.
//!
//! They share four pieces of machinery:
//!
//! * the body is read once ([`body::buffer`]), under a limit, and every layer
//!   reuses the bytes;
//! * one [`WebhookContext`] per request records what each layer decided, so
//!   handlers and the audit layer can read it;
//! * every check passes, answers in the handler's place ([`Answer`]: a
//!   handshake's reply, a duplicate's acknowledgement) or refuses, and
//!   checks of your own ([`WebhookStack::check`], [`guard::CheckLayer`])
//!   are first-class;
//! * one [`Rejection`] model: a stable [`Reason`] and a status, with
//!   responses that say no more than the status line.
//!
//! Recommended order, outermost first: audit, IP filter, replay (header
//! timestamp), token / signature, replay (body timestamp), idempotency,
//! handler. [`WebhookStack`] composes any subset in that order and refuses
//! combinations that would let something through:
//!
//! ```
//! use std::time::Duration;
//! use axum::{routing::post, Router};
//! use tower_webhook::idempotency::IdempotencyLayer;
//! use tower_webhook::ip::IpFilterLayer;
//! use tower_webhook::replay::ReplayLayer;
//! use tower_webhook::signature::SignatureLayer;
//! use tower_webhook::{Secret, WebhookStack};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = Secret::from_whsec("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! let stack = WebhookStack::new()
//!     .ip_filter(IpFilterLayer::new().allow("10.0.0.0/8, 2001:db8::/32")?)
//!     .signature(SignatureLayer::standard_webhooks(secret))
//!     .replay(ReplayLayer::signed_timestamp().window(Duration::from_secs(300)))
//!     .idempotency(IdempotencyLayer::new())
//!     .build()?;
//! let app: Router = Router::new().route("/hooks", post(|| async { "ok" }).layer(stack));
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! # gRPC and streaming RPCs
//!
//! The layers work in front of a tonic server (`Server::builder().layer(...)`;
//! `examples/tonic_receiver.rs`), and refuse gRPC calls with a gRPC status
//! (`UNAUTHENTICATED`, `PERMISSION_DENIED`, ...). Which layers suit which
//! RPCs follows from what they read:
//!
//! * the IP filter and the token layer read only the request head: any RPC,
//!   streaming ones included;
//! * the signature layer, a replay layer reading a body field,
//!   [`guard::BufferBodyLayer`], the idempotency layer keyed on the body, and a
//!   [`WebhookStack`] holding any of them buffer the *whole* request stream,
//!   under the body limit, before the service sees a message: unary and
//!   server-streaming calls only; a client-streaming or bidirectional call
//!   would stall until the client closes its stream.
//!
//! # Features
//!
//! Each layer is a Cargo feature of its name (`signature`, `token`, `ip`,
//! `replay`, `idempotency`, `audit`, `handshake`, `inbox`), on top of them
//! `provider` (the registry), `stack` (the composer, bundles and tenants)
//! and `policy`; `json` adds the parts that read a JSON body. The default
//! features are all of them and `axum`. One layer alone builds with
//! `default-features = false`: `features = ["signature"]` compiles the
//! signature layer and [`client::SigningLayer`] without tokio, moka or
//! serde.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// The kernel's crate-private helpers (and the crate-private re-exports)
// serve several layers, so a build with only some layers leaves some of
// them unused; the build with every layer (the default features) is the
// one that checks for dead code and unused imports.
#![cfg_attr(
    not(all(feature = "stack", feature = "inbox")),
    allow(dead_code, unused_imports)
)]

pub mod body;
mod chain;
#[cfg(feature = "signature")]
#[cfg_attr(docsrs, doc(cfg(feature = "signature")))]
pub mod client;
pub mod context;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod extract;
pub mod guard;
mod invalid_setting;
#[cfg(any(feature = "idempotency", feature = "inbox"))]
mod lease_watch;
mod path;
#[cfg(feature = "policy")]
#[cfg_attr(docsrs, doc(cfg(feature = "policy")))]
pub mod policy;
#[cfg(feature = "provider")]
#[cfg_attr(docsrs, doc(cfg(feature = "provider")))]
pub mod provider;
pub mod rejection;
mod response_body;
#[cfg(feature = "sealed")]
#[cfg_attr(docsrs, doc(cfg(feature = "sealed")))]
pub mod seal;
pub mod secret;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod test_util;

#[cfg(feature = "audit")]
#[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
pub mod audit;
#[cfg(feature = "handshake")]
#[cfg_attr(docsrs, doc(cfg(feature = "handshake")))]
pub mod handshake;
#[cfg(feature = "idempotency")]
#[cfg_attr(docsrs, doc(cfg(feature = "idempotency")))]
pub mod idempotency;
#[cfg(feature = "inbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "inbox")))]
pub mod inbox;
#[cfg(feature = "ip")]
#[cfg_attr(docsrs, doc(cfg(feature = "ip")))]
pub mod ip;
#[cfg(feature = "replay")]
#[cfg_attr(docsrs, doc(cfg(feature = "replay")))]
pub mod replay;
#[cfg(feature = "signature")]
#[cfg_attr(docsrs, doc(cfg(feature = "signature")))]
pub mod signature;
#[cfg(feature = "stack")]
#[cfg_attr(docsrs, doc(cfg(feature = "stack")))]
pub mod stack;
#[cfg(feature = "metrics")]
mod telemetry;
#[cfg(feature = "stack")]
#[cfg_attr(docsrs, doc(cfg(feature = "stack")))]
pub mod tenant;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tiers;
#[cfg(any(feature = "signature", feature = "replay"))]
mod timestamp;
#[cfg(feature = "token")]
#[cfg_attr(docsrs, doc(cfg(feature = "token")))]
pub mod token;

pub use context::{
    AuthMethod, Authentication, SignedDelivery, Timestamp, Verification, WebhookContext,
};
pub(crate) use invalid_setting::header_name;
pub use invalid_setting::InvalidSetting;
pub use rejection::{Answer, Reason, Rejection, Stop};
pub use secret::Secret;
#[cfg(feature = "stack")]
#[cfg_attr(docsrs, doc(cfg(feature = "stack")))]
pub use stack::{StackError, WebhookLayer, WebhookStack};
#[cfg(any(feature = "signature", feature = "replay"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "signature", feature = "replay"))))]
pub use timestamp::TimestampFormat;

// Every Rust snippet of the README compiles and runs as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
