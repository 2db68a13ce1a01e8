//! Secrets sealed at rest: envelope encryption of tenant secrets (feature
//! `sealed`).
//!
//! A receiver with many tenants keeps their webhook secrets in a database.
//! Stored as they are, anyone who reads a backup, a replica or a query log
//! can forge deliveries for every tenant. Sealed, a row holds only
//! ciphertext; the key-encryption keys (KEKs) live elsewhere (a secrets
//! manager, the deployment's environment) and never in the database.
//!
//! * A [`SealedSecret`] is text, safe to store in any column:
//!   `tws1.<kek-id>.<base64url(nonce ‖ ciphertext ‖ tag)>`. The cipher is
//!   XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`) with a random
//!   24-byte nonce per seal, large enough that random nonces never repeat in
//!   practice.
//! * The ciphertext is bound to the KEK id and to a *context* (the tenant's
//!   name, say) as associated data: a sealed secret copied into another
//!   tenant's row, or relabelled with another KEK id, does not open
//!   ([`SealError::Refused`]).
//! * A [`KekRing`] holds the KEKs by id: one current, which seals, and older
//!   ones, which still open. Rotating a KEK is: add the new one as current
//!   (keeping the old one) on every replica, [`KekRing::reseal`] every row,
//!   then drop the old KEK. Deliveries are never refused on the way: every
//!   row opens with the ring at every step.
//! * Opened secrets are a [`Secret`]: zeroised when dropped, never printed.
//!   The KEKs are zeroised too, and no error carries key or secret bytes.
//!
//! ```
//! use tower_webhook::seal::{Kek, KekRing, SealedSecret};
//! use tower_webhook::Secret;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // In production: KekRing::from_env("TOWER_WEBHOOK_KEK"), whose value is
//! // `id:base64-key` entries, the current one first.
//! let ring = KekRing::new(Kek::generate("2026-06")?);
//! let sealed = ring.seal(&Secret::new("It's a Secret to Everybody")?, "acme")?;
//! assert!(sealed.as_str().starts_with("tws1.2026-06."));
//!
//! // What the database gives back, parsed and opened for that tenant.
//! let stored: SealedSecret = sealed.as_str().parse()?;
//! let secret = ring.open(&stored, "acme")?;
//! assert_eq!(secret.expose_str(), Some("It's a Secret to Everybody"));
//! // Copied into another tenant's row, it does not open.
//! assert!(ring.open(&stored, "globex").is_err());
//!
//! // A new KEK: seal with it, still open what the old one sealed.
//! let ring = ring.rotate(Kek::generate("2026-12")?)?;
//! let resealed = ring.reseal(&stored, "acme")?;
//! assert_eq!(resealed.kek_id(), "2026-12");
//! assert_eq!(ring.open(&resealed, "acme")?, secret);
//! # Ok(())
//! # }
//! ```
//!
//! The `tower-webhook` command seals, opens and reseals from the shell
//! (`tower-webhook seal --help`).

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::secret::Secret;

/// The version prefix of every sealed secret this crate writes.
pub(crate) const SEALED_PREFIX: &str = "tws1";

/// The environment variable the `tower-webhook` command reads KEKs from
/// when no option names a source.
pub const KEK_VARIABLE: &str = "TOWER_WEBHOOK_KEK";

/// The longest KEK id, in bytes: shorter than any key written as text (43
/// base64 characters), so a key typed where an id belongs is refused as an
/// id, never echoed as one.
pub(crate) const MAX_KEK_ID_LEN: usize = 32;

/// The longest sealed text parsed, in bytes: far above any webhook secret
/// (a 4 KiB PEM key seals to about 5.5 KiB), and a bound on what a
/// corrupted column can make the parser allocate.
pub(crate) const MAX_SEALED_LEN: usize = 16 * 1024;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Why sealing, opening or reading keys failed. No variant holds key or
/// secret bytes; KEK ids are not secret and are named.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealError {
    /// The text is not a sealed secret; says which part is wrong.
    Malformed(&'static str),
    /// The sealed secret names a KEK the ring does not hold (retired too
    /// early, or the ring of another deployment).
    UnknownKek(String),
    /// The sealed secret did not open with its KEK: another key under the
    /// same id, another context (copied from another tenant's row), or
    /// altered text.
    Refused,
    /// A KEK id is empty, longer than 32 bytes, or holds
    /// characters other than ASCII letters, digits, `-` and `_`. The id is
    /// not repeated: it may be a key written in the wrong place.
    InvalidKekId,
    /// A KEK is not 32 bytes given as base64 or as 64 hex digits.
    InvalidKek {
        /// The KEK's id.
        id: String,
    },
    /// A keyring entry is not `id:key` with a valid id.
    InvalidKekEntry {
        /// The entry's position, from 1.
        entry: usize,
    },
    /// Two KEKs in one ring have the same id.
    DuplicateKek(String),
    /// A keyring text or variable holds no KEK.
    NoKek,
    /// The environment variable holding the KEKs is not set (or not UTF-8).
    MissingVariable(String),
    /// The operating system's random number generator failed.
    Random,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::Malformed(what) => write!(f, "not a sealed secret: {what}"),
            SealError::UnknownKek(id) => write!(
                f,
                "the sealed secret names KEK `{id}`, which the keyring does not hold"
            ),
            SealError::Refused => f.write_str(
                "the sealed secret does not open: another key under its KEK id, another \
                 context (a secret sealed for another tenant), or altered text",
            ),
            SealError::InvalidKekId => write!(
                f,
                "a KEK id is not 1 to {MAX_KEK_ID_LEN} ASCII letters, digits, `-` or `_`"
            ),
            SealError::InvalidKek { id } => write!(
                f,
                "KEK `{id}` is not 32 bytes as base64 or 64 hex digits \
                 (make one with `openssl rand -base64 32`)"
            ),
            SealError::InvalidKekEntry { entry } => write!(
                f,
                "keyring entry {entry} is not `id:key` with an id of 1 to {MAX_KEK_ID_LEN} ASCII \
                 letters, digits, `-` or `_` (entries are separated by commas or lines)"
            ),
            SealError::DuplicateKek(id) => write!(f, "two KEKs have the id `{id}`"),
            SealError::NoKek => f.write_str("the keyring holds no KEK"),
            SealError::MissingVariable(name) => {
                write!(
                    f,
                    "the environment variable `{name}` is not set (or not UTF-8)"
                )
            }
            SealError::Random => f.write_str("the operating system's random generator failed"),
        }
    }
}

impl std::error::Error for SealError {}

/// One key-encryption key: 32 bytes and an id. Zeroised when dropped,
/// never printed.
pub struct Kek {
    id: Arc<str>,
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kek")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Kek {
    /// A KEK from its 32 bytes.
    pub fn from_bytes(id: &str, key: &[u8]) -> Result<Self, SealError> {
        check_kek_id(id)?;
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        if key.len() != KEY_LEN {
            return Err(SealError::InvalidKek { id: id.to_owned() });
        }
        bytes.copy_from_slice(key);
        Ok(Self {
            id: Arc::from(id),
            key: bytes,
        })
    }

    /// A KEK given as text: 64 hex digits, or base64 of 32 bytes (standard
    /// or URL-safe alphabet, padded or not), surrounding whitespace ignored.
    pub fn from_text(id: &str, text: &str) -> Result<Self, SealError> {
        check_kek_id(id)?;
        let text = text.trim();
        let invalid = || SealError::InvalidKek { id: id.to_owned() };
        // 64 hex digits also decode as base64 (to 48 bytes), so hex first.
        let decoded = if text.len() == 2 * KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text)
                .map(Zeroizing::new)
                .map_err(|_| invalid())?
        } else {
            [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(text).ok())
                .map(Zeroizing::new)
                .ok_or_else(invalid)?
        };
        Self::from_bytes(id, &decoded)
    }

    /// A new random KEK from the operating system.
    pub fn generate(id: &str) -> Result<Self, SealError> {
        check_kek_id(id)?;
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::fill(&mut *key).map_err(|_| SealError::Random)?;
        Ok(Self {
            id: Arc::from(id),
            key,
        })
    }

    /// The KEK's id, as written into every secret it seals.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key as standard base64, to store it where KEKs are kept.
    /// Handle with care: never log it.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(*self.key))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&(*self.key).into())
    }
}

fn check_kek_id(id: &str) -> Result<(), SealError> {
    let valid = !id.is_empty()
        && id.len() <= MAX_KEK_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(SealError::InvalidKekId)
    }
}

/// The KEKs a deployment knows, by id: the current one seals, every one
/// opens. Cloning shares the keys.
#[derive(Clone)]
pub struct KekRing {
    current: Arc<Kek>,
    keys: HashMap<Arc<str>, Arc<Kek>>,
}

impl fmt::Debug for KekRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&str> = self.keys.keys().map(|id| &**id).collect();
        ids.sort_unstable();
        f.debug_struct("KekRing")
            .field("current", &self.current.id())
            .field("ids", &ids)
            .finish()
    }
}

impl KekRing {
    /// A ring holding `current` alone.
    pub fn new(current: Kek) -> Self {
        let current = Arc::new(current);
        let keys = HashMap::from([(Arc::clone(&current.id), Arc::clone(&current))]);
        Self { current, keys }
    }

    /// Also open what `older` sealed (a KEK being retired).
    pub fn with_old(mut self, older: Kek) -> Result<Self, SealError> {
        if self.keys.contains_key(older.id()) {
            return Err(SealError::DuplicateKek(older.id().to_owned()));
        }
        let older = Arc::new(older);
        self.keys.insert(Arc::clone(&older.id), older);
        Ok(self)
    }

    /// Seal with `next` from now on; every KEK held so far still opens.
    pub fn rotate(mut self, next: Kek) -> Result<Self, SealError> {
        if self.keys.contains_key(next.id()) {
            return Err(SealError::DuplicateKek(next.id().to_owned()));
        }
        let next = Arc::new(next);
        self.keys.insert(Arc::clone(&next.id), Arc::clone(&next));
        self.current = next;
        Ok(self)
    }

    /// Forget the KEK `id` (once nothing sealed with it is left). The
    /// current KEK cannot be retired: `false` then, as for an unknown id.
    pub fn retire(&mut self, id: &str) -> bool {
        if id == self.current.id() {
            return false;
        }
        self.keys.remove(id).is_some()
    }

    /// A ring from text: `id:key` entries separated by commas or lines,
    /// the current KEK first; each key as [`Kek::from_text`] reads it.
    /// Blank lines and lines starting with `#` are skipped.
    ///
    /// ```
    /// use tower_webhook::seal::KekRing;
    ///
    /// // The new KEK first; the old one (hex) until every row is resealed.
    /// let ring = KekRing::parse(
    ///     "2026-12:9pT6bGq0J1hO2vQ9b0v5Y3Xc4K8pS7dL1nM2aB3cD4E=\n\
    ///      2026-06:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    /// )?;
    /// assert_eq!(ring.current_id(), "2026-12");
    /// assert_eq!(ring.ids().count(), 2);
    /// # Ok::<(), tower_webhook::seal::SealError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, SealError> {
        let entries = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .flat_map(|line| line.split(','))
            .map(str::trim)
            .filter(|entry| !entry.is_empty());
        let mut ring: Option<KekRing> = None;
        for (index, entry) in entries.enumerate() {
            let invalid = SealError::InvalidKekEntry { entry: index + 1 };
            let (id, key) = entry.split_once(':').ok_or_else(|| invalid.clone())?;
            let kek = Kek::from_text(id.trim(), key).map_err(|error| match error {
                SealError::InvalidKekId => invalid,
                other => other,
            })?;
            ring = Some(match ring {
                None => KekRing::new(kek),
                Some(ring) => ring.with_old(kek)?,
            });
        }
        ring.ok_or(SealError::NoKek)
    }

    /// A ring from the environment variable `name` (see
    /// [`parse`](Self::parse) for its form).
    pub fn from_env(name: &str) -> Result<Self, SealError> {
        let text = std::env::var(name)
            .map(Zeroizing::new)
            .map_err(|_| SealError::MissingVariable(name.to_owned()))?;
        Self::parse(&text)
    }

    /// The id of the KEK that seals.
    pub fn current_id(&self) -> &str {
        self.current.id()
    }

    /// Every KEK id the ring opens with.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(|id| &**id)
    }

    /// Seal `secret` with the current KEK, bound to `context` (the tenant's
    /// name, or `""`): opening needs the same context.
    pub fn seal(&self, secret: &Secret, context: &str) -> Result<SealedSecret, SealError> {
        seal_with(&self.current, secret.expose_secret(), context)
    }

    /// Open `sealed` with the KEK it names, for `context`.
    pub fn open(&self, sealed: &SealedSecret, context: &str) -> Result<Secret, SealError> {
        let kek = self
            .keys
            .get(sealed.kek_id())
            .ok_or_else(|| SealError::UnknownKek(sealed.kek_id().to_owned()))?;
        let payload = sealed.payload()?;
        let (nonce, ciphertext) = payload.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| SealError::Malformed("nonce"))?;
        let aad = associated_data(kek.id(), context);
        let plaintext = kek
            .cipher()
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SealError::Refused)?;
        Secret::new(&*plaintext).map_err(|_| SealError::Malformed("the sealed secret is empty"))
    }

    /// [`parse`](SealedSecret::from_str) and [`open`](Self::open) in one
    /// call: what a resolver does with a column's text.
    pub fn open_text(&self, sealed: &str, context: &str) -> Result<Secret, SealError> {
        self.open(&sealed.parse()?, context)
    }

    /// Open `sealed` with whichever KEK it names and seal it again with the
    /// current one (with a fresh nonce, even when that is the same KEK).
    pub fn reseal(&self, sealed: &SealedSecret, context: &str) -> Result<SealedSecret, SealError> {
        let secret = self.open(sealed, context)?;
        self.seal(&secret, context)
    }

    /// Whether `sealed` was sealed with another KEK than the current one.
    pub fn needs_reseal(&self, sealed: &SealedSecret) -> bool {
        sealed.kek_id() != self.current.id()
    }
}

/// What the AEAD authenticates besides the ciphertext: the format version,
/// the KEK id (so a sealed text relabelled with another id does not open)
/// and the context. KEK ids hold no NUL and the context comes last, so no
/// two (id, context) pairs give the same bytes.
fn associated_data(kek_id: &str, context: &str) -> Zeroizing<Vec<u8>> {
    let mut aad = Vec::with_capacity(SEALED_PREFIX.len() + kek_id.len() + context.len() + 2);
    aad.extend_from_slice(SEALED_PREFIX.as_bytes());
    aad.push(0);
    aad.extend_from_slice(kek_id.as_bytes());
    aad.push(0);
    aad.extend_from_slice(context.as_bytes());
    Zeroizing::new(aad)
}

fn seal_with(kek: &Kek, plaintext: &[u8], context: &str) -> Result<SealedSecret, SealError> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|_| SealError::Random)?;
    let aad = associated_data(kek.id(), context);
    let ciphertext = kek
        .cipher()
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        // Only a message beyond the cipher's 256 GiB limit fails.
        .map_err(|_| SealError::Malformed("the secret is too long to seal"))?;
    let mut payload = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    payload.extend_from_slice(&nonce);
    payload.extend_from_slice(&ciphertext);
    let text = format!(
        "{SEALED_PREFIX}.{}.{}",
        kek.id(),
        URL_SAFE_NO_PAD.encode(&payload)
    );
    if text.len() > MAX_SEALED_LEN {
        return Err(SealError::Malformed("the secret is too long to seal"));
    }
    Ok(SealedSecret {
        id_end: SEALED_PREFIX.len() + 1 + kek.id().len(),
        text,
    })
}

/// A sealed secret: `tws1.<kek-id>.<base64url(nonce ‖ ciphertext ‖ tag)>`,
/// as stored. Parse one with [`str::parse`]; it opens only with its KEK
/// and its context ([`KekRing::open`]).
///
/// Its text holds no secret, but it is printed in full only by
/// [`as_str`](Self::as_str) and `Display`; `Debug` shows the KEK id alone,
/// to keep logs short.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SealedSecret {
    text: String,
    /// Where the KEK id ends in `text`.
    id_end: usize,
}

impl SealedSecret {
    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The id of the KEK that sealed it.
    pub fn kek_id(&self) -> &str {
        self.text
            .get(SEALED_PREFIX.len() + 1..self.id_end)
            .unwrap_or_default()
    }

    /// Nonce, then ciphertext and tag. Checked when parsed, so failing here
    /// means nothing else than a malformed text.
    fn payload(&self) -> Result<Vec<u8>, SealError> {
        let encoded = self.text.get(self.id_end + 1..).unwrap_or_default();
        let payload = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| SealError::Malformed("the payload is not unpadded URL-safe base64"))?;
        if payload.len() <= NONCE_LEN + TAG_LEN {
            return Err(SealError::Malformed("the payload is too short"));
        }
        Ok(payload)
    }
}

impl FromStr for SealedSecret {
    type Err = SealError;

    /// Surrounding whitespace (a file's final newline) is ignored.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.len() > MAX_SEALED_LEN {
            return Err(SealError::Malformed("longer than MAX_SEALED_LEN"));
        }
        let rest = text
            .strip_prefix(SEALED_PREFIX)
            .and_then(|rest| rest.strip_prefix('.'))
            .ok_or(SealError::Malformed("it does not start with `tws1.`"))?;
        let (id, _) = rest
            .split_once('.')
            .ok_or(SealError::Malformed("no `.` after the KEK id"))?;
        check_kek_id(id).map_err(|_| SealError::Malformed("the KEK id is not valid"))?;
        let sealed = SealedSecret {
            id_end: SEALED_PREFIX.len() + 1 + id.len(),
            text: text.to_owned(),
        };
        sealed.payload()?;
        Ok(sealed)
    }
}

impl fmt::Display for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedSecret")
            .field("kek_id", &self.kek_id())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ring(id: &str, byte: u8) -> KekRing {
        KekRing::new(Kek::from_bytes(id, &[byte; KEY_LEN]).unwrap())
    }

    fn secret() -> Secret {
        Secret::new("It's a Secret to Everybody").unwrap()
    }

    #[test]
    fn seals_and_opens_for_the_same_context_only() {
        let ring = ring("k1", 7);
        let sealed = ring.seal(&secret(), "acme").unwrap();
        assert_eq!(ring.open(&sealed, "acme").unwrap(), secret());
        assert_eq!(ring.open(&sealed, "globex"), Err(SealError::Refused));
        assert_eq!(ring.open(&sealed, ""), Err(SealError::Refused));
        // Two seals of one secret differ (fresh nonces).
        assert_ne!(ring.seal(&secret(), "acme").unwrap(), sealed);
    }

    #[test]
    fn another_key_under_the_same_id_or_a_relabelled_id_is_refused() {
        let sealed = ring("k1", 7).seal(&secret(), "acme").unwrap();
        assert_eq!(ring("k1", 8).open(&sealed, "acme"), Err(SealError::Refused));
        // The same key under another id: the id is authenticated too.
        let relabelled: SealedSecret = sealed.as_str().replacen(".k1.", ".k2.", 1).parse().unwrap();
        assert_eq!(
            ring("k2", 7).open(&relabelled, "acme"),
            Err(SealError::Refused)
        );
        assert_eq!(
            ring("k3", 7).open(&sealed, "acme"),
            Err(SealError::UnknownKek("k1".into()))
        );
    }

    #[test]
    fn any_flipped_payload_character_is_refused_or_malformed() {
        let ring = ring("k1", 7);
        let sealed = ring.seal(&secret(), "acme").unwrap();
        let text = sealed.as_str();
        let start = text.rfind('.').unwrap() + 1;
        for at in start..text.len() {
            let mut bytes = text.as_bytes().to_vec();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(bytes).unwrap();
            match altered.parse::<SealedSecret>() {
                Ok(altered) => assert!(ring.open(&altered, "acme").is_err(), "at {at}"),
                Err(error) => assert!(matches!(error, SealError::Malformed(_))),
            }
        }
    }

    #[test]
    fn rotation_reseals_with_the_current_kek_and_retires_the_old_one() {
        let old = ring("old", 1);
        let sealed = old.seal(&secret(), "acme").unwrap();
        let mut ring = old
            .rotate(Kek::from_bytes("new", &[2; KEY_LEN]).unwrap())
            .unwrap();
        assert!(ring.needs_reseal(&sealed));
        let resealed = ring.reseal(&sealed, "acme").unwrap();
        assert_eq!(resealed.kek_id(), "new");
        assert!(!ring.needs_reseal(&resealed));
        assert!(!ring.retire("new"), "the current KEK stays");
        assert!(ring.retire("old"));
        assert_eq!(ring.open(&resealed, "acme").unwrap(), secret());
        assert_eq!(
            ring.open(&sealed, "acme"),
            Err(SealError::UnknownKek("old".into()))
        );
        assert_eq!(
            ring.rotate(Kek::from_bytes("new", &[3; KEY_LEN]).unwrap())
                .unwrap_err(),
            SealError::DuplicateKek("new".into())
        );
    }

    #[test]
    fn keyring_text_reads_base64_and_hex_with_the_current_kek_first() {
        let hex_key = "00".repeat(KEY_LEN);
        let b64_key = STANDARD.encode([9u8; KEY_LEN]);
        let ring = KekRing::parse(&format!("# comment\n a:{b64_key} , b:{hex_key}\n\n")).unwrap();
        assert_eq!(ring.current_id(), "a");
        let mut ids: Vec<_> = ring.ids().collect();
        ids.sort_unstable();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(KekRing::parse(" \n# x\n").unwrap_err(), SealError::NoKek);
        assert_eq!(
            KekRing::parse(&format!("a:{b64_key},nocolon")).unwrap_err(),
            SealError::InvalidKekEntry { entry: 2 }
        );
        assert_eq!(
            KekRing::parse("a:c2hvcnQ=").unwrap_err(),
            SealError::InvalidKek { id: "a".into() }
        );
        assert_eq!(
            KekRing::parse(&format!("a.b:{b64_key}")).unwrap_err(),
            SealError::InvalidKekEntry { entry: 1 }
        );
        // A key written where the id belongs is never echoed.
        let swapped = format!("{}:a", URL_SAFE_NO_PAD.encode([9u8; KEY_LEN]));
        let error = KekRing::parse(&swapped).unwrap_err();
        assert_eq!(error, SealError::InvalidKekEntry { entry: 1 });
        assert!(!error.to_string().contains(&swapped[..10]));
        assert_eq!(
            KekRing::parse(&format!("a:{b64_key},a:{hex_key}")).unwrap_err(),
            SealError::DuplicateKek("a".into())
        );
    }

    #[test]
    fn nothing_secret_is_printed() {
        let kek = Kek::from_bytes("k1", &[0x41; KEY_LEN]).unwrap();
        let encoded = kek.to_base64();
        let ring = KekRing::new(kek);
        let sealed = ring.seal(&secret(), "acme").unwrap();
        let printed = format!("{ring:?} {sealed:?}");
        assert!(!printed.contains("AAAA") && !printed.contains(encoded.as_str()));
        assert!(!printed.contains("Secret to"), "{printed}");
        let errors = [
            KekRing::parse(&format!("k:{}", &encoded[..20])).unwrap_err(),
            ring.open(&sealed, "globex").unwrap_err(),
        ];
        for error in errors {
            assert!(!error.to_string().contains(&encoded[..20]), "{error}");
        }
    }

    proptest! {
        #[test]
        fn parsing_and_opening_any_text_never_panics(text in ".{0,200}") {
            let ring = ring("k1", 7);
            if let Ok(sealed) = text.parse::<SealedSecret>() {
                let _ = ring.open(&sealed, "acme");
            }
            let _ = KekRing::parse(&text);
        }

        #[test]
        fn text_shaped_like_a_sealed_secret_never_panics(
            id in "[A-Za-z0-9_.-]{0,70}",
            payload in "[A-Za-z0-9_=+/.-]{0,120}",
        ) {
            let ring = ring("k1", 7);
            let text = format!("tws1.{id}.{payload}");
            match text.parse::<SealedSecret>() {
                Ok(sealed) => {
                    prop_assert_eq!(sealed.as_str(), text.as_str());
                    prop_assert!(ring.open(&sealed, "acme").is_err());
                }
                Err(error) => prop_assert!(matches!(error, SealError::Malformed(_))),
            }
        }

        #[test]
        fn any_secret_and_context_round_trip(
            secret in proptest::collection::vec(any::<u8>(), 1..256),
            context in ".{0,40}",
        ) {
            prop_assume!(!secret.iter().all(u8::is_ascii_whitespace));
            let ring = ring("k1", 7);
            let secret = Secret::new(&secret).unwrap();
            let sealed = ring.seal(&secret, &context).unwrap();
            let parsed: SealedSecret = sealed.as_str().parse().unwrap();
            prop_assert_eq!(ring.open(&parsed, &context).unwrap(), secret);
        }
    }
}
