//! Tenants in a real database: sealed secrets in SQLite, a resolver reading
//! them through the tenant cache, and each tenant's security status written
//! back from real traffic.
//!
//! ```text
//! export TOWER_WEBHOOK_KEK="2026-12:$(openssl rand -base64 32)"
//! cargo run --example tenants_sqlite --features sealed
//! ```
//!
//! Serves `POST /hooks/{tenant}` on `127.0.0.1:3000` (`TENANTS_ADDR`
//! overrides) from an SQLite file (`TENANTS_DB`, default in memory) holding
//! one demo tenant, `acme`, a GitHub sender with a fresh secret. Without
//! `TOWER_WEBHOOK_KEK` a throwaway KEK is generated (and said so).
//!
//! # The table
//!
//! One row per tenant ([`SCHEMA`]): its provider (a name of
//! `tower_webhook::provider::ALL`), its secret *sealed*
//! ([`tower_webhook::seal`]: `tower-webhook seal --context <tenant>` makes
//! one), the previous sealed secret while a rotation is under way, an
//! optional allowlist, the security status and when the row changed. The
//! database never holds a KEK or a plain secret, and a sealed secret opens
//! only for the row's own tenant: copied into another row, the resolver
//! cannot open it and that tenant's deliveries get `503`
//! (`tenant_unavailable`) until it is fixed.
//!
//! # The status, from real traffic
//!
//! A [`TenantSecurity`] audit sink counts each tenant's deliveries and hands
//! every status change to a writer task, which stores it:
//!
//! | status | written when |
//! |---|---|
//! | `PENDING` | the row is created or its secret rotated |
//! | `SECURE` | a delivery verifies with the current secret |
//! | `CONFIGURING` | during a rotation, a delivery verifies with the previous secret only |
//! | `FAILED` | [`FAILED_AFTER`] deliveries are refused, none verified since the last change |
//!
//! Each secret version is a key id (`v3`, and `v2` for the previous one), so
//! every replica's sink learns of a rotation when its resolver loads the new
//! row ([`TenantSecurity::policy_loaded`]). The write is guarded: it applies
//! only to the key version the replica judged (a replica still holding the
//! old policy cannot mark the new one secure) and only moves the status
//! forward (`FAILED` only from `PENDING`, `CONFIGURING` not over `SECURE`),
//! so replicas writing in any order agree. Forged requests can only keep a
//! tenant from leaving `PENDING` for `FAILED` until it verifies; they never
//! demote one that verified.
//!
//! # Rotating a tenant's secret
//!
//! [`rotate_secret`]: the new sealed secret becomes current, the old one
//! previous (still accepted), the status `PENDING`; then the cache entry is
//! dropped. When the status reads `SECURE` the sender has switched;
//! [`TenantStore::finish_rotation`] then drops the previous secret (leave
//! time for retries the sender signed before switching).
//!
//! # Rotating a KEK
//!
//! Deploy the new KEK first in `TOWER_WEBHOOK_KEK`, the old one after it,
//! on every replica; run [`TenantStore::reseal_all`] (or `tower-webhook
//! reseal` per row); remove the old KEK. Every row opens with every
//! replica's ring at every step, so no delivery is refused. Resealing does
//! not change a secret, so no cache entry needs dropping.
//!
//! # Several replicas: cache invalidation
//!
//! Each replica caches resolved policies for 30 s. After a write, this
//! example calls [`TenantLayer::invalidate`], which is enough for one
//! process. With several, use the `redis` feature:
//! `tenants.listen_for_invalidations(url)` once at start on every replica,
//! and `tenants.invalidate_everywhere(url, name)` instead of `invalidate`
//! after a rotation. Without Redis, a rotation reaches the other replicas
//! when their entries expire (`TenantLayer::cache_for`).
//!
//! # The Postgres variant
//!
//! The same table, with Postgres types:
//!
//! ```sql
//! CREATE TYPE tenant_status AS ENUM ('PENDING', 'SECURE', 'CONFIGURING', 'FAILED');
//! CREATE TABLE tenants (
//!     name                   text PRIMARY KEY,
//!     provider               text NOT NULL,
//!     key_version            integer NOT NULL DEFAULT 1,
//!     sealed_secret          text NOT NULL,
//!     previous_sealed_secret text,
//!     allowlist              text,
//!     status                 tenant_status NOT NULL DEFAULT 'PENDING',
//!     updated_at             timestamptz NOT NULL DEFAULT now()
//! );
//! -- Tell every replica which tenant changed (see below).
//! CREATE FUNCTION tenant_changed() RETURNS trigger AS $$
//! BEGIN PERFORM pg_notify('tenant_changed', NEW.name); RETURN NEW; END
//! $$ LANGUAGE plpgsql;
//! CREATE TRIGGER tenant_changed AFTER UPDATE OF sealed_secret, previous_sealed_secret,
//!     provider, allowlist ON tenants FOR EACH ROW EXECUTE FUNCTION tenant_changed();
//! ```
//!
//! What changes in the code: the queries run on an async pool (`sqlx` or
//! `deadpool-postgres`) straight in the resolver, with no
//! `spawn_blocking`; placeholders are `$1`, `$2`; `updated_at` is `now()`;
//! the status write-back is the same guarded `UPDATE`. For invalidation,
//! each replica can `LISTEN tenant_changed` on one connection and call
//! `tenants.invalidate(name)` for each notification, instead of Redis; after
//! a lost connection, forget every cached tenant, as the Redis listener
//! does. Keep `sealed_secret` out of logical-replication publications and
//! query logs anyway: sealed, it is useless without the KEK, but there is no
//! reason to spread it.

use std::error::Error;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::routing::post;
use axum::Router;
use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot};
use tower_webhook::audit::AuditLayer;
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::seal::{Kek, KekRing, SealError, SealedSecret, KEK_VARIABLE};
use tower_webhook::signature::{Key, Keyring, SignatureLayer};
use tower_webhook::tenant::{
    SecurityStatus, TenantKey, TenantLayer, TenantLookup, TenantReport, TenantSecurity,
};
use tower_webhook::{provider, Secret, WebhookStack};

/// Errors of this example: the database, the sealing, the configuration.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// The tenants table (SQLite).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tenants (
    name                   TEXT PRIMARY KEY,
    provider               TEXT NOT NULL,
    key_version            INTEGER NOT NULL DEFAULT 1,
    sealed_secret          TEXT NOT NULL,
    previous_sealed_secret TEXT,
    allowlist              TEXT,
    status                 TEXT NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'SECURE', 'CONFIGURING', 'FAILED')),
    updated_at             INTEGER NOT NULL
)";

/// Refused deliveries, none verified, before a tenant is marked `FAILED`.
pub const FAILED_AFTER: u64 = 3;

/// One row of the table.
#[derive(Debug, Clone)]
pub struct TenantRow {
    /// The tenant's name, as stored (the context its secrets are sealed for).
    pub name: String,
    /// The provider's name.
    pub provider: String,
    /// The current secret's version; the previous one is `key_version - 1`.
    pub key_version: i64,
    /// The current secret, sealed.
    pub sealed_secret: String,
    /// The previous secret, sealed, while a rotation is under way.
    pub previous_sealed_secret: Option<String>,
    /// Addresses or networks the tenant's sender uses, if restricted.
    pub allowlist: Option<String>,
    /// `PENDING`, `SECURE`, `CONFIGURING` or `FAILED`.
    pub status: String,
}

/// The tenants table and the KEKs that open its secrets. Clones share both.
#[derive(Clone)]
pub struct TenantStore {
    db: Arc<Mutex<Connection>>,
    keks: Arc<RwLock<KekRing>>,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

/// The key id of a secret version, as the audit trail records it.
pub fn key_id(version: i64) -> String {
    format!("v{version}")
}

impl TenantStore {
    /// The database at `path` (`:memory:` for a private in-memory one),
    /// with the table created if missing.
    pub fn open(path: &str, keks: KekRing) -> rusqlite::Result<Self> {
        let db = Connection::open(path)?;
        db.execute_batch(SCHEMA)?;
        Ok(Self {
            db: Arc::new(Mutex::new(db)),
            keks: Arc::new(RwLock::new(keks)),
        })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The KEKs in use now.
    pub fn keks(&self) -> KekRing {
        self.keks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Use `keks` from now on (a new KEK deployed, an old one retired).
    pub fn set_keks(&self, keks: KekRing) {
        *self.keks.write().unwrap_or_else(PoisonError::into_inner) = keks;
    }

    /// Seal `secret` for `tenant` with the current KEK.
    pub fn seal(&self, tenant: &str, secret: &Secret) -> Result<SealedSecret, SealError> {
        self.keks().seal(secret, tenant)
    }

    /// A new tenant, `PENDING`, its secret already sealed for it.
    pub fn add_tenant(
        &self,
        name: &str,
        provider: &str,
        sealed_secret: &str,
        allowlist: Option<&str>,
    ) -> rusqlite::Result<()> {
        self.db().execute(
            "INSERT INTO tenants (name, provider, sealed_secret, allowlist, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![name, provider, sealed_secret, allowlist, now()],
        )?;
        Ok(())
    }

    /// `name`'s row, if any.
    pub fn row(&self, name: &str) -> rusqlite::Result<Option<TenantRow>> {
        self.db()
            .query_row(
                "SELECT name, provider, key_version, sealed_secret, previous_sealed_secret,
                        allowlist, status
                 FROM tenants WHERE name = ?1",
                params![name],
                |row| {
                    Ok(TenantRow {
                        name: row.get(0)?,
                        provider: row.get(1)?,
                        key_version: row.get(2)?,
                        sealed_secret: row.get(3)?,
                        previous_sealed_secret: row.get(4)?,
                        allowlist: row.get(5)?,
                        status: row.get(6)?,
                    })
                },
            )
            .optional()
    }

    /// Store `sealed_secret` as `name`'s current secret, keep the current
    /// one as previous (still accepted), and restart the status at
    /// `PENDING`. Call [`rotate_secret`] instead, which also drops the
    /// cached policy.
    pub fn start_rotation(&self, name: &str, sealed_secret: &str) -> rusqlite::Result<bool> {
        let changed = self.db().execute(
            "UPDATE tenants
             SET previous_sealed_secret = sealed_secret, sealed_secret = ?2,
                 key_version = key_version + 1, status = 'PENDING', updated_at = ?3
             WHERE name = ?1",
            params![name, sealed_secret, now()],
        )?;
        Ok(changed == 1)
    }

    /// Stop accepting `name`'s previous secret. Drop the cached policy
    /// afterwards.
    pub fn finish_rotation(&self, name: &str) -> rusqlite::Result<bool> {
        let changed = self.db().execute(
            "UPDATE tenants SET previous_sealed_secret = NULL, updated_at = ?2
             WHERE name = ?1 AND previous_sealed_secret IS NOT NULL",
            params![name, now()],
        )?;
        Ok(changed == 1)
    }

    /// Reseal `name`'s secrets with the current KEK if another sealed them.
    /// `Ok(true)` if the row was rewritten. The update applies only if the
    /// row did not change meanwhile (a concurrent rotation wins; run again).
    pub fn reseal(&self, name: &str) -> Result<bool, BoxError> {
        let Some(row) = self.row(name)? else {
            return Ok(false);
        };
        let keks = self.keks();
        let current: SealedSecret = row.sealed_secret.parse()?;
        let previous: Option<SealedSecret> = row
            .previous_sealed_secret
            .as_deref()
            .map(str::parse)
            .transpose()?;
        let stale =
            keks.needs_reseal(&current) || previous.as_ref().is_some_and(|p| keks.needs_reseal(p));
        if !stale {
            return Ok(false);
        }
        let current = keks.reseal(&current, &row.name)?;
        let previous = previous
            .map(|previous| keks.reseal(&previous, &row.name))
            .transpose()?;
        let changed = self.db().execute(
            "UPDATE tenants SET sealed_secret = ?2, previous_sealed_secret = ?3, updated_at = ?4
             WHERE name = ?1 AND sealed_secret = ?5 AND previous_sealed_secret IS ?6",
            params![
                row.name,
                current.as_str(),
                previous.as_ref().map(SealedSecret::as_str),
                now(),
                row.sealed_secret,
                row.previous_sealed_secret,
            ],
        )?;
        Ok(changed == 1)
    }

    /// Every tenant's name.
    pub fn names(&self) -> rusqlite::Result<Vec<String>> {
        let db = self.db();
        let mut query = db.prepare("SELECT name FROM tenants ORDER BY name")?;
        let names = query.query_map([], |row| row.get(0))?;
        names.collect()
    }

    /// Reseal every row another KEK sealed; the names of the rows rewritten.
    pub fn reseal_all(&self) -> Result<Vec<String>, BoxError> {
        let mut resealed = Vec::new();
        for name in self.names()? {
            if self.reseal(&name)? {
                resealed.push(name);
            }
        }
        Ok(resealed)
    }

    /// Store a status change a delivery caused, if it still applies (see
    /// the [module docs](self)): `Ok(true)` if the row changed.
    pub fn write_status(&self, report: &TenantReport) -> rusqlite::Result<bool> {
        let Some(version) = report
            .current_key
            .as_deref()
            .and_then(|id| id.strip_prefix('v'))
            .and_then(|version| version.parse::<i64>().ok())
        else {
            return Ok(false);
        };
        // Only forward: a write from a slower replica or an older event
        // never undoes a later one.
        let sql = match report.status {
            SecurityStatus::Secure => {
                "UPDATE tenants SET status = 'SECURE', updated_at = ?3
                 WHERE name = ?1 AND key_version = ?2 AND status <> 'SECURE'"
            }
            SecurityStatus::Configuring => {
                "UPDATE tenants SET status = 'CONFIGURING', updated_at = ?3
                 WHERE name = ?1 AND key_version = ?2 AND status IN ('PENDING', 'FAILED')"
            }
            SecurityStatus::Failed => {
                "UPDATE tenants SET status = 'FAILED', updated_at = ?3
                 WHERE name = ?1 AND key_version = ?2 AND status = 'PENDING'"
            }
            SecurityStatus::Pending => return Ok(false),
        };
        let changed = self
            .db()
            .execute(sql, params![&*report.tenant, version, now()])?;
        Ok(changed == 1)
    }
}

/// What the status writer task is asked to do.
enum Write {
    Status(Box<TenantReport>),
    Flush(oneshot::Sender<()>),
}

/// Writes status changes to the table off the request path, in order.
#[derive(Clone)]
pub struct StatusWriter {
    queue: mpsc::UnboundedSender<Write>,
}

impl StatusWriter {
    /// Start the writer task on the current runtime. A change is at most
    /// three writes per tenant per secret version, so the queue stays small.
    pub fn start(store: TenantStore) -> Self {
        let (queue, mut writes) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(write) = writes.recv().await {
                match write {
                    Write::Status(report) => {
                        let store = store.clone();
                        let written =
                            tokio::task::spawn_blocking(move || store.write_status(&report)).await;
                        if let Ok(Err(error)) = written {
                            tracing::warn!(%error, "tenant status not written");
                        }
                    }
                    Write::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        Self { queue }
    }

    /// The audit sink that feeds this writer.
    pub fn security(&self) -> TenantSecurity {
        let queue = self.queue.clone();
        TenantSecurity::new()
            .failed_after(FAILED_AFTER)
            .on_change(move |_previous, report| {
                let _ = queue.send(Write::Status(Box::new(report.clone())));
            })
    }

    /// Wait until every change queued so far is written.
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Write::Flush(done)).is_ok() {
            let _ = written.await;
        }
    }
}

/// A tenant's policy from its row: its provider's bundle with the current
/// secret (and the previous one during a rotation) and its allowlist.
fn policy_of(row: &TenantRow, keks: &KekRing) -> Result<(TenantLookup, String), BoxError> {
    let provider = provider::by_name(&row.provider)?;
    let scheme = (provider.scheme)();
    let current = keks.open_text(&row.sealed_secret, &row.name)?;
    let current_text = current.expose_str().ok_or("the secret is not UTF-8")?;
    let current_id = key_id(row.key_version);
    let mut keyring = Keyring::new().with(Key::new(
        current_id.as_str(),
        scheme.parse_key(current_text)?,
    ));
    if let Some(previous) = &row.previous_sealed_secret {
        let previous = keks.open_text(previous, &row.name)?;
        let previous_text = previous.expose_str().ok_or("the secret is not UTF-8")?;
        keyring = keyring.with(Key::new(
            key_id(row.key_version - 1),
            scheme.parse_key(previous_text)?,
        ));
    }
    let mut stack = WebhookStack::from_provider(provider, current_text)?
        .signature(SignatureLayer::from_arc(scheme, keyring)?)
        // Idempotency goes inside the tenant layer, for every tenant.
        .without_idempotency();
    if let Some(allowlist) = &row.allowlist {
        stack = stack.ip_filter(IpFilterLayer::new().allow(allowlist)?);
    }
    Ok((
        TenantLookup::policy(stack.into_tenant_policy()?),
        current_id,
    ))
}

/// The tenant layer over `store`: each tenant's policy from its row,
/// cached, with `security` told which key is current.
pub fn tenant_layer(store: TenantStore, security: TenantSecurity) -> TenantLayer {
    let resolver = move |tenant: String| {
        let store = store.clone();
        let security = security.clone();
        async move {
            // rusqlite blocks: off the async workers.
            let row = tokio::task::spawn_blocking({
                let store = store.clone();
                move || store.row(&tenant)
            })
            .await??;
            let Some(row) = row else {
                return Ok::<_, BoxError>(TenantLookup::Unknown);
            };
            // An error here (a secret sealed for another tenant, a retired
            // KEK) answers 503 and is not cached: fixing the row fixes it.
            let (lookup, current_id) = policy_of(&row, &store.keks()).inspect_err(|error| {
                tracing::error!(tenant = %row.name, %error, "tenant policy unavailable");
            })?;
            security.policy_loaded(&row.name, Some(&current_id));
            Ok(lookup)
        }
    };
    TenantLayer::new(TenantKey::PathAfter("/hooks".into()), resolver)
}

/// The receiver: `POST /hooks/{tenant}`, audited into `writer`'s sink.
pub fn app(store: TenantStore, writer: &StatusWriter) -> (Router, TenantLayer) {
    let security = writer.security();
    let tenants = tenant_layer(store, security.clone());
    let layers = tower::ServiceBuilder::new()
        .layer(AuditLayer::new().sink(security))
        .layer(tenants.clone());
    let route = post(|| async { "ok" }).layer(layers);
    (Router::new().route("/hooks/{tenant}", route), tenants)
}

/// Rotate `name`'s secret to `secret`: stored sealed, the old one kept as
/// previous, the cached policy dropped.
pub async fn rotate_secret(
    store: &TenantStore,
    tenants: &TenantLayer,
    name: &str,
    secret: &Secret,
) -> Result<(), BoxError> {
    let sealed = store.seal(name, secret)?;
    if !store.start_rotation(name, sealed.as_str())? {
        return Err(format!("no tenant `{name}`").into());
    }
    // With several replicas: `tenants.invalidate_everywhere(url, name)`.
    tenants.invalidate(name).await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let addr: SocketAddr = std::env::var("TENANTS_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".to_owned())
        .parse()?;
    let keks = match KekRing::from_env(KEK_VARIABLE) {
        Ok(keks) => keks,
        Err(SealError::MissingVariable(_)) => {
            eprintln!("{KEK_VARIABLE} is not set: sealing with a throwaway KEK");
            KekRing::new(Kek::generate("throwaway")?)
        }
        Err(error) => return Err(error.into()),
    };
    let path = std::env::var("TENANTS_DB").unwrap_or_else(|_| ":memory:".to_owned());
    let store = TenantStore::open(&path, keks)?;
    if store.row("acme")?.is_none() {
        let secret = Secret::generate();
        let sealed = store.seal("acme", &secret)?;
        store.add_tenant("acme", "github", sealed.as_str(), None)?;
        // Shown once, for the demo's sender; the table holds it sealed.
        println!(
            "tenant acme (github), secret: {}",
            secret.expose_str().unwrap_or_default()
        );
    }
    let writer = StatusWriter::start(store.clone());
    let (router, _tenants) = app(store, &writer);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!(
        "POST http://{}/hooks/{{tenant}}  (sign with `tower-webhook sign --scheme github`)",
        listener.local_addr()?
    );
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
