//! The providers: one [`Provider`] value each, the single truth every way of
//! building a receiver reads.
//!
//! A provider's facts — its signature scheme, what the signature covers,
//! the headers it sends unsigned, its payload cap, its delivery id, how long
//! it keeps retrying, its handshake — are written once, in its file here,
//! each with the documentation it comes from. The bundles
//! ([`WebhookStack::github`](crate::WebhookStack::github), ...), a bundle by
//! name ([`WebhookStack::provider`](crate::WebhookStack::provider)), a
//! [`WebhookPolicy`](crate::policy::WebhookPolicy) naming a provider, a
//! tenant resolved to one ([`TenantLookup::provider`](crate::tenant::TenantLookup::provider))
//! and the `tower-webhook` command all read these values, through one
//! composer ([`WebhookStack::from_provider`](crate::WebhookStack::from_provider)),
//! so none of them can forget the replay window, the body cap or the
//! retry horizon.
//!
//! Code names a provider by its constant, configuration by its name:
//!
//! ```
//! use tower_webhook::provider::{self, STRIPE};
//!
//! assert_eq!(provider::by_name("stripe")?.name, STRIPE.name);
//!
//! // Stripe retries for up to three days: a receiver must remember a
//! // delivery at least that long, plus the replay window.
//! assert!(STRIPE.idempotency_ttl() >= std::time::Duration::from_secs(72 * 3600));
//!
//! // A typo is answered with the closest name.
//! let error = provider::by_name("strpe").unwrap_err();
//! assert!(error.to_string().contains("did you mean `stripe`"), "{error}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Adding a provider
//!
//! Its scheme (a [`DeclaredScheme`](crate::signature::DeclaredScheme), in
//! in its provider file), its file here holding its [`Provider`], and one line in [`ALL`].
//! The registry tests then require a sign → verify round trip, its place in
//! the `tower-webhook providers` table (and the README's copy of it), and,
//! for [`Vectors::Published`], valid examples the provider itself published
//! under the sources named, in `tests/vectors/`. A provider whose scheme has
//! no published example is [`Vectors::Unverified`]: examples the crate
//! signed itself never make it verified.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::handshake::Handshake;
use crate::idempotency::DEFAULT_TTL;
use crate::replay::ReplayLayer;
use crate::secret::{Secret, SecretError};
pub use crate::signature::sign::Sent;
use crate::signature::{Scheme, SignatureConfigError, SignatureLayer, Signer};
pub use sensitive::{sensitive_headers, sensitive_headers_layer, sensitive_headers_layer_with};

/// The window on a signed timestamp whose provider documents none (the
/// stack's `UNDOCUMENTED_WINDOW`, here so the registry needs no composer).
pub(crate) const UNDOCUMENTED_WINDOW: Duration = Duration::from_secs(300);

mod adyen;
mod adyen_banking;
mod airtable;
mod asana;
mod attio;
mod autodesk;
pub mod bitbucket;
mod bolt;
mod r#box;
mod brex;
mod buildkite;
mod cal_com;
mod calendly;
mod castle;
mod checkout_com;
mod circleci;
mod clerk;
mod coinbase_commerce;
mod configcat;
mod convoy;
#[cfg(feature = "ed25519")]
pub mod discord;
mod docusign;
pub mod dropbox;
mod fastspring;
mod finch;
mod frameio;
pub mod github;
pub mod gitlab;
mod gocardless;
mod heroku;
mod hookdeck;
pub mod hubspot;
pub mod intercom;
pub mod jira;
#[cfg(test)]
mod key_props;
mod launchdarkly;
mod lemon_squeezy;
pub mod linear;
mod lithic;
mod mailchimp;
pub mod mailgun;
mod makeplans;
pub mod meta;
mod microsoft_teams;
mod modern_treasury;
mod mollie;
mod mongodb_atlas;
mod mux;
mod netlify;
mod okta;
mod onfido;
mod orb;
pub mod paddle;
mod pagerduty;
mod paystack;
mod persona;
#[cfg(feature = "ecdsa")]
mod plaid;
mod pusher;
mod razorpay;
mod recurly;
mod replicate;
mod resend;
mod sanity;
mod segment;
#[cfg(feature = "ecdsa")]
pub mod sendgrid;
mod sensitive;
mod sentry;
pub mod shopify;
mod signal_sciences;
pub mod slack;
mod smartsheet;
mod sonatype_nexus;
pub mod square;
pub mod standard;
#[cfg(feature = "ed25519")]
pub mod standard_ed25519;
pub mod stripe;
pub mod svix;
mod table;
mod terraform_cloud;
mod tiktok;
mod trello;
mod trendmicro_conformity;
pub mod twilio;
pub mod twitch;
pub mod typeform;
mod vercel;
mod vonage;
mod webex;
mod woocommerce;
mod workos;
mod x;
mod xero;
mod zendesk;
pub mod zoom;

pub use adyen::ADYEN;
pub use adyen_banking::ADYEN_BANKING;
pub use airtable::AIRTABLE;
pub use asana::ASANA;
pub use attio::ATTIO;
pub use autodesk::AUTODESK;
pub use bitbucket::BITBUCKET;
pub use bolt::BOLT;
pub use brex::BREX;
pub use buildkite::BUILDKITE;
pub use cal_com::CAL_COM;
pub use calendly::CALENDLY;
pub use castle::CASTLE;
pub use checkout_com::CHECKOUT_COM;
pub use circleci::CIRCLECI;
pub use clerk::CLERK;
pub use coinbase_commerce::COINBASE_COMMERCE;
pub use configcat::CONFIGCAT;
pub use convoy::CONVOY;
#[cfg(feature = "ed25519")]
pub use discord::DISCORD;
pub use docusign::DOCUSIGN;
pub use dropbox::DROPBOX;
pub use fastspring::FASTSPRING;
pub use finch::FINCH;
pub use frameio::FRAMEIO;
pub use github::GITHUB;
pub use gitlab::GITLAB;
pub use gocardless::GOCARDLESS;
pub use heroku::HEROKU;
pub use hookdeck::HOOKDECK;
pub use hubspot::HUBSPOT;
pub use intercom::INTERCOM;
pub use jira::JIRA;
pub use launchdarkly::LAUNCHDARKLY;
pub use lemon_squeezy::LEMON_SQUEEZY;
pub use linear::LINEAR;
pub use lithic::LITHIC;
pub use mailchimp::MAILCHIMP;
pub use mailgun::MAILGUN;
pub use makeplans::MAKEPLANS;
pub use meta::META;
pub use microsoft_teams::MICROSOFT_TEAMS;
pub use modern_treasury::MODERN_TREASURY;
pub use mollie::MOLLIE;
pub use mongodb_atlas::MONGODB_ATLAS;
pub use mux::MUX;
pub use netlify::NETLIFY;
pub use okta::OKTA;
pub use onfido::ONFIDO;
pub use orb::ORB;
pub use paddle::PADDLE;
pub use pagerduty::PAGERDUTY;
pub use paystack::PAYSTACK;
pub use persona::PERSONA;
#[cfg(feature = "ecdsa")]
pub use plaid::PLAID;
pub use pusher::PUSHER;
pub use r#box::BOX;
pub use razorpay::RAZORPAY;
pub use recurly::RECURLY;
pub use replicate::REPLICATE;
pub use resend::RESEND;
pub use sanity::SANITY;
pub use segment::SEGMENT;
#[cfg(feature = "ecdsa")]
pub use sendgrid::SENDGRID;
pub use sentry::SENTRY;
pub use shopify::SHOPIFY;
pub use signal_sciences::SIGNAL_SCIENCES;
pub use slack::SLACK;
pub use smartsheet::SMARTSHEET;
pub use sonatype_nexus::SONATYPE_NEXUS;
pub use square::SQUARE;
pub use standard::STANDARD_WEBHOOKS;
#[cfg(feature = "ed25519")]
pub use standard_ed25519::STANDARD_WEBHOOKS_ED25519;
pub use stripe::STRIPE;
pub use svix::SVIX;
pub use table::markdown_table;
pub use terraform_cloud::TERRAFORM_CLOUD;
pub use tiktok::TIKTOK;
pub use trello::{scheme as trello_scheme, TRELLO};
pub use trendmicro_conformity::TRENDMICRO_CONFORMITY;
pub use twilio::TWILIO;
pub use twitch::TWITCH;
pub use typeform::TYPEFORM;
pub use vercel::VERCEL;
pub use vonage::VONAGE;
pub use webex::WEBEX;
pub use woocommerce::WOOCOMMERCE;
pub use workos::WORKOS;
pub use x::X;
pub use xero::XERO;
pub use zendesk::ZENDESK;
pub use zoom::ZOOM;

pub(crate) use crate::body::DEFAULT_BODY_LIMIT;

/// Makes a scheme.
type MakeScheme = fn() -> Arc<dyn Scheme>;

/// Makes a provider's handshake from its key as shown.
pub type MakeHandshake = fn(&str) -> Result<Handshake, SecretError>;

/// One provider: everything a receiver of its webhooks needs to know.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Provider {
    /// The stable name configuration uses ([`by_name`]).
    pub name: &'static str,
    /// The provider's signature scheme.
    pub scheme: fn() -> Arc<dyn Scheme>,
    /// What the signature covers, in words.
    pub signed: &'static str,
    /// Headers the provider sends that the signature does **not** cover:
    /// anyone who replays a captured delivery can change them. The bundle
    /// hands them to the handler as
    /// [`UnauthenticatedHeaders`](crate::stack::UnauthenticatedHeaders).
    pub unsigned_headers: &'static [&'static str],
    /// The most body bytes the provider sends: the receiver's body limit.
    pub body_limit: usize,
    /// Where [`body_limit`](Self::body_limit) comes from.
    pub body_limit_source: &'static str,
    /// The delivery id the receiver deduplicates on, in words.
    pub delivery_id: &'static str,
    /// How long after the first attempt the provider may still deliver the
    /// same event again (its retries), where it documents one: the
    /// receiver remembers deliveries at least this long plus the replay
    /// window ([`idempotency_ttl`](Self::idempotency_ttl)).
    pub retry_horizon: Option<Duration>,
    /// Where [`retry_horizon`](Self::retry_horizon) comes from.
    pub retry_horizon_source: &'static str,
    /// Whether deliveries are deduplicated at all (Dropbox's carry no id
    /// and identical bodies are normal).
    pub deduplicate: bool,
    /// A replay window on a timestamp inside the signed body, for providers
    /// that sign one there (Linear's `webhookTimestamp`).
    pub body_timestamp: Option<fn() -> ReplayLayer>,
    /// The handshake the receiver answers, made from the key as the
    /// provider shows it (Zoom's answer is keyed with the same secret
    /// token). `None` where the provider has none, or needs more than the
    /// key (Meta's verify token: [`WebhookStack::meta`](crate::WebhookStack::meta);
    /// Asana's, which hands the key over:
    /// [`Handshake::asana`](crate::handshake::Handshake::asana)).
    pub handshake: Option<MakeHandshake>,
    /// Where the scheme's facts (headers, algorithm, encoding, the exact
    /// message, the key's form, the tolerance) come from: the provider's
    /// documentation or its SDK's source.
    pub scheme_source: &'static str,
    /// Whether the scheme is checked against examples the provider
    /// published, and which.
    pub vectors: Vectors,
    /// The source addresses the provider publishes for its deliveries
    /// (CIDR or single addresses), empty where it publishes none. Lists
    /// change: fetch the provider's own list when building an allowlist
    /// ([`ip_ranges_source`](Self::ip_ranges_source) says where).
    pub ip_ranges: &'static [&'static str],
    /// Where [`ip_ranges`](Self::ip_ranges) come from, or why there are none.
    pub ip_ranges_source: &'static str,
    /// The headers the provider sends with every delivery besides its
    /// signature (delivery id, event name, retry counters), as the signing
    /// side ([`Signer::preset`], the `tower-webhook` command, `test_util`)
    /// writes them.
    pub sends: &'static [(&'static str, Sent)],
    /// Of the headers it sends, those whose absence makes a delivery
    /// incomplete: the bundle refuses it (`400 payload_incomplete`) as the
    /// provider's own library does (Shopify's topic, shop domain, API
    /// version and webhook id).
    pub requires: &'static [&'static str],
}

/// Whether a provider's scheme is checked against examples the provider
/// itself published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Vectors {
    /// Checked against signed examples from the provider's documentation or
    /// its own SDK's test suite, each source named (repository and path, or
    /// the page); the examples are in the crate's `tests/vectors/`.
    Published(&'static [&'static str]),
    /// No signed example from the provider was found: the scheme follows
    /// its documentation or SDK code, and is checked only against
    /// deliveries the crate signed itself, which cannot catch a misreading.
    Unverified,
}

impl Vectors {
    /// Whether the provider's published examples verify.
    pub fn is_verified(&self) -> bool {
        matches!(self, Vectors::Published(_))
    }

    /// The sources of the published examples (empty when unverified).
    pub fn sources(&self) -> &'static [&'static str] {
        match self {
            Vectors::Published(sources) => sources,
            Vectors::Unverified => &[],
        }
    }
}

/// The body limit of a provider that documents no maximum.
pub(crate) const UNDOCUMENTED: &str = "no maximum documented: the crate's default, 1 MiB";
/// The retry-horizon source of a provider that documents none.
pub(crate) const NO_RETRIES_DOCUMENTED: &str =
    "no retry schedule documented: the crate's default TTL, 24 h";
pub(crate) const MIB: usize = 1024 * 1024;
/// The IP source of a provider that publishes no address list.
pub(crate) const NO_IP_RANGES: &str = "none published";

impl Provider {
    /// How long the receiver remembers a delivery: at least the provider's
    /// retry horizon plus the replay window (so a retry signed at the last
    /// moment is still recognised), and never less than the idempotency
    /// layer's default of 24 h.
    pub fn idempotency_ttl(&self) -> Duration {
        let window = self.replay_span().unwrap_or(Duration::ZERO);
        match self.retry_horizon {
            Some(horizon) => DEFAULT_TTL.max(horizon + window),
            None => DEFAULT_TTL.max(window),
        }
    }

    /// The span of the replay window on the provider's signed timestamp
    /// (past and future), if it signs one.
    pub(crate) fn replay_span(&self) -> Option<Duration> {
        let scheme = (self.scheme)();
        if !scheme.signs_timestamp() {
            return None;
        }
        let tolerance = scheme.tolerance();
        let past = tolerance
            .and_then(|t| t.past)
            .unwrap_or(UNDOCUMENTED_WINDOW);
        let future = tolerance.and_then(|t| t.future).unwrap_or(past);
        Some(past + future)
    }
}

/// Every provider, each declared in its own file: adding a provider is
/// that file and one line here.
pub const ALL: &[&Provider] = &[
    &GITHUB,
    &GITLAB,
    &BITBUCKET,
    &JIRA,
    &STRIPE,
    &SLACK,
    &STANDARD_WEBHOOKS,
    #[cfg(feature = "ed25519")]
    &STANDARD_WEBHOOKS_ED25519,
    &SVIX,
    &SHOPIFY,
    &ZOOM,
    &PADDLE,
    &LINEAR,
    &TWITCH,
    &INTERCOM,
    &TYPEFORM,
    &DROPBOX,
    &META,
    &TWILIO,
    &SQUARE,
    &HUBSPOT,
    &MAILGUN,
    #[cfg(feature = "ed25519")]
    &DISCORD,
    #[cfg(feature = "ecdsa")]
    &SENDGRID,
    &BOX,
    &RAZORPAY,
    &COINBASE_COMMERCE,
    &ADYEN_BANKING,
    &MUX,
    &PAGERDUTY,
    &MODERN_TREASURY,
    &BUILDKITE,
    &GOCARDLESS,
    &SANITY,
    &PUSHER,
    &LITHIC,
    &ORB,
    &FINCH,
    &RESEND,
    &CLERK,
    &AIRTABLE,
    &MICROSOFT_TEAMS,
    &ZENDESK,
    &CALENDLY,
    &WORKOS,
    &XERO,
    &SENTRY,
    &REPLICATE,
    &ONFIDO,
    &RECURLY,
    &TERRAFORM_CLOUD,
    &PAYSTACK,
    &WOOCOMMERCE,
    &CAL_COM,
    &VERCEL,
    &LEMON_SQUEEZY,
    &PERSONA,
    &MOLLIE,
    &WEBEX,
    &CHECKOUT_COM,
    &ATTIO,
    &SEGMENT,
    &CASTLE,
    &CONVOY,
    &LAUNCHDARKLY,
    &HEROKU,
    &DOCUSIGN,
    &SMARTSHEET,
    &FRAMEIO,
    &TIKTOK,
    &MAILCHIMP,
    &MONGODB_ATLAS,
    &SONATYPE_NEXUS,
    &AUTODESK,
    &BOLT,
    &FASTSPRING,
    &HOOKDECK,
    &CIRCLECI,
    &BREX,
    &CONFIGCAT,
    &SIGNAL_SCIENCES,
    &TRENDMICRO_CONFORMITY,
    &MAKEPLANS,
    &X,
    &TRELLO,
    &OKTA,
    &NETLIFY,
    &VONAGE,
    &ADYEN,
    #[cfg(feature = "ecdsa")]
    &PLAID,
    &ASANA,
];

/// Scheme variants no provider bundle is built on, selectable by name.
const VARIANTS: &[(&str, MakeScheme)] = &[
    ("github-sha1", || Arc::new(github::github_sha1_only())),
    ("timestamped", || {
        Arc::new(crate::signature::generic::timestamped())
    }),
    ("body-hmac-base64", || {
        Arc::new(crate::signature::generic::body_hmac_base64(
            crate::signature::generic::DEFAULT_HEADER,
        ))
    }),
    ("body-hmac-hex", || {
        Arc::new(crate::signature::generic::body_hmac_hex(
            crate::signature::generic::DEFAULT_HEADER,
        ))
    }),
    // Forgeable by length extension (a plain SHA-256 of secret and
    // message): only a name that says so selects them.
    ("insecure-hubspot-v1", || Arc::new(hubspot::hubspot_v1())),
    ("insecure-hubspot-v2", || Arc::new(hubspot::hubspot_v2())),
];

/// No provider (or scheme) has this name; the message lists the valid ones
/// and the closest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownProvider {
    name: String,
    schemes_too: bool,
}

impl UnknownProvider {
    /// The name that was asked for.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The known name closest to the one asked for, if one is close.
    pub fn suggestion(&self) -> Option<&'static str> {
        let candidates = self.candidates();
        let asked = self.name.to_ascii_lowercase();
        candidates
            .into_iter()
            .map(|known| (strsim::damerau_levenshtein(&asked, known), known))
            .filter(|(distance, known)| *distance <= 2.max(known.len() / 3))
            .min_by_key(|(distance, _)| *distance)
            .map(|(_, known)| known)
    }

    fn candidates(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = ALL.iter().map(|p| p.name).collect();
        if self.schemes_too {
            names.extend(VARIANTS.iter().map(|(name, _)| *name));
        }
        names
    }
}

/// The plain names of the length-extendable schemes, with the only names
/// that select them.
const LENGTH_EXTENDABLE: &[(&str, &str)] = &[
    ("hubspot-v1", "insecure-hubspot-v1"),
    ("hubspot-v2", "insecure-hubspot-v2"),
];

impl fmt::Display for UnknownProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((plain, insecure)) = LENGTH_EXTENDABLE
            .iter()
            .find(|(plain, _)| *plain == self.name)
        {
            return write!(
                f,
                "signature scheme `{plain}` is forgeable (a plain SHA-256 of secret and message, \
                 open to length extension): move to its successor, or select it as `{insecure}` \
                 to accept it anyway"
            );
        }
        write!(f, "unknown provider `{}`", self.name)?;
        if let Some(suggestion) = self.suggestion() {
            write!(f, " (did you mean `{suggestion}`?)")?;
        }
        write!(f, "; known: {}", self.candidates().join(", "))
    }
}

impl std::error::Error for UnknownProvider {}

/// The provider called `name`.
pub fn by_name(name: &str) -> Result<&'static Provider, UnknownProvider> {
    ALL.iter()
        .copied()
        .find(|provider| provider.name == name)
        .ok_or_else(|| UnknownProvider {
            name: name.to_owned(),
            schemes_too: false,
        })
}

/// The signature scheme called `name`: a provider's, or one of the
/// variants no bundle is built on (`github-sha1`, `timestamped`,
/// `body-hmac-hex`, `body-hmac-base64`, and HubSpot's forgeable legacy
/// signatures, only as `insecure-hubspot-v1` and `insecure-hubspot-v2`).
///
/// ```
/// use tower_webhook::provider;
///
/// assert_eq!(provider::scheme_by_name("stripe")?.name(), "stripe");
/// assert!(provider::scheme_by_name("nope").is_err());
/// assert!(provider::scheme_by_name("hubspot-v1").is_err());
/// assert!(provider::scheme_by_name("insecure-hubspot-v1").is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn scheme_by_name(name: &str) -> Result<Arc<dyn Scheme>, UnknownProvider> {
    if let Ok(provider) = by_name(name) {
        return Ok((provider.scheme)());
    }
    VARIANTS
        .iter()
        .find(|(variant, _)| *variant == name)
        .map(|(_, scheme)| scheme())
        .ok_or_else(|| UnknownProvider {
            name: name.to_owned(),
            schemes_too: true,
        })
}

/// The schemes keyed by one shared secret that sign with headers alone:
/// what the signing round-trip tests and the `tower-webhook` examples
/// cover. [`scheme_by_name`] also knows `insecure-hubspot-v1`, `insecure-hubspot-v2`,
/// `mailgun` and `adyen` (signatures in the body), `okta` (no signature: the
/// secret itself in a header) and, behind their features, the
/// asymmetric `discord`, `standard-ed25519` (`ed25519`), `sendgrid` and
/// `plaid` (`ecdsa`).
pub const SHARED_SECRET_SCHEMES: &[&str] = &[
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
    "box",
    "razorpay",
    "coinbase-commerce",
    "adyen-banking",
    "mux",
    "pagerduty",
    "modern-treasury",
    "buildkite",
    "gocardless",
    "sanity",
    "pusher",
    "lithic",
    "orb",
    "finch",
    "resend",
    "clerk",
    "airtable",
    "microsoft-teams",
    "zendesk",
    "calendly",
    "workos",
    "xero",
    "sentry",
    "replicate",
    "onfido",
    "recurly",
    "terraform-cloud",
    "paystack",
    "woocommerce",
    "cal-com",
    "vercel",
    "lemon-squeezy",
    "persona",
    "mollie",
    "webex",
    "checkout-com",
    "attio",
    "segment",
    "castle",
    "convoy",
    "launchdarkly",
    "heroku",
    "docusign",
    "smartsheet",
    "frameio",
    "tiktok",
    "mailchimp",
    "mongodb-atlas",
    "sonatype-nexus",
    "autodesk",
    "bolt",
    "fastspring",
    "hookdeck",
    "circleci",
    "brex",
    "configcat",
    "signal-sciences",
    "trendmicro-conformity",
    "makeplans",
    "x",
    "trello",
    "netlify",
    "vonage",
    "asana",
    "timestamped",
    "body-hmac-base64",
    "body-hmac-hex",
];

/// The provider whose deliveries the scheme `name` signs: its own, or
/// GitHub's for its SHA-1 variant.
fn sender_of(name: &str) -> Option<&'static Provider> {
    match name {
        "github-sha1" => Some(&GITHUB),
        name => by_name(name).ok(),
    }
}

/// Every scheme name [`scheme_by_name`] knows: the providers', then the
/// variants.
pub fn scheme_names() -> impl Iterator<Item = &'static str> {
    ALL.iter()
        .map(|provider| provider.name)
        .chain(VARIANTS.iter().map(|(name, _)| *name))
}

#[cfg_attr(docsrs, doc(cfg(feature = "provider")))]
impl SignatureLayer {
    /// GitHub (`X-Hub-Signature-256`) with one secret.
    pub fn github(secret: Secret) -> Self {
        Self::single(github::github(), secret)
    }

    /// Stripe with one secret (the `whsec_…` string verbatim).
    ///
    /// Stripe uses its `whsec_…` text verbatim (`Secret::new`). Given a key
    /// decoded with [`Secret::from_whsec`], the layer spells it back as that
    /// text: the decoded bytes are never Stripe's key.
    pub fn stripe(secret: Secret) -> Self {
        let secret = match secret.is_decoded_whsec() {
            true => Secret::new(secret.to_whsec()).unwrap_or(secret),
            false => secret,
        };
        Self::single(stripe::stripe(), secret)
    }

    /// Slack with one signing secret.
    pub fn slack(secret: Secret) -> Self {
        Self::single(slack::slack(), secret)
    }

    /// Shopify with one client secret.
    pub fn shopify(secret: Secret) -> Self {
        Self::single(shopify::shopify(), secret)
    }

    /// Standard Webhooks with one key: [`Secret::from_whsec`] of the
    /// `whsec_…` text. Given the undecoded text instead (`Secret::new`),
    /// the layer decodes it: the text itself is never the key.
    pub fn standard_webhooks(secret: Secret) -> Self {
        let secret = match secret.is_whsec_text() {
            true => secret
                .expose_str()
                .and_then(|text| Secret::from_whsec(text).ok())
                .unwrap_or(secret),
            false => secret,
        };
        Self::single(standard::standard_webhooks(), secret)
    }

    /// The scheme `name` (see [`scheme_by_name`]) with one key, given as
    /// the provider shows it (`whsec_…` for Standard Webhooks).
    pub fn preset(name: &str, shown_secret: &str) -> Result<Self, SignatureConfigError> {
        let scheme = scheme_by_name(name)
            .map_err(|unknown| SignatureConfigError::UnknownScheme(unknown.to_string()))?;
        let key = scheme
            .parse_key(shown_secret)
            .map_err(SignatureConfigError::InvalidSecret)?;
        Self::from_arc(
            scheme,
            crate::signature::Keyring::new().with(crate::signature::Key::new("default", key)),
        )
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "provider")))]
impl Signer {
    /// The scheme `name` (see [`scheme_by_name`]) with the secret as the
    /// provider shows it (`whsec_…` for `standard`/`svix`, verbatim for
    /// `stripe`).
    ///
    /// It sends the provider's other headers too
    /// ([`delivery_headers`](Self::delivery_headers), [`Provider::sends`]).
    pub fn preset(name: &str, shown_secret: &str) -> Result<Self, SignatureConfigError> {
        let scheme = scheme_by_name(name)
            .map_err(|unknown| SignatureConfigError::UnknownScheme(unknown.to_string()))?;
        let key = scheme
            .parse_key(shown_secret)
            .map_err(SignatureConfigError::InvalidSecret)?;
        let sends = sender_of(name).map_or(&[][..], |provider| provider.sends);
        Ok(Self::new(scheme, key).sending(sends))
    }
}
