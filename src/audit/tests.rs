//! The audit layer alone, one request at a time through it (`oneshot`):
//! sinks that never hold a request. Moved from the HTTP tests
//! (`tests/library/audit/http.rs`), which keep the events of whole stacks.

use std::io::Write;
use std::sync::{Arc, Barrier, Mutex};

use http::{Request, StatusCode};

use super::{AuditEvent, AuditLayer, ChannelSink, JsonLinesSink};
use crate::test_support::{empty, oneshot};

/// `POST /hook` through `layer`; the handler answers 200.
async fn post(layer: &AuditLayer) -> StatusCode {
    oneshot(layer, empty(Request::post("/hook"))).await.status
}

#[tokio::test]
async fn a_full_channel_drops_and_counts_without_blocking() {
    let (sink, receiver) = ChannelSink::bounded(2);
    let handle = sink.clone();
    let layer = AuditLayer::without_sinks().sink(sink);
    // Nobody reads the channel: the third request onwards cannot be queued.
    for _ in 0..5 {
        assert_eq!(post(&layer).await, StatusCode::OK);
    }
    assert_eq!(handle.dropped(), 3);
    assert_eq!(receiver.try_iter().count(), 2);
    assert_eq!(layer.counts().accepted, 5, "counters see every event");
}

/// A writer that blocks until released, like a stalled pipe.
struct StuckWriter(Arc<Barrier>);

impl Write for StuckWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.wait();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_stuck_json_lines_writer_never_holds_a_request() {
    let barrier = Arc::new(Barrier::new(2));
    let sink = JsonLinesSink::with_capacity(StuckWriter(Arc::clone(&barrier)), 1).unwrap();
    let handle = sink.clone();
    let layer = AuditLayer::without_sinks().sink(sink);
    // The writer thread takes the first line and blocks on it; one more
    // fits in the channel; the rest are dropped. Every request completes.
    for _ in 0..6 {
        assert_eq!(post(&layer).await, StatusCode::OK);
    }
    assert!(handle.dropped() >= 4, "dropped {}", handle.dropped());
    barrier.wait();
}

#[tokio::test]
async fn a_panicking_sink_loses_its_event_not_the_request() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let layer = AuditLayer::without_sinks()
        .on_accept(|_: &AuditEvent| panic!("a broken audit callback"))
        .sink({
            let events = Arc::clone(&events);
            move |event: &AuditEvent| events.lock().unwrap().push(event.clone())
        });
    for _ in 0..2 {
        assert_eq!(post(&layer).await, StatusCode::OK);
    }
    assert_eq!(events.lock().unwrap().len(), 2, "the next sink still runs");
    let counts = layer.counts();
    assert_eq!((counts.accepted, counts.sink_panics), (2, 2));
}
