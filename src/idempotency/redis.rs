//! A store shared by replicas, in Redis.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Client;

use super::store::{IdempotencyStore, Reservation, StoreError, StoreFuture, StoredOutcome, Token};

const STARTED: &str = "S:";
const COMPLETED: &str = "C:";

// Both scripts act only while the key still holds this request's
// reservation: a request whose lock expired cannot clobber its successor.
// They are sent with EVAL, not EVALSHA: a few hundred bytes more, but no
// NOSCRIPT round trip after a Redis restart, and a release queued behind a
// stalled reservation (see `reserve`) runs as sent.
const COMPLETE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
";

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
";

/// An [`IdempotencyStore`] in Redis (7.0 or later), for receivers running
/// as several replicas.
///
/// * Reservation is one atomic `SET key "S:<token>" NX PX <lock ttl> GET`:
///   it either creates the key or returns what is there.
/// * Completion and release are Lua scripts that act only if the key still
///   holds the caller's token; completion stores `C:<status>` for the TTL.
/// * The connection is a [`ConnectionManager`], which reconnects when Redis
///   comes back; every operation is bounded by a timeout (default 1 s), so
///   while Redis is down requests fail quickly with
///   [`StoreError::Timeout`] or [`StoreError::Backend`], which the layer
///   answers with `503 store_unavailable` (or runs the handler unprotected
///   with [`fail_open`](super::IdempotencyLayer::fail_open)).
///
/// A reservation that timed out may still be carried out once Redis
/// answers again; the store then queues a release behind it on the same
/// connection, so a request during a stalled Redis waits up to twice the
/// timeout for its `503`. If even that is lost (the connection dropped), the
/// key answers `409` until the lock TTL ends: never a second run.
///
/// ```no_run
/// use tower_webhook::idempotency::{IdempotencyLayer, RedisStore};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379/").await?;
/// let layer = IdempotencyLayer::new().with_store(store);
/// # let _ = layer;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: Arc<str>,
    timeout: Duration,
}

impl RedisStore {
    /// The prefix of every key the store writes unless told otherwise.
    pub const DEFAULT_PREFIX: &'static str = "tower-webhook:idempotency:";

    /// How long one Redis operation may take before the store gives up: 1 s.
    /// A dead or stalled Redis then costs a request a second or two and a
    /// `503`, not a hang.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

    /// Connect to the Redis at `url` (`redis://host:port/db`) now; fails if
    /// it cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let store = Self::open(url)?;
        let mut connection = store.connection.clone();
        store
            .bounded(async move {
                redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
            })
            .await?;
        Ok(store)
    }

    /// A store for the Redis at `url` that connects on first use, so a
    /// service can start while Redis is still down (requests get `503`
    /// until it is up).
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let client = Client::open(url).map_err(StoreError::backend)?;
        let timeout = Self::DEFAULT_TIMEOUT;
        let connection = ConnectionManager::new_lazy_with_config(client, manager_config(timeout))
            .map_err(StoreError::backend)?;
        Ok(Self::from_connection(connection).with_timeout(timeout))
    }

    /// A store over a connection manager configured by the caller.
    pub fn from_connection(connection: ConnectionManager) -> Self {
        Self {
            connection,
            prefix: Self::DEFAULT_PREFIX.into(),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// Prefix every key with `prefix` (default [`DEFAULT_PREFIX`](Self::DEFAULT_PREFIX)), e.g. to
    /// keep two services on one Redis apart.
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Give up on an operation after `timeout` (default 1 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn bounded<T>(
        &self,
        operation: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, operation).await {
            Ok(result) => result.map_err(StoreError::backend),
            Err(_) => Err(StoreError::Timeout(self.timeout)),
        }
    }
}

fn manager_config(timeout: Duration) -> ConnectionManagerConfig {
    // Few, quick reconnection attempts: the per-operation timeout bounds a
    // request anyway, and the next request starts a fresh attempt.
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(500))
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn parse(value: &str) -> Result<Reservation, StoreError> {
    if value.starts_with(STARTED) {
        return Ok(Reservation::InFlight);
    }
    value
        .strip_prefix(COMPLETED)
        .and_then(|code| code.parse::<u16>().ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .map(|status| Reservation::Completed(StoredOutcome::new(status)))
        .ok_or(StoreError::Corrupt)
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl IdempotencyStore for RedisStore {
    fn reserve<'a>(&'a self, key: &'a str, lock_ttl: Duration) -> StoreFuture<'a, Reservation> {
        Box::pin(async move {
            let token = Token::generate()?;
            let mut connection = self.connection.clone();
            let reserved = self
                .bounded(
                    redis::cmd("SET")
                        .arg(self.key(key))
                        .arg(format!("{STARTED}{}", token.as_str()))
                        .arg("NX")
                        .arg("PX")
                        .arg(millis(lock_ttl))
                        .arg("GET")
                        .query_async::<Option<String>>(&mut connection),
                )
                .await;
            let previous = match reserved {
                Ok(previous) => previous,
                Err(error) => {
                    // A SET that timed out may still be queued on the
                    // connection and run once Redis answers again. The
                    // release queues behind it, so it undoes exactly that
                    // reservation instead of leaving the key blocked for the
                    // lock TTL. (Harmless if the SET never ran: the token
                    // matches nothing.)
                    let _ = self.release(key, &token).await;
                    return Err(error);
                }
            };
            match previous {
                None => Ok(Reservation::Acquired(token)),
                Some(value) => parse(&value),
            }
        })
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        outcome: StoredOutcome,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let done: i64 = self
                .bounded(
                    redis::cmd("EVAL")
                        .arg(COMPLETE)
                        .arg(1)
                        .arg(self.key(key))
                        .arg(format!("{STARTED}{}", token.as_str()))
                        .arg(format!("{COMPLETED}{}", outcome.status().as_u16()))
                        .arg(millis(ttl))
                        .query_async(&mut connection),
                )
                .await?;
            Ok(done == 1)
        })
    }

    fn release<'a>(&'a self, key: &'a str, token: &'a Token) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let done: i64 = self
                .bounded(
                    redis::cmd("EVAL")
                        .arg(RELEASE)
                        .arg(1)
                        .arg(self.key(key))
                        .arg(format!("{STARTED}{}", token.as_str()))
                        .query_async(&mut connection),
                )
                .await?;
            Ok(done == 1)
        })
    }

    fn renew<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        lock_ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let done: i64 = self
                .bounded(
                    redis::cmd("EVAL")
                        .arg(RENEW)
                        .arg(1)
                        .arg(self.key(key))
                        .arg(format!("{STARTED}{}", token.as_str()))
                        .arg(millis(lock_ttl))
                        .query_async(&mut connection),
                )
                .await?;
            Ok(done == 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_parse_back() {
        assert_eq!(parse("S:abc").unwrap(), Reservation::InFlight);
        assert_eq!(
            parse("C:201").unwrap(),
            Reservation::Completed(StoredOutcome::new(StatusCode::CREATED))
        );
        assert!(matches!(parse("C:abc"), Err(StoreError::Corrupt)));
        assert!(matches!(parse("C:99999"), Err(StoreError::Corrupt)));
        assert!(matches!(parse("other"), Err(StoreError::Corrupt)));
    }

    proptest::proptest! {
        #[test]
        fn any_stored_value_parses_or_is_corrupt(value in ".*") {
            let _ = parse(&value);
        }

        #[test]
        fn completed_statuses_round_trip(code in 100u16..1000) {
            let status = StatusCode::from_u16(code).unwrap();
            let value = format!("{COMPLETED}{}", status.as_u16());
            proptest::prop_assert_eq!(
                parse(&value).unwrap(),
                Reservation::Completed(StoredOutcome::new(status))
            );
        }
    }
}
