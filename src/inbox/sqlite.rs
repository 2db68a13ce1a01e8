//! The embedded durable inbox: one SQLite file in WAL mode.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use rusqlite::{params, Connection, OptionalExtension};

use super::{
    new_token, unix_millis, Claim, Claimed, DeadLetter, Delivery, Enqueued, Held, Inbox,
    InboxError, InboxFuture, InboxStats, DEFAULT_CAPACITY, DEFAULT_RETAIN,
};

const WAITING: i64 = 0;
const HELD: i64 = 1;
const DEAD: i64 = 3;

/// An inbox in one SQLite file (feature `inbox-sqlite`; SQLite is compiled
/// in, no server and no system library).
///
/// WAL mode, `synchronous=FULL`: an enqueue that returned `Added` is in the
/// file and survives the process being killed, and the machine losing
/// power. Several processes of one machine may open the same file (a
/// receiver and separate workers); SQLite serialises their writes. Not for
/// a network file system: use `RedisInbox` across machines.
///
/// Calls run on tokio's blocking pool, one at a time per `SqliteInbox`
/// (clones share the connection).
#[derive(Clone)]
pub struct SqliteInbox {
    connection: Arc<Mutex<Connection>>,
    capacity: u64,
    retain: Duration,
}

impl std::fmt::Debug for SqliteInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteInbox")
            .field("capacity", &self.capacity)
            .field("retain", &self.retain)
            .finish_non_exhaustive()
    }
}

fn backend(error: rusqlite::Error) -> InboxError {
    InboxError::Backend(error.to_string())
}

impl SqliteInbox {
    /// Open (or create) the inbox at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, InboxError> {
        let connection = Connection::open(path).map_err(backend)?;
        // Another process may hold the write lock for a moment.
        connection
            .busy_timeout(Duration::from_secs(5))
            .map_err(backend)?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 CREATE TABLE IF NOT EXISTS inbox (
                     seq INTEGER PRIMARY KEY AUTOINCREMENT,
                     key TEXT NOT NULL UNIQUE,
                     state INTEGER NOT NULL,
                     due_ms INTEGER NOT NULL,
                     attempts INTEGER NOT NULL DEFAULT 0,
                     holder TEXT,
                     token INTEGER,
                     beat INTEGER NOT NULL DEFAULT 0,
                     received_ms INTEGER NOT NULL,
                     done_ms INTEGER,
                     last_error TEXT,
                     meta TEXT NOT NULL,
                     body BLOB
                 );
                 CREATE INDEX IF NOT EXISTS inbox_due ON inbox (state, due_ms, seq);
                 CREATE INDEX IF NOT EXISTS inbox_done ON inbox (state, done_ms);",
            )
            .map_err(backend)?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            capacity: DEFAULT_CAPACITY,
            retain: DEFAULT_RETAIN,
        })
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

    /// Run `f` on the connection on the blocking pool.
    fn run<'a, T, F>(&'a self, f: F) -> InboxFuture<'a, T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                // A panic inside rusqlite cannot leave the connection
                // half-changed: a transaction not committed is rolled back.
                let mut connection = connection.lock().unwrap_or_else(|p| p.into_inner());
                f(&mut connection).map_err(backend)
            })
            .await
            .map_err(|e| InboxError::Backend(format!("inbox task failed: {e}")))?
        })
    }

    fn act<'a>(&'a self, claim: &Claim, sql: &'static str, extra: Extra) -> InboxFuture<'a, bool> {
        let (seq, token) = match (claim.id.parse::<i64>(), i64::try_from(claim.token)) {
            (Ok(seq), Ok(token)) => (seq, token),
            _ => return Box::pin(std::future::ready(Ok(false))),
        };
        self.run(move |c| {
            let changed = match extra {
                Extra::None => c.execute(sql, params![seq, token])?,
                Extra::Int(n) => c.execute(sql, params![seq, token, n])?,
                Extra::IntText(n, text) => c.execute(sql, params![seq, token, n, text])?,
                Extra::Text(text) => c.execute(sql, params![seq, token, text])?,
            };
            Ok(changed == 1)
        })
    }
}

enum Extra {
    None,
    Int(i64),
    IntText(i64, String),
    Text(String),
}

fn claimed(
    seq: i64,
    token: i64,
    attempts: i64,
    meta: &str,
    body: Option<Vec<u8>>,
) -> Result<Claimed, rusqlite::Error> {
    let delivery = Delivery::from_stored(
        meta,
        Bytes::from(body.unwrap_or_default()),
        u32::try_from(attempts).unwrap_or(u32::MAX),
    )
    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    Ok(Claimed {
        claim: Claim {
            id: seq.to_string(),
            token: token as u64,
        },
        delivery,
    })
}

impl Inbox for SqliteInbox {
    fn enqueue<'a>(&'a self, delivery: &'a Delivery) -> InboxFuture<'a, Enqueued> {
        let key = delivery.key.to_string();
        let meta = delivery.meta_json();
        let body = delivery.body.to_vec();
        let received = delivery.received_at_ms;
        let capacity = i64::try_from(self.capacity).unwrap_or(i64::MAX);
        let forget_before = unix_millis()
            .saturating_sub(i64::try_from(self.retain.as_millis()).unwrap_or(i64::MAX));
        let future = self.run(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let known: Option<i64> = tx
                .query_row(
                    "SELECT state FROM inbox WHERE key = ?1 AND NOT (state = 2 AND done_ms < ?2)",
                    params![key, forget_before],
                    |r| r.get(0),
                )
                .optional()?;
            if known.is_some() {
                return Ok(Ok(Enqueued::Duplicate));
            }
            let pending: i64 = tx.query_row(
                "SELECT COUNT(*) FROM inbox WHERE state IN (0, 1)",
                [],
                |r| r.get(0),
            )?;
            if pending >= capacity {
                return Ok(Err(InboxError::Full));
            }
            // A completed key past its retention: forgotten, so this is a
            // new delivery under the same key.
            tx.execute("DELETE FROM inbox WHERE key = ?1", params![key])?;
            tx.execute(
                "INSERT INTO inbox (key, state, due_ms, received_ms, meta, body)
                 VALUES (?1, 0, 0, ?2, ?3, ?4)",
                params![key, received, meta, body],
            )?;
            // Forget a few expired completions on the way (bounded work).
            tx.execute(
                "DELETE FROM inbox WHERE seq IN
                   (SELECT seq FROM inbox WHERE state = 2 AND done_ms < ?1 LIMIT 16)",
                params![forget_before],
            )?;
            tx.commit()?;
            Ok(Ok(Enqueued::Added))
        });
        Box::pin(async move { future.await? })
    }

    fn claim<'a>(&'a self, worker: &'a str) -> InboxFuture<'a, Option<Claimed>> {
        let worker = worker.to_owned();
        let token = new_token() as i64;
        let now = unix_millis();
        self.run(move |c| {
            c.query_row(
                "UPDATE inbox SET state = 1, holder = ?1, token = ?2, beat = 0, attempts = attempts + 1
                 WHERE seq = (SELECT seq FROM inbox WHERE state = 0 AND due_ms <= ?3
                              ORDER BY due_ms, seq LIMIT 1)
                 RETURNING seq, attempts, meta, body",
                params![worker, token, now],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<Vec<u8>>>(3)?)),
            )
            .optional()?
            .map(|(seq, attempts, meta, body)| claimed(seq, token, attempts, &meta, body))
            .transpose()
        })
    }

    fn heartbeat<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool> {
        self.act(
            claim,
            "UPDATE inbox SET beat = beat + 1 WHERE seq = ?1 AND state = 1 AND token = ?2",
            Extra::None,
        )
    }

    fn held(&self) -> InboxFuture<'_, Vec<Held>> {
        self.run(|c| {
            let mut statement =
                c.prepare_cached("SELECT seq, token, beat FROM inbox WHERE state = 1")?;
            let rows = statement.query_map([], |r| {
                Ok(Held {
                    id: r.get::<_, i64>(0)?.to_string(),
                    token: r.get::<_, i64>(1)? as u64,
                    beat: r.get::<_, i64>(2)? as u64,
                })
            })?;
            rows.collect()
        })
    }

    fn take_over<'a>(
        &'a self,
        held: &'a Held,
        worker: &'a str,
    ) -> InboxFuture<'a, Option<Claimed>> {
        let (Ok(seq), Ok(old), Ok(beat)) = (
            held.id.parse::<i64>(),
            i64::try_from(held.token),
            i64::try_from(held.beat),
        ) else {
            return Box::pin(std::future::ready(Ok(None)));
        };
        let worker = worker.to_owned();
        let token = new_token() as i64;
        self.run(move |c| {
            c.query_row(
                "UPDATE inbox SET holder = ?1, token = ?2, beat = 0, attempts = attempts + 1
                 WHERE seq = ?3 AND state = 1 AND token = ?4 AND beat = ?5
                 RETURNING seq, attempts, meta, body",
                params![worker, token, seq, old, beat],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<Vec<u8>>>(3)?,
                    ))
                },
            )
            .optional()?
            .map(|(seq, attempts, meta, body)| claimed(seq, token, attempts, &meta, body))
            .transpose()
        })
    }

    fn complete<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool> {
        self.act(
            claim,
            "UPDATE inbox SET state = 2, done_ms = ?3, body = NULL, holder = NULL, token = NULL
             WHERE seq = ?1 AND state = 1 AND token = ?2",
            Extra::Int(unix_millis()),
        )
    }

    fn retry_at<'a>(
        &'a self,
        claim: &'a Claim,
        due_ms: i64,
        error: &'a str,
    ) -> InboxFuture<'a, bool> {
        self.act(
            claim,
            "UPDATE inbox SET state = 0, due_ms = ?3, last_error = ?4, holder = NULL, token = NULL
             WHERE seq = ?1 AND state = 1 AND token = ?2",
            Extra::IntText(due_ms, error.to_owned()),
        )
    }

    fn release<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool> {
        self.act(
            claim,
            "UPDATE inbox SET state = 0, due_ms = 0, attempts = MAX(attempts - 1, 0),
                 holder = NULL, token = NULL
             WHERE seq = ?1 AND state = 1 AND token = ?2",
            Extra::None,
        )
    }

    fn dead_letter<'a>(&'a self, claim: &'a Claim, error: &'a str) -> InboxFuture<'a, bool> {
        self.act(
            claim,
            "UPDATE inbox SET state = 3, last_error = ?3, holder = NULL, token = NULL
             WHERE seq = ?1 AND state = 1 AND token = ?2",
            Extra::Text(error.to_owned()),
        )
    }

    fn dead_letters(&self, limit: usize) -> InboxFuture<'_, Vec<DeadLetter>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |c| {
            let mut statement = c.prepare_cached(
                "SELECT attempts, last_error, meta FROM inbox WHERE state = 3 ORDER BY seq LIMIT ?1",
            )?;
            let rows = statement.query_map(params![limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            let mut letters = Vec::new();
            for row in rows {
                let (attempts, last_error, meta) = row?;
                let delivery = Delivery::from_stored(&meta, Bytes::new(), 0)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
                letters.push(DeadLetter {
                    key: delivery.key.to_string(),
                    delivery_id: delivery.delivery_id.as_deref().map(str::to_owned),
                    provider: delivery.provider.as_deref().map(str::to_owned),
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    last_error: last_error.unwrap_or_default(),
                    received_at_ms: delivery.received_at_ms,
                });
            }
            Ok(letters)
        })
    }

    fn retry_dead<'a>(&'a self, key: Option<&'a str>) -> InboxFuture<'a, u64> {
        let key = key.map(str::to_owned);
        self.run(move |c| {
            let changed = c.execute(
                "UPDATE inbox SET state = 0, due_ms = 0, attempts = 0
                 WHERE state = 3 AND (?1 IS NULL OR key = ?1)",
                params![key],
            )?;
            Ok(changed as u64)
        })
    }

    fn purge_dead<'a>(&'a self, key: Option<&'a str>) -> InboxFuture<'a, u64> {
        let key = key.map(str::to_owned);
        let now = unix_millis();
        self.run(move |c| {
            // Remembered as done: the sender's next retry must not bring
            // back what the operator gave up on.
            let changed = c.execute(
                "UPDATE inbox SET state = 2, done_ms = ?2, body = NULL
                 WHERE state = 3 AND (?1 IS NULL OR key = ?1)",
                params![key, now],
            )?;
            Ok(changed as u64)
        })
    }

    fn stats(&self) -> InboxFuture<'_, InboxStats> {
        self.run(|c| {
            let mut stats = InboxStats::default();
            let mut statement = c.prepare_cached(
                "SELECT state, COUNT(*), MIN(received_ms) FROM inbox
                 WHERE state IN (0, 1, 3) GROUP BY state",
            )?;
            let mut oldest: Option<i64> = None;
            let rows = statement.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            })?;
            for row in rows {
                let (state, count, min) = row?;
                let count = count as u64;
                match state {
                    WAITING => stats.depth = count,
                    HELD => stats.in_flight = count,
                    DEAD => stats.dead = count,
                    _ => {}
                }
                if state != DEAD {
                    if let Some(min) = min {
                        oldest = Some(oldest.map_or(min, |o| o.min(min)));
                    }
                }
            }
            stats.oldest_age = oldest.map(|o| {
                Duration::from_millis(u64::try_from(unix_millis().saturating_sub(o)).unwrap_or(0))
            });
            Ok(stats)
        })
    }
}
