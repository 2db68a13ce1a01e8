//! One canonical form of a request path for every decision.
//!
//! Routers hand handlers percent-decoded segments (axum's `Path`), so a
//! layer that judged the raw path would see `/hooks/%61cme` and
//! `/hooks/acme` as two places while the handler sees one. Every layer that
//! decides on the path (the tenant name, the idempotency scope) reads it
//! through these functions.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// The segments of `path` as the URL parts count them (after the leading
/// `/`).
pub(crate) fn segments(path: &str) -> std::str::Split<'_, char> {
    path.strip_prefix('/').unwrap_or(path).split('/')
}

/// `raw` with every `%XX` escape decoded. A broken escape (`%zz`, a
/// trailing `%`) is kept as it is, which can only merge two spellings,
/// never split one.
pub(crate) fn percent_decoded(raw: &str) -> Cow<'_, [u8]> {
    percent_decode_str(raw).into()
}

/// `raw` decoded, as text: `None` when an escape is broken or the result
/// is not UTF-8, for decisions that must refuse what a router would.
pub(crate) fn percent_decoded_strict(raw: &str) -> Option<String> {
    if !escapes_are_whole(raw) {
        return None;
    }
    String::from_utf8(percent_decoded(raw).into_owned()).ok()
}

fn escapes_are_whole(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    bytes.iter().enumerate().all(|(at, &byte)| {
        byte != b'%'
            || bytes
                .get(at + 1..at + 3)
                .is_some_and(|pair| pair.iter().all(u8::is_ascii_hexdigit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_escapes_and_refuses_broken_ones_when_strict() {
        assert_eq!(&*percent_decoded("/hooks/%61cme"), b"/hooks/acme");
        assert_eq!(percent_decoded_strict("ac%6De").as_deref(), Some("acme"));
        assert_eq!(percent_decoded_strict("a%zz"), None);
        assert_eq!(percent_decoded_strict("a%4"), None);
        assert_eq!(percent_decoded_strict("%FF"), None);
        assert_eq!(&*percent_decoded("a%zz"), b"a%zz");
    }

    proptest! {
        #[test]
        fn encoding_any_byte_decodes_to_the_same_path(path in "/[a-z0-9/]{0,30}", at in 0usize..30) {
            // Escaping one more byte never changes the canonical form.
            prop_assume!(at < path.len());
            let byte = path.as_bytes()[at];
            let escaped = format!("{}%{:02X}{}", &path[..at], byte, &path[at + 1..]);
            prop_assert_eq!(percent_decoded(&escaped), percent_decoded(&path));
        }

        #[test]
        fn never_panics(raw in ".{0,64}") {
            let _ = percent_decoded(&raw);
            let _ = percent_decoded_strict(&raw);
        }
    }
}
