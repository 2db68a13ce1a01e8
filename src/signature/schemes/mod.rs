//! The providers' signature schemes, each declared from the provider's
//! documentation (see each module for the exact wire format).
//!
//! All but Mailgun's (which signs fields inside the body) are
//! [`DeclaredScheme`](crate::signature::DeclaredScheme) configurations, so
//! they can be adjusted (renamed headers, a white-label deployment, a
//! public URL) with the builder methods. Stripe's, whole:
//!
//! ```ignore
//! pub fn stripe() -> DeclaredScheme {
//!     DeclaredScheme::new("stripe")
//!         .signature(
//!             SignatureHeader::new(HeaderName::from_static("stripe-signature")).fields(',', "v1"),
//!         )
//!         .timestamp_field("t", TimestampFormat::Seconds)
//!         .message([Part::Timestamp, Part::literal("."), Part::Body])
//!         .tolerance(Tolerance::past_only(Duration::from_secs(300)))
//!         .delivery_id_field("/id")
//!         .verbatim_whsec()
//! }
//! ```
//!
//! Everything else about a provider (its payload cap, retry horizon,
//! unsigned headers, handshake) is its [`Provider`](crate::provider::Provider)
//! value; [`provider::scheme_by_name`](crate::provider::scheme_by_name)
//! finds a scheme by its stable name.

mod bitbucket;
mod dropbox;
mod generic;
mod github;
mod gitlab;
mod intercom;
mod jira;
mod linear;
mod meta;
mod paddle;
mod shopify;
mod slack;
pub(crate) mod standard;
mod stripe;
mod svix;
mod twitch;
mod typeform;
mod zoom;

pub use bitbucket::bitbucket;
pub use dropbox::dropbox;
pub use generic::{body_hmac_base64, body_hmac_hex, timestamped, DEFAULT_HEADER};
pub use github::{github, github_sha1_only, github_with_sha1, GITHUB_HOOK_RANGES};
pub use gitlab::gitlab;
pub use intercom::intercom;
pub use jira::jira;
pub use linear::linear;
pub use meta::meta;
pub use paddle::paddle;
pub use shopify::shopify;
pub use slack::slack;
pub use standard::standard_webhooks;
pub use stripe::stripe;
pub use svix::svix;
pub use twitch::twitch;
pub use typeform::typeform;
pub use zoom::zoom;

#[cfg(feature = "ed25519")]
pub mod discord;
pub mod hubspot;
pub mod mailgun;
pub mod public_url;
#[cfg(feature = "ecdsa")]
pub mod sendgrid;
pub mod square;
#[cfg(feature = "ed25519")]
pub mod standard_ed25519;
pub mod twilio;
