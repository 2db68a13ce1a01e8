//! The inbox of many replicas: a Redis Stream and its consumer group.
//!
//! Layout, all under one hash tag (`{prefix}`) so every key lives on one
//! Cluster slot:
//!
//! * `{p}:stream`: the entries waiting or held, fields `k` (key), `m`
//!   (metadata, JSON), `b` (body), `a` (attempts made before this entry);
//!   the consumer group `workers` hands them out;
//! * `{p}:hold`: per held entry id, `token:beat:attempt`, the hold a worker
//!   shows and the heartbeat others watch (the store's idle times are not
//!   used: see the [module](super) docs);
//! * `{p}:k:<key>`: the key's marker (`w` waiting, `d` done), for the
//!   retention; what makes an enqueue idempotent;
//! * `{p}:delay` and `{p}:parked:<id>`: entries waiting for a retry, by
//!   due time;
//! * `{p}:dead` and `{p}:dead:<key>`: the dead letters.
//!
//! Every operation is one Lua script, atomic on the server.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

use super::{
    new_token, unix_millis, Claim, Claimed, DeadLetter, Delivery, Enqueued, Held, Inbox,
    InboxError, InboxFuture, InboxStats, DEFAULT_CAPACITY, DEFAULT_RETAIN,
};

const GROUP: &str = "workers";

/// An inbox in Redis (feature `redis`): a Stream with a consumer group,
/// shared by every replica.
///
/// For "no delivery that got a 2xx is lost", run Redis with AOF and
/// `appendfsync always`: an enqueue is answered only after its write is
/// on disk. A Redis without persistence loses the inbox when it restarts.
#[derive(Clone)]
pub struct RedisInbox {
    connection: ConnectionManager,
    prefix: Arc<str>,
    capacity: u64,
    retain: Duration,
}

impl std::fmt::Debug for RedisInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisInbox")
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

impl RedisInbox {
    /// The default key prefix: `tower-webhook:inbox`.
    pub const DEFAULT_PREFIX: &'static str = "tower-webhook:inbox";

    /// Connect to the Redis at `url` (`redis://[user:password@]host:port/db`)
    /// and create the consumer group if needed. Every operation times out
    /// after 2 s (a `503` for the sender, a retry for a worker).
    pub async fn connect(url: &str) -> Result<Self, InboxError> {
        Self::connect_with_prefix(url, Self::DEFAULT_PREFIX).await
    }

    /// [`connect`](Self::connect), keeping this inbox's keys under
    /// `prefix` (several inboxes in one Redis).
    pub async fn connect_with_prefix(url: &str, prefix: &str) -> Result<Self, InboxError> {
        let client = redis::Client::open(url).map_err(backend)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(backend)?;
        let inbox = Self {
            connection,
            prefix: format!("{{{prefix}}}").into(),
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
        let mut connection = self.connection.clone();
        let created: Result<(), redis::RedisError> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(self.key("stream"))
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut connection)
            .await;
        match created {
            Err(error) if error.code() != Some("BUSYGROUP") => Err(backend(error)),
            _ => Ok(()),
        }
    }

    fn retain_ms(&self) -> u64 {
        u64::try_from(self.retain.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
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

/// The hold check every script that acts on a held entry starts with:
/// `v` (the hold) and `attempt`, or a return of 0.
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

fn script(body: &str) -> Script {
    Script::new(&format!("{CHECK_HOLD}{body}"))
}

const ENQUEUE: &str = r"
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('XLEN', KEYS[1]) + redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) then return -1 end
redis.call('SET', KEYS[2], 'w', 'PX', ARGV[4])
redis.call('XADD', KEYS[1], '*', 'k', ARGV[1], 'm', ARGV[2], 'b', ARGV[3], 'a', '0')
return 1
";

const CLAIM: &str = r"
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[4], 'LIMIT', 0, 64)
for _, rid in ipairs(due) do
  local pk = ARGV[5] .. ':parked:' .. rid
  local f = redis.call('HMGET', pk, 'k', 'm', 'b', 'a')
  if f[1] then
    redis.call('XADD', KEYS[1], '*', 'k', f[1], 'm', f[2], 'b', f[3], 'a', f[4])
  end
  redis.call('DEL', pk)
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

const HEARTBEAT: &str = r"
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local token, beat, attempt = string.match(v, '^(%d+):(%d+):(%d+)$')
if token ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], token .. ':' .. (tonumber(beat) + 1) .. ':' .. attempt)
return 1
";

const COMPLETE: &str = r"
if h['k'] then redis.call('SET', ARGV[4] .. ':k:' .. h['k'], 'd', 'PX', ARGV[5]) end
finish()
return 1
";

const RESCHEDULE: &str = r"
if h['k'] then
  local a = attempt
  if ARGV[6] == 'release' then a = attempt - 1 end
  local rid = ARGV[2] .. '-' .. ARGV[3]
  redis.call('HSET', ARGV[4] .. ':parked:' .. rid, 'k', h['k'], 'm', h['m'], 'b', h['b'], 'a', a, 'e', ARGV[7])
  redis.call('ZADD', KEYS[3], ARGV[5], rid)
end
finish()
return 1
";

const DEAD_LETTER: &str = r"
if h['k'] then
  redis.call('HSET', ARGV[4] .. ':dead:' .. h['k'], 'k', h['k'], 'm', h['m'], 'b', h['b'], 'a', attempt, 'e', ARGV[6])
  redis.call('ZADD', KEYS[3], ARGV[5], h['k'])
end
finish()
return 1
";

const DEAD_LIST: &str = r"
local keys = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local out = {}
for _, k in ipairs(keys) do
  local f = redis.call('HMGET', ARGV[1] .. ':dead:' .. k, 'm', 'a', 'e')
  if f[1] then
    table.insert(out, f[1])
    table.insert(out, f[2])
    table.insert(out, f[3] or '')
  end
end
return out
";

const DEAD_RETRY: &str = r"
local keys
if ARGV[2] ~= '' then keys = {ARGV[2]} else keys = redis.call('ZRANGE', KEYS[1], 0, -1) end
local n = 0
for _, k in ipairs(keys) do
  local dk = ARGV[1] .. ':dead:' .. k
  local f = redis.call('HMGET', dk, 'k', 'm', 'b')
  if f[1] then
    redis.call('XADD', KEYS[2], '*', 'k', f[1], 'm', f[2], 'b', f[3], 'a', '0')
    n = n + 1
  end
  redis.call('DEL', dk)
  redis.call('ZREM', KEYS[1], k)
end
return n
";

const DEAD_PURGE: &str = r"
local keys
if ARGV[2] ~= '' then keys = {ARGV[2]} else keys = redis.call('ZRANGE', KEYS[1], 0, -1) end
local n = 0
for _, k in ipairs(keys) do
  n = n + redis.call('DEL', ARGV[1] .. ':dead:' .. k)
  redis.call('ZREM', KEYS[1], k)
  redis.call('SET', ARGV[1] .. ':k:' .. k, 'd', 'PX', ARGV[3])
end
return n
";

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

impl RedisInbox {
    /// Run `script` on `keys` and `args` through a clone of the
    /// connection; a consumer group lost with the stream (a flushed Redis)
    /// is created again and the call repeated once.
    fn eval<'a, T>(
        &'a self,
        script: Script,
        keys: Vec<String>,
        args: Vec<Vec<u8>>,
    ) -> InboxFuture<'a, T>
    where
        T: redis::FromRedisValue + Send + 'a,
    {
        Box::pin(async move {
            for round in 0..2 {
                let mut invocation = script.prepare_invoke();
                for key in &keys {
                    invocation.key(key);
                }
                for arg in &args {
                    invocation.arg(arg);
                }
                let mut connection = self.connection.clone();
                match invocation.invoke_async::<T>(&mut connection).await {
                    Err(error) if round == 0 && error.to_string().contains("NOGROUP") => {
                        self.create_group().await?;
                    }
                    result => return result.map_err(backend),
                }
            }
            Err(InboxError::Backend("consumer group missing".into()))
        })
    }

    fn act<'a>(&'a self, body: &str, claim: &Claim, extra: Vec<Vec<u8>>) -> InboxFuture<'a, bool> {
        let mut args = vec![
            text(GROUP),
            text(&claim.id),
            text(&claim.token.to_string()),
            text(&self.prefix),
        ];
        args.extend(extra);
        let future = self.eval::<i64>(
            script(body),
            vec![
                self.key("stream"),
                self.key("hold"),
                self.key(third_key(body)),
            ],
            args,
        );
        Box::pin(async move { Ok(future.await? == 1) })
    }
}

fn third_key(body: &str) -> &'static str {
    if body == DEAD_LETTER {
        "dead"
    } else {
        "delay"
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
            Script::new(ENQUEUE),
            vec![
                self.key("stream"),
                self.key(&format!("k:{}", delivery.key)),
                self.key("delay"),
            ],
            vec![
                text(&delivery.key),
                text(&delivery.meta_json()),
                delivery.body.to_vec(),
                int(self.retain_ms() as i64),
                int(i64::try_from(self.capacity).unwrap_or(i64::MAX)),
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
            Script::new(CLAIM),
            vec![self.key("stream"), self.key("delay"), self.key("hold")],
            vec![
                text(GROUP),
                text(worker),
                text(&token.to_string()),
                int(unix_millis()),
                text(&self.prefix),
            ],
        );
        Box::pin(async move { Self::claimed(future.await?, token) })
    }

    fn heartbeat<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool> {
        let future = self.eval::<i64>(
            Script::new(HEARTBEAT),
            vec![self.key("hold")],
            vec![text(&claim.id), text(&claim.token.to_string())],
        );
        Box::pin(async move { Ok(future.await? == 1) })
    }

    fn held(&self) -> InboxFuture<'_, Vec<Held>> {
        let future = self.eval::<Vec<String>>(
            Script::new(HELD),
            vec![self.key("stream"), self.key("hold")],
            vec![text(GROUP)],
        );
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
            Script::new(TAKE_OVER),
            vec![self.key("stream"), self.key("hold")],
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
        self.act(COMPLETE, claim, vec![int(self.retain_ms() as i64)])
    }

    fn retry_at<'a>(
        &'a self,
        claim: &'a Claim,
        due_ms: i64,
        error: &'a str,
    ) -> InboxFuture<'a, bool> {
        self.act(
            RESCHEDULE,
            claim,
            vec![int(due_ms), text("retry"), text(error)],
        )
    }

    fn release<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool> {
        self.act(
            RESCHEDULE,
            claim,
            vec![int(0), text("release"), text("released at shutdown")],
        )
    }

    fn dead_letter<'a>(&'a self, claim: &'a Claim, error: &'a str) -> InboxFuture<'a, bool> {
        self.act(DEAD_LETTER, claim, vec![int(unix_millis()), text(error)])
    }

    fn dead_letters(&self, limit: usize) -> InboxFuture<'_, Vec<DeadLetter>> {
        let future = self.eval::<Vec<String>>(
            Script::new(DEAD_LIST),
            vec![self.key("dead")],
            vec![
                text(&self.prefix),
                int(i64::try_from(limit).unwrap_or(i64::MAX)),
            ],
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
            Script::new(DEAD_RETRY),
            vec![self.key("dead"), self.key("stream")],
            vec![text(&self.prefix), text(key.unwrap_or(""))],
        )
    }

    fn purge_dead<'a>(&'a self, key: Option<&'a str>) -> InboxFuture<'a, u64> {
        self.eval::<u64>(
            Script::new(DEAD_PURGE),
            vec![self.key("dead")],
            vec![
                text(&self.prefix),
                text(key.unwrap_or("")),
                int(self.retain_ms() as i64),
            ],
        )
    }

    fn stats(&self) -> InboxFuture<'_, InboxStats> {
        let future = self.eval::<(u64, u64, u64, u64, String)>(
            Script::new(STATS),
            vec![self.key("stream"), self.key("delay"), self.key("dead")],
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
