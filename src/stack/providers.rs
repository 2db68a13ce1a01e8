//! What each provider's signature covers, its payload cap, its handshake
//! and the headers it sends unsigned: the data behind the provider bundles
//! ([`WebhookStack::github`](super::WebhookStack::github), ...).
//!
//! Each provider declares its [`Profile`] next to its scheme, in its own
//! file under [`signature::schemes`](crate::signature::schemes); the list of
//! them is [`PROFILES`].

use std::sync::Arc;

use crate::handshake::Handshake;
use crate::secret::SecretError;
use crate::signature::Scheme;

/// Makes a provider's handshake from its key as shown.
pub type MakeHandshake = fn(&str) -> Result<Handshake, SecretError>;

/// One provider, as its bundle configures it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Profile {
    /// The preset's name ([`schemes::by_name`](crate::signature::schemes::by_name)).
    pub name: &'static str,
    /// The provider's signature scheme.
    pub scheme: fn() -> Arc<dyn Scheme>,
    /// What the signature covers, in words.
    pub signed: &'static str,
    /// Headers the provider sends that the signature does **not** cover:
    /// anyone who replays a captured delivery can change them. The bundle
    /// hands them to the handler as [`UnauthenticatedHeaders`](super::UnauthenticatedHeaders).
    pub unsigned_headers: &'static [&'static str],
    /// The body limit the bundle applies.
    pub body_limit: usize,
    /// Where [`body_limit`](Self::body_limit) comes from.
    pub body_limit_source: &'static str,
    /// The provider's delivery id the bundle deduplicates on, in words.
    pub delivery_id: &'static str,
    /// The handshake the bundle answers, made from the key as the provider
    /// shows it (Zoom's answer is keyed with the same secret token). `None`
    /// where the provider has none, or needs more than the key (Meta's
    /// verify token: [`WebhookStack::meta`](super::WebhookStack::meta)).
    pub handshake: Option<MakeHandshake>,
}

pub(crate) const MIB: usize = 1024 * 1024;
pub(crate) const UNDOCUMENTED: &str = "no maximum documented: the crate's default, 1 MiB";

pub use crate::signature::schemes::PROFILES;

/// The profile of the preset `name`, if a bundle exists for it.
pub fn profile(name: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|profile| profile.name == name)
}
