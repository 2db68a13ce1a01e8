//! The storage contract behind the idempotency layer.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use http::StatusCode;

use crate::body::BoxError;

/// The future every [`IdempotencyStore`] method returns: boxed, so the trait
/// stays object safe and the layer can hold an `Arc<dyn IdempotencyStore>`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Where the idempotency layer remembers deliveries.
///
/// A key is in one of three states:
///
/// * **absent**: never seen, expired, or released after a failure;
/// * **started**: reserved by a request whose handler is running. The
///   reservation is a lease that the layer [renews](Self::renew) every third
///   of the lock TTL while the handler runs; each renewal advances the
///   holder's progress ([`Holder`]);
/// * **completed**: the handler finished; remembered for the completion TTL
///   with the [`StoredOutcome`].
///
/// Implementations must make [`reserve`](Self::reserve) atomic (two
/// concurrent reservations of an absent key: exactly one gets
/// [`Reservation::Acquired`]), and [`complete`](Self::complete) /
/// [`release`](Self::release) and [`renew`](Self::renew) must act only while
/// the key is still started with the caller's [`Token`] (fencing), so a
/// request whose lease was taken over cannot clobber the reservation of the
/// request that took over.
///
/// # No takeover on the store's clock
///
/// A started key must not lapse on the store's own clock after the lock
/// TTL: a store that is stopped (SIGSTOP, a VM pause) keeps its clock
/// running while nobody can renew anything, and on resume would hand a
/// live holder's delivery to a copy. Keep it for
/// ten lock TTLs (an hour at least) from its last renewal, which only collects keys
/// nobody asks about again. A holder is presumed dead by the *taker*, on the
/// taker's own clock: when it has watched the key make no progress for a lock
/// TTL while the store kept answering, the layer calls
/// [`take_over`](Self::take_over) with the [`Holder`] it watched.
///
/// Stores written before this rule need not change: the default
/// [`take_over`](Self::take_over) is a [`reserve`](Self::reserve), and such
/// a store frees a dead holder's key on its own clock as before (with the
/// stall described above).
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Reserve `key` if it is absent; otherwise report its state. `lock_ttl`
    /// is the layer's lock TTL (see the trait's documentation for how long
    /// the reservation is kept).
    fn reserve<'a>(&'a self, key: &'a str, lock_ttl: Duration) -> StoreFuture<'a, Reservation>;

    /// Mark the reservation held with `token` completed with `outcome`,
    /// remembered for `ttl`. Returns `false` (and changes nothing) if the key
    /// is reserved with another token or already completed.
    ///
    /// A store may also complete a key that is *absent* (its reservation
    /// was lost, e.g. a Redis restart without persistence, and nobody took
    /// over): the handler did run, and writing the completion keeps a late
    /// copy from running it again. The Redis store does; the in-memory store
    /// cannot lose a reservation it still holds, so it does not.
    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        outcome: StoredOutcome,
        ttl: Duration,
    ) -> StoreFuture<'a, bool>;

    /// Drop the reservation held with `token`, so a retry can run. Returns
    /// `false` (and changes nothing) if the key is no longer reserved with
    /// `token`.
    fn release<'a>(&'a self, key: &'a str, token: &'a Token) -> StoreFuture<'a, bool>;

    /// Keep the reservation held with `token` and advance its holder's
    /// progress, so that a replica watching the key sees its holder alive.
    /// Returns `false` (and changes nothing) if the key is no longer reserved
    /// with `token`: the lease is gone, and a copy may be running.
    fn renew<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        lock_ttl: Duration,
    ) -> StoreFuture<'a, bool>;

    /// Reserve `key` in place of `holder`, presumed dead: atomically, and
    /// only if the key is still started by exactly `holder` (same token, same
    /// progress; a renewal in between proves it alive). A key found absent is
    /// reserved as by [`reserve`](Self::reserve). Otherwise the key's state
    /// is reported and nothing changes.
    ///
    /// The default is [`reserve`](Self::reserve): for stores that still free
    /// a reservation on their own clock.
    fn take_over<'a>(
        &'a self,
        key: &'a str,
        holder: &'a Holder,
        lock_ttl: Duration,
    ) -> StoreFuture<'a, Reservation> {
        let _ = holder;
        self.reserve(key, lock_ttl)
    }

    /// Answer if the store is up. While a replica watches a key in flight it
    /// pings the store every sixth of the lock TTL: a holder is presumed dead
    /// only after a lock TTL in which the store kept answering promptly,
    /// since while it does not, nobody's renewals can land. The default
    /// answers at once (a store in process memory cannot stall).
    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// How long a store keeps a started key that is neither renewed nor
/// settled: ten lock TTLs, and at least an hour.
///
/// This is garbage collection, not a lease: holders are presumed dead by
/// the replicas that watch them (see [`IdempotencyStore`]), so the only keys
/// it frees are those nobody asked about again. A store stopped for longer
/// than this loses reservations as before.
pub(crate) fn reservation_retention(lock_ttl: Duration) -> Duration {
    lock_ttl.saturating_mul(10).max(Duration::from_secs(3600))
}

/// The state of a key as [`IdempotencyStore::reserve`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The key was absent and is now reserved by the caller.
    Acquired(Token),
    /// Another request holds the key right now.
    InFlight(Holder),
    /// The delivery was already handled.
    Completed(StoredOutcome),
}

/// Who holds a started key, as the store saw it: the reservation's token
/// and its progress, a number each renewal changes. Two sightings of the
/// same `Holder` mean no renewal landed in between; a replica that sees the
/// same one for a lock TTL of its own clock may
/// [take the key over](IdempotencyStore::take_over).
#[derive(Clone, PartialEq, Eq)]
pub struct Holder {
    token: Token,
    progress: u64,
}

impl Holder {
    /// The holder of a reservation made with `token`, at `progress` (any
    /// number that every renewal changes: a count, a deadline).
    pub fn new(token: Token, progress: u64) -> Self {
        Self { token, progress }
    }

    /// The holder's token.
    pub fn token(&self) -> &Token {
        &self.token
    }

    /// The holder's progress.
    pub fn progress(&self) -> u64 {
        self.progress
    }
}

impl fmt::Debug for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Holder")
            .field("progress", &self.progress)
            .finish_non_exhaustive()
    }
}

/// Proof of holding a reservation: unique per reservation, unguessable
/// across replicas.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Token(Repr);

/// The longest token kept without an allocation (the memory store's are 16
/// bytes): the token lives in every reservation the layer holds, so the
/// whole `Token` stays three words, like the `Box<str>` it replaced plus one.
const INLINE: usize = 22;

// One text has one representation (inline whenever it fits, zero-padded),
// so the derived equality and hash are those of the text.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl Token {
    /// A fresh random token (128 bits from the OS, hex).
    pub fn generate() -> Result<Self, StoreError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| StoreError::backend(e.to_string()))?;
        let mut text = [0u8; 32];
        hex::encode_to_slice(bytes, &mut text).map_err(StoreError::backend)?;
        Ok(Self::new(
            std::str::from_utf8(&text).map_err(StoreError::backend)?,
        ))
    }

    /// A token from a store's own representation. Up to 22 bytes are kept
    /// without an allocation.
    pub fn new(token: impl AsRef<str>) -> Self {
        let token = token.as_ref();
        if token.len() > INLINE {
            return Self(Repr::Heap(token.into()));
        }
        let mut bytes = [0u8; INLINE];
        bytes[..token.len()].copy_from_slice(token.as_bytes());
        Self(Repr::Inline {
            len: token.len() as u8,
            bytes,
        })
    }

    /// The token as text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Copied from a `str` whole, so always UTF-8.
            Repr::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Repr::Heap(text) => text,
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not a secret, but no reason to spread it around logs either.
        f.write_str("Token(..)")
    }
}

/// What is remembered about a completed delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredOutcome {
    status: StatusCode,
}

impl StoredOutcome {
    /// The handler answered with `status`.
    pub fn new(status: StatusCode) -> Self {
        Self { status }
    }

    /// The status the handler answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

/// The store could not answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed (connection refused, protocol error, ...).
    Backend(BoxError),
    /// The backend did not answer within the store's operation timeout.
    Timeout(Duration),
    /// The backend held a value this store did not write.
    Corrupt,
}

impl StoreError {
    /// Wrap a backend error.
    pub fn backend(error: impl Into<BoxError>) -> Self {
        StoreError::Backend(error.into())
    }

    /// The `error` label of the store-error metric.
    #[cfg(feature = "metrics")]
    fn label(&self) -> &'static str {
        match self {
            StoreError::Backend(_) => "backend",
            StoreError::Timeout(_) => "timeout",
            StoreError::Corrupt => "corrupt",
        }
    }

    /// Count this failure of store call `operation` (`reserve`, `renew`,
    /// `complete`, `release`) in the metrics (feature `metrics`).
    pub(crate) fn count(&self, operation: &'static str) {
        #[cfg(feature = "metrics")]
        crate::telemetry::record_store_error(operation, self.label());
        #[cfg(not(feature = "metrics"))]
        let _ = operation;
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Backend(error) => write!(f, "idempotency store failed: {error}"),
            StoreError::Timeout(after) => {
                write!(f, "idempotency store did not answer within {after:?}")
            }
            StoreError::Corrupt => f.write_str("idempotency store holds an unexpected value"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Backend(error) => Some(&**error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn a_token_is_its_text(a in ".{0,40}", b in ".{0,40}") {
            let (ta, tb) = (Token::new(&a), Token::new(&b));
            proptest::prop_assert_eq!(ta.as_str(), a.as_str());
            proptest::prop_assert_eq!(ta == tb, a == b);
            proptest::prop_assert_eq!(ta.clone(), Token::new(a.clone().into_boxed_str()));
        }
    }

    #[test]
    fn a_token_is_three_words() {
        assert_eq!(std::mem::size_of::<Token>(), 24);
    }

    #[test]
    fn generated_tokens_are_32_hex_digits_and_differ() {
        let (a, b) = (Token::generate().unwrap(), Token::generate().unwrap());
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
