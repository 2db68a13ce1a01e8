//! Provider presets, and [`by_name`] to find one by its stable name.

use std::fmt;
use std::sync::Arc;

use crate::signature::scheme::Scheme;

mod github;

pub use github::{github, github_sha1_only, github_with_sha1};

#[cfg(feature = "ed25519")]
pub mod discord;
pub mod hubspot;
pub mod mailgun;
#[cfg(feature = "ecdsa")]
pub mod sendgrid;
pub mod square;
#[cfg(feature = "ed25519")]
pub mod standard_ed25519;
pub mod twilio;

/// No preset has this name.
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

/// The preset called `name` (as accepted by `examples/sign.rs`).
pub fn by_name(name: &str) -> Result<Arc<dyn Scheme>, UnknownScheme> {
    let scheme: Arc<dyn Scheme> = match name {
        "github" => Arc::new(github()),
        "github-sha1" => Arc::new(github_sha1_only()),
        _ => return Err(UnknownScheme(name.to_owned())),
    };
    Ok(scheme)
}

/// Every name [`by_name`] knows.
pub const NAMES: &[&str] = &["github", "github-sha1"];
