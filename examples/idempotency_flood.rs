//! A flood of unique delivery keys against the in-memory idempotency store:
//! the store must stay within its capacity bound, and so must memory.
//!
//! ```text
//! cargo run --release --example idempotency_flood [KEYS] [CAPACITY]
//! ```
//!
//! Defaults: 2,000,000 keys into a store of the default capacity
//! (1,000,000), so the second half of the flood evicts the first. Prints the
//! entry count, the store's own allocation per key, and the resident set
//! (Linux `VmRSS`/`VmHWM`) before and after, per key held.

use std::time::{Duration, Instant};

use http::StatusCode;
use tower_webhook::idempotency::{IdempotencyStore, MemoryStore, Reservation, StoredOutcome};

const WRITERS: usize = 4;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let keys: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(2_000_000);
    let capacity: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);

    let rss_before = proc_status_kib("VmRSS").unwrap_or(0);
    let store = MemoryStore::with_capacity(capacity);
    let lock = Duration::from_secs(60);
    let ttl = Duration::from_secs(24 * 3600);
    let ok = StoredOutcome::new(StatusCode::OK);
    let started = Instant::now();

    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut lost = 0usize;
                let mut key = String::new();
                for n in (writer..keys).step_by(WRITERS) {
                    // The shape the layer writes: tenant, route, delivery id.
                    key.clear();
                    std::fmt::Write::write_fmt(
                        &mut key,
                        format_args!("t-|s14:/webhooks/hook|k:evt_{n:016x}"),
                    )?;
                    match store.reserve(&key, lock).await? {
                        Reservation::Acquired(token) => {
                            if !store.complete(&key, &token, ok, ttl).await? {
                                lost += 1;
                            }
                        }
                        other => return Err(format!("unique key {n} was {other:?}").into()),
                    }
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(lost)
            })
        })
        .collect();
    let mut lost = 0;
    for writer in writers {
        lost += writer.await?.map_err(|e| e.to_string())?;
    }
    let elapsed = started.elapsed();
    let entries = store.entry_count();
    let rss_after = proc_status_kib("VmRSS").unwrap_or(0);
    let peak = proc_status_kib("VmHWM").unwrap_or(0);
    let per_key = |bytes: f64| bytes / entries.max(1) as f64;

    println!("keys written:        {keys}");
    println!("capacity:            {capacity}");
    println!("entries held:        {entries}");
    println!("evicted mid-flight:  {lost}");
    println!(
        "elapsed:             {elapsed:.2?} ({:.0} ns per reserve + complete)",
        elapsed.as_nanos() as f64 / keys as f64
    );
    println!(
        "store allocation:    {:.1} MB, {:.1} B per key held",
        store.allocated_bytes() as f64 / 1e6,
        per_key(store.allocated_bytes() as f64)
    );
    println!(
        "RSS before / after:  {:.1} / {:.1} MB, {:.1} B per key held",
        kib_to_mb(rss_before),
        kib_to_mb(rss_after),
        per_key((rss_after.saturating_sub(rss_before) * 1024) as f64)
    );
    println!("peak RSS (VmHWM):    {:.1} MB", kib_to_mb(peak));

    if entries > capacity {
        return Err(format!("{entries} entries exceed the capacity {capacity}").into());
    }
    Ok(())
}

fn kib_to_mb(kib: u64) -> f64 {
    (kib * 1024) as f64 / 1e6
}

/// A `/proc/self/status` figure in KiB (Linux); `None` elsewhere.
fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().strip_suffix("kB"))
        .and_then(|value| value.trim().parse().ok())
}
