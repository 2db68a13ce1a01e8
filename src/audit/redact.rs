//! Keeping URL tokens out of the audit trail.
//!
//! The query is never recorded. A token in a path segment
//! (`TokenLayer::path_after("hooks")` reading `/hooks/<token>`) is part of
//! the path, so the audit layer replaces that segment with
//! `<redacted>`: the token layers inside it mark the segments they
//! read (right token or wrong guess alike), and
//! [`AuditLayer::redact_path_segment`](super::AuditLayer::redact_path_segment)
//! / [`redact_path_after`](super::AuditLayer::redact_path_after) name them
//! up front, for requests refused before a token layer looked (an IP filter,
//! an unknown tenant).

use std::sync::Arc;

use crate::path::segments;

/// What a redacted path segment reads as in audit events.
pub(crate) const REDACTED_SEGMENT: &str = "<redacted>";

/// Where a path segment holding a token is, as configured on the audit layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretSegment {
    At(usize),
    After(Arc<str>),
}

impl SecretSegment {
    pub(crate) fn index(&self, path: &str) -> Option<usize> {
        match self {
            SecretSegment::At(index) => Some(*index),
            SecretSegment::After(prefix) => {
                segments(path).position(|s| s == &**prefix).map(|at| at + 1)
            }
        }
    }
}

/// `path` with the segments at `indices` replaced by `<redacted>`
/// (empty segments stay empty: there is nothing to hide).
pub(crate) fn redact(path: &str, indices: &[usize]) -> String {
    if indices.is_empty() {
        return path.to_owned();
    }
    let (lead, rest) = match path.strip_prefix('/') {
        Some(rest) => ("/", rest),
        None => ("", path),
    };
    let mut out = String::with_capacity(path.len());
    out.push_str(lead);
    for (i, segment) in rest.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if indices.contains(&i) && !segment.is_empty() {
            out.push_str(REDACTED_SEGMENT);
        } else {
            out.push_str(segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_only_the_marked_segments() {
        assert_eq!(redact("/hooks/s3cret/push", &[1]), "/hooks/<redacted>/push");
        assert_eq!(redact("/hooks/s3cret", &[0, 1]), "/<redacted>/<redacted>");
        assert_eq!(redact("/hooks/", &[1]), "/hooks/");
        assert_eq!(redact("/hooks", &[5]), "/hooks");
        assert_eq!(redact("/a/b", &[]), "/a/b");
    }

    proptest::proptest! {
        #[test]
        fn a_marked_segment_never_survives(
            segs in proptest::collection::vec("[a-z0-9%]{0,8}", 1..6),
            index in 0usize..6,
        ) {
            let path = format!("/{}", segs.join("/"));
            let redacted = redact(&path, &[index]);
            if let Some(secret) = segs.get(index).filter(|s| !s.is_empty()) {
                let kept: Vec<&str> = redacted.strip_prefix('/').unwrap_or(&redacted).split('/').collect();
                proptest::prop_assert_ne!(kept[index], secret.as_str());
                proptest::prop_assert_eq!(kept.len(), segs.len());
            } else {
                proptest::prop_assert_eq!(redacted, path);
            }
        }
    }
}
