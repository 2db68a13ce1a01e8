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
//! uses a static token), and prints one line per route. Secrets come from
//! `GITHUB_SECRET`, `GITLAB_TOKEN`, `STRIPE_SECRET`, `SLACK_SECRET`,
//! `STANDARD_SECRET` (`whsec_…`), `SHOPIFY_SECRET`, `ZOOM_SECRET`,
//! `TWITCH_SECRET`, `META_APP_SECRET`, `META_VERIFY_TOKEN`,
//! `DROPBOX_SECRET`, `TIMESTAMPED_SECRET`, `TENANT_ACME_SECRET` and
//! `TENANT_LEGACY_TOKEN`; each unset one is generated.
//!
//! The generated secrets and a ready `curl` command per route (its headers
//! signed at start-up: nothing to compile) go to a file readable only by
//! you, `$TMPDIR/tower-webhook-receiver-<port>.sh` (`RECEIVER_COMMANDS`
//! overrides); `sh` it to send every route a delivery.
//!
//! Each provider route is its provider bundle: it answers the provider's
//! handshake (Slack `url_verification`, Zoom `endpoint.url_validation`,
//! Twitch's challenge, Meta's and Dropbox's verification `GET`), checks the
//! provider's replay window, and handles each delivery once. Every route
//! allows only `ALLOW_IPS` (loopback by default) and prints one audit line
//! per request: readable text, or JSON with `AUDIT_FORMAT=json`.
//!
//! * `TRUSTED_PROXIES` (a list of addresses/CIDRs): behind these reverse
//!   proxies, the allowlist checks the client they name in
//!   `X-Forwarded-For`.
//! * `REDIS_URL` (`redis://host:port/db`, feature `redis`): deliveries are
//!   remembered in Redis, so replicas share them.
//! * `INBOX`: answer `202` once the delivery is kept, and let a worker
//!   handle it (it prints `processed: …`): `memory`, `sqlite:<path>`
//!   (feature `inbox-sqlite`) or `redis://host:port/db` (feature `redis`).

#[path = "support/receiver.rs"]
mod receiver;

use std::error::Error;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use tower_webhook::audit::{AuditEvent, AuditLayer};

/// Seconds since the Unix epoch, as a sender stamps a delivery.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let addr: SocketAddr = std::env::var("RECEIVER_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".to_owned())
        .parse()?;
    let config = receiver::Config::from_env();
    let format = receiver::AuditFormat::from_env()?;
    let audit = AuditLayer::without_sinks().sink(move |event: &AuditEvent| {
        // One write per line, so lines of concurrent requests never mix.
        let line = format!("{}\n", format.line(event));
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    });
    let inbox = receiver::inbox(&config).await?;
    let app = receiver::app(&config, audit, inbox.clone())?;
    let worker = inbox.map(receiver::printing_worker);

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
    if worker.is_some() {
        // The value may be a URL with a password: named, not printed.
        println!("inbox (INBOX): deliveries are answered 202 and processed by a worker");
    }
    let demos = receiver::demos(&config, local, unix_now())?;
    println!("routes:");
    for demo in &demos {
        println!("  {:<20} {}", demo.path, demo.what);
    }
    let file = std::env::var_os("RECEIVER_COMMANDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("tower-webhook-receiver-{}.sh", local.port()))
        });
    write_private(&file, &receiver::commands_file(&config, local, &demos))?;
    println!(
        "secrets and a signed curl command per route: {} (sh it to send them all)",
        file.display()
    );
    let other = match format {
        receiver::AuditFormat::Text => "AUDIT_FORMAT=json for JSON",
        receiver::AuditFormat::Json => "AUDIT_FORMAT=text for text",
    };
    println!("audit lines ({other}) and deliveries follow:");

    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    // A server with its own signal handling would then call
    // `worker.shutdown().await`: finish or put back what it holds.
    drop(worker);
    Ok(())
}

/// Write `text` to `path`, readable and writable by its owner only: it
/// holds secrets.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    // An existing file keeps its mode on open: narrow it too.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(text.as_bytes())
}
