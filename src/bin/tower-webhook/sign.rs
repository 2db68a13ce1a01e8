//! `tower-webhook sign`: what a provider would send.

use std::io::{self, Write};

use tower_webhook::provider::mailgun;
use tower_webhook::signature::{Outgoing, Signer};
use tower_webhook::Secret;

use crate::args::{Help, SignOptions, UsageError};

/// Seconds since the Unix epoch, as a sender stamps a delivery.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

pub fn run(options: SignOptions, secret: &str, body: &[u8]) -> Result<(), UsageError> {
    let error = |message: String| UsageError::new(Help::Sign, message);
    let timestamp = options.timestamp.unwrap_or_else(unix_now);
    let id = options.id.clone().unwrap_or_else(random_id);
    if options.scheme == "mailgun" {
        return mailgun_body(&options, secret, body, timestamp, &id);
    }
    let signer = Signer::preset(&options.scheme, secret).map_err(|e| error(e.to_string()))?;
    let mut outgoing = Outgoing::new(body, timestamp, &id);
    if let Some(url) = &options.url {
        outgoing = outgoing.to_url(url);
    }
    let headers = if options.signature_only {
        signer.sign(&outgoing)
    } else {
        signer.delivery_headers(&outgoing)
    }
    .map_err(|e| error(e.to_string()))?;
    let mut stdout = io::stdout().lock();
    for (name, value) in headers {
        let value = value.to_str().map_err(|e| error(e.to_string()))?;
        writeln!(stdout, "{}: {value}", display_name(name.as_str()))
            .map_err(|e| error(format!("writing the headers: {e}")))?;
    }
    Ok(())
}

/// Mailgun signs `{timestamp}{token}` and sends the signature in the JSON
/// body, next to the event data: print that body (or, with
/// `--signature-only`, the `signature` object alone). The delivery id is
/// the token.
fn mailgun_body(
    options: &SignOptions,
    secret: &str,
    body: &[u8],
    timestamp: i64,
    token: &str,
) -> Result<(), UsageError> {
    let error = |message: String| UsageError::new(Help::Sign, message);
    let key = Secret::new(secret).map_err(|e| error(e.to_string()))?;
    let block = mailgun::signature_block(&key, timestamp, token);
    let printed = if options.signature_only {
        block
    } else {
        let event: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
            error(format!(
                "mailgun sends JSON: the body is its `event-data`, and is not JSON ({e})"
            ))
        })?;
        serde_json::json!({ "signature": block, "event-data": event })
    };
    writeln!(io::stdout().lock(), "{printed}").map_err(|e| error(format!("writing the body: {e}")))
}

/// `x-hub-signature-256` → `X-Hub-Signature-256` (names are case-insensitive;
/// this is only friendlier to read).
fn display_name(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn random_id() -> String {
    // A fresh secret is 32 random bytes as URL-safe base64: a fine id.
    let random = Secret::generate();
    let text = random.expose_str().unwrap_or_default();
    format!("msg_{}", text.get(..24).unwrap_or(text))
}
