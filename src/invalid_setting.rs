//! Configuration that cannot be used, refused with an error instead of a
//! panic.
//!
//! The builders that take literals (`TokenLayer::header("X-Gitlab-Token")`)
//! panic on a value that is not valid, as `HeaderName::from_static` does: a
//! typo in code is a bug to find at start-up. Values read from a file, the
//! environment or a database go through the `try_` constructors instead,
//! which answer an [`InvalidSetting`]:
//!
//! ```
//! use tower_webhook::token::TokenLayer;
//! use tower_webhook::InvalidSetting;
//!
//! let configured = "X Bad Header"; // e.g. read from a policy file
//! let error = TokenLayer::try_header(configured).unwrap_err();
//! assert!(matches!(error, InvalidSetting::HeaderName { .. }));
//! assert_eq!(
//!     error.to_string(),
//!     "invalid token header name \"X Bad Header\": not an HTTP header name"
//! );
//! assert!(TokenLayer::try_header("X-Gitlab-Token").is_ok());
//! ```

use std::fmt;

use http::HeaderName;

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidSetting {
    /// Not an HTTP header name (a space, a colon, empty, ...).
    HeaderName {
        /// What the header was for (`token`, `replay timestamp`, ...).
        role: &'static str,
        /// The value given (at most 64 characters of it).
        name: String,
    },
    /// A `WWW-Authenticate` realm holding a `"`, a `\` or a byte that is not
    /// printable ASCII.
    Realm {
        /// The value given (at most 64 characters of it).
        realm: String,
    },
    /// A public URL (the one a provider signs) that is not an absolute
    /// `http`/`https` URL of the expected shape.
    PublicUrl {
        /// The value given (at most 64 characters of it).
        url: String,
        /// What is wrong with it.
        problem: &'static str,
    },
}

impl fmt::Display for InvalidSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidSetting::HeaderName { role, name } => {
                write!(
                    f,
                    "invalid {role} header name {name:?}: not an HTTP header name"
                )
            }
            InvalidSetting::Realm { realm } => write!(
                f,
                "invalid realm {realm:?}: must be printable ASCII without '\"' or '\\'"
            ),
            InvalidSetting::PublicUrl { url, problem } => {
                write!(f, "invalid public URL {url:?}: {problem}")
            }
        }
    }
}

impl std::error::Error for InvalidSetting {}

/// The longest piece of a refused value quoted in an [`InvalidSetting`].
const QUOTED: usize = 64;

fn quote(value: &str) -> String {
    value.chars().take(QUOTED).collect()
}

impl InvalidSetting {
    /// The public URL `url` refused for `problem`.
    pub(crate) fn public_url(url: &str, problem: &'static str) -> Self {
        InvalidSetting::PublicUrl {
            url: quote(url),
            problem,
        }
    }
}

/// Parse a header name as configuration gives it (any case: names are
/// compared lowercase), refusing what is not one. `role` says what the
/// header is for, in the error.
pub(crate) fn header_name(role: &'static str, name: &str) -> Result<HeaderName, InvalidSetting> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| InvalidSetting::HeaderName {
        role,
        name: quote(name),
    })
}

/// Check a realm for a `WWW-Authenticate` challenge.
pub(crate) fn check_realm(realm: &str) -> Result<(), InvalidSetting> {
    let printable = realm
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\');
    if printable {
        Ok(())
    } else {
        Err(InvalidSetting::Realm {
            realm: quote(realm),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn header_names_are_lowercased_and_empty_ones_refused() {
        let name = header_name("idempotency", "X-GitHub-Delivery").unwrap();
        assert_eq!(name, "x-github-delivery");
        assert!(header_name("idempotency", "").is_err());
    }

    proptest! {
        #[test]
        fn header_names_never_panic(name in ".{0,100}") {
            match header_name("token", &name) {
                Ok(parsed) => prop_assert_eq!(parsed.as_str(), name.to_ascii_lowercase()),
                Err(InvalidSetting::HeaderName { name: quoted, .. }) => {
                    prop_assert!(quoted.chars().count() <= QUOTED)
                }
                Err(other) => prop_assert!(false, "{other}"),
            }
        }

        #[test]
        fn realms_never_panic(realm in ".{0,100}") {
            let _ = check_realm(&realm);
        }
    }
}
