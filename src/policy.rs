//! A webhook policy as data: build a [`WebhookStack`] from a row of your
//! database or a configuration file.
//!
//! [`WebhookPolicy`] holds the settings a sender's endpoint needs — the
//! provider and its signing secret, the IP allowlist and the proxies in
//! front of the receiver, a legacy token — and deserialises from any serde
//! format. It is the data form of [`WebhookStack`]: `"provider": "stripe"`
//! gives exactly the Stripe bundle
//! ([`WebhookStack::from_provider`]: its replay window, its body cap,
//! idempotency on its signed delivery id for at least its retry horizon,
//! its handshake). Fields may tighten that (a shorter window, an
//! allowlist); loosening it takes a field whose name starts with
//! `insecure_`. [`WebhookPolicy::build`] checks it and composes the layer;
//! combinations that would let a forgery through are refused with a
//! [`PolicyError`] that names the field to fix.
//!
//! In JSON:
//!
//! ```
//! use axum::{routing::post, Router};
//! use tower_webhook::policy::WebhookPolicy;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let policy: WebhookPolicy = serde_json::from_str(r#"{
//!     "provider": "standard",
//!     "require_signature": true,
//!     "signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
//!     "timestamp_window_seconds": 300,
//!     "ip_allowlist": ["10.0.0.0/8", "2001:db8::/32"]
//! }"#)?;
//! let app: Router = Router::new().route("/hooks", post(|| async { "ok" }).layer(policy.build()?));
//! # let _ = app;
//!
//! // A secret that would never be checked is refused, not ignored.
//! let unsafe_policy: WebhookPolicy = serde_json::from_str(r#"{
//!     "scheme": "github",
//!     "require_signature": false,
//!     "signing_secret": "It's a Secret to Everybody"
//! }"#)?;
//! let error = unsafe_policy.build().unwrap_err();
//! assert!(error.to_string().contains("require_signature"), "{error}");
//! # Ok(())
//! # }
//! ```
//!
//! The same in TOML (any serde format works; the `toml` crate is yours to
//! add):
//!
//! ```toml
//! provider = "stripe"
//! require_signature = true
//! signing_secret = "whsec_from_the_dashboard"
//! # behind nginx: the client address is read from X-Forwarded-For
//! # only when the peer is one of these
//! trusted_proxies = ["10.0.0.0/8"]
//! ```
//!
//! To add what data cannot hold (a Redis idempotency store, an audit sink),
//! take the unbuilt stack with [`WebhookPolicy::stack`] (or
//! `WebhookStack::try_from(policy)`) and finish it in code. Secrets are
//! serialised as given, so a policy written back to a store keeps them:
//! protect that store as you protect the secrets.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::idempotency::IdempotencyLayer;
use crate::invalid_setting::{header_name, InvalidSetting};
use crate::ip::ClientIp;
use crate::ip::{IpFilterLayer, ParseAllowlistError};
use crate::provider::{self, UnknownProvider};
use crate::secret::{Secret, SecretError};
use crate::signature::SignatureConfigError;
use crate::stack::{StackError, WebhookLayer, WebhookStack};
use crate::tenant::TenantPolicy;
use crate::token::{TokenLayer, TokenSet};

/// The header a legacy token is read from unless the policy names another.
pub(crate) const DEFAULT_LEGACY_TOKEN_HEADER: &str = "x-webhook-token";

/// The key id recorded for the policy's signing secret.
pub(crate) const SIGNING_KEY_ID: &str = "signing_secret";

/// The key id recorded for the policy's legacy token.
pub(crate) const LEGACY_TOKEN_ID: &str = "legacy_token";

/// One endpoint's settings, as data. Every field is optional in the
/// serialised form; unknown fields are refused (a typo must not silently
/// drop a protection).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct WebhookPolicy {
    /// The provider (`github`, `stripe`, `standard`, ...; see
    /// [`provider::ALL`]): its whole bundle, as
    /// [`WebhookStack::provider`] builds it. `scheme` is accepted as
    /// another name for this field.
    #[serde(skip_serializing_if = "Option::is_none", alias = "scheme")]
    pub provider: Option<String>,
    /// Refuse deliveries without a valid signature. Needs `scheme` and
    /// `signing_secret`.
    pub require_signature: bool,
    /// The signing secret as the provider shows it (`whsec_…` for Standard
    /// Webhooks, verbatim for GitHub and Stripe). Redacted in `Debug`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "secret_text",
        deserialize_with = "secret_from_text"
    )]
    pub signing_secret: Option<Secret>,
    /// Refuse signed timestamps further than this from now: tightens the
    /// provider's window (a wider one is refused). Needs a signature whose
    /// scheme signs a timestamp (Stripe, Slack, Standard Webhooks, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_window_seconds: Option<u64>,
    /// Addresses and CIDR networks allowed to call; empty: any. A list, or
    /// one comma-separated string.
    #[serde(deserialize_with = "string_or_list")]
    pub ip_allowlist: Vec<String>,
    /// The proxies in front of the receiver (addresses and networks; a
    /// list or one comma-separated string): from them, and only from them,
    /// the client address is read from `X-Forwarded-For`. Used by the
    /// allowlist and the audit trail.
    #[serde(
        deserialize_with = "string_or_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub trusted_proxies: Vec<String>,
    /// A static token accepted from senders not yet signing (with
    /// `require_signature`: recorded as `token (legacy)` while they
    /// migrate), or the only credential (without it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_token: Option<LegacyToken>,
    /// Read at most this many body bytes (413 beyond, and the audit detail
    /// names this setting). Default: the provider's maximum payload, else
    /// 1 MiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_limit: Option<usize>,
    /// Accept a policy that authenticates nobody (no signature, token or
    /// allowlist). Off: such a policy is refused.
    pub insecure_no_authentication: bool,
    /// Handle every delivery, duplicates included (the provider's bundle
    /// deduplicates). For handlers idempotent on their own.
    pub insecure_no_idempotency: bool,
}

/// A static token and the header it comes in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LegacyToken {
    /// The header (any case). Default: `X-Webhook-Token`.
    #[serde(default = "default_legacy_header")]
    pub header: String,
    /// The token. Redacted in `Debug`.
    #[serde(serialize_with = "token_text", deserialize_with = "token_from_text")]
    pub token: Secret,
}

impl LegacyToken {
    /// `token` in header `header`.
    pub fn new(header: impl Into<String>, token: Secret) -> Self {
        Self {
            header: header.into(),
            token,
        }
    }
}

fn default_legacy_header() -> String {
    DEFAULT_LEGACY_TOKEN_HEADER.to_owned()
}

impl WebhookPolicy {
    /// An empty policy (which authenticates nobody, so does not build until
    /// given a signature, token or allowlist).
    pub fn new() -> Self {
        Self::default()
    }

    /// The stack this policy describes, checked, not yet built: add an
    /// idempotency store or an audit layer in code, then
    /// [`build`](WebhookStack::build).
    pub fn stack(&self) -> Result<WebhookStack, PolicyError> {
        let legacy = match &self.legacy_token {
            Some(legacy) => Some((
                header_name("legacy token", &legacy.header).map_err(PolicyError::Setting)?,
                TokenSet::new().with(LEGACY_TOKEN_ID, legacy.token.clone()),
            )),
            None => None,
        };
        let mut stack = match (self.require_signature, &self.signing_secret, legacy) {
            (true, None, _) => return Err(PolicyError::MissingSigningSecret),
            (false, Some(_), _) => return Err(PolicyError::SecretNotRequired),
            (true, Some(secret), legacy) => {
                let stack = self.bundle(secret)?;
                match legacy {
                    // A sender still on its legacy token sends no signed
                    // id: its deliveries are handled as before, unkeyed.
                    Some((header, tokens)) => stack
                        .map_signature(|layer| layer.accept_legacy_token(header, tokens))
                        .map_idempotency(IdempotencyLayer::allow_missing_key),
                    None => stack,
                }
            }
            (false, None, Some((header, tokens))) => {
                let layer = TokenLayer::try_header(header.as_str())
                    .map_err(PolicyError::Setting)?
                    .with_tokens(tokens);
                WebhookStack::new().token(layer)
            }
            (false, None, None) => WebhookStack::new(),
        };
        let client_ip = if self.trusted_proxies.is_empty() {
            None
        } else {
            let client_ip = ClientIp::new()
                .trust_proxies(&self.trusted_proxies.join(","))
                .map_err(PolicyError::TrustedProxies)?
                .use_x_forwarded_for();
            Some(client_ip)
        };
        if !self.ip_allowlist.is_empty() {
            let mut layer = IpFilterLayer::new()
                .allow(&self.ip_allowlist.join(","))
                .map_err(PolicyError::IpAllowlist)?;
            if let Some(client_ip) = &client_ip {
                layer = layer.client_ip(client_ip.clone());
            }
            stack = stack.ip_filter(layer);
        }
        if let Some(client_ip) = client_ip {
            stack = stack.client_ip(client_ip);
        }
        if let Some(seconds) = self.timestamp_window_seconds {
            if seconds == 0 {
                return Err(PolicyError::ZeroWindow);
            }
            if !self.require_signature {
                return Err(PolicyError::WindowWithoutSignature);
            }
            stack = stack
                .tighten_signed_window(Duration::from_secs(seconds))
                .map_err(PolicyError::Stack)?;
        }
        if let Some(limit) = self.body_limit {
            stack = stack.body_limit(limit);
        }
        if self.insecure_no_idempotency {
            stack = stack.without_idempotency();
        }
        if self.insecure_no_authentication {
            stack = stack.insecure_no_authentication();
        }
        // The stack's own rules (someone is authenticated, the scheme signs
        // the timestamp the window reads) are checked now, not at a later
        // `build` far from the data that broke them.
        stack.clone().build().map_err(PolicyError::Stack)?;
        Ok(stack)
    }

    /// Check the policy and compose the layer.
    pub fn build(&self) -> Result<WebhookLayer, PolicyError> {
        self.stack()?.build().map_err(PolicyError::Stack)
    }

    /// Check the policy and make it one tenant's policy for a
    /// [`TenantLayer`](crate::tenant::TenantLayer) resolver: the same
    /// checks, with idempotency left to the layer inside the tenant layer
    /// (the provider's retry horizon still reaches it).
    pub fn tenant_policy(&self) -> Result<TenantPolicy, PolicyError> {
        self.stack()?
            .without_idempotency()
            .into_tenant_policy()
            .map_err(PolicyError::Stack)
    }

    /// The provider's bundle with the signing secret.
    fn bundle(&self, secret: &Secret) -> Result<WebhookStack, PolicyError> {
        let name = self.provider.as_deref().ok_or(PolicyError::MissingScheme)?;
        let provider = provider::by_name(name).map_err(PolicyError::UnknownScheme)?;
        // The secret came from text (JSON strings are UTF-8); a provider's
        // form (`whsec_…`) is read by its scheme.
        let shown = secret
            .expose_str()
            .ok_or(PolicyError::SigningSecret(SecretError::InvalidBase64))?;
        WebhookStack::provider_bundle(provider, shown, SIGNING_KEY_ID).map_err(
            |error| match error {
                SignatureConfigError::InvalidSecret(error) => PolicyError::SigningSecret(error),
                error => PolicyError::Signature(error),
            },
        )
    }
}

impl TryFrom<WebhookPolicy> for WebhookStack {
    type Error = PolicyError;

    fn try_from(policy: WebhookPolicy) -> Result<Self, PolicyError> {
        policy.stack()
    }
}

impl TryFrom<&WebhookPolicy> for WebhookStack {
    type Error = PolicyError;

    fn try_from(policy: &WebhookPolicy) -> Result<Self, PolicyError> {
        policy.stack()
    }
}

/// Why a [`WebhookPolicy`] does not build. The messages name the field to
/// fix and never quote a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// `require_signature` without a `signing_secret`.
    MissingSigningSecret,
    /// A `signing_secret` without `require_signature`: it would never be
    /// checked.
    SecretNotRequired,
    /// `require_signature` without a `scheme`.
    MissingScheme,
    /// `provider` names no provider (the message lists the valid names).
    UnknownScheme(UnknownProvider),
    /// The `signing_secret` cannot be read by the scheme (e.g. a `whsec_`
    /// secret that is not base64).
    SigningSecret(SecretError),
    /// The signature layer refused the key.
    Signature(SignatureConfigError),
    /// `timestamp_window_seconds` is 0: every delivery would be refused.
    ZeroWindow,
    /// `timestamp_window_seconds` without `require_signature`: an unsigned
    /// timestamp proves nothing.
    WindowWithoutSignature,
    /// An entry of `ip_allowlist` is not an address or network.
    IpAllowlist(ParseAllowlistError),
    /// An entry of `trusted_proxies` is not an address or network.
    TrustedProxies(ParseAllowlistError),
    /// A header name (the legacy token's) is not one.
    Setting(InvalidSetting),
    /// The stack's own rules (see [`StackError`]).
    Stack(StackError),
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::MissingSigningSecret => {
                f.write_str("require_signature is true but no signing_secret is set")
            }
            PolicyError::SecretNotRequired => f.write_str(
                "signing_secret is set but require_signature is false, so it would never be \
                 checked: set require_signature to true (keep legacy_token while senders migrate)",
            ),
            PolicyError::MissingScheme => f.write_str(
                "require_signature is true but no provider is named (github, stripe, standard, \
                 ...)",
            ),
            PolicyError::UnknownScheme(unknown) => write!(f, "provider: {unknown}"),
            PolicyError::SigningSecret(error) => write!(f, "signing_secret: {error}"),
            PolicyError::Signature(error) => write!(f, "signing_secret: {error}"),
            PolicyError::ZeroWindow => f.write_str(
                "timestamp_window_seconds is 0: every delivery would be refused; leave it out to \
                 check no timestamp",
            ),
            PolicyError::WindowWithoutSignature => f.write_str(
                "timestamp_window_seconds needs require_signature: an unsigned timestamp can be \
                 rewritten by anyone replaying the request",
            ),
            PolicyError::IpAllowlist(error) => write!(f, "ip_allowlist: {error}"),
            PolicyError::TrustedProxies(error) => write!(f, "trusted_proxies: {error}"),
            PolicyError::Setting(error) => write!(f, "legacy_token: {error}"),
            PolicyError::Stack(StackError::NoTimestampSource) => f.write_str(
                "timestamp_window_seconds: this scheme signs no timestamp (use one that does, \
                 e.g. stripe, slack, standard, or leave the window out)",
            ),
            PolicyError::Stack(StackError::NoAuthentication) => f.write_str(
                "the policy authenticates nobody: set require_signature with a signing_secret, \
                 a legacy_token or an ip_allowlist naming particular networks (0.0.0.0/0 or any \
                 network broader than a /8 is not one), or insecure_no_authentication",
            ),
            PolicyError::Stack(StackError::WiderWindow { provider }) => write!(
                f,
                "timestamp_window_seconds is wider than the provider's window ({provider:?}): \
                 a policy may only tighten it"
            ),
            PolicyError::Stack(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for PolicyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PolicyError::UnknownScheme(error) => Some(error),
            PolicyError::SigningSecret(error) => Some(error),
            PolicyError::Signature(error) => Some(error),
            PolicyError::IpAllowlist(error) | PolicyError::TrustedProxies(error) => Some(error),
            PolicyError::Setting(error) => Some(error),
            PolicyError::Stack(error) => Some(error),
            _ => None,
        }
    }
}

// Secrets travel as the text they were given, so a policy read from a store
// and written back is unchanged.

fn secret_text<S: Serializer>(secret: &Option<Secret>, s: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => token_text(secret, s),
        None => s.serialize_none(),
    }
}

fn token_text<S: Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
    match secret.expose_str() {
        Some(text) => s.serialize_str(text),
        None => Err(serde::ser::Error::custom("a secret that is not UTF-8 text")),
    }
}

fn secret_from_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|text| Secret::new(text).map_err(serde::de::Error::custom))
        .transpose()
}

fn token_from_text<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    let text = String::deserialize(d)?;
    Secret::new(text).map_err(serde::de::Error::custom)
}

fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let entries = match OneOrMany::deserialize(d)? {
        OneOrMany::One(list) => list.split(',').map(str::to_owned).collect(),
        OneOrMany::Many(list) => list,
    };
    // Blank entries (a trailing comma, an empty setting) name no one.
    Ok(entries
        .into_iter()
        .map(|entry| entry.trim().to_owned())
        .filter(|entry| !entry.is_empty())
        .collect())
}
