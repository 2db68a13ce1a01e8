//! The demo receiver's application: one route per provider, each its
//! provider bundle (signature, the provider's replay window, idempotency on
//! its signed delivery id, payload cap, handshake) behind the IP allowlist,
//! and the audit trail. Shared by `examples/receiver.rs` and
//! `tests/cli/receiver.rs`.
#![allow(dead_code)]

use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::{any, post};
use axum::Router;
use bytes::Bytes;
use http::HeaderName;
use tower_webhook::audit::{AuditEvent, AuditLayer};
use tower_webhook::extract::Verified;
use tower_webhook::idempotency::{IdempotencyLayer, IdempotencyStore, MemoryStore};
use tower_webhook::inbox::{Delivery, Inbox, InboxLayer, Worker, WorkerHandle};
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::replay::ReplayLayer;
use tower_webhook::signature::{Outgoing, SignatureLayer, Signer};
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
    /// Answer at once and handle later (`INBOX`): `memory`, a SQLite file
    /// (`sqlite:<path>`, feature `inbox-sqlite`) or a Redis
    /// (`redis://…`, feature `redis`).
    pub inbox: Option<String>,
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
            inbox: non_empty_env("INBOX"),
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
            tower_webhook::idempotency::RedisStore::open(url)?.prefix("receiver:"),
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

/// The inbox `INBOX` names, if any.
pub async fn inbox(config: &Config) -> Result<Option<Arc<dyn Inbox>>, BoxError> {
    let Some(spec) = config.inbox.as_deref() else {
        return Ok(None);
    };
    if spec == "memory" {
        return Ok(Some(Arc::new(tower_webhook::inbox::MemoryInbox::new())));
    }
    if spec.starts_with("redis://") || spec.starts_with("rediss://") {
        #[cfg(feature = "redis")]
        return Ok(Some(Arc::new(
            tower_webhook::inbox::RedisInbox::connect_with_prefix(spec, "receiver:inbox").await?,
        )));
        #[cfg(not(feature = "redis"))]
        return Err(
            "INBOX is a Redis URL but the receiver was built without the `redis` feature".into(),
        );
    }
    let path = spec.strip_prefix("sqlite:").unwrap_or(spec);
    #[cfg(feature = "inbox-sqlite")]
    return Ok(Some(Arc::new(tower_webhook::inbox::SqliteInbox::open(
        path,
    )?)));
    #[cfg(not(feature = "inbox-sqlite"))]
    {
        let _ = path;
        Err("INBOX names a SQLite file but the receiver was built without the `inbox-sqlite` feature".into())
    }
}

/// A worker that prints what it processed.
pub fn printing_worker(inbox: Arc<dyn Inbox>) -> WorkerHandle {
    Worker::from_fn(inbox, |delivery: Delivery| async move {
        println!(
            "processed: provider={} tenant={} key={} attempt={} {} bytes: {}",
            delivery.provider.as_deref().unwrap_or("-"),
            delivery.tenant.as_deref().unwrap_or("-"),
            &delivery.key[..12],
            delivery.attempt,
            delivery.body.len(),
            String::from_utf8_lossy(&delivery.body[..delivery.body.len().min(200)]),
        );
        Ok::<_, std::convert::Infallible>(())
    })
    .spawn()
}

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

/// The router. `audit` records every route's requests; with an `inbox`,
/// verified deliveries go there (`202`) instead of to the handler.
pub fn app(
    config: &Config,
    audit: AuditLayer,
    inbox: Option<Arc<dyn Inbox>>,
) -> Result<Router, BoxError> {
    let mut allow = IpFilterLayer::new().allow(&config.allow_ips)?;
    if let Some(proxies) = &config.trusted_proxies {
        // Behind these proxies the client is the address they forward.
        allow = allow.trust_proxies(proxies)?;
    }
    let store = store(config)?;
    let remember = |layer: IdempotencyLayer| layer.shared_store(Arc::clone(&store));
    let route = |stack: WebhookStack| -> Result<_, BoxError> {
        let layer = stack
            .ip_filter(allow.clone())
            .audit(audit.clone())
            .build()?;
        Ok(match &inbox {
            // Only a forwarded handshake still reaches `handle`.
            Some(inbox) => any(handle).layer(
                tower::ServiceBuilder::new()
                    .layer(layer)
                    .layer(InboxLayer::new(Arc::clone(inbox))),
            ),
            None => any(handle).layer(layer),
        })
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
    let tenant_layers = tower::ServiceBuilder::new()
        .layer(outer)
        .layer(tenant_layer)
        // Signed deliveries (acme) are keyed on what the signature
        // covers; token senders (legacy-co) on their delivery header.
        .layer(remember(
            IdempotencyLayer::new().or_unsigned_header(HeaderName::from_static("x-delivery-id")),
        ));
    let tenant_route = match &inbox {
        Some(inbox) => post(handle).layer(tenant_layers.layer(InboxLayer::new(Arc::clone(inbox)))),
        None => post(handle).layer(tenant_layers),
    };

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

/// What the demo shows for one route: its path, what protects it, and a
/// ready `curl` command that sends it a correctly signed delivery.
pub struct RouteDemo {
    pub path: &'static str,
    pub what: String,
    pub command: String,
}

/// One route per line, with a `curl` command whose headers were signed
/// now: nothing to compile or install to run it. The replay windows accept
/// a signature for about five minutes; a second run is a duplicate.
pub fn demos(config: &Config, addr: SocketAddr, now: i64) -> Result<Vec<RouteDemo>, BoxError> {
    let base = format!("http://{addr}");
    let signed = |path: &'static str,
                  scheme: &str,
                  setting: &Setting,
                  body: &str,
                  extra: &[(&str, &str)]|
     -> Result<RouteDemo, BoxError> {
        let signer = Signer::preset(scheme, &setting.value)?;
        let mut headers: Vec<(String, String)> = Vec::new();
        for (name, value) in
            signer.delivery_headers(&Outgoing::new(body.as_bytes(), now, "demo-1"))?
        {
            headers.push((name.as_str().to_owned(), value.to_str()?.to_owned()));
        }
        for (name, value) in extra {
            if !headers
                .iter()
                .any(|(have, _)| have.eq_ignore_ascii_case(name))
            {
                headers.push(((*name).to_owned(), (*value).to_owned()));
            }
        }
        Ok(RouteDemo {
            path,
            what: format!("{scheme} signature ({})", origin(setting)),
            command: curl(&base, path, &headers, body),
        })
    };
    let token =
        |path: &'static str, header: &str, setting: &Setting, body: &str, extra: (&str, &str)| {
            let headers = [
                (header.to_owned(), setting.value.clone()),
                (extra.0.to_owned(), extra.1.to_owned()),
            ];
            RouteDemo {
                path,
                what: format!("token in {header} ({})", origin(setting)),
                command: curl(&base, path, &headers, body),
            }
        };
    Ok(vec![
        signed(
            "/github",
            "github",
            &config.github,
            r#"{"zen":"Keep it logically awesome."}"#,
            &[],
        )?,
        token(
            "/gitlab",
            "X-Gitlab-Token",
            &config.gitlab,
            r#"{"object_kind":"push"}"#,
            ("Idempotency-Key", "demo-1"),
        ),
        signed(
            "/stripe",
            "stripe",
            &config.stripe,
            r#"{"id":"evt_demo_1","type":"invoice.paid"}"#,
            &[],
        )?,
        signed(
            "/slack",
            "slack",
            &config.slack,
            r#"{"type":"event_callback","event_id":"Ev_demo_1"}"#,
            &[],
        )?,
        signed(
            "/standard",
            "standard",
            &config.standard,
            r#"{"type":"user.created"}"#,
            &[],
        )?,
        signed(
            "/shopify",
            "shopify",
            &config.shopify,
            r#"{"id":820982911946154508}"#,
            &[],
        )?,
        signed(
            "/zoom",
            "zoom",
            &config.zoom,
            r#"{"event":"meeting.started","payload":{"object":{"id":"1"}}}"#,
            &[],
        )?,
        signed(
            "/twitch",
            "twitch",
            &config.twitch,
            r#"{"subscription":{"type":"channel.follow"},"event":{"user_id":"1"}}"#,
            &[("Twitch-Eventsub-Message-Type", "notification")],
        )?,
        signed(
            "/meta",
            "meta",
            &config.meta,
            r#"{"object":"page","entry":[{"id":"1","time":1}]}"#,
            &[],
        )?,
        signed(
            "/dropbox",
            "dropbox",
            &config.dropbox,
            r#"{"list_folder":{"accounts":["dbid:demo"]}}"#,
            &[],
        )?,
        signed(
            "/timestamped",
            "timestamped",
            &config.timestamped,
            r#"{"event":"ping"}"#,
            &[],
        )?,
        signed(
            "/tenants/acme",
            "github",
            &config.acme,
            r#"{"ticket":42}"#,
            &[("X-Delivery-Id", "demo-1")],
        )?,
        token(
            "/tenants/legacy-co",
            "X-Webhook-Token",
            &config.legacy_token,
            r#"{"ticket":7}"#,
            ("X-Delivery-Id", "demo-1"),
        ),
    ])
}

/// Where a secret came from, for the route list (never the value).
fn origin(setting: &Setting) -> String {
    if setting.generated {
        format!("{}, generated", setting.env)
    } else {
        setting.env.to_owned()
    }
}

fn curl(base: &str, path: &str, headers: &[(String, String)], body: &str) -> String {
    let mut line = format!("curl -sS -i {base}{path}");
    for (name, value) in headers {
        line.push_str(&format!(" -H {}", shell_quote(&format!("{name}: {value}"))));
    }
    line.push_str(&format!(
        " -H 'Content-Type: application/json' --data-binary {}",
        shell_quote(body)
    ));
    line
}

/// `value` as one single-quoted shell word.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The file the demo writes: the generated secrets and a ready command per
/// route. It holds secrets, so only its owner may read it.
pub fn commands_file(config: &Config, addr: SocketAddr, demos: &[RouteDemo]) -> String {
    let mut text = format!(
        "#!/bin/sh\n\
         # The tower-webhook demo receiver on http://{addr}: its secrets, and one\n\
         # delivery per route signed at start-up. The replay windows accept those\n\
         # signatures for about five minutes (restart the receiver for fresh ones);\n\
         # sending one twice is acknowledged as a duplicate. Run one line, or all:\n\
         # sh <this file>\n\
         \n\
         # Secrets, as each provider's dashboard shows them:\n"
    );
    for setting in config.settings() {
        if setting.generated {
            text.push_str(&format!(
                "{}={}\n",
                setting.env,
                shell_quote(&setting.value)
            ));
        } else {
            text.push_str(&format!("# {}: from the environment\n", setting.env));
        }
    }
    for demo in demos {
        text.push_str(&format!(
            "\n# {}: {}\n{}\n",
            demo.path, demo.what, demo.command
        ));
    }
    text
}

/// How the demo prints audit events (`AUDIT_FORMAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditFormat {
    /// One readable line per event: only the fields that have a value.
    Text,
    /// One JSON object per line, without the fields that are `null` or
    /// `false`.
    Json,
}

impl AuditFormat {
    /// `AUDIT_FORMAT=json` or `text` (the default).
    pub fn from_env() -> Result<Self, BoxError> {
        match std::env::var("AUDIT_FORMAT").as_deref() {
            Err(_) | Ok("") | Ok("text") => Ok(AuditFormat::Text),
            Ok("json") => Ok(AuditFormat::Json),
            Ok(other) => Err(format!("AUDIT_FORMAT is `text` or `json`, not `{other}`").into()),
        }
    }

    /// The line printed for `event`.
    pub fn line(self, event: &AuditEvent) -> String {
        match self {
            AuditFormat::Text => text_line(event),
            AuditFormat::Json => compact_json(event),
        }
    }
}

/// `2026-12-01T13:34:15.123Z webhook.accepted 200 POST /github auth=signature key=default scheme=github client=127.0.0.1 id=… 412µs`:
/// the fields that have a value, quoted where they hold a space.
pub fn text_line(event: &AuditEvent) -> String {
    let mut line = format!(
        "{} {} {} {} {}",
        event.timestamp,
        event.event,
        event.status,
        event.method.as_ref().map_or("-", http::Method::as_str),
        event.path
    );
    let mut field = |name: &str, value: Option<&str>| {
        if let Some(value) = value {
            if value
                .chars()
                .any(|c| c.is_whitespace() || c == '"' || c.is_control())
            {
                line.push_str(&format!(" {name}={value:?}"));
            } else {
                line.push_str(&format!(" {name}={value}"));
            }
        }
    };
    field("reason", event.reason.map(|reason| reason.as_str()));
    field("answer", event.answer);
    field("detail", event.detail.as_deref());
    field("handshake", event.handshake);
    field("auth", event.auth_method);
    field("refused", event.auth_attempted);
    field("key", event.key_id.as_deref());
    field("scheme", event.scheme.as_deref());
    field("tenant", event.tenant.as_deref());
    field(
        "client",
        event.client_ip.map(|ip| ip.to_string()).as_deref(),
    );
    field("id", event.idempotency_key.as_deref());
    field("request_id", event.request_id.as_deref());
    field(
        "grpc_status",
        event.grpc_status.map(|s| s.to_string()).as_deref(),
    );
    field("service_error", event.service_error.then_some("true"));
    field("cancelled", event.cancelled.then_some("true"));
    line.push_str(&format!(" {}µs", event.latency_us));
    line
}

/// The event's JSON without its `null` and `false` fields, in the order
/// `AuditEvent::to_json` writes them (`event` first).
pub fn compact_json(event: &AuditEvent) -> String {
    let value = serde_json::to_value(event).unwrap_or_default();
    let Some(fields) = value.as_object() else {
        return event.to_json();
    };
    let kept =
        |field: &serde_json::Value| !field.is_null() && *field != serde_json::Value::Bool(false);
    let mut names: Vec<&String> = fields.keys().collect();
    // `to_value` sorts the names: put them back in the event's order.
    names.sort_by_key(|name| FIELD_ORDER.iter().position(|known| known == name));
    let parts: Vec<String> = names
        .into_iter()
        .filter(|name| kept(&fields[name.as_str()]))
        .map(|name| {
            format!(
                "{}:{}",
                serde_json::Value::from(name.as_str()),
                fields[name.as_str()]
            )
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// The order of `AuditEvent::to_json`'s fields.
const FIELD_ORDER: &[&str] = &[
    "event",
    "timestamp",
    "request_id",
    "outcome",
    "reason",
    "answer",
    "detail",
    "status",
    "grpc_status",
    "auth_method",
    "auth",
    "auth_attempted",
    "key_id",
    "scheme",
    "tenant",
    "client_ip",
    "idempotency_key",
    "method",
    "path",
    "latency_us",
    "service_error",
    "cancelled",
    "handshake",
];
