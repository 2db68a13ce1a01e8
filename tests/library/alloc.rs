//! What a future allocates, for the tests that measure what a request
//! allocates (`stack::body_memory`, `audit::metrics_memory`). The counting
//! allocator is `allocation-counter`'s, which the crate installs as this
//! binary's global allocator and which counts per thread: the other tests
//! of the binary allocate on their own threads at the same time. The
//! measured services run on a current-thread runtime, so a request's
//! allocations are all on the measuring thread.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

pub use allocation_counter::AllocationInfo;

/// Runs `future` to completion, counting what each of its polls allocates
/// on this thread. Only the polls count: what the runtime does between
/// them (other tasks, timers) is not charged to the future. A
/// reallocation counts as an allocation of the new size (the crate counts
/// it as the allocator's default `realloc`: allocate, copy, free).
pub async fn measured<F: Future>(future: F) -> (F::Output, AllocationInfo) {
    let mut future = pin!(future);
    let mut total = AllocationInfo::default();
    let output = poll_fn(|cx| {
        let mut polled = Poll::Pending;
        total += allocation_counter::measure(|| polled = future.as_mut().poll(cx));
        polled
    })
    .await;
    (output, total)
}
