//! The demo receiver's application: one route per provider, each its
//! provider bundle (signature, the provider's replay window, idempotency on
//! its signed delivery id, payload cap, handshake) behind the IP allowlist,
//! and the audit trail. Shared by `examples/receiver.rs` and
//! `tests/receiver.rs`.
#![allow(dead_code)]

use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::{any, post};
use axum::Router;
use bytes::Bytes;
use http::HeaderName;
use tower_webhook::audit::AuditLayer;
use tower_webhook::extract::Verified;
use tower_webhook::idempotency::{IdempotencyLayer, IdempotencyStore, MemoryStore};
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::replay::ReplayLayer;
use tower_webhook::signature::SignatureLayer;
use tower_webhook::tenant::{StaticTenants, TenantKey, TenantLayer};
use tower_webhook::token::TokenLayer;
use tower_webhook::{Secret, WebhookStack};

/// Where each secret comes from: its environment variable, or generated.
#[derive(Clone, Debug)]
pub struct Setting {
    /// The environment variable.
    pub env: &'static str,
    /// The secret as the provider shows it.
    pub value: String,
    /// Made up at start because the variable was unset.
    pub generated: bool,
}

impl Setting {
    fn from_env(env: &'static str, generate: impl FnOnce() -> String) -> Self {
        match std::env::var(env) {
            Ok(value) if !value.is_empty() => Self {
                env,
                value,
                generated: false,
            },
            _ => Self {
                env,
                value: generate(),
                generated: true,
            },
        }
    }

    /// How a shell line refers to it: the generated value itself, or the
    /// variable (so a secret from the environment is never printed).
    fn in_shell(&self) -> String {
        if self.generated {
            format!("'{}'", self.value)
        } else {
            format!("\"${}\"", self.env)
        }
    }
}

/// The receiver's configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub github: Setting,
    pub gitlab: Setting,
    pub stripe: Setting,
    pub slack: Setting,
    pub standard: Setting,
    pub shopify: Setting,
    pub timestamped: Setting,
    pub acme: Setting,
    pub legacy_token: Setting,
    pub zoom: Setting,
    pub twitch: Setting,
    pub meta: Setting,
    pub meta_verify_token: Setting,
    pub dropbox: Setting,
    /// The IP allowlist of every route.
    pub allow_ips: String,
    /// Reverse proxies whose `X-Forwarded-For` names the client
    /// (`TRUSTED_PROXIES`); none by default.
    pub trusted_proxies: Option<String>,
    /// Idempotency in this Redis (`REDIS_URL`, feature `redis`) instead of
    /// memory, shared by every replica.
    pub redis_url: Option<String>,
}

fn random() -> String {
    Secret::generate()
        .expose_str()
        .unwrap_or_default()
        .to_owned()
}

impl Config {
    /// From the environment; unset secrets are generated.
    pub fn from_env() -> Self {
        Self {
            github: Setting::from_env("GITHUB_SECRET", random),
            gitlab: Setting::from_env("GITLAB_TOKEN", random),
            stripe: Setting::from_env("STRIPE_SECRET", || format!("whsec_{}", random())),
            slack: Setting::from_env("SLACK_SECRET", random),
            standard: Setting::from_env("STANDARD_SECRET", || Secret::generate().to_whsec()),
            shopify: Setting::from_env("SHOPIFY_SECRET", random),
            timestamped: Setting::from_env("TIMESTAMPED_SECRET", random),
            acme: Setting::from_env("TENANT_ACME_SECRET", random),
            legacy_token: Setting::from_env("TENANT_LEGACY_TOKEN", random),
            zoom: Setting::from_env("ZOOM_SECRET", random),
            twitch: Setting::from_env("TWITCH_SECRET", random),
            meta: Setting::from_env("META_APP_SECRET", random),
            meta_verify_token: Setting::from_env("META_VERIFY_TOKEN", random),
            dropbox: Setting::from_env("DROPBOX_SECRET", random),
            allow_ips: std::env::var("ALLOW_IPS").unwrap_or_else(|_| "127.0.0.1, ::1".to_owned()),
            trusted_proxies: non_empty_env("TRUSTED_PROXIES"),
            redis_url: non_empty_env("REDIS_URL"),
        }
    }

    /// Every setting, for listing what was generated.
    pub fn settings(&self) -> [&Setting; 14] {
        [
            &self.github,
            &self.gitlab,
            &self.stripe,
            &self.slack,
            &self.standard,
            &self.shopify,
            &self.timestamped,
            &self.acme,
            &self.legacy_token,
            &self.zoom,
            &self.twitch,
            &self.meta,
            &self.meta_verify_token,
            &self.dropbox,
        ]
    }
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// Where every route remembers deliveries: Redis when `REDIS_URL` is set
/// (one memory for all replicas), else this process's memory.
fn store(config: &Config) -> Result<Arc<dyn IdempotencyStore>, BoxError> {
    match &config.redis_url {
        #[cfg(feature = "redis")]
        Some(url) => Ok(Arc::new(
            tower_webhook::idempotency::RedisStore::open(url)?.with_prefix("receiver:"),
        )),
        #[cfg(not(feature = "redis"))]
        Some(_) => Err(
            "REDIS_URL is set but the receiver was built without the `redis` feature \
             (cargo run --example receiver --features redis)"
                .into(),
        ),
        None => Ok(Arc::new(MemoryStore::new())),
    }
}

type BoxError = Box<dyn Error + Send + Sync>;

fn secret(setting: &Setting) -> Result<Secret, BoxError> {
    Ok(Secret::new(&setting.value)?)
}

/// Prints the delivery a layer verified; the handler of every route.
async fn handle(
    Verified {
        payload,
        verification,
    }: Verified<Bytes>,
) -> &'static str {
    let auth = verification.authentication.as_ref();
    println!(
        "delivery: tenant={} auth={} key={} {} bytes: {}",
        verification.tenant.as_deref().unwrap_or("-"),
        auth.map_or("-", |a| a.method.as_str()),
        auth.and_then(|a| a.key_id.as_deref()).unwrap_or("-"),
        payload.len(),
        String::from_utf8_lossy(&payload[..payload.len().min(200)]),
    );
    "accepted\n"
}

/// The router. `audit` records every route's requests.
pub fn app(config: &Config, audit: AuditLayer) -> Result<Router, BoxError> {
    let mut allow = IpFilterLayer::new().allow(&config.allow_ips)?;
    if let Some(proxies) = &config.trusted_proxies {
        // Behind these proxies the client is the address they forward.
        allow = allow.trust_proxies(proxies)?;
    }
    let store = store(config)?;
    let remember = |layer: IdempotencyLayer| layer.with_shared_store(Arc::clone(&store));
    let route = |stack: WebhookStack| -> Result<_, BoxError> {
        let layer = stack
            .ip_filter(allow.clone())
            .audit(audit.clone())
            .build()?;
        Ok(any(handle).layer(layer))
    };
    // Each bundle with the shared store: `.idempotency(...)` replaces the
    // bundle's own (same keys, other store).
    let bundle = |stack: WebhookStack| route(stack.idempotency(remember(IdempotencyLayer::new())));

    let github = bundle(WebhookStack::github(secret(&config.github)?))?;
    let gitlab = route(
        WebhookStack::new()
            .token(
                TokenLayer::header(HeaderName::from_static("x-gitlab-token"))
                    .accept("gitlab", secret(&config.gitlab)?),
            )
            .idempotency(remember(
                IdempotencyLayer::from_unsigned_header(HeaderName::from_static("idempotency-key"))
                    .or_unsigned_header(HeaderName::from_static("x-gitlab-event-uuid")),
            )),
    )?;
    let stripe = bundle(WebhookStack::stripe(secret(&config.stripe)?))?;
    // Slack's first request, when the Request URL is saved, is a signed
    // url_verification without `event_id`: the bundle answers it.
    let slack = bundle(WebhookStack::slack(secret(&config.slack)?))?;
    let standard = bundle(WebhookStack::standard_webhooks(Secret::from_whsec(
        &config.standard.value,
    )?))?;
    let shopify = bundle(WebhookStack::shopify(secret(&config.shopify)?))?;
    let zoom = bundle(WebhookStack::zoom(secret(&config.zoom)?))?;
    let twitch = bundle(WebhookStack::twitch(secret(&config.twitch)?))?;
    let meta = bundle(WebhookStack::meta(
        secret(&config.meta)?,
        secret(&config.meta_verify_token)?,
    ))?;
    // Dropbox notifications repeat the same body: no idempotency.
    let dropbox = route(WebhookStack::dropbox(secret(&config.dropbox)?))?;
    let timestamped = route(
        WebhookStack::new()
            .signature(SignatureLayer::preset(
                "timestamped",
                &config.timestamped.value,
            )?)
            .replay(ReplayLayer::signed_timestamp())
            // No delivery id in this scheme: the key is a digest of the
            // signed message, timestamp included.
            .idempotency(remember(IdempotencyLayer::new())),
    )?;

    // Tenants: `acme` signs like GitHub with its own secret; `legacy-co`
    // has no policy yet and keeps the shared legacy token.
    let tenants = StaticTenants::new()
        .with_policy(
            "acme",
            WebhookStack::new()
                .signature(SignatureLayer::github(secret(&config.acme)?))
                .into_tenant_policy()?,
        )
        .with_legacy("legacy-co");
    let legacy = WebhookStack::new()
        .token(
            TokenLayer::header(HeaderName::from_static("x-webhook-token"))
                .accept("legacy", secret(&config.legacy_token)?),
        )
        .into_tenant_policy()?;
    let tenant_layer =
        TenantLayer::new(TenantKey::PathAfter("/tenants".into()), tenants).legacy_policy(legacy);
    // Audit and allowlist outside the tenant's own checks; idempotency
    // inside them, so only a verified delivery can claim its id.
    let outer = WebhookStack::new()
        .ip_filter(allow.clone())
        .audit(audit.clone())
        .build()?;
    let tenant_route = post(handle).layer(
        tower::ServiceBuilder::new()
            .layer(outer)
            .layer(tenant_layer)
            // Signed deliveries (acme) are keyed on what the signature
            // covers; token senders (legacy-co) on their delivery header.
            .layer(remember(
                IdempotencyLayer::new()
                    .or_unsigned_header(HeaderName::from_static("x-delivery-id")),
            )),
    );

    Ok(Router::new()
        .route("/github", github)
        .route("/gitlab", gitlab)
        .route("/stripe", stripe)
        .route("/slack", slack)
        .route("/standard", standard)
        .route("/shopify", shopify)
        .route("/zoom", zoom)
        .route("/twitch", twitch)
        .route("/meta", meta)
        .route("/dropbox", dropbox)
        .route("/timestamped", timestamped)
        .route("/tenants/{tenant}", tenant_route))
}

/// One ready-to-paste shell line per route that sends a correctly signed
/// delivery (signed by the `tower-webhook sign` command).
pub fn curl_lines(config: &Config, addr: SocketAddr) -> Vec<(&'static str, String)> {
    let base = format!("http://{addr}");
    let signed = |path: &str, scheme: &str, setting: &Setting, body: &str, extra: &str| {
        format!(
            "BODY='{body}'; printf %s \"$BODY\" | cargo run -q --features cli -- sign --scheme {scheme} \
             --secret {secret} | curl -sS -i {base}{path} -H @- -H 'Content-Type: application/json'{extra} \
             --data-binary \"$BODY\"",
            secret = setting.in_shell(),
        )
    };
    let token = |path: &str, header: &str, setting: &Setting, body: &str, extra: &str| {
        format!(
            "curl -sS -i {base}{path} -H \"{header}: {}\" -H 'Content-Type: application/json'{extra} \
             --data-binary '{body}'",
            setting.in_shell().trim_matches(|c| c == '\'' || c == '"'),
        )
    };
    vec![
        (
            "/github",
            signed(
                "/github",
                "github",
                &config.github,
                r#"{"zen":"Keep it logically awesome."}"#,
                " -H 'X-GitHub-Delivery: demo-1'",
            ),
        ),
        (
            "/gitlab",
            token(
                "/gitlab",
                "X-Gitlab-Token",
                &config.gitlab,
                r#"{"object_kind":"push"}"#,
                " -H 'Idempotency-Key: demo-1'",
            ),
        ),
        (
            "/stripe",
            signed(
                "/stripe",
                "stripe",
                &config.stripe,
                r#"{"id":"evt_demo_1","type":"invoice.paid"}"#,
                "",
            ),
        ),
        (
            "/slack",
            signed(
                "/slack",
                "slack",
                &config.slack,
                r#"{"type":"event_callback","event_id":"Ev_demo_1"}"#,
                "",
            ),
        ),
        (
            "/standard",
            signed(
                "/standard",
                "standard",
                &config.standard,
                r#"{"type":"user.created"}"#,
                "",
            ),
        ),
        (
            "/shopify",
            signed(
                "/shopify",
                "shopify",
                &config.shopify,
                r#"{"id":820982911946154508}"#,
                " -H 'X-Shopify-Webhook-Id: demo-1'",
            ),
        ),
        (
            "/zoom",
            signed(
                "/zoom",
                "zoom",
                &config.zoom,
                r#"{"event":"meeting.started","payload":{"object":{"id":"1"}}}"#,
                "",
            ),
        ),
        (
            "/twitch",
            signed(
                "/twitch",
                "twitch",
                &config.twitch,
                r#"{"subscription":{"type":"channel.follow"},"event":{"user_id":"1"}}"#,
                " -H 'Twitch-Eventsub-Message-Type: notification'",
            ),
        ),
        (
            "/meta",
            signed(
                "/meta",
                "meta",
                &config.meta,
                r#"{"object":"page","entry":[{"id":"1","time":1}]}"#,
                "",
            ),
        ),
        (
            "/dropbox",
            signed(
                "/dropbox",
                "dropbox",
                &config.dropbox,
                r#"{"list_folder":{"accounts":["dbid:demo"]}}"#,
                "",
            ),
        ),
        (
            "/timestamped",
            signed(
                "/timestamped",
                "timestamped",
                &config.timestamped,
                r#"{"event":"ping"}"#,
                "",
            ),
        ),
        (
            "/tenants/acme",
            signed(
                "/tenants/acme",
                "github",
                &config.acme,
                r#"{"ticket":42}"#,
                " -H 'X-Delivery-Id: demo-1'",
            ),
        ),
        (
            "/tenants/legacy-co",
            token(
                "/tenants/legacy-co",
                "X-Webhook-Token",
                &config.legacy_token,
                r#"{"ticket":7}"#,
                " -H 'X-Delivery-Id: demo-1'",
            ),
        ),
    ]
}
