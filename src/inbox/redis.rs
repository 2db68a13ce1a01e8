//! The inbox of many replicas: a Redis Stream and its consumer group, on
//! one server, a Redis Cluster (feature `redis-cluster`) or the primary
//! that Sentinel names (feature `redis-sentinel`).
//!
//! The key layout is in [`RedisInbox`]'s docs.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use bytes::Bytes;
use redis::Script;

use super::{
    new_token, unix_millis, Claim, Claimed, DeadLetter, Delivery, Enqueued, Held, Inbox,
    InboxError, InboxFuture, InboxStats, DEFAULT_CAPACITY, DEFAULT_RETAIN,
};
use crate::idempotency::{RedisBackend, RedisOptions, StoreError};

const GROUP: &str = "workers";

/// An inbox in Redis (feature `redis`): a Stream with a consumer group,
/// shared by every replica; on one server ([`connect`](Self::connect)), a
/// Redis Cluster (`connect_cluster`, feature `redis-cluster`) or the
/// primary that Sentinel names (`connect_sentinel`, feature
/// `redis-sentinel`, which also says what a failover costs).
///
/// For "no delivery that got a 2xx is lost", run Redis with AOF and
/// `appendfsync always`: an enqueue is answered only after its write is
/// on disk. A Redis without persistence loses the inbox when it restarts.
///
/// # Key layout
///
/// Every key of an inbox named `name` (the prefix given at connect, default
/// `tower-webhook:inbox`) starts with the hash tag `{name}`, so all of them
/// live in one Cluster slot and every script runs on one node:
///
/// | key | type | what |
/// |---|---|---|
/// | `{name}:stream` | stream | the entries waiting or held, fields `k` (key), `m` (metadata, JSON), `b` (body), `a` (attempts made before this entry); the consumer group `workers` hands them out |
/// | `{name}:hold` | hash | per held entry id, `token:beat:attempt`: the hold a worker shows and the heartbeat the others watch (the store's idle times are not used: see the [module](super) docs) |
/// | `{name}:keys` | sorted set | the delivery keys seen, scored by when they are forgotten (enqueue, or completion, plus the retention): what makes an enqueue idempotent |
/// | `{name}:delay` | sorted set | entries waiting for a retry, by due time |
/// | `{name}:parked` | hash | those entries' fields, as `k:<id>`, `m:<id>`, `b:<id>`, `a:<id>` |
/// | `{name}:dead` | sorted set | the dead letters' keys, by when they died |
/// | `{name}:dead-letters` | hash | their fields, as `m:<key>`, `b:<key>`, `a:<key>`, `e:<key>` (last error) |
///
/// Every operation is one Lua script, atomic on the server, that declares
/// every key it touches in `KEYS` (what Redis Cluster and proxies route
/// by); none builds a key name itself. Earlier builds of 0.1.0 gave the
/// per-entry data keys of their own (`{name}:k:<key>`,
/// `{name}:parked:<id>`, `{name}:dead:<key>`): an inbox they wrote is not
/// read by this one (drain it first).
#[derive(Clone)]
pub struct RedisInbox {
    backend: RedisBackend,
    prefix: Arc<str>,
    capacity: u64,
    retain: Duration,
}

impl std::fmt::Debug for RedisInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisInbox")
            .field("backend", &self.backend.kind())
            .field("prefix", &self.prefix)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

fn backend(error: redis::RedisError) -> InboxError {
    if error.is_timeout() {
        InboxError::Timeout
    } else {
        InboxError::Backend(error.to_string())
    }
}

fn connecting(error: StoreError) -> InboxError {
    match error {
        StoreError::Timeout(_) => InboxError::Timeout,
        other => InboxError::Backend(other.to_string()),
    }
}

/// The connection settings of an inbox: the store's, with a longer
/// operation timeout (a worker retries, a sender gets `503`).
fn options() -> RedisOptions {
    RedisOptions::new()
        .connect_timeout(Duration::from_secs(2))
        .response_timeout(Duration::from_secs(2))
        .retries(1)
}

impl RedisInbox {
    /// The default key prefix (the inbox name): `tower-webhook:inbox`.
    pub const DEFAULT_PREFIX: &'static str = "tower-webhook:inbox";

    /// Connect to the Redis at `url` (`redis://[user:password@]host:port/db`)
    /// and create the consumer group if needed. Every operation times out
    /// after 2 s (a `503` for the sender, a retry for a worker).
    pub async fn connect(url: &str) -> Result<Self, InboxError> {
        Self::connect_with_prefix(url, Self::DEFAULT_PREFIX).await
    }

    /// [`connect`](Self::connect), keeping this inbox's keys under
    /// `{prefix}:` (several inboxes in one Redis). The prefix is the hash
    /// tag of every key: not empty, no braces.
    pub async fn connect_with_prefix(url: &str, prefix: &str) -> Result<Self, InboxError> {
        let tag = hash_tag(prefix)?;
        let (backend, _) = options().single_backend(url).map_err(connecting)?;
        Self::start(backend, tag).await
    }

    /// Connect to a Redis Cluster through any of its `nodes`
    /// (`redis://[user:password@]host:port` each), keeping this inbox's
    /// keys under `{prefix}:` ([`DEFAULT_PREFIX`](Self::DEFAULT_PREFIX) for
    /// the default): one slot, so one node holds the whole inbox and runs
    /// every script. `MOVED` and `ASK` (a resharding, a failover) are
    /// followed by the `redis` crate, as for
    /// [`RedisOptions::connect_cluster`].
    #[cfg(feature = "redis-cluster")]
    pub async fn connect_cluster(nodes: &[&str], prefix: &str) -> Result<Self, InboxError> {
        let tag = hash_tag(prefix)?;
        let backend = options().cluster_backend(nodes).await.map_err(connecting)?;
        Self::start(backend, tag).await
    }

    /// Connect to the primary that the `sentinels` (`redis://host:port`
    /// each; credentials in these URLs are the sentinels') name for
    /// `service` (the Sentinel "master name"), keeping this inbox's keys
    /// under `{prefix}:` ([`DEFAULT_PREFIX`](Self::DEFAULT_PREFIX) for the
    /// default), and create the consumer group there. The connection is the
    /// one [`RedisOptions::connect_sentinel`] makes: the servers are reached
    /// without credentials, database 0, no TLS.
    ///
    /// # At a failover
    ///
    /// Every operation goes to the primary last named; when it fails to
    /// reach it (refused, dropped, timed out) or finds a replica
    /// (`READONLY`), the next operation asks the sentinels again. While the
    /// primary is down and not yet replaced (the sentinels'
    /// `down-after-milliseconds`, then their election), a sender gets
    /// `503` with `Retry-After` and its provider sends again later; a
    /// worker's claims and heartbeats fail (logged) and are tried again, and
    /// the completion of a handler that finished meanwhile is retried (for
    /// up to ten leases) until the new primary takes it. The outage alone hands no held delivery to
    /// another worker: a worker takes one over only after a whole lease of
    /// successful reads without a beat, as when the store is unreachable
    /// for everyone (README, failure modes).
    ///
    /// Redis replicates asynchronously, and this inbox does not wait for
    /// replicas (`WAIT`): what the old primary acknowledged but had not yet
    /// copied to the replica that is promoted is gone, and so, in a
    /// switchover (`SENTINEL FAILOVER`), is what it still takes between
    /// the promotion and its own demotion. An enqueue answered `2xx` in
    /// that window is lost (the provider is not told to send it again), a
    /// completion is lost (the delivery runs again). AOF on the
    /// primary does not help once a replica replaces it. The server's
    /// `min-replicas-to-write` / `min-replicas-max-lag` bound that window
    /// (the primary refuses writes, and senders get `503`, when its
    /// replicas fall behind); nothing here closes it.
    #[cfg(feature = "redis-sentinel")]
    pub async fn connect_sentinel(
        sentinels: &[&str],
        service: &str,
        prefix: &str,
    ) -> Result<Self, InboxError> {
        let tag = hash_tag(prefix)?;
        let backend = options()
            .sentinel_backend(sentinels, service)
            .map_err(connecting)?;
        Self::start(backend, tag).await
    }

    async fn start(backend: RedisBackend, prefix: Arc<str>) -> Result<Self, InboxError> {
        let inbox = Self {
            backend,
            prefix,
            capacity: DEFAULT_CAPACITY,
            retain: DEFAULT_RETAIN,
        };
        inbox.create_group().await?;
        Ok(inbox)
    }

    /// At most `capacity` entries waiting or in flight; more are refused
    /// ("full", `503`).
    pub fn with_capacity(mut self, capacity: u64) -> Self {
        self.capacity = capacity;
        self
    }

    /// Remember completed keys for `retain` (default 24 h).
    pub fn with_retain(mut self, retain: Duration) -> Self {
        self.retain = retain;
        self
    }

    fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    async fn create_group(&self) -> Result<(), InboxError> {
        let mut create = redis::cmd("XGROUP");
        create
            .arg("CREATE")
            .arg(self.key("stream"))
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM");
        match self.backend.query::<()>(&create).await {
            Err(error) if error.code() != Some("BUSYGROUP") => Err(backend(error)),
            _ => Ok(()),
        }
    }

    /// When a key seen now is forgotten, in Unix milliseconds.
    fn forget_at(&self) -> i64 {
        let retain = i64::try_from(self.retain.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        unix_millis().saturating_add(retain)
    }

    fn claimed(
        reply: Option<(String, String, Vec<u8>, u32)>,
        token: u64,
    ) -> Result<Option<Claimed>, InboxError> {
        reply
            .map(|(id, meta, body, attempt)| {
                Ok(Claimed {
                    claim: Claim { id, token },
                    delivery: Delivery::from_stored(&meta, Bytes::from(body), attempt)?,
                })
            })
            .transpose()
    }
}

/// `{prefix}`: the hash tag every key of the inbox starts with. A prefix
/// that is empty or holds a brace would not make one tag of it (Redis
/// hashes the text between the first `{` and the next `}`), and the keys
/// would scatter over slots.
fn hash_tag(prefix: &str) -> Result<Arc<str>, InboxError> {
    if prefix.is_empty() || prefix.contains(['{', '}']) {
        return Err(InboxError::Backend(format!(
            "inbox name {prefix:?}: it must be non-empty and without braces (it is the Cluster hash tag)"
        )));
    }
    Ok(format!("{{{prefix}}}").into())
}

/// A script's source and its SHA-1, computed once.
struct Lua {
    source: String,
    hash: String,
}

impl Lua {
    fn new(source: String) -> Self {
        let hash = Script::new(&source).get_hash().to_owned();
        Self { source, hash }
    }
}

/// The hold check every script that acts on a held entry starts with
/// (`KEYS[1]` the stream, `KEYS[2]` the holds; `ARGV[1..3]` group, entry
/// id, token): `attempt`, the entry's fields `h`, and `finish()`, or a
/// return of 0 when the hold is not this one.
const CHECK_HOLD: &str = r"
local v = redis.call('HGET', KEYS[2], ARGV[2])
if not v then return 0 end
local token, beat, attempt = string.match(v, '^(%d+):(%d+):(%d+)$')
if token ~= ARGV[3] then return 0 end
attempt = tonumber(attempt)
local e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
local h = {}
if e[1] then
  local f = e[1][2]
  for i = 1, #f, 2 do h[f[i]] = f[i + 1] end
end
local function finish()
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[1], ARGV[2])
  redis.call('HDEL', KEYS[2], ARGV[2])
end
";

/// KEYS: stream, keys, delay, dead. ARGV: key, meta, body, forget-at,
/// capacity, now. Expired keys are pruned a hundred at a time: faster than
/// enqueues add them, never a long pause of the server.
const ENQUEUE: &str = r"
local now = tonumber(ARGV[6])
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)
if #old > 0 then redis.call('ZREM', KEYS[2], unpack(old)) end
local seen = redis.call('ZSCORE', KEYS[2], ARGV[1])
if seen and tonumber(seen) > now then return 0 end
if redis.call('ZSCORE', KEYS[4], ARGV[1]) then return 0 end
if redis.call('XLEN', KEYS[1]) + redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) then return -1 end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('XADD', KEYS[1], '*', 'k', ARGV[1], 'm', ARGV[2], 'b', ARGV[3], 'a', '0')
return 1
";

/// KEYS: stream, delay, hold, parked. ARGV: group, worker, token, now.
const CLAIM: &str = r"
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[4], 'LIMIT', 0, 64)
for _, rid in ipairs(due) do
  local f = redis.call('HMGET', KEYS[4], 'k:' .. rid, 'm:' .. rid, 'b:' .. rid, 'a:' .. rid)
  if f[1] then
    redis.call('XADD', KEYS[1], '*', 'k', f[1], 'm', f[2], 'b', f[3], 'a', f[4])
  end
  redis.call('HDEL', KEYS[4], 'k:' .. rid, 'm:' .. rid, 'b:' .. rid, 'a:' .. rid)
  redis.call('ZREM', KEYS[2], rid)
end
local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'STREAMS', KEYS[1], '>')
if not r then return false end
local entry = r[1][2][1]
if not entry then return false end
local h = {}
local f = entry[2]
for i = 1, #f, 2 do h[f[i]] = f[i + 1] end
local attempt = tonumber(h['a'] or '0') + 1
redis.call('HSET', KEYS[3], entry[1], ARGV[3] .. ':0:' .. attempt)
return {entry[1], h['m'] or '', h['b'] or '', attempt}
";

/// KEYS: stream, hold. ARGV: group.
const HELD: &str = r"
local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 10000)
local out = {}
for _, e in ipairs(p) do
  local v = redis.call('HGET', KEYS[2], e[1])
  table.insert(out, e[1])
  table.insert(out, v or ('0:0:' .. e[4]))
end
return out
";

/// KEYS: stream, hold. ARGV: group, worker, entry id, token and beat
/// observed, new token.
const TAKE_OVER: &str = r"
local v = redis.call('HGET', KEYS[2], ARGV[3])
local token, beat, attempt = '0', '0', nil
if v then token, beat, attempt = string.match(v, '^(%d+):(%d+):(%d+)$') end
if token ~= ARGV[4] or beat ~= ARGV[5] then return false end
local c = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3])
if not c[1] then
  redis.call('HDEL', KEYS[2], ARGV[3])
  return false
end
local h = {}
local f = c[1][2]
for i = 1, #f, 2 do h[f[i]] = f[i + 1] end
if attempt then attempt = tonumber(attempt) + 1 else attempt = tonumber(h['a'] or '0') + 1 end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[6] .. ':0:' .. attempt)
return {ARGV[3], h['m'] or '', h['b'] or '', attempt}
";

/// KEYS: hold. ARGV: entry id, token.
const HEARTBEAT: &str = r"
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local token, beat, attempt = string.match(v, '^(%d+):(%d+):(%d+)$')
if token ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], token .. ':' .. (tonumber(beat) + 1) .. ':' .. attempt)
return 1
";

/// After CHECK_HOLD. KEYS[3]: keys. ARGV[4]: forget-at.
const COMPLETE: &str = r"
if h['k'] then redis.call('ZADD', KEYS[3], ARGV[4], h['k']) end
finish()
return 1
";

/// After CHECK_HOLD. KEYS[3..4]: delay, parked. ARGV[4..5]: due, `retry`
/// or `release` (which does not count the attempt).
const RESCHEDULE: &str = r"
if h['k'] then
  local a = attempt
  if ARGV[5] == 'release' then a = attempt - 1 end
  local rid = ARGV[2] .. '-' .. ARGV[3]
  redis.call('HSET', KEYS[4], 'k:' .. rid, h['k'], 'm:' .. rid, h['m'], 'b:' .. rid, h['b'], 'a:' .. rid, a)
  redis.call('ZADD', KEYS[3], ARGV[4], rid)
end
finish()
return 1
";

/// After CHECK_HOLD. KEYS[3..4]: dead, dead-letters. ARGV[4..5]: now,
/// error.
const DEAD_LETTER: &str = r"
if h['k'] then
  local k = h['k']
  redis.call('HSET', KEYS[4], 'm:' .. k, h['m'], 'b:' .. k, h['b'], 'a:' .. k, attempt, 'e:' .. k, ARGV[5])
  redis.call('ZADD', KEYS[3], ARGV[4], k)
end
finish()
return 1
";

/// KEYS: dead, dead-letters. ARGV: limit (at least 1).
const DEAD_LIST: &str = r"
local keys = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local out = {}
for _, k in ipairs(keys) do
  local f = redis.call('HMGET', KEYS[2], 'm:' .. k, 'a:' .. k, 'e:' .. k)
  if f[1] then
    table.insert(out, f[1])
    table.insert(out, f[2] or '0')
    table.insert(out, f[3] or '')
  end
end
return out
";

/// KEYS: dead, dead-letters, stream, keys. ARGV: the key or '' for all,
/// forget-at.
const DEAD_RETRY: &str = r"
local keys
if ARGV[1] ~= '' then keys = {ARGV[1]} else keys = redis.call('ZRANGE', KEYS[1], 0, -1) end
local n = 0
for _, k in ipairs(keys) do
  local f = redis.call('HMGET', KEYS[2], 'm:' .. k, 'b:' .. k)
  if f[1] then
    redis.call('XADD', KEYS[3], '*', 'k', k, 'm', f[1], 'b', f[2] or '', 'a', '0')
    redis.call('ZADD', KEYS[4], ARGV[2], k)
    n = n + 1
  end
  redis.call('HDEL', KEYS[2], 'm:' .. k, 'b:' .. k, 'a:' .. k, 'e:' .. k)
  redis.call('ZREM', KEYS[1], k)
end
return n
";

/// KEYS: dead, dead-letters, keys. ARGV: the key or '' for all, forget-at.
/// A purged key stays known: a late copy is not enqueued again.
const DEAD_PURGE: &str = r"
local keys
if ARGV[1] ~= '' then keys = {ARGV[1]} else keys = redis.call('ZRANGE', KEYS[1], 0, -1) end
local n = 0
for _, k in ipairs(keys) do
  n = n + redis.call('HEXISTS', KEYS[2], 'm:' .. k)
  redis.call('HDEL', KEYS[2], 'm:' .. k, 'b:' .. k, 'a:' .. k, 'e:' .. k)
  redis.call('ZREM', KEYS[1], k)
  redis.call('ZADD', KEYS[3], ARGV[2], k)
end
return n
";

/// KEYS: stream, delay, dead. ARGV: group.
const STATS: &str = r"
local pending = redis.call('XPENDING', KEYS[1], ARGV[1])
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
local meta = ''
if first[1] then
  local f = first[1][2]
  for i = 1, #f, 2 do if f[i] == 'm' then meta = f[i + 1] end end
end
return {redis.call('XLEN', KEYS[1]), pending[1], redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3]), meta}
";

macro_rules! scripts {
    ($($name:ident = $source:expr;)*) => {
        $(static $name: LazyLock<Lua> = LazyLock::new(|| Lua::new($source));)*
    };
}

scripts! {
    ENQUEUE_LUA = ENQUEUE.to_owned();
    CLAIM_LUA = CLAIM.to_owned();
    HELD_LUA = HELD.to_owned();
    TAKE_OVER_LUA = TAKE_OVER.to_owned();
    HEARTBEAT_LUA = HEARTBEAT.to_owned();
    COMPLETE_LUA = format!("{CHECK_HOLD}{COMPLETE}");
    RESCHEDULE_LUA = format!("{CHECK_HOLD}{RESCHEDULE}");
    DEAD_LETTER_LUA = format!("{CHECK_HOLD}{DEAD_LETTER}");
    DEAD_LIST_LUA = DEAD_LIST.to_owned();
    DEAD_RETRY_LUA = DEAD_RETRY.to_owned();
    DEAD_PURGE_LUA = DEAD_PURGE.to_owned();
    STATS_LUA = STATS.to_owned();
}

impl RedisInbox {
    /// Run `lua` on `keys` (names under the prefix) and `args`: by its
    /// SHA-1, and by its source when the server does not know it (a
    /// restart, a failover, another node). A consumer group lost with the
    /// stream (a flushed Redis) is created again and the call repeated
    /// once.
    fn eval<'a, T>(
        &'a self,
        lua: &'static LazyLock<Lua>,
        keys: &[&str],
        args: Vec<Vec<u8>>,
    ) -> InboxFuture<'a, T>
    where
        T: redis::FromRedisValue + Send + 'a,
    {
        let keys: Vec<String> = keys.iter().map(|name| self.key(name)).collect();
        Box::pin(async move {
            let lua: &Lua = lua;
            let command = |verb: &str, script: &str| {
                let mut command = redis::cmd(verb);
                command.arg(script).arg(keys.len()).arg(&keys).arg(&args);
                command
            };
            for round in 0..2 {
                let mut result = self
                    .backend
                    .query::<T>(&command("EVALSHA", &lua.hash))
                    .await;
                if matches!(&result, Err(error) if error.code() == Some("NOSCRIPT")) {
                    result = self.backend.query::<T>(&command("EVAL", &lua.source)).await;
                }
                match result {
                    Err(error) if round == 0 && error.to_string().contains("NOGROUP") => {
                        self.create_group().await?;
                    }
                    result => return result.map_err(backend),
                }
            }
            Err(InboxError::Backend("consumer group missing".into()))
        })
    }

    /// A script that acts on the held entry of `claim` (after CHECK_HOLD),
    /// with its own keys and arguments after the hold's.
    fn act<'a>(
        &'a self,
        lua: &'static LazyLock<Lua>,
        claim: &Claim,
        keys: &[&str],
        extra: Vec<Vec<u8>>,
    ) -> InboxFuture<'a, bool> {
        let mut args = vec![text(GROUP), text(&claim.id), text(&claim.token.to_string())];
        args.extend(extra);
        let mut all = vec!["stream", "hold"];
        all.extend_from_slice(keys);
        let future = self.eval::<i64>(lua, &all, args);
        Box::pin(async move { Ok(future.await? == 1) })
    }
}

fn text(value: &str) -> Vec<u8> {
    value.as_bytes().to_vec()
}

fn int(value: i64) -> Vec<u8> {
    value.to_string().into_bytes()
}

impl Inbox for RedisInbox {
    fn enqueue<'a>(&'a self, delivery: &'a Delivery) -> InboxFuture<'a, Enqueued> {
        let future = self.eval::<i64>(
            &ENQUEUE_LUA,
            &["stream", "keys", "delay", "dead"],
            vec![
                text(&delivery.key),
                text(&delivery.meta_json()),
                delivery.body.to_vec(),
                int(self.forget_at()),
                int(i64::try_from(self.capacity).unwrap_or(i64::MAX)),
                int(unix_millis()),
            ],
        );
        Box::pin(async move {
            match future.await? {
                1 => Ok(Enqueued::Added),
                0 => Ok(Enqueued::Duplicate),
                _ => Err(InboxError::Full),
            }
        })
    }

    fn claim<'a>(&'a self, worker: &'a str) -> InboxFuture<'a, Option<Claimed>> {
        let token = new_token();
        let future = self.eval::<Option<(String, String, Vec<u8>, u32)>>(
            &CLAIM_LUA,
            &["stream", "delay", "hold", "parked"],
            vec![
                text(GROUP),
                text(worker),
                text(&token.to_string()),
                int(unix_millis()),
            ],
        );
        Box::pin(async move { Self::claimed(future.await?, token) })
    }

    fn heartbeat<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool> {
        let future = self.eval::<i64>(
            &HEARTBEAT_LUA,
            &["hold"],
            vec![text(&claim.id), text(&claim.token.to_string())],
        );
        Box::pin(async move { Ok(future.await? == 1) })
    }

    fn held(&self) -> InboxFuture<'_, Vec<Held>> {
        let future = self.eval::<Vec<String>>(&HELD_LUA, &["stream", "hold"], vec![text(GROUP)]);
        Box::pin(async move {
            let flat = future.await?;
            Ok(flat
                .chunks_exact(2)
                .filter_map(|pair| {
                    let mut parts = pair[1].split(':');
                    let token = parts.next()?.parse().ok()?;
                    let beat = parts.next()?.parse().ok()?;
                    Some(Held {
                        id: pair[0].clone(),
                        token,
                        beat,
                    })
                })
                .collect())
        })
    }

    fn take_over<'a>(
        &'a self,
        held: &'a Held,
        worker: &'a str,
    ) -> InboxFuture<'a, Option<Claimed>> {
        let token = new_token();
        let future = self.eval::<Option<(String, String, Vec<u8>, u32)>>(
            &TAKE_OVER_LUA,
            &["stream", "hold"],
            vec![
                text(GROUP),
                text(worker),
                text(&held.id),
                text(&held.token.to_string()),
                text(&held.beat.to_string()),
                text(&token.to_string()),
            ],
        );
        Box::pin(async move { Self::claimed(future.await?, token) })
    }

    fn complete<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool> {
        self.act(&COMPLETE_LUA, claim, &["keys"], vec![int(self.forget_at())])
    }

    fn retry_at<'a>(
        &'a self,
        claim: &'a Claim,
        due_ms: i64,
        _error: &'a str,
    ) -> InboxFuture<'a, bool> {
        self.act(
            &RESCHEDULE_LUA,
            claim,
            &["delay", "parked"],
            vec![int(due_ms), text("retry")],
        )
    }

    fn release<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool> {
        self.act(
            &RESCHEDULE_LUA,
            claim,
            &["delay", "parked"],
            vec![int(0), text("release")],
        )
    }

    fn dead_letter<'a>(&'a self, claim: &'a Claim, error: &'a str) -> InboxFuture<'a, bool> {
        self.act(
            &DEAD_LETTER_LUA,
            claim,
            &["dead", "dead-letters"],
            vec![int(unix_millis()), text(error)],
        )
    }

    fn dead_letters(&self, limit: usize) -> InboxFuture<'_, Vec<DeadLetter>> {
        if limit == 0 {
            // ZRANGE 0 -1 would be every letter.
            return Box::pin(std::future::ready(Ok(Vec::new())));
        }
        let future = self.eval::<Vec<String>>(
            &DEAD_LIST_LUA,
            &["dead", "dead-letters"],
            vec![int(i64::try_from(limit).unwrap_or(i64::MAX))],
        );
        Box::pin(async move {
            let flat = future.await?;
            let mut letters = Vec::new();
            for triple in flat.chunks_exact(3) {
                let delivery = Delivery::from_stored(&triple[0], Bytes::new(), 0)?;
                letters.push(DeadLetter {
                    key: delivery.key.to_string(),
                    delivery_id: delivery.delivery_id.as_deref().map(str::to_owned),
                    provider: delivery.provider.as_deref().map(str::to_owned),
                    attempts: triple[1].parse().unwrap_or(0),
                    last_error: triple[2].clone(),
                    received_at_ms: delivery.received_at_ms,
                });
            }
            Ok(letters)
        })
    }

    fn retry_dead<'a>(&'a self, key: Option<&'a str>) -> InboxFuture<'a, u64> {
        self.eval::<u64>(
            &DEAD_RETRY_LUA,
            &["dead", "dead-letters", "stream", "keys"],
            vec![text(key.unwrap_or("")), int(self.forget_at())],
        )
    }

    fn purge_dead<'a>(&'a self, key: Option<&'a str>) -> InboxFuture<'a, u64> {
        self.eval::<u64>(
            &DEAD_PURGE_LUA,
            &["dead", "dead-letters", "keys"],
            vec![text(key.unwrap_or("")), int(self.forget_at())],
        )
    }

    fn stats(&self) -> InboxFuture<'_, InboxStats> {
        let future = self.eval::<(u64, u64, u64, u64, String)>(
            &STATS_LUA,
            &["stream", "delay", "dead"],
            vec![text(GROUP)],
        );
        Box::pin(async move {
            let (len, pending, delayed, dead, meta) = future.await?;
            let oldest = if meta.is_empty() {
                None
            } else {
                Delivery::from_stored(&meta, Bytes::new(), 0)
                    .ok()
                    .map(|d| d.received_at_ms)
            };
            Ok(InboxStats {
                depth: len.saturating_sub(pending) + delayed,
                in_flight: pending,
                dead,
                oldest_age: oldest.map(|o| {
                    Duration::from_millis(
                        u64::try_from(unix_millis().saturating_sub(o)).unwrap_or(0),
                    )
                }),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inbox_name_is_one_hash_tag() {
        assert_eq!(&*hash_tag("billing").unwrap(), "{billing}");
        for bad in ["", "a{b", "}x", "{x}"] {
            assert!(hash_tag(bad).is_err(), "{bad:?}");
        }
    }
}
