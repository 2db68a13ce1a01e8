//! Secrets that never print and never linger.
//!
//! [`Secret`] holds key bytes. Its `Debug` and `Display` print
//! `Secret(<redacted>)`, its memory is zeroised on drop, and an empty secret
//! cannot be built: a receiver that wants no verification says so with a
//! method whose name says it (see the token and signature layers).
//!
//! Providers show secrets in different forms; build each as its provider
//! uses it:
//!
//! ```
//! use tower_webhook::Secret;
//!
//! // Most HMAC providers (GitHub, Slack, Shopify, Stripe's `whsec_…`): the
//! // string's bytes, verbatim.
//! let github = Secret::new("It's a Secret to Everybody")?;
//!
//! // Standard Webhooks / Svix: base64 after the `whsec_` prefix.
//! let standard = Secret::from_whsec("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! assert_eq!(standard.expose_secret().len(), 24);
//!
//! // A fresh secret to hand to a sender: 256 bits from the OS, printable.
//! let fresh = Secret::generate();
//! assert!(fresh.check_strength().is_ok());
//! assert_eq!(format!("{fresh:?}"), "Secret(<redacted>)");
//!
//! // User-chosen secrets can be checked.
//! let weak = Secret::new("password123").unwrap();
//! assert!(weak.check_strength().is_err());
//! # Ok::<(), tower_webhook::secret::SecretError>(())
//! ```

pub(crate) mod digest;
mod shared;
mod token_set;

pub use shared::SharedSecret;
pub use token_set::TokenSet;

use std::fmt;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use zeroize::Zeroizing;

/// The prefix Standard Webhooks and Svix put before a base64 secret.
pub(crate) const WHSEC_PREFIX: &str = "whsec_";

/// Key material: redacted when printed, zeroised when dropped.
#[derive(Clone)]
pub struct Secret {
    bytes: Zeroizing<Vec<u8>>,
    /// Built by [`Secret::from_whsec`]: lets a scheme that uses its
    /// `whsec_…` text verbatim (Stripe) say so instead of never matching.
    from_whsec: bool,
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for Secret {}

/// Why a secret could not be built, or (from [`Secret::check_strength`])
/// is too weak to rely on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretError {
    /// The secret is empty. Use the layer's explicit no-verification method
    /// if that is really meant.
    Empty,
    /// The text is not valid base64 (after any `whsec_` prefix).
    InvalidBase64,
    /// The text is not an even number of hex digits (a key shown as hex,
    /// Adyen's).
    InvalidHex,
    /// The secret is only whitespace (usually an unset variable padded by
    /// a template). Slack's SDK refuses it too.
    Blank,
    /// The key is the `whsec_…` text of a Standard Webhooks, Svix or GitLab
    /// secret, but those providers key with the base64 bytes after
    /// `whsec_`: read it with [`Secret::from_whsec`].
    WhsecNotDecoded,
    /// The key was decoded with [`Secret::from_whsec`], but this provider
    /// (Stripe) keys with its whole `whsec_…` string verbatim: read it with
    /// [`Secret::new`].
    WhsecDecoded,
    /// Fewer than [`Secret::MIN_LEN`] bytes.
    TooShort {
        /// The secret's length in bytes.
        len: usize,
    },
    /// Too few distinct characters, or only one kind of character.
    LowVariety,
    /// Contains a common word such as `password` or `secret`.
    CommonWord(&'static str),
    /// A keyboard or counting sequence, or one pattern repeated.
    Sequence,
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretError::Empty => f.write_str("secret is empty"),
            SecretError::InvalidBase64 => f.write_str("secret is not valid base64"),
            SecretError::InvalidHex => f.write_str("secret is not valid hex"),
            SecretError::Blank => f.write_str("secret is only whitespace (an unset variable?)"),
            SecretError::WhsecNotDecoded => f.write_str(
                "secret is the `whsec_…` text itself, but Standard Webhooks, Svix and GitLab key \
                 with the base64 bytes after `whsec_`: use Secret::from_whsec (or the scheme's \
                 parse_key); Stripe is the provider that uses the text verbatim",
            ),
            SecretError::WhsecDecoded => f.write_str(
                "secret was decoded with Secret::from_whsec, but Stripe keys with its whole \
                 `whsec_…` string verbatim: use Secret::new (from_whsec is for Standard \
                 Webhooks, Svix and GitLab)",
            ),
            SecretError::TooShort { len } => write!(
                f,
                "secret is {len} bytes long; use at least {}",
                Secret::MIN_LEN
            ),
            SecretError::LowVariety => f.write_str("secret has too little character variety"),
            SecretError::CommonWord(word) => {
                write!(f, "secret contains the common word {word:?}")
            }
            SecretError::Sequence => f.write_str("secret is a sequence or a repeated pattern"),
        }
    }
}

impl std::error::Error for SecretError {}

const COMMON_WORDS: &[&str] = &[
    "password", "passwd", "secret", "webhook", "changeme", "letmein", "admin", "qwerty", "azerty",
    "welcome", "default", "example", "test", "dragon", "monkey", "iloveyou", "trustno1", "token",
];

const SEQUENCES: &[&str] = &[
    "0123456789",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
];

impl Secret {
    /// The shortest secret [`Secret::check_strength`] accepts, in bytes.
    pub const MIN_LEN: usize = 16;

    /// A secret whose key is these bytes, verbatim (a string's UTF-8 bytes).
    ///
    /// Empty ([`SecretError::Empty`]) and whitespace-only
    /// ([`SecretError::Blank`]) secrets are refused: both are almost always
    /// a missing configuration value, and would key a MAC anyone can compute.
    pub fn new(bytes: impl AsRef<[u8]>) -> Result<Self, SecretError> {
        let bytes = bytes.as_ref();
        if bytes.is_empty() {
            return Err(SecretError::Empty);
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(SecretError::Blank);
        }
        Ok(Self {
            bytes: Zeroizing::new(bytes.to_vec()),
            from_whsec: false,
        })
    }

    /// A secret given as base64 (standard or URL-safe alphabet, padded or not).
    pub fn from_base64(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        let decoded = [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .map(Zeroizing::new)
            .ok_or(SecretError::InvalidBase64)?;
        Self::new(&*decoded)
    }

    /// A secret given as hex digits (either case), decoded to its bytes:
    /// Adyen's HMAC key, which its libraries hex-decode before keying.
    pub fn from_hex(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SecretError::Empty);
        }
        let decoded = hex::decode(text)
            .map(Zeroizing::new)
            .map_err(|_| SecretError::InvalidHex)?;
        Self::new(&*decoded)
    }

    /// A Standard Webhooks / Svix secret: base64 after an optional `whsec_`.
    ///
    /// Stripe's secrets look the same but are used verbatim: give those to
    /// [`Secret::new`]. A Stripe layer refuses a key built here
    /// ([`SecretError::WhsecDecoded`]), and the Standard Webhooks presets
    /// refuse the undecoded text ([`SecretError::WhsecNotDecoded`]).
    pub fn from_whsec(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        let mut secret = Self::from_base64(text.strip_prefix(WHSEC_PREFIX).unwrap_or(text))?;
        secret.from_whsec = true;
        Ok(secret)
    }

    /// Whether this secret was read with [`Secret::from_whsec`].
    pub fn is_decoded_whsec(&self) -> bool {
        self.from_whsec
    }

    /// Whether the key bytes are the text of a `whsec_…` secret.
    pub fn is_whsec_text(&self) -> bool {
        self.bytes.starts_with(WHSEC_PREFIX.as_bytes())
    }

    /// A new random secret: 32 bytes from the operating system's RNG,
    /// encoded as 43 URL-safe base64 characters. The key is that printable
    /// text, so it works verbatim with every provider that uses the secret
    /// string's bytes; [`Secret::to_whsec`] gives the Standard Webhooks form.
    ///
    /// # Panics
    ///
    /// If the operating system has no usable random source, which leaves no
    /// safe way to continue.
    pub fn generate() -> Self {
        let mut raw = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut *raw).expect("the OS random number generator failed");
        let text = Zeroizing::new(URL_SAFE_NO_PAD.encode(*raw));
        Self {
            bytes: Zeroizing::new(text.as_bytes().to_vec()),
            from_whsec: false,
        }
    }

    /// The key bytes. Handle with care: never log them.
    pub fn expose_secret(&self) -> &[u8] {
        &self.bytes
    }

    /// The key as text, if it is UTF-8 (to show a generated secret to the
    /// operator once).
    pub fn expose_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok()
    }

    /// The Standard Webhooks form: `whsec_` + base64 of the key bytes.
    pub fn to_whsec(&self) -> String {
        format!("{WHSEC_PREFIX}{}", STANDARD.encode(&*self.bytes))
    }

    /// Whether the secret is strong enough to rely on: at least
    /// [`Secret::MIN_LEN`] bytes, enough distinct characters, no common word,
    /// no sequence. Meant for secrets people chose; generated and
    /// base64-decoded random keys pass.
    pub fn check_strength(&self) -> Result<(), SecretError> {
        let bytes = &*self.bytes;
        if bytes.len() < Self::MIN_LEN {
            return Err(SecretError::TooShort { len: bytes.len() });
        }
        let mut seen = [false; 256];
        bytes.iter().for_each(|&b| seen[usize::from(b)] = true);
        let distinct = seen.iter().filter(|&&s| s).count();
        if distinct < 8 {
            return Err(SecretError::LowVariety);
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            // Binary keys: length and variety are what can be judged.
            return Ok(());
        };
        let lower = text.to_ascii_lowercase();
        if let Some(word) = COMMON_WORDS.iter().find(|w| lower.contains(*w)) {
            return Err(SecretError::CommonWord(word));
        }
        if is_sequence(&lower) {
            return Err(SecretError::Sequence);
        }
        Ok(())
    }
}

/// Whether most of `text` is a run along a well-known sequence (forwards or
/// backwards) or a short pattern repeated.
fn is_sequence(text: &str) -> bool {
    let bytes = text.as_bytes();
    // A short unit repeated to fill the whole secret ("abcabcabc...").
    let repeated = (1..=bytes.len() / 2).any(|unit| {
        bytes
            .chunks(unit)
            .all(|chunk| bytes[..chunk.len()] == *chunk)
    });
    if repeated {
        return true;
    }
    // A run of 6+ characters taken from a sequence counts as a giveaway.
    const RUN: usize = 6;
    SEQUENCES.iter().any(|sequence| {
        let forward = sequence.as_bytes();
        let backward: Vec<u8> = forward.iter().rev().copied().collect();
        [forward, backward.as_slice()].iter().any(|seq| {
            seq.windows(RUN)
                .any(|run| bytes.windows(RUN).any(|window| window == run))
        })
    })
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_refused() {
        assert_eq!(Secret::new("").unwrap_err(), SecretError::Empty);
        assert_eq!(
            Secret::from_whsec("whsec_").unwrap_err(),
            SecretError::Empty
        );
    }

    #[test]
    fn blank_is_refused() {
        for blank in [" ", "\t", " \n \r\n "] {
            assert_eq!(
                Secret::new(blank).unwrap_err(),
                SecretError::Blank,
                "{blank:?}"
            );
        }
        assert!(Secret::new(" x ").is_ok());
    }

    #[test]
    fn whsec_decodes_base64() {
        let secret = Secret::from_whsec("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            hex::encode(secret.expose_secret()),
            "31f290f6bf06298aab4f08d43c3f082cf648a362da2da4b0"
        );
        assert_eq!(
            Secret::from_whsec("whsec_%%%").unwrap_err(),
            SecretError::InvalidBase64
        );
        let round = Secret::from_whsec(&secret.to_whsec()).unwrap();
        assert_eq!(round, secret);
    }

    #[test]
    fn never_printed() {
        let secret = Secret::new("hunter2-hunter2-hunter2").unwrap();
        assert!(!format!("{secret:?} {secret}").contains("hunter2"));
    }

    #[test]
    fn generated_secrets_are_distinct_printable_and_strong() {
        let a = Secret::generate();
        let b = Secret::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose_str().unwrap().len(), 43);
        assert_eq!(a.check_strength(), Ok(()));
    }

    #[test]
    fn weak_secrets_say_why() {
        let weak = |s: &str| Secret::new(s).unwrap().check_strength().unwrap_err();
        assert_eq!(weak("short"), SecretError::TooShort { len: 5 });
        assert_eq!(weak("aaaaaaaaaaaaaaaaaaaa"), SecretError::LowVariety);
        assert_eq!(
            weak("MyWebhookPassword!2024"),
            SecretError::CommonWord("password")
        );
        assert_eq!(weak("x9Abcdefghij#K7"), SecretError::TooShort { len: 15 });
        assert_eq!(weak("Zq!1234567890Lp#"), SecretError::Sequence);
        assert_eq!(weak("a1B2c3D4a1B2c3D4a1B2c3D4"), SecretError::Sequence);
        // Slack-style hex secrets are fine.
        assert_eq!(
            Secret::new("8f742231b10e8888abcd99yyyzzz85a5")
                .unwrap()
                .check_strength(),
            Ok(())
        );
    }
}
