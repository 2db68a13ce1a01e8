//! Print the headers a provider would send with a body, so you can curl a
//! signed request at your endpoint:
//!
//! ```text
//! cargo run --example sign -- --scheme github --secret "It's a Secret to Everybody" < body.json
//! X-Hub-Signature-256: sha256=…
//! ```
//!
//! `--timestamp` defaults to now, `--id` to a random `msg_…`; `--url` is
//! needed by the schemes that sign the URL (Twilio, Square, HubSpot).

use std::io::{self, Read, Write};
use std::process::ExitCode;

use tower_webhook::signature::{schemes, unix_now, Outgoing, Signer};
use tower_webhook::Secret;

fn usage() -> String {
    format!(
        "usage: sign --scheme <name> --secret <secret> [--timestamp <unix seconds>] [--id <id>] [--url <url>] < body\n\
         schemes: {}\n\
         The secret is given as the provider shows it (whsec_… for standard/svix, verbatim for stripe).",
        schemes::NAMES.join(", ")
    )
}

#[derive(Default)]
struct Args {
    scheme: Option<String>,
    secret: Option<String>,
    timestamp: Option<i64>,
    id: Option<String>,
    url: Option<String>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args::default();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--scheme" => parsed.scheme = Some(value),
            "--secret" => parsed.secret = Some(value),
            "--timestamp" => {
                let seconds = value
                    .parse()
                    .map_err(|_| format!("--timestamp must be Unix seconds, not `{value}`"))?;
                parsed.timestamp = Some(seconds);
            }
            "--id" => parsed.id = Some(value),
            "--url" => parsed.url = Some(value),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(parsed)
}

fn run() -> Result<(), String> {
    let args = parse(std::env::args().skip(1))?;
    let scheme = args.scheme.ok_or("--scheme is required")?;
    let secret = args.secret.ok_or("--secret is required")?;
    let signer = Signer::preset(&scheme, &secret).map_err(|error| error.to_string())?;
    let mut body = Vec::new();
    io::stdin()
        .read_to_end(&mut body)
        .map_err(|error| format!("reading the body from stdin: {error}"))?;
    let timestamp = args.timestamp.unwrap_or_else(unix_now);
    let id = args.id.unwrap_or_else(random_id);
    let mut outgoing = Outgoing::new(&body, timestamp, &id);
    if let Some(url) = &args.url {
        outgoing = outgoing.to_url(url);
    }
    let headers = signer.sign(&outgoing).map_err(|error| error.to_string())?;
    let mut stdout = io::stdout().lock();
    for (name, value) in headers {
        let value = value.to_str().map_err(|error| error.to_string())?;
        writeln!(stdout, "{}: {value}", display_name(name.as_str()))
            .map_err(|error| error.to_string())?;
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

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}\n{}", usage());
            ExitCode::from(2)
        }
    }
}
