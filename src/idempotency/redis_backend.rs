//! How the Redis store reaches Redis — one server, a Redis Cluster, or the
//! primary a Sentinel names — and the settings of the connection.
//!
//! Routing, slot maps, primary discovery and TLS are the `redis` crate's own
//! (`cluster-async`, `sentinel`, `tokio-rustls-comp`); this module only picks
//! one and applies the settings.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Cmd, FromRedisValue, IntoConnectionInfo, RedisResult};

use super::redis::RedisStore;
use super::store::StoreError;

/// Settings of a [`RedisStore`]: connection, timeouts, credentials, key
/// prefix, and how sure a completion must be before it counts.
///
/// | setting | default |
/// |---|---|
/// | [`connect_timeout`](Self::connect_timeout) | 1 s |
/// | [`response_timeout`](Self::response_timeout) (every store operation) | 1 s |
/// | [`retries`](Self::retries) (reconnection attempts per operation) | 2 |
/// | [`key_prefix`](Self::key_prefix) | [`RedisStore::DEFAULT_PREFIX`] |
/// | [`username`](Self::username), [`password`](Self::password) (ACL) | from the URL, else none |
/// | [`database`](Self::database) | from the URL, else 0 (not in a Cluster) |
/// | [`tls_root_certificates`](Self::tls_root_certificates) (feature `redis-tls`, `rediss://` URLs) | the system's roots |
/// | [`wait_for_replicas`](Self::wait_for_replicas) | off |
/// | persistence check at start ([`skip_persistence_check`](Self::skip_persistence_check)) | on |
///
/// ```no_run
/// use std::time::Duration;
/// use tower_webhook::idempotency::{IdempotencyLayer, RedisOptions};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisOptions::new()
///     .response_timeout(Duration::from_secs(2))
///     .username("webhooks")
///     .password("from-your-secret-store")
///     .key_prefix("billing:idempotency:")
///     .connect("redis://10.0.0.5:6379/2")
///     .await?;
/// let layer = IdempotencyLayer::new().store(store);
/// # let _ = layer;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use]
pub struct RedisOptions {
    pub(super) connect_timeout: Duration,
    pub(super) response_timeout: Duration,
    pub(super) retries: usize,
    pub(super) prefix: Arc<str>,
    username: Option<String>,
    password: Option<String>,
    database: Option<i64>,
    #[cfg(feature = "redis-tls")]
    tls_roots: Option<Vec<u8>>,
    pub(super) replica_ack: Option<ReplicaAck>,
    pub(super) check_persistence: bool,
}

/// Wait for this many replicas to acknowledge each completion (Redis
/// `WAIT`), at most this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ReplicaAck {
    pub(super) replicas: u32,
    pub(super) timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RedisOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the password.
        f.debug_struct("RedisOptions")
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("retries", &self.retries)
            .field("prefix", &self.prefix)
            .field("username", &self.username)
            .field("database", &self.database)
            .field("replica_ack", &self.replica_ack)
            .finish_non_exhaustive()
    }
}

impl RedisOptions {
    /// The defaults in the table above.
    pub fn new() -> Self {
        Self {
            connect_timeout: RedisStore::DEFAULT_TIMEOUT,
            response_timeout: RedisStore::DEFAULT_TIMEOUT,
            retries: 2,
            prefix: RedisStore::DEFAULT_PREFIX.into(),
            username: None,
            password: None,
            database: None,
            #[cfg(feature = "redis-tls")]
            tls_roots: None,
            replica_ack: None,
            check_persistence: true,
        }
    }

    /// Give up connecting after `timeout` (default 1 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Give up on a store operation after `timeout` (default 1 s): a dead
    /// or stalled Redis then costs a request about that long and a `503`,
    /// not a hang. It bounds both the `redis` crate's response timeout and
    /// the whole operation, reconnection included.
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Reconnection attempts within one operation (default 2).
    pub fn retries(mut self, retries: usize) -> Self {
        self.retries = retries;
        self
    }

    /// Prefix every key with `prefix` (default
    /// [`RedisStore::DEFAULT_PREFIX`]). No braces: the key after the prefix
    /// is the Cluster hash tag.
    pub fn key_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Authenticate as the ACL user `username` (overrides the URL's).
    pub fn username(mut self, username: &str) -> Self {
        self.username = Some(username.to_owned());
        self
    }

    /// Authenticate with `password` (overrides the URL's).
    pub fn password(mut self, password: &str) -> Self {
        self.password = Some(password.to_owned());
        self
    }

    /// Use database `database` (overrides the URL's; a Cluster has only 0).
    pub fn database(mut self, database: i64) -> Self {
        self.database = Some(database);
        self
    }

    /// Trust these root certificates (PEM) for `rediss://` instead of the
    /// system's. Server certificates are always verified.
    #[cfg(feature = "redis-tls")]
    pub fn tls_root_certificates(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls_roots = Some(pem.into());
        self
    }

    /// After each completion, wait until `replicas` replicas have it (Redis
    /// `WAIT`), at most `timeout`. Redis replicates asynchronously: without
    /// this, a completion acknowledged just before a failover can be missing
    /// on the promoted replica, and a late copy of that delivery runs again.
    /// Costs one replication round trip per completion; a completion that
    /// times out waiting is still recorded on the primary, and logged.
    pub fn wait_for_replicas(mut self, replicas: u32, timeout: Duration) -> Self {
        self.replica_ack = Some(ReplicaAck { replicas, timeout });
        self
    }

    /// Do not read the server's persistence settings at start (e.g. where
    /// `CONFIG` and `INFO` are disabled).
    pub fn skip_persistence_check(mut self) -> Self {
        self.check_persistence = false;
        self
    }

    fn manager_config(&self) -> ConnectionManagerConfig {
        // Few, quick reconnection attempts: the operation timeout bounds a
        // request anyway, and the next request starts a fresh attempt.
        ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.response_timeout))
            .set_number_of_retries(self.retries)
            .set_max_delay(Duration::from_millis(500))
    }

    fn client(&self, url: &str) -> Result<Client, StoreError> {
        let mut info = url.into_connection_info().map_err(StoreError::backend)?;
        let mut settings = info.redis_settings().clone();
        if let Some(username) = &self.username {
            settings = settings.set_username(username);
        }
        if let Some(password) = &self.password {
            settings = settings.set_password(password);
        }
        if let Some(database) = self.database {
            settings = settings.set_db(database);
        }
        info = info.set_redis_settings(settings);
        #[cfg(feature = "redis-tls")]
        if let Some(roots) = &self.tls_roots {
            return Client::build_with_tls(
                info,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(roots.clone()),
                },
            )
            .map_err(StoreError::backend);
        }
        Client::open(info).map_err(StoreError::backend)
    }

    /// A store for the Redis at `url` (`redis://[user:password@]host:port/db`,
    /// or `rediss://` with feature `redis-tls`) that connects on first use,
    /// so a service can start while Redis is down (requests get `503` until
    /// it is up). The persistence check runs on the first operation.
    pub fn open(self, url: &str) -> Result<RedisStore, StoreError> {
        let (backend, client) = self.single_backend(url)?;
        let mut store = RedisStore::from_backend(backend, self);
        store.url_client = Some(client);
        Ok(store)
    }

    /// The connection to the one server at `url`, made on first use, and
    /// the client it was made from. The inbox connects through this too.
    pub(crate) fn single_backend(&self, url: &str) -> Result<(Backend, Client), StoreError> {
        let client = self.client(url)?;
        let manager =
            ConnectionManager::new_lazy_with_config(client.clone(), self.manager_config())
                .map_err(StoreError::backend)?;
        Ok((Backend::Single(manager), client))
    }

    /// Connect to the Redis at `url` now (fails if it cannot be reached) and
    /// check its persistence settings.
    pub async fn connect(self, url: &str) -> Result<RedisStore, StoreError> {
        let store = self.open(url)?;
        store.ping().await?;
        store.warn_unless_persistent().await;
        Ok(store)
    }

    /// Connect to a Redis Cluster through any of its `nodes`
    /// (`redis://host:port` each; `rediss://` with feature `redis-tls`).
    /// Every key carries a hash tag, so a delivery's reads and writes go to
    /// one slot; `MOVED` and `ASK` are followed by the `redis` crate.
    #[cfg(feature = "redis-cluster")]
    pub async fn connect_cluster(self, nodes: &[&str]) -> Result<RedisStore, StoreError> {
        let backend = self.cluster_backend(nodes).await?;
        let store = RedisStore::from_backend(backend, self);
        store.ping().await?;
        store.warn_unless_persistent().await;
        Ok(store)
    }

    /// A connection to the Redis Cluster of `nodes`, established now. The
    /// inbox connects through this too.
    #[cfg(feature = "redis-cluster")]
    pub(crate) async fn cluster_backend(&self, nodes: &[&str]) -> Result<Backend, StoreError> {
        let mut builder = redis::cluster::ClusterClientBuilder::new(nodes.to_vec())
            .connection_timeout(self.connect_timeout)
            .response_timeout(self.response_timeout)
            .retries(u32::try_from(self.retries).unwrap_or(u32::MAX));
        if let Some(username) = &self.username {
            builder = builder.username(username);
        }
        if let Some(password) = &self.password {
            builder = builder.password(password);
        }
        #[cfg(feature = "redis-tls")]
        if let Some(roots) = &self.tls_roots {
            builder = builder.certs(redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(roots.clone()),
            });
        }
        let client = builder.build().map_err(StoreError::backend)?;
        let timeout = self.connect_timeout + self.response_timeout;
        let connection = match tokio::time::timeout(timeout, client.get_async_connection()).await {
            Ok(connection) => connection.map_err(StoreError::backend)?,
            Err(_) => return Err(StoreError::Timeout(timeout)),
        };
        Ok(Backend::Cluster(connection))
    }

    /// Connect to the primary that the `sentinels` (`redis://host:port`
    /// each) name for `service` (the Sentinel "master name"), and find it
    /// again through them after a failover. Credentials and database apply
    /// to the Redis servers, not to the sentinels; the servers are reached
    /// without TLS (the TLS roots are not used here).
    #[cfg(feature = "redis-sentinel")]
    pub async fn connect_sentinel(
        self,
        sentinels: &[&str],
        service: &str,
    ) -> Result<RedisStore, StoreError> {
        let backend = self.sentinel_backend(sentinels, service)?;
        let store = RedisStore::from_backend(backend, self);
        store.ping().await?;
        store.warn_unless_persistent().await;
        Ok(store)
    }

    /// The primary that the `sentinels` name for `service`, asked for on
    /// first use and asked for again whenever the connection to it fails or
    /// finds a replica (`SentinelBackend`). The inbox connects
    /// through this too: one way to reach a Sentinel-managed primary.
    #[cfg(feature = "redis-sentinel")]
    pub(crate) fn sentinel_backend(
        &self,
        sentinels: &[&str],
        service: &str,
    ) -> Result<Backend, StoreError> {
        use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};

        let mut settings = redis::RedisConnectionInfo::default();
        if let Some(username) = &self.username {
            settings = settings.set_username(username);
        }
        if let Some(password) = &self.password {
            settings = settings.set_password(password);
        }
        if let Some(database) = self.database {
            settings = settings.set_db(database);
        }
        let node = SentinelNodeConnectionInfo::default().set_redis_connection_info(settings);
        // `build` takes a `String` without the redis crate's TLS feature and
        // any `AsRef<str>` with it; a `String` suits both.
        #[allow(clippy::unnecessary_to_owned)]
        let client = SentinelClient::build(
            sentinels.to_vec(),
            service.to_owned(),
            Some(node),
            SentinelServerType::Master,
        )
        .map_err(StoreError::backend)?;
        Ok(Backend::Sentinel(Arc::new(SentinelBackend {
            client: tokio::sync::Mutex::new(client),
            current: std::sync::Mutex::new(None),
            discoveries: std::sync::atomic::AtomicU64::new(0),
            config: self.manager_config(),
        })))
    }

    pub(super) fn reopen(&self, url_client: &Client) -> Option<ConnectionManager> {
        ConnectionManager::new_lazy_with_config(url_client.clone(), self.manager_config()).ok()
    }
}

/// The connection a store (or the Redis inbox) sends its commands on.
#[derive(Clone)]
pub(crate) enum Backend {
    /// One server (reconnecting).
    Single(ConnectionManager),
    /// A Redis Cluster.
    #[cfg(feature = "redis-cluster")]
    Cluster(redis::cluster_async::ClusterConnection),
    /// The primary of a Sentinel-managed group.
    #[cfg(feature = "redis-sentinel")]
    Sentinel(Arc<SentinelBackend>),
}

impl Backend {
    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        match self {
            Backend::Single(connection) => cmd.query_async(&mut connection.clone()).await,
            #[cfg(feature = "redis-cluster")]
            Backend::Cluster(connection) => cmd.query_async(&mut connection.clone()).await,
            #[cfg(feature = "redis-sentinel")]
            Backend::Sentinel(sentinel) => sentinel.query(cmd).await,
        }
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Backend::Single(_) => "single",
            #[cfg(feature = "redis-cluster")]
            Backend::Cluster(_) => "cluster",
            #[cfg(feature = "redis-sentinel")]
            Backend::Sentinel(_) => "sentinel",
        }
    }
}

/// The primary named by the sentinels, asked again whenever the current one
/// fails or turns out to be a replica.
///
/// One connection (multiplexed) serves every call, so a command that
/// blocks on the server holds up those queued behind it: the inbox sends
/// none (its `XREADGROUP` runs in a script, without `BLOCK`; workers
/// poll), the store only `WAIT` with `wait_for_replicas`, for at most its
/// timeout. After a failover the calls that find no primary wait for one
/// discovery, not one each.
#[cfg(feature = "redis-sentinel")]
pub(crate) struct SentinelBackend {
    client: tokio::sync::Mutex<redis::sentinel::SentinelClient>,
    /// The primary's connection and which discovery made it.
    current: std::sync::Mutex<Option<(u64, ConnectionManager)>>,
    discoveries: std::sync::atomic::AtomicU64,
    config: ConnectionManagerConfig,
}

#[cfg(feature = "redis-sentinel")]
impl SentinelBackend {
    fn current(&self) -> std::sync::MutexGuard<'_, Option<(u64, ConnectionManager)>> {
        self.current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        let current = self.current().clone();
        let (made_by, mut connection) = match current {
            Some(current) => current,
            None => self.discover().await?,
        };
        let result = cmd.query_async(&mut connection).await;
        if let Err(error) = &result {
            if stale_primary(error) {
                // Ask the sentinels on the next operation, unless another
                // call already did and found the new primary.
                let mut current = self.current();
                if current.as_ref().is_some_and(|(by, _)| *by == made_by) {
                    *current = None;
                }
            }
        }
        result
    }

    async fn discover(&self) -> RedisResult<(u64, ConnectionManager)> {
        let mut sentinels = self.client.lock().await;
        // Calls that found no primary queue here: the first asks the
        // sentinels, the others take what it found.
        if let Some(found) = self.current().clone() {
            return Ok(found);
        }
        let client = sentinels.async_get_client().await?;
        let connection = ConnectionManager::new_with_config(client, self.config.clone()).await?;
        let made_by = self
            .discoveries
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *self.current() = Some((made_by, connection.clone()));
        Ok((made_by, connection))
    }
}

/// The error says the connection no longer reaches a writable primary.
#[cfg(feature = "redis-sentinel")]
fn stale_primary(error: &redis::RedisError) -> bool {
    use redis::{ErrorKind, ServerErrorKind};
    error.is_io_error()
        || error.is_connection_refusal()
        || error.is_connection_dropped()
        || error.is_timeout()
        || matches!(
            error.kind(),
            ErrorKind::Server(ServerErrorKind::ReadOnly | ServerErrorKind::MasterDown)
        )
}
