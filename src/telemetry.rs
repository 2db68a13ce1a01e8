//! The `metrics` facade, below every layer: the label sets built once,
//! and the series the idempotency layer records. `audit::metrics` documents
//! every series and re-exports these names.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};
use std::thread::LocalKey;

use ::metrics::{Key, Label, Level, Metadata};

/// Idempotency leases the store reported gone while the handler ran
/// ([`IdempotencyCounts::leases_lost`](crate::idempotency::IdempotencyCounts::leases_lost)).
pub(crate) const IDEMPOTENCY_LEASES_LOST: &str = "webhook_idempotency_leases_lost_total";
/// Idempotency completions that could not be recorded
/// ([`IdempotencyCounts::completions_lost`](crate::idempotency::IdempotencyCounts::completions_lost)).
pub(crate) const IDEMPOTENCY_COMPLETIONS_LOST: &str = "webhook_idempotency_completions_lost_total";
/// Idempotency store calls that failed, labelled `operation` and `error`.
pub(crate) const IDEMPOTENCY_STORE_ERRORS: &str = "webhook_idempotency_store_errors_total";

pub(crate) static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// Label sets of bounded values, each built once and kept for the life of
/// the process: recording an event then builds no label, which the
/// `metrics` macros do for every call with runtime values, recorder or
/// not. Bounded by the product of the label domains (a few thousand at
/// most).
static LABELS: LazyLock<RwLock<LabelSets>> = LazyLock::new(|| RwLock::new(HashMap::new()));

/// Label pairs → the labels built from them once.
type LabelSets = HashMap<Vec<(&'static str, &'static str)>, &'static [Label]>;

pub(crate) fn labels(pairs: &[(&'static str, &'static str)]) -> &'static [Label] {
    // Most events repeat a label set seen moments ago on this thread:
    // compared by address, without hashing the strings or taking the lock.
    thread_local! {
        static RECENT: Recent<Vec<usize>, &'static [Label]> = const { RefCell::new(Vec::new()) };
    }
    let address = |pairs: &[(&'static str, &'static str)]| -> Vec<usize> {
        pairs
            .iter()
            .flat_map(|(key, value)| {
                [
                    key.as_ptr() as usize,
                    key.len(),
                    value.as_ptr() as usize,
                    value.len(),
                ]
            })
            .collect()
    };
    recent(
        &RECENT,
        |seen| {
            seen.len() == pairs.len() * 4
                && pairs.iter().enumerate().all(|(i, (key, value))| {
                    seen[4 * i] == key.as_ptr() as usize
                        && seen[4 * i + 1] == key.len()
                        && seen[4 * i + 2] == value.as_ptr() as usize
                        && seen[4 * i + 3] == value.len()
                })
        },
        || (address(pairs), shared_labels(pairs)),
    )
}

/// The entries a thread saw last, newest at the end.
pub(crate) type Recent<K, V> = RefCell<Vec<(K, V)>>;

/// The value of the first entry of this thread's `cache` whose key
/// `matches`; else `build`'s, kept among the last 16. A hit takes no lock
/// and hashes nothing: for what most events repeat from moments ago.
pub(crate) fn recent<K: 'static, V: Copy + 'static>(
    cache: &'static LocalKey<Recent<K, V>>,
    matches: impl Fn(&K) -> bool,
    build: impl FnOnce() -> (K, V),
) -> V {
    const KEPT: usize = 16;
    let found = cache.with(|recent| {
        recent
            .borrow()
            .iter()
            .find(|(key, _)| matches(key))
            .map(|(_, value)| *value)
    });
    if let Some(value) = found {
        return value;
    }
    // Built outside the borrow: `build` may use another cache.
    let (key, value) = build();
    cache.with(|recent| {
        let mut recent = recent.borrow_mut();
        if recent.len() == KEPT {
            recent.remove(0);
        }
        recent.push((key, value));
    });
    value
}

/// [`labels`] from the process-wide table.
fn shared_labels(pairs: &[(&'static str, &'static str)]) -> &'static [Label] {
    if let Some(labels) = LABELS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(pairs)
    {
        return labels;
    }
    let mut all = LABELS.write().unwrap_or_else(PoisonError::into_inner);
    all.entry(pairs.to_vec()).or_insert_with(|| {
        let labels: Vec<Label> = pairs
            .iter()
            .map(|&(key, value)| Label::from_static_parts(key, value))
            .collect();
        Box::leak(labels.into_boxed_slice())
    })
}

pub(crate) fn increment(name: &'static str, pairs: &[(&'static str, &'static str)]) {
    let key = Key::from_static_parts(name, labels(pairs));
    ::metrics::with_recorder(|recorder| recorder.register_counter(&key, &METADATA).increment(1));
}

pub(crate) fn record_lease_lost() {
    increment(IDEMPOTENCY_LEASES_LOST, &[]);
}

pub(crate) fn record_completion_lost() {
    increment(IDEMPOTENCY_COMPLETIONS_LOST, &[]);
}

/// A store call `operation` (`reserve`, `renew`, `complete`, `release`)
/// failed with `error` (`timeout`, `backend`, `corrupt`).
pub(crate) fn record_store_error(operation: &'static str, error: &'static str) {
    increment(
        IDEMPOTENCY_STORE_ERRORS,
        &[("operation", operation), ("error", error)],
    );
}
