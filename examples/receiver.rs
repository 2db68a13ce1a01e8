//! A demo webhook receiver: one route per provider, every protection on.
//!
//! ```text
//! cargo run --example receiver
//! ```
//!
//! Serves on `127.0.0.1:3000` (`RECEIVER_ADDR` overrides; port 0 picks a
//! free one): `/github`, `/gitlab` (token), `/stripe`, `/slack`,
//! `/standard`, `/shopify`, `/zoom`, `/twitch`, `/meta`, `/dropbox`,
//! `/timestamped` and `/tenants/{tenant}` (`acme` signs, `legacy-co` still
//! uses a static token). Secrets come from `GITHUB_SECRET`, `GITLAB_TOKEN`,
//! `STRIPE_SECRET`, `SLACK_SECRET`, `STANDARD_SECRET` (`whsec_…`),
//! `SHOPIFY_SECRET`, `ZOOM_SECRET`, `TWITCH_SECRET`, `META_APP_SECRET`,
//! `META_VERIFY_TOKEN`, `DROPBOX_SECRET`, `TIMESTAMPED_SECRET`,
//! `TENANT_ACME_SECRET` and `TENANT_LEGACY_TOKEN`; each unset one is
//! generated and printed. A ready `curl` line per route follows.
//!
//! Each provider route is its provider bundle: it answers the provider's
//! handshake (Slack `url_verification`, Zoom `endpoint.url_validation`,
//! Twitch's challenge, Meta's and Dropbox's verification `GET`), checks the
//! provider's replay window, and handles each delivery once. Every route
//! allows only `ALLOW_IPS` (loopback by default) and writes one JSON audit
//! line per request to stdout.
//!
//! * `TRUSTED_PROXIES` (a list of addresses/CIDRs): behind these reverse
//!   proxies, the allowlist checks the client they name in
//!   `X-Forwarded-For`.
//! * `REDIS_URL` (`redis://host:port/db`, feature `redis`): deliveries are
//!   remembered in Redis, so replicas share them.

#[path = "support/receiver.rs"]
mod receiver;

use std::error::Error;
use std::net::SocketAddr;

use tower_webhook::audit::{AuditLayer, JsonLinesSink};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let addr: SocketAddr = std::env::var("RECEIVER_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".to_owned())
        .parse()?;
    let config = receiver::Config::from_env();
    let audit = AuditLayer::without_sinks().sink(JsonLinesSink::new(std::io::stdout())?);
    let app = receiver::app(&config, audit)?;

    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    println!("listening on http://{local}");
    println!("allowed clients: {}", config.allow_ips);
    if let Some(proxies) = &config.trusted_proxies {
        println!("trusted proxies (X-Forwarded-For): {proxies}");
    }
    // The URL may hold a password: named, not printed.
    let store = if config.redis_url.is_some() {
        "Redis (REDIS_URL)"
    } else {
        "memory"
    };
    println!("idempotency store: {store}");
    for setting in config.settings() {
        if setting.generated {
            println!("{} (generated): {}", setting.env, setting.value);
        }
    }
    println!("\nsend a signed delivery (from the crate's directory):");
    for (route, line) in receiver::curl_lines(&config, local) {
        println!("# {route}\n{line}");
    }
    println!("\naudit (JSON lines) and deliveries follow:");

    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
