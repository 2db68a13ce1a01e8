//! A demo webhook receiver: one route per provider, every protection on.
//!
//! ```text
//! cargo run --example receiver
//! ```
//!
//! Serves on `127.0.0.1:3000` (`RECEIVER_ADDR` overrides; port 0 picks a
//! free one): `POST /github`, `/gitlab` (token), `/stripe`, `/slack`,
//! `/standard`, `/shopify`, `/timestamped` and `/tenants/{tenant}`
//! (`acme` signs, `legacy-co` still uses a static token). Secrets come from
//! `GITHUB_SECRET`, `GITLAB_TOKEN`, `STRIPE_SECRET`, `SLACK_SECRET`,
//! `STANDARD_SECRET` (`whsec_…`), `SHOPIFY_SECRET`, `TIMESTAMPED_SECRET`,
//! `TENANT_ACME_SECRET` and `TENANT_LEGACY_TOKEN`; each unset one is
//! generated and printed. A ready `curl` line per route follows.
//!
//! Every route allows only `ALLOW_IPS` (loopback by default), checks the
//! replay window where the scheme signs a timestamp, handles each delivery
//! id once, and writes one JSON audit line per request to stdout.

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
