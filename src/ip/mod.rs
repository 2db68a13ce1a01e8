//! Refuse webhooks from sources that are not on an allowlist.
//!
//! [`IpFilterLayer`] answers `403 Forbidden` to a client whose address is not
//! on its allowlist — before any other layer runs and before a byte of
//! the body is read, so an unlisted source learns nothing about tokens or
//! signatures. The allowlist takes IPv4 and IPv6 networks and single
//! addresses; a blank list lets any source through. Either way the resolved
//! address is recorded in the request's [`WebhookContext`](crate::WebhookContext)
//! for handlers and the audit layer.
//!
//! The client address is the TCP peer (axum's `ConnectInfo`, a plain
//! `SocketAddr` extension, tonic's `TcpConnectInfo`), or — only when the peer
//! is a trusted proxy — the client named by `X-Forwarded-For` or `Forwarded`.
//! [`ClientIp`] holds those rules and is reusable on its own. When the
//! address cannot be determined the request is refused with
//! [`Reason::ClientIpUnknown`](crate::Reason::ClientIpUnknown); otherwise an
//! unlisted one with [`Reason::IpNotAllowed`](crate::Reason::IpNotAllowed).
//!
//! ```
//! use std::net::SocketAddr;
//! use axum::{extract::ConnectInfo, routing::post, Router};
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
//! use tower_webhook::ip::IpFilterLayer;
//! use tower_webhook::Verification;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let app = Router::new()
//!     .route(
//!         "/webhook",
//!         post(|verification: Verification| async move {
//!             format!("hello {}", verification.client_ip.unwrap())
//!         }),
//!     )
//!     .layer(
//!         IpFilterLayer::new()
//!             .allow("192.0.2.0/24, 2001:db8:abcd::/48")?
//!             // Behind a load balancer on 10.0.0.0/8 that appends X-Forwarded-For.
//!             .trust_proxies("10.0.0.0/8")?
//!             .client_ip_from_x_forwarded_for(),
//!     );
//! // Serve with `app.into_make_service_with_connect_info::<SocketAddr>()`;
//! // here the connect info is inserted by hand.
//! let from = |peer: [u8; 4], forwarded_for: &str| {
//!     let mut request = Request::post("/webhook")
//!         .header("x-forwarded-for", forwarded_for)
//!         .body(axum::body::Body::empty())
//!         .unwrap();
//!     request.extensions_mut().insert(ConnectInfo(SocketAddr::from((peer, 443))));
//!     request
//! };
//!
//! // Through the balancer, from a listed sender.
//! let response = app.clone().oneshot(from([10, 0, 0, 7], "192.0.2.44")).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//!
//! // Straight from an unlisted address, claiming to be a listed one.
//! let response = app.oneshot(from([198, 51, 100, 1], "192.0.2.44")).await?;
//! assert_eq!(response.status(), StatusCode::FORBIDDEN);
//! # Ok(())
//! # }
//! ```
//!
//! # Behind proxies
//!
//! Headers naming the client are believed only from
//! [trusted proxies](IpFilterLayer::trust_proxies), walked from the right
//! past trusted hops (or a fixed number of hops, see
//! [`IpFilterLayer::forwarded_hops`]). Several `X-Forwarded-For` lines are
//! read as one list, in order. `unknown`, obfuscated identifiers (`_hidden`),
//! garbage and IPv6 addresses with a zone id (`fe80::1%eth0`) in the part of
//! the header the walk reaches make the client unknown: a zone id is only
//! meaningful on the proxy that wrote it, so it is refused rather than
//! stripped. Work is bounded however long the header is (at most
//! 32 hops are walked, and nothing is allocated in
//! proportion to the header).
//!
//! IPv4-mapped IPv6 addresses (`::ffff:10.1.2.3`, what a dual-stack socket
//! reports for an IPv4 peer) are treated as the IPv4 address everywhere.

mod allowlist;
mod client;
mod forwarded;
mod layer;
#[cfg(test)]
mod tests;

pub(crate) use allowlist::Allowlist;
pub use allowlist::ParseAllowlistError;
pub use client::ClientIp;
#[cfg(feature = "stack")]
pub(crate) use client::ResolvedClientIp;
pub use layer::{IpFilter, IpFilterLayer};
