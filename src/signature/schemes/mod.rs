//! Provider presets, and [`by_name`] to find one by its stable name.
//!
//! Each preset is a function returning its scheme, configured from the
//! provider's documentation (see each module for the exact wire format).
//! All but Mailgun's (which signs fields inside the body) are
//! [`DeclaredScheme`](crate::signature::DeclaredScheme) configurations, so
//! they can be adjusted (renamed headers, a white-label deployment, a
//! public URL) with the builder methods.
//!
//! # Adding a provider
//!
//! A provider is one file: its scheme, declared, and the
//! [`Profile`] its bundle is built from (what the
//! signature covers, the headers it leaves unsigned, the payload cap and
//! where it comes from, the delivery id, the handshake). Stripe's, whole:
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
//!
//! pub const PROFILE: Profile = Profile {
//!     name: "stripe",
//!     scheme: || Arc::new(stripe()),
//!     signed: "the t= timestamp and the raw body",
//!     unsigned_headers: &[],
//!     body_limit: DEFAULT_BODY_LIMIT,
//!     body_limit_source: UNDOCUMENTED,
//!     delivery_id: "the event id, /id in the signed body",
//!     handshake: None,
//! };
//! ```
//!
//! Listed in [`PROFILES`], it is then a preset by name ([`by_name`], the
//! `tower-webhook` command) and a bundle by name
//! ([`WebhookStack::provider`](crate::WebhookStack::provider)). Its
//! official vectors go in `tests/vectors/official.json`.

use std::fmt;
use std::sync::Arc;

use crate::signature::scheme::Scheme;
use crate::stack::Profile;

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

/// No preset has this name (or it is not available with the enabled
/// features, or it is forgeable and selected only by its `insecure-` name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownScheme(pub String);

impl fmt::Display for UnknownScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(insecure) = insecure_name(&self.0) {
            return write!(
                f,
                "signature scheme `{}` is forgeable (a plain SHA-256 of secret and message, \
                 open to length extension): move to its successor, or select it as \
                 `{insecure}` to accept it anyway",
                self.0
            );
        }
        write!(
            f,
            "unknown or not yet supported signature scheme `{}`",
            self.0
        )
    }
}

/// The names by which the length-extendable schemes are selected, for
/// their plain names: only a name saying `insecure` selects them.
const LENGTH_EXTENDABLE: &[(&str, &str)] = &[
    ("hubspot-v1", "insecure-hubspot-v1"),
    ("hubspot-v2", "insecure-hubspot-v2"),
];

fn insecure_name(name: &str) -> Option<&'static str> {
    LENGTH_EXTENDABLE
        .iter()
        .find(|(plain, _)| *plain == name)
        .map(|(_, insecure)| *insecure)
}

impl std::error::Error for UnknownScheme {}

/// The preset called `name`, as accepted by the `tower-webhook` command
/// and [`WebhookPolicy`](crate::policy::WebhookPolicy).
///
/// HubSpot's legacy v1/v2 signatures are forgeable (length extension, see
/// [`hubspot`]): they are selected only as `insecure-hubspot-v1` and
/// `insecure-hubspot-v2`, and their plain names are refused with an error
/// saying so.
///
/// ```
/// use tower_webhook::signature::schemes;
///
/// assert_eq!(schemes::by_name("stripe").unwrap().name(), "stripe");
/// assert!(schemes::by_name("nope").is_err());
/// assert!(schemes::by_name("hubspot-v1").is_err());
/// assert!(schemes::by_name("insecure-hubspot-v1").is_ok());
/// ```
pub fn by_name(name: &str) -> Result<Arc<dyn Scheme>, UnknownScheme> {
    if let Some(profile) = PROFILES.iter().find(|profile| profile.name == name) {
        return Ok((profile.scheme)());
    }
    // The variants no bundle is built on.
    let scheme: Arc<dyn Scheme> = match name {
        "github-sha1" => Arc::new(github_sha1_only()),
        "timestamped" => Arc::new(timestamped()),
        "body-hmac-base64" => Arc::new(body_hmac_base64(DEFAULT_HEADER)),
        "body-hmac-hex" => Arc::new(body_hmac_hex(DEFAULT_HEADER)),
        "insecure-hubspot-v1" => Arc::new(hubspot::hubspot_v1()),
        "insecure-hubspot-v2" => Arc::new(hubspot::hubspot_v2()),
        _ => return Err(UnknownScheme(name.to_owned())),
    };
    Ok(scheme)
}

/// Every provider a bundle exists for, each declared in its own file (its
/// scheme and [`Profile`]): adding a provider is that file and one line
/// here.
pub const PROFILES: &[Profile] = &[
    github::PROFILE,
    gitlab::PROFILE,
    bitbucket::PROFILE,
    jira::PROFILE,
    stripe::PROFILE,
    slack::PROFILE,
    standard::PROFILE,
    #[cfg(feature = "ed25519")]
    standard_ed25519::PROFILE,
    svix::PROFILE,
    shopify::PROFILE,
    zoom::PROFILE,
    paddle::PROFILE,
    linear::PROFILE,
    twitch::PROFILE,
    intercom::PROFILE,
    typeform::PROFILE,
    dropbox::PROFILE,
    meta::PROFILE,
    twilio::PROFILE,
    square::PROFILE,
    hubspot::PROFILE,
    mailgun::PROFILE,
    #[cfg(feature = "ed25519")]
    discord::PROFILE,
    #[cfg(feature = "ecdsa")]
    sendgrid::PROFILE,
];

/// The presets keyed by one shared secret that sign with headers alone:
/// what the `tower-webhook` command and the round-trip tests cover. [`by_name`]
/// also knows `insecure-hubspot-v1`, `insecure-hubspot-v2` (forgeable),
/// `mailgun` (signature in the
/// body) and, behind their features, the asymmetric `discord`,
/// `standard-ed25519` (`ed25519`) and `sendgrid` (`ecdsa`).
pub const NAMES: &[&str] = &[
    "github",
    "github-sha1",
    "bitbucket",
    "jira",
    "stripe",
    "slack",
    "standard",
    "gitlab",
    "svix",
    "shopify",
    "paddle",
    "twilio",
    "square",
    "linear",
    "meta",
    "zoom",
    "twitch",
    "intercom",
    "typeform",
    "dropbox",
    "hubspot-v3",
    "timestamped",
    "body-hmac-base64",
    "body-hmac-hex",
];
