//! `tower-webhook sign`: the headers a provider would send.

use std::io::{self, Write};

use tower_webhook::signature::{unix_now, Outgoing, Signer};
use tower_webhook::Secret;

use crate::args::{Help, SignOptions, UsageError};

pub fn run(options: SignOptions, secret: &str, body: &[u8]) -> Result<(), UsageError> {
    let error = |message: String| UsageError::new(Help::Sign, message);
    let signer = Signer::preset(&options.scheme, secret).map_err(|e| error(e.to_string()))?;
    let timestamp = options.timestamp.unwrap_or_else(unix_now);
    let id = options.id.unwrap_or_else(random_id);
    let mut outgoing = Outgoing::new(body, timestamp, &id);
    if let Some(url) = &options.url {
        outgoing = outgoing.to_url(url);
    }
    let headers = signer.sign(&outgoing).map_err(|e| error(e.to_string()))?;
    let mut stdout = io::stdout().lock();
    for (name, value) in headers {
        let value = value.to_str().map_err(|e| error(e.to_string()))?;
        writeln!(stdout, "{}: {value}", display_name(name.as_str()))
            .map_err(|e| error(format!("writing the headers: {e}")))?;
    }
    Ok(())
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
