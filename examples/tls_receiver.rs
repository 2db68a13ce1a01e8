//! A webhook receiver over HTTPS (rustls, a self-signed certificate made at
//! start).
//!
//! Webhook credentials belong on HTTPS only. A static token, a Basic
//! credential or a token in the URL sent over plain HTTP is readable by
//! anyone on the network path, who can then send their own deliveries. A
//! signature keeps the secret off the wire and protects the payload's
//! integrity, but not its confidentiality: the payload and the delivery
//! metadata (event, ids, timestamps) are still exposed, and a signed
//! request captured in transit can be replayed as is; the replay window and
//! idempotency only narrow that, TLS stops the capture.
//!
//! ```text
//! cargo run --example tls_receiver
//! ```
//!
//! Serves `POST /hook` on `https://127.0.0.1:3443` (`RECEIVER_ADDR`
//! overrides), writes the certificate's PEM to a temporary file and prints
//! a `curl` line that trusts it.

#[path = "support/tls.rs"]
mod tls;

use std::error::Error;
use std::net::{IpAddr, SocketAddr};

use tokio::net::TcpListener;
use tower_webhook::Secret;

const DEFAULT_ADDR: &str = "127.0.0.1:3443";

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let addr: SocketAddr = std::env::var("RECEIVER_ADDR")
        .unwrap_or_else(|_| DEFAULT_ADDR.to_owned())
        .parse()?;

    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    if !addr.ip().is_unspecified() && !addr.ip().is_loopback() {
        names.push(addr.ip().to_string());
    }
    let certificate = tls::self_signed(&names)?;
    let pem_path = std::env::temp_dir().join(format!(
        "tower-webhook-tls-receiver-{}.pem",
        std::process::id()
    ));
    std::fs::write(&pem_path, &certificate.cert_pem)?;

    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let host = match local.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    };
    let (secret, shown) = match std::env::var("GITHUB_SECRET") {
        Ok(secret) if !secret.is_empty() => (secret, "\"$GITHUB_SECRET\"".to_owned()),
        _ => {
            let secret = Secret::generate()
                .expose_str()
                .unwrap_or_default()
                .to_owned();
            println!("GITHUB_SECRET (generated): {secret}");
            let shown = format!("'{secret}'");
            (secret, shown)
        }
    };
    println!("serving https://{local}/hook (GitHub signatures, loopback clients)");
    println!("certificate (PEM): {}", pem_path.display());
    println!(
        "BODY='{{\"zen\":\"Keep it logically awesome.\"}}'; printf %s \"$BODY\" | \
         cargo run -q --features cli -- sign --scheme github --secret {shown} | \
         curl -sS -i --cacert {pem} https://{host}:{port}/hook -H @- \
         -H 'Content-Type: application/json' -H \"X-GitHub-Delivery: $(date +%s%N)\" \
         --data-binary \"$BODY\"",
        pem = pem_path.display(),
        port = local.port(),
    );

    tls::serve(
        listener,
        certificate.config,
        tls::receiver(Secret::new(secret)?),
    )
    .await;
    Ok(())
}
