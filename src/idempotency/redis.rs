//! A store shared by replicas, in Redis.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use redis::aio::ConnectionManager;
use redis::{Client, Cmd, FromRedisValue};

use super::redis_backend::{Backend, RedisOptions};
use super::store::{
    reservation_retention, Holder, IdempotencyStore, Reservation, StoreError, StoreFuture,
    StoredOutcome, Token,
};

const STARTED: &str = "S:";
const COMPLETED: &str = "C:";

// A started key holds `S:<token>:<progress>`; every renewal increments the
// progress, so a replica watching the key sees its holder alive. Its expiry
// is only garbage collection (`reservation_retention`, an hour at least):
// Redis's clock runs on while Redis is stopped, and a lease expiring on it
// would hand a live holder's delivery to a copy on resume. Holders are
// presumed dead by the replicas that watch them (see `TAKE_OVER`).
//
// Every script acts only while the key still holds this request's
// reservation (fencing: ARGV[1] is `S:<token>:`, matched as a prefix): a
// request whose lease was taken over cannot clobber its successor. They are
// sent with EVAL, not EVALSHA: a few hundred bytes more, but no NOSCRIPT
// round trip after a Redis restart or failover, and a release queued behind
// a stalled reservation (see `reserve`) runs as sent.
//
// Completion also writes over an *absent* key: the reservation was lost
// (Redis restarted without it) and nobody took over, yet the handler ran;
// recording it keeps a late copy out.
//
// The completion carries the token too (`C:<status>:<token>`), so a retry
// whose first attempt landed unseen (the reply was lost, or queued behind a
// stall) recognises its own completion instead of reporting it lost.
const COMPLETE: &str = r"
local held = redis.call('GET', KEYS[1])
if held == ARGV[2] then
  return 1
end
if held == false or string.sub(held, 1, #ARGV[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
";

const RENEW: &str = r"
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, #ARGV[1]) == ARGV[1] then
  local progress = tonumber(string.sub(held, #ARGV[1] + 1)) or 0
  redis.call('SET', KEYS[1], ARGV[1] .. string.format('%d', progress + 1), 'PX', ARGV[2])
  return 1
end
return 0
";

const RELEASE: &str = r"
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, #ARGV[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

// Replace the holder a replica watched make no progress for a lock TTL
// (ARGV[1], `S:<token>:<progress>` exactly as it read it), or reserve an
// absent key. Anything else is returned as found: a renewal in between
// proved the holder alive. A reservation of an earlier version (`S:<token>`,
// renewed without progress) is never matched: it still expires with its
// lock TTL on Redis's clock, as that version expects.
const TAKE_OVER: &str = r"
local held = redis.call('GET', KEYS[1])
if held == false or held == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return false
end
return held
";

/// An [`IdempotencyStore`] in Redis (7.0 or later), for receivers running
/// as several replicas: one server, a Redis Cluster (feature
/// `redis-cluster`), or a Sentinel-managed primary (feature
/// `redis-sentinel`), over TLS with feature `redis-tls` (`rediss://`).
/// Settings: [`RedisOptions`].
///
/// * Reservation is one atomic `SET key "S:<token>:0" NX PX <retention> GET`:
///   it either creates the key or returns what is there. The layer renews
///   it (a token-checked script that increments the progress after the
///   token) while the handler runs. The expiry is
///   ten lock TTLs (an hour at least), not the lock TTL: Redis's clock runs on while Redis is
///   stopped, so a lease expiring on it would be handed to a copy on
///   resume while its holder is alive. A holder is presumed dead by a
///   replica that watched it make no progress for the lock TTL, which then
///   takes it over (a script that replaces exactly the holder it watched).
/// * Completion and release are Lua scripts that act only if the key still
///   holds the caller's token; completion stores `C:<status>:<token>` for the TTL
///   (and also fills a key whose reservation was lost, with nobody taking
///   over).
/// * Keys are `<prefix>{<delivery key>}`: the braces are a Cluster hash
///   tag, so everything about one delivery lives in one slot.
/// * Every operation is bounded by the response timeout (default 1 s), so
///   while Redis is down requests fail quickly with
///   [`StoreError::Timeout`] or [`StoreError::Backend`], which the layer
///   answers with `503 store_unavailable` (or runs the handler unprotected
///   with [`fail_open`](super::IdempotencyLayer::fail_open)).
/// * At start ([`connect`](Self::connect), or the first operation of a
///   store made with [`open`](Self::open)) the store reads the server's
///   persistence settings and logs an error, once, if completed deliveries
///   would not survive a restart (see [`persistence`](Self::persistence)).
///
/// A reservation that timed out may still be carried out once Redis
/// answers again; the store then queues a release behind it on the same
/// connection, so a request during a stalled Redis waits up to twice the
/// timeout for its `503`. If even that is lost (the connection dropped), the
/// key answers `409` until a replica has watched it for a lock TTL and takes
/// it over: never a second run.
///
/// ```no_run
/// use tower_webhook::idempotency::{IdempotencyLayer, RedisStore};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379/").await?;
/// let layer = IdempotencyLayer::new().store(store);
/// # let _ = layer;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    backend: Backend,
    options: RedisOptions,
    timeout: Duration,
    /// The client a URL-opened store was built from, so a new timeout can
    /// rebuild its connection manager.
    pub(super) url_client: Option<Client>,
    persistence_checked: Arc<AtomicBool>,
}

/// What the server does to keep data across a restart, as read by
/// [`RedisStore::persistence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Persistence {
    /// `appendonly yes`: writes are logged. With `appendfsync always` each
    /// is on disk before Redis acknowledges it, and nothing is lost. With
    /// `everysec` (Redis's default) a killed process loses nothing while
    /// the disk keeps up, but when an fsync takes over a second Redis
    /// postpones its log writes for up to 2 s while still acknowledging
    /// them: a SIGKILL or OS crash then loses up to 2 s of completions, and
    /// late copies of those ids run again.
    pub append_only: bool,
    /// RDB snapshots configured (`save` not empty), or `None` if the server
    /// would not say. Alone, they lose everything since the last snapshot.
    pub snapshots: Option<bool>,
}

impl Persistence {
    /// Whether completed deliveries survive a restart of the server.
    pub fn survives_restart(&self) -> bool {
        self.append_only
    }
}

impl RedisStore {
    /// The prefix of every key the store writes unless told otherwise.
    pub const DEFAULT_PREFIX: &'static str = "tower-webhook:idempotency:";

    /// How long one Redis operation may take before the store gives up: 1 s.
    /// A dead or stalled Redis then costs a request a second or two and a
    /// `503`, not a hang.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

    /// Connect to the Redis at `url` (`redis://host:port/db`) now with the
    /// default [`RedisOptions`]; fails if it cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        RedisOptions::new().connect(url).await
    }

    /// A store for the Redis at `url` that connects on first use, so a
    /// service can start while Redis is still down (requests get `503`
    /// until it is up).
    pub fn open(url: &str) -> Result<Self, StoreError> {
        RedisOptions::new().open(url)
    }

    /// Every setting: timeouts, retries, credentials, database, TLS roots,
    /// key prefix, replica acknowledgement; Cluster and Sentinel.
    pub fn options() -> RedisOptions {
        RedisOptions::new()
    }

    /// A store over a connection manager configured by the caller (its own
    /// response timeout applies as well as the store's).
    pub fn from_connection(connection: ConnectionManager) -> Self {
        Self::from_backend(Backend::Single(connection), RedisOptions::new())
    }

    pub(super) fn from_backend(backend: Backend, options: RedisOptions) -> Self {
        Self {
            backend,
            timeout: options.response_timeout,
            persistence_checked: Arc::new(AtomicBool::new(!options.check_persistence)),
            options,
            url_client: None,
        }
    }

    /// Prefix every key with `prefix` (default [`DEFAULT_PREFIX`](Self::DEFAULT_PREFIX)), e.g. to
    /// keep two services on one Redis apart.
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.options = self.options.key_prefix(prefix);
        self
    }

    /// Give up on an operation after `timeout` (default 1 s). For a store
    /// made from a URL this is also the connection's response timeout, so a
    /// timeout above 1 s takes effect (it used to be capped by it).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.options = self.options.response_timeout(timeout);
        if let Some(client) = &self.url_client {
            if let Some(manager) = self.options.reopen(client) {
                self.backend = Backend::Single(manager);
            }
        }
        self
    }

    /// The Redis key of a delivery key: prefix, then the key as a hash tag.
    fn key(&self, key: &str) -> String {
        format!("{}{{{key}}}", self.options.prefix)
    }

    async fn bounded<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, self.backend.query(cmd)).await {
            Ok(result) => result.map_err(StoreError::backend),
            Err(_) => Err(StoreError::Timeout(self.timeout)),
        }
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        self.bounded::<String>(&redis::cmd("PING")).await.map(drop)
    }

    /// Read the server's persistence settings (`CONFIG GET appendonly` and
    /// `save`, else `INFO persistence`).
    pub async fn persistence(&self) -> Result<Persistence, StoreError> {
        let config = |name: &'static str| {
            let mut cmd = redis::cmd("CONFIG");
            cmd.arg("GET").arg(name);
            cmd
        };
        let append_only = self
            .bounded::<Vec<String>>(&config("appendonly"))
            .await
            .ok()
            .and_then(|pair| pair.get(1).map(|value| value == "yes"));
        let snapshots = self
            .bounded::<Vec<String>>(&config("save"))
            .await
            .ok()
            .and_then(|pair| pair.get(1).map(|value| !value.trim().is_empty()));
        let append_only = match append_only {
            Some(append_only) => append_only,
            // CONFIG is often disabled on managed Redis; INFO still says.
            None => {
                let mut info = redis::cmd("INFO");
                info.arg("persistence");
                let text: String = self.bounded(&info).await?;
                text.lines()
                    .find_map(|line| line.strip_prefix("aof_enabled:"))
                    .map(|value| value.trim() == "1")
                    .ok_or(StoreError::Corrupt)?
            }
        };
        Ok(Persistence {
            append_only,
            snapshots,
        })
    }

    /// Log, once per store, when completed deliveries would not survive a
    /// restart of the server.
    pub(super) async fn warn_unless_persistent(&self) {
        if self.persistence_checked.swap(true, Ordering::Relaxed) {
            return;
        }
        match self.persistence().await {
            Ok(persistence) if persistence.survives_restart() => {}
            Ok(Persistence {
                snapshots: Some(true),
                ..
            }) => tracing::error!(
                backend = self.backend.kind(),
                "idempotency: Redis keeps only RDB snapshots (appendonly no): a restart forgets \
                 every delivery completed since the last snapshot, and late copies of them run \
                 the handler again. Set `appendonly yes` for exactly-once across restarts."
            ),
            Ok(_) => tracing::error!(
                backend = self.backend.kind(),
                "idempotency: Redis has no persistence (appendonly no, no snapshots): a restart \
                 forgets every completed delivery, and late copies run the handler again. Set \
                 `appendonly yes` for exactly-once across restarts."
            ),
            Err(error) => tracing::warn!(
                %error,
                "idempotency: could not read Redis persistence settings; if Redis runs without \
                 `appendonly yes`, a restart forgets completed deliveries"
            ),
        }
    }

    /// Wait for replicas to acknowledge the completion just written, if
    /// configured.
    async fn replicate(&self) {
        let Some(ack) = self.options.replica_ack else {
            return;
        };
        let mut wait = redis::cmd("WAIT");
        wait.arg(ack.replicas).arg(millis(ack.timeout));
        let acknowledged: Result<i64, _> =
            match tokio::time::timeout(ack.timeout + self.timeout, self.backend.query(&wait)).await
            {
                Ok(result) => result.map_err(StoreError::backend),
                Err(_) => Err(StoreError::Timeout(ack.timeout + self.timeout)),
            };
        match acknowledged {
            Ok(n) if n >= i64::from(ack.replicas) => {}
            Ok(n) => tracing::warn!(
                acknowledged = n,
                wanted = ack.replicas,
                "idempotency: completion recorded on the primary but not yet on enough replicas; \
                 a failover now could forget it"
            ),
            Err(error) => tracing::warn!(%error, "idempotency: WAIT for replicas failed"),
        }
    }
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn parse(value: &str) -> Result<Reservation, StoreError> {
    if let Some(held) = value.strip_prefix(STARTED) {
        // `<token>:<progress>`, or `<token>` as earlier versions wrote it.
        let (token, progress) = match held.split_once(':') {
            Some((token, progress)) => (
                token,
                progress.parse::<u64>().map_err(|_| StoreError::Corrupt)?,
            ),
            None => (held, 0),
        };
        return Ok(Reservation::InFlight(Holder::new(
            Token::new(token),
            progress,
        )));
    }
    // `C:<status>:<token>`, or `C:<status>` as earlier versions wrote it.
    value
        .strip_prefix(COMPLETED)
        .map(|rest| rest.split_once(':').map_or(rest, |(code, _token)| code))
        .and_then(|code| code.parse::<u16>().ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .map(|status| Reservation::Completed(StoredOutcome::new(status)))
        .ok_or(StoreError::Corrupt)
}

fn script(source: &str, key: String, args: &[String]) -> Cmd {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(source).arg(1).arg(key).arg(args);
    cmd
}

/// What every started value of `token` begins with.
fn started(token: &Token) -> String {
    format!("{STARTED}{}:", token.as_str())
}

/// The started value of `holder`, as the store wrote it.
fn holding(holder: &Holder) -> String {
    format!("{}{}", started(holder.token()), holder.progress())
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("backend", &self.backend.kind())
            .field("options", &self.options)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl IdempotencyStore for RedisStore {
    fn reserve<'a>(&'a self, key: &'a str, lock_ttl: Duration) -> StoreFuture<'a, Reservation> {
        Box::pin(async move {
            let token = Token::generate()?;
            let mut set = redis::cmd("SET");
            set.arg(self.key(key))
                .arg(format!("{}0", started(&token)))
                .arg("NX")
                .arg("PX")
                .arg(millis(reservation_retention(lock_ttl)))
                .arg("GET");
            let previous = match self.bounded::<Option<String>>(&set).await {
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
            if !self.persistence_checked.load(Ordering::Relaxed) {
                // A store opened lazily checks once Redis first answers.
                let store = self.clone();
                tokio::spawn(async move { store.warn_unless_persistent().await });
            }
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
            let completed = format!(
                "{COMPLETED}{}:{}",
                outcome.status().as_u16(),
                token.as_str()
            );
            let cmd = script(
                COMPLETE,
                self.key(key),
                &[started(token), completed, millis(ttl).to_string()],
            );
            let done: i64 = self.bounded(&cmd).await?;
            if done == 1 {
                self.replicate().await;
            }
            Ok(done == 1)
        })
    }

    fn release<'a>(&'a self, key: &'a str, token: &'a Token) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let cmd = script(RELEASE, self.key(key), &[started(token)]);
            let done: i64 = self.bounded(&cmd).await?;
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
            let cmd = script(
                RENEW,
                self.key(key),
                &[
                    started(token),
                    millis(reservation_retention(lock_ttl)).to_string(),
                ],
            );
            let done: i64 = self.bounded(&cmd).await?;
            Ok(done == 1)
        })
    }

    fn take_over<'a>(
        &'a self,
        key: &'a str,
        holder: &'a Holder,
        lock_ttl: Duration,
    ) -> StoreFuture<'a, Reservation> {
        Box::pin(async move {
            let token = Token::generate()?;
            let cmd = script(
                TAKE_OVER,
                self.key(key),
                &[
                    holding(holder),
                    format!("{}0", started(&token)),
                    millis(reservation_retention(lock_ttl)).to_string(),
                ],
            );
            match self.bounded::<Option<String>>(&cmd).await {
                Ok(None) => Ok(Reservation::Acquired(token)),
                Ok(Some(value)) => parse(&value),
                Err(error) => {
                    // As for `reserve`: undo it should it still run.
                    let _ = self.release(key, &token).await;
                    Err(error)
                }
            }
        })
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(self.ping())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_parse_back() {
        assert_eq!(
            parse("S:abc:7").unwrap(),
            Reservation::InFlight(Holder::new(Token::new("abc"), 7))
        );
        assert_eq!(
            parse("S:abc").unwrap(),
            Reservation::InFlight(Holder::new(Token::new("abc"), 0))
        );
        assert!(matches!(parse("S:abc:x"), Err(StoreError::Corrupt)));
        assert_eq!(
            holding(&Holder::new(Token::new("abc"), 7)),
            "S:abc:7",
            "a holder is written back as it was read"
        );
        assert_eq!(
            parse("C:201").unwrap(),
            Reservation::Completed(StoredOutcome::new(StatusCode::CREATED))
        );
        assert_eq!(
            parse("C:201:0123abcd").unwrap(),
            Reservation::Completed(StoredOutcome::new(StatusCode::CREATED))
        );
        assert!(matches!(parse("C::abc"), Err(StoreError::Corrupt)));
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
