//! The allocator of this binary counts what each thread allocates, for the
//! tests that measure what a request allocates (`stack::body_memory`,
//! `audit::metrics_memory`). Per thread, not per process: the other tests of
//! the binary allocate on their own threads at the same time. The measured
//! services run on a current-thread runtime, so a request's allocations are
//! all on the measuring thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting per thread.
pub struct Counting;

#[global_allocator]
static COUNTING: Counting = Counting;

/// The allocator a [`Region`] reads (the name the tests had with
/// `stats_alloc`).
pub static GLOBAL: &Counting = &COUNTING;

/// What the current thread allocated.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub allocations: usize,
    pub reallocations: usize,
    pub bytes_allocated: usize,
    pub bytes_reallocated: isize,
}

thread_local! {
    // `const` and without a destructor: no allocation and no registration
    // on first use, which would recurse into the allocator.
    static STATS: Cell<Stats> = const {
        Cell::new(Stats {
            allocations: 0,
            reallocations: 0,
            bytes_allocated: 0,
            bytes_reallocated: 0,
        })
    };
}

fn record(update: impl FnOnce(&mut Stats)) {
    // A thread being torn down has no counter left: nothing to count.
    let _ = STATS.try_with(|cell| {
        let mut stats = cell.get();
        update(&mut stats);
        cell.set(stats);
    });
}

// SAFETY: every call is passed unchanged to `System`; the counting touches
// only a thread-local `Cell` and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(|s| {
            s.allocations += 1;
            s.bytes_allocated += layout.size();
        });
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(|s| {
            s.allocations += 1;
            s.bytes_allocated += layout.size();
        });
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(|s| {
            s.reallocations += 1;
            s.bytes_reallocated += new_size as isize - layout.size() as isize;
        });
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// The current thread's allocations from [`Region::new`] on.
pub struct Region {
    start: Stats,
}

impl Region {
    /// Starts counting on the current thread.
    pub fn new(_: &Counting) -> Self {
        Region { start: current() }
    }

    /// What the current thread allocated since [`Region::new`].
    pub fn change(&self) -> Stats {
        let now = current();
        Stats {
            allocations: now.allocations - self.start.allocations,
            reallocations: now.reallocations - self.start.reallocations,
            bytes_allocated: now.bytes_allocated - self.start.bytes_allocated,
            bytes_reallocated: now.bytes_reallocated - self.start.bytes_reallocated,
        }
    }
}

fn current() -> Stats {
    STATS.try_with(Cell::get).unwrap_or_default()
}
