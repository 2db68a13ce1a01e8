//! Provider presets, and [`by_name`] to find one by its stable name.
//!
//! Each preset is a function returning its scheme, configured from the
//! provider's documentation (see each module for the exact wire format).
//! The HMAC presets are [`DeclaredScheme`](crate::signature::DeclaredScheme)
//! configurations, so they can be adjusted (renamed headers, a white-label
//! deployment) with the builder methods.

use std::fmt;
use std::sync::Arc;

use crate::signature::scheme::Scheme;

mod bitbucket;
mod dropbox;
mod generic;
mod github;
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
pub use github::{github, github_sha1_only, github_with_sha1};
pub use intercom::intercom;
pub use jira::jira;
pub use linear::linear;
pub use meta::meta;
pub use paddle::paddle;
pub use shopify::shopify;
pub use slack::slack;
pub use standard::{gitlab, standard_webhooks};
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

/// No preset has this name (or it is not available with the enabled features).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownScheme(pub String);

impl fmt::Display for UnknownScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown or not yet supported signature scheme `{}`",
            self.0
        )
    }
}

impl std::error::Error for UnknownScheme {}

/// The preset called `name`, as accepted by the `tower-webhook` command.
///
/// ```
/// use tower_webhook::signature::schemes;
///
/// assert_eq!(schemes::by_name("stripe").unwrap().name(), "stripe");
/// assert!(schemes::by_name("nope").is_err());
/// ```
pub fn by_name(name: &str) -> Result<Arc<dyn Scheme>, UnknownScheme> {
    let scheme: Arc<dyn Scheme> = match name {
        "github" => Arc::new(github()),
        "github-sha1" => Arc::new(github_sha1_only()),
        "bitbucket" => Arc::new(bitbucket()),
        "jira" => Arc::new(jira()),
        "stripe" => Arc::new(stripe()),
        "slack" => Arc::new(slack()),
        "standard" => Arc::new(standard_webhooks()),
        "gitlab" => Arc::new(gitlab()),
        "svix" => Arc::new(svix()),
        "shopify" => Arc::new(shopify()),
        "zoom" => Arc::new(zoom()),
        "paddle" => Arc::new(paddle()),
        "linear" => Arc::new(linear()),
        "meta" => Arc::new(meta()),
        "twitch" => Arc::new(twitch()),
        "intercom" => Arc::new(intercom()),
        "typeform" => Arc::new(typeform()),
        "dropbox" => Arc::new(dropbox()),
        "timestamped" => Arc::new(timestamped()),
        "body-hmac-base64" => Arc::new(body_hmac_base64(DEFAULT_HEADER)),
        "body-hmac-hex" => Arc::new(body_hmac_hex(DEFAULT_HEADER)),
        "twilio" => Arc::new(twilio::twilio()),
        "square" => Arc::new(square::square()),
        "hubspot-v3" => Arc::new(hubspot::hubspot_v3()),
        "hubspot-v1" => Arc::new(hubspot::hubspot_v1()),
        "hubspot-v2" => Arc::new(hubspot::hubspot_v2()),
        "mailgun" => Arc::new(mailgun::mailgun()),
        #[cfg(feature = "ed25519")]
        "discord" => Arc::new(discord::discord()),
        #[cfg(feature = "ed25519")]
        "standard-ed25519" => Arc::new(standard_ed25519::standard_ed25519()),
        #[cfg(feature = "ecdsa")]
        "sendgrid" => Arc::new(sendgrid::sendgrid()),
        _ => return Err(UnknownScheme(name.to_owned())),
    };
    Ok(scheme)
}

/// The presets keyed by one shared secret that sign with headers alone:
/// what the `tower-webhook` command and the round-trip tests cover. [`by_name`]
/// also knows `hubspot-v1`, `hubspot-v2`, `mailgun` (signature in the
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
