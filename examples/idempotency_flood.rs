//! A flood of unique delivery keys against the in-memory idempotency store:
//! the store must stay within its capacity bound, and so must memory.
//!
//! ```text
//! cargo run --release --example idempotency_flood [KEYS] [CAPACITY]
//! ```
//!
//! Defaults: 1,000,000 keys into a store of 100,000. Prints the entry count
//! after eviction and the peak resident set size (`VmHWM`, Linux).

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
        .unwrap_or(1_000_000);
    let capacity: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);

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
                for n in (writer..keys).step_by(WRITERS) {
                    // The shape the layer writes: tenant, route, delivery id.
                    let key = format!("t-|s14:/webhooks/hook|k:evt_{n:016x}");
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
    store.run_pending_tasks().await;
    let elapsed = started.elapsed();
    let entries = store.entry_count();

    println!("keys written:       {keys}");
    println!("capacity:           {capacity}");
    println!("entries held:       {entries}");
    println!("evicted mid-flight: {lost}");
    println!("elapsed:            {elapsed:.2?}");
    println!(
        "peak RSS (VmHWM):   {}",
        proc_status("VmHWM").as_deref().unwrap_or("n/a")
    );
    println!(
        "RSS now (VmRSS):    {}",
        proc_status("VmRSS").as_deref().unwrap_or("n/a")
    );

    if entries > capacity {
        return Err(format!("{entries} entries exceed the capacity {capacity}").into());
    }
    Ok(())
}

fn proc_status(field: &str) -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .map(|value| value.trim().to_owned())
}
