//! A criterion measurement of the bench thread's CPU time instead of wall
//! time, chosen with `BENCH_CLOCK=thread-cpu`.
//!
//! On a machine whose cores are shared with other work, wall time counts
//! the moments the bench thread waited for a core; thread CPU time does
//! not, so ratios taken in one run stay comparable. It still counts what
//! sharing does to the caches. Everything the benches time runs on the
//! calling thread (a current-thread runtime), so nothing is missed.

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::Throughput;

/// Which clock the benches read.
pub fn selected() -> bool {
    std::env::var("BENCH_CLOCK").is_ok_and(|clock| clock == "thread-cpu")
}

/// Thread CPU time (`CLOCK_THREAD_CPUTIME_ID`).
pub struct ThreadCpu;

impl Measurement for ThreadCpu {
    type Intermediate = cpu_time::ThreadTime;
    type Value = Duration;

    fn start(&self) -> Self::Intermediate {
        cpu_time::ThreadTime::now()
    }

    fn end(&self, start: Self::Intermediate) -> Self::Value {
        start.elapsed()
    }

    fn add(&self, a: &Self::Value, b: &Self::Value) -> Self::Value {
        *a + *b
    }

    fn zero(&self) -> Self::Value {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Self::Value) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &Nanoseconds
    }
}

/// Values in nanoseconds, shown like criterion's wall time.
struct Nanoseconds;

impl ValueFormatter for Nanoseconds {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns")
        } else if typical < 1e6 {
            (1e-3, "µs")
        } else if typical < 1e9 {
            (1e-6, "ms")
        } else {
            (1e-9, "s")
        };
        values.iter_mut().for_each(|value| *value *= factor);
        unit
    }

    fn scale_throughputs(
        &self,
        typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let per_iteration = match throughput {
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) => *n as f64,
            Throughput::Elements(n) => *n as f64,
            Throughput::Bits(n) => *n as f64 / 8.0,
            _ => 1.0,
        };
        let _ = typical;
        // Per second of CPU, in MiB (bytes) or elements.
        values
            .iter_mut()
            .for_each(|value| *value = per_iteration * 1e9 / *value / (1024.0 * 1024.0));
        "MiB/s (CPU)"
    }

    fn scale_for_machines(&self, _: &mut [f64]) -> &'static str {
        "ns"
    }
}
