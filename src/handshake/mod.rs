//! Provider handshakes, answered by a layer.
//!
//! Several providers check an endpoint before they deliver to it: Slack
//! posts a `url_verification` challenge, Twitch a
//! `webhook_callback_verification`, Zoom an `endpoint.url_validation`,
//! Discord a `PING`; Dropbox, Meta, Microsoft Graph and X send a challenge
//! in the query string, Smartsheet and Okta in a header, Trello a `HEAD` request. Each expects an exact answer (status, content type,
//! body). A [`Handshake`] knows one provider's; the checks here answer it
//! so it never reaches the handler (unless
//! [`forward_to_handler`](Handshake::forward_to_handler)), record its name in
//! the context, and the audit layer records it as `webhook.handshake`.
//!
//! | handshake | signed | answer |
//! |---|---|---|
//! | [`Handshake::slack`] | yes | `200`, the `challenge` |
//! | [`Handshake::twitch`] | yes | `200`, the `challenge`; a `revocation`: `204` |
//! | [`Handshake::zoom`] | yes | `200`, JSON `plainToken` + `encryptedToken` |
//! | [`Handshake::discord`] | yes (Ed25519) | `200`, JSON `{"type":1}` |
//! | [`Handshake::dropbox`] | no | `200`, the `challenge` |
//! | [`Handshake::meta`] | verify token | `200`, `hub.challenge`; wrong token: `403` |
//! | [`Handshake::microsoft_graph`] | no | `200`, the `validationToken` |
//! | [`Handshake::smartsheet`] | not documented | `200`, JSON `smartsheetHookResponse` |
//! | [`Handshake::x_crc`] | no (keyed answer) | `200`, JSON `response_token` |
//! | [`Handshake::trello`] | no | `200` to a `HEAD`, no body |
//! | [`Handshake::okta`] | no | `200`, JSON `verification` |
//! | [`Handshake::asana`] | no (the application accepts the key) | `200`, `X-Hook-Secret` echoed |
//!
//! Every value echoed back goes out the same way: as the whole body,
//! `Content-Type: text/plain; charset=utf-8`, or as one string field of a
//! JSON object the serializer escapes (Zoom's `plainToken`, Okta's
//! `verification`, Smartsheet's `smartsheetHookResponse`), at most 4,096 bytes (longer: `413`,
//! not echoed), never in a header but Asana's `X-Hook-Secret` (an inert
//! token only: see [`Handshake::asana`]); every answer, JSON ones included, carries
//! `X-Content-Type-Options: nosniff`, so a browser lured to the endpoint
//! never runs a challenge as HTML.
//!
//! What a signed handshake is comes from the signed body, never from an
//! unsigned header: Slack's `type`, Zoom's `event`, Discord's `type`, and
//! for Twitch the body's own fields, with a `Twitch-Eventsub-Message-Type`
//! header that names another kind refused (`401`,
//! `unsigned_header_mismatch`).
//!
//! A signed handshake is answered only after the signature verified (and,
//! in a stack, after the replay window): the answer proves that the
//! receiver holds the secret, and an unsigned request must not be able to
//! obtain it. The unsigned ones are answered from the request head, after
//! the IP filter and before any credential is asked for.
//!
//! ```
//! use axum::{routing::post, Router};
//! use tower_webhook::handshake::Handshake;
//! use tower_webhook::signature::SignatureLayer;
//! use tower_webhook::{Secret, WebhookStack};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let slack = WebhookStack::new()
//!     .signature(SignatureLayer::slack(Secret::new("8f742231b10e8888abcd99yyyzzz85a5")?))
//!     .handshake(Handshake::slack())
//!     .build()?;
//! let app: Router = Router::new().route("/slack", post(|| async { "ok" }).layer(slack));
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! On its own, [`HandshakeLayer`] goes inside the signature layer:
//!
//! ```
//! use tower::ServiceBuilder;
//! use tower_webhook::handshake::{Handshake, HandshakeLayer};
//! use tower_webhook::signature::SignatureLayer;
//! use tower_webhook::Secret;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let layers = ServiceBuilder::new()
//!     .layer(SignatureLayer::slack(Secret::new("8f742231b10e8888abcd99yyyzzz85a5")?))
//!     .layer(HandshakeLayer::new(Handshake::slack()));
//! # let _ = layers;
//! # Ok(())
//! # }
//! ```

mod layer;
mod provider;

pub use layer::{AnswerHandshakes, HandshakeLayer};
pub(crate) use layer::{SignedHandshakes, UnsignedHandshakes};
pub use provider::Handshake;
