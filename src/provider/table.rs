//! The providers as one Markdown table, rendered from [`ALL`](super::ALL):
//! what `tower-webhook providers` prints and the README shows, so neither
//! can drift from the registry.

use std::fmt::Write as _;
use std::time::Duration;

use super::{Provider, ALL};

/// The registry as a Markdown table: each provider's name, what its
/// signature covers, whether its scheme is verified on examples the
/// provider published, its handshake, its timestamp tolerance and its retry
/// horizon.
///
/// ```
/// let table = tower_webhook::provider::markdown_table();
/// assert!(table.lines().any(|line| line.starts_with("| `stripe` |")));
/// ```
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| provider | signs | vectors | handshake | tolerance | retry horizon |\n\
         |---|---|---|---|---|---|\n",
    );
    for provider in ALL {
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            provider.name,
            cell(provider.signed),
            if provider.vectors.is_verified() {
                "verified"
            } else {
                "**unverified**"
            },
            if provider.handshake.is_some() {
                "answered"
            } else {
                "—"
            },
            tolerance(provider),
            provider
                .retry_horizon
                .map_or_else(|| "—".to_owned(), duration),
        );
    }
    out
}

/// A table cell: a `|` would end it.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn tolerance(provider: &Provider) -> String {
    if provider.body_timestamp.is_some() {
        return "in the signed body".to_owned();
    }
    let scheme = (provider.scheme)();
    if !scheme.signs_timestamp() {
        return "no signed timestamp".to_owned();
    }
    match scheme.tolerance() {
        Some(t) => match (t.past, t.future) {
            (Some(past), Some(future)) if past == future => format!("± {}", duration(past)),
            (Some(past), None) => format!("{}, past only", duration(past)),
            (Some(past), Some(future)) => {
                format!("{} past, {} ahead", duration(past), duration(future))
            }
            (None, _) => "undocumented".to_owned(),
        },
        None => "undocumented".to_owned(),
    }
}

/// `3 d`, `4 h`, `1 h 25 min`, `27 h 35 min 5 s`.
fn duration(span: Duration) -> String {
    let secs = span.as_secs();
    if secs > 0 && secs.is_multiple_of(86_400) {
        return format!("{} d", secs / 86_400);
    }
    let parts = [
        (secs / 3600, "h"),
        (secs % 3600 / 60, "min"),
        (secs % 60, "s"),
    ];
    let text: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect();
    if text.is_empty() {
        "0 s".to_owned()
    } else {
        text.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::duration;
    use std::time::Duration;

    #[test]
    fn durations_read_as_written_in_the_docs() {
        for (secs, text) in [
            (259_200, "3 d"),
            (14_400, "4 h"),
            (5_100, "1 h 25 min"),
            (99_305, "27 h 35 min 5 s"),
            (300, "5 min"),
            (5, "5 s"),
        ] {
            assert_eq!(duration(Duration::from_secs(secs)), text);
        }
    }
}
