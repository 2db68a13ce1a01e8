//! Receive GitHub webhooks, the whole program: `cargo run --example github`,
//! then point a GitHub webhook with the same secret at `/github` (or sign a
//! delivery with `tower-webhook sign --scheme github`).
use axum::{routing::post, Router};
use tower_webhook::{provider, Verification, WebhookStack};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("GITHUB_SECRET").unwrap_or("It's a Secret to Everybody".into());
    // Signature, idempotency on the delivery, GitHub's 25 MB cap, audit.
    let github = WebhookStack::from_provider(&provider::GITHUB, &secret)?.build()?;
    let app = Router::new().route("/github", post(handle).layer(github));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://127.0.0.1:3000/github");
    axum::serve(listener, app).await?;
    Ok(())
}

async fn handle(verification: Verification, body: bytes::Bytes) -> &'static str {
    let key = verification.authentication.and_then(|auth| auth.key_id);
    println!("verified with key {key:?}: {} bytes", body.len());
    "thanks"
}
