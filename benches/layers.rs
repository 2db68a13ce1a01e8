//! Per-request cost of each layer alone and of the full stack, through
//! `tower::ServiceExt::oneshot`, against a bare service in the same run.
//!
//! ```text
//! cargo bench --all-features --bench layers
//! BENCH_CLOCK=thread-cpu cargo bench --all-features --bench layers   # CPU time, for shared machines
//! ```
//!
//! Every service, bare or layered, ends in the same handler that takes the
//! whole body; the bare one collects the body itself. Requests (and their
//! signatures) are built outside the timed part with `iter_batched`, so the
//! figures are the server side only. Each delivery has a fresh id, so the
//! idempotency layer reserves and completes a key every time. The
//! `*_full_store` cases give the idempotency layer a store already holding
//! its capacity of other keys, the steady state of a long-running receiver.
//!
//! `hand_written` is the anchor for `full_stack`: the same deliveries
//! received by a service written by hand (a raw HMAC, a constant-time
//! compare, a `HashSet` of seen ids), the least work any correct receiver
//! does.
//!
//! The `store` group times the default idempotency store alone: a reserve
//! and a complete of a fresh key in a store already full (every insert
//! evicts, as in a long-running receiver), next to the cost of the boxed
//! future each store call returns.
#[path = "../examples/support/demo_stack.rs"]
mod demo_stack;
use demo_stack::unix_now;

#[path = "support/thread_cpu.rs"]
mod thread_cpu;

use std::convert::Infallible;
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use criterion::measurement::Measurement;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use tower::util::BoxCloneService;
use tower::{Layer, ServiceExt};
use tower_webhook::audit::AuditLayer;
use tower_webhook::body::BufferedBody;
use tower_webhook::idempotency::{
    IdempotencyLayer, IdempotencyStore, MemoryStore, Reservation, StoreError, StoreFuture,
    StoredOutcome,
};
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::replay::ReplayLayer;
use tower_webhook::signature::{Outgoing, SignatureLayer, Signer};
use tower_webhook::token::TokenLayer;
use tower_webhook::Secret;

const SIZES: [usize; 4] = [0, 1024, 64 * 1024, 1024 * 1024];
const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const TOKEN: &str = "a-static-webhook-token-0123456789";

type Service = BoxCloneService<Request<Full<Bytes>>, Response<Bytes>, Infallible>;

/// The handler at the end of every service: takes the whole body.
async fn handler<B: Body<Data = Bytes>>(
    request: Request<B>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let length = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes().len(),
        Err(_) => 0,
    };
    Ok(Response::new(Full::new(Bytes::from(length.to_string()))))
}

/// What a server does with any response: send its body.
async fn collect<B: Body<Data = Bytes>>(
    response: Response<B>,
) -> Result<Response<Bytes>, Infallible> {
    let (parts, body) = response.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    Ok(Response::from_parts(parts, bytes))
}

/// `$layer` in front of the handler, which receives a `$body` request.
macro_rules! layered {
    ($layer:expr, $body:ty) => {{
        let service = $layer.layer(tower::service_fn(handler::<$body>));
        Service::new(ServiceExt::<Request<Full<Bytes>>>::and_then(
            service, collect,
        ))
    }};
}

/// The least work any correct receiver of the full stack's deliveries
/// does, written by hand: the body read under a limit, the timestamp's age,
/// a raw HMAC-SHA256 of `{id}.{timestamp}.{body}`, a constant-time compare
/// with each `v1,` signature, a `HashSet` of seen ids. No audit, no IP
/// filter, no context: the anchor the full stack is compared with.
fn hand_written(limit: usize) -> Service {
    let receiver = demo_stack::HandWritten::new();
    tower::service_fn(move |request: Request<Full<Bytes>>| {
        let receiver = receiver.clone();
        async move {
            let (parts, body) = request.into_parts();
            let Ok(collected) = http_body_util::Limited::new(body, limit).collect().await else {
                return Ok(status(413));
            };
            let body = collected.to_bytes();
            match receiver.check(&parts.headers, &body) {
                Some(refused) => Ok(status(refused.as_u16())),
                None => handler(Request::from_parts(parts, Full::new(body))).await,
            }
        }
    })
    .and_then(collect)
    .boxed_clone()
}

fn status(code: u16) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = http::StatusCode::from_u16(code).expect("a valid status");
    response
}

fn bare() -> Service {
    tower::service_fn(handler::<Full<Bytes>>)
        .and_then(collect)
        .boxed_clone()
}

/// A request carrying `headers`, from a client the allowlists accept.
fn request(body: &Bytes, headers: HeaderMap) -> Request<Full<Bytes>> {
    let mut request = Request::post("/hook")
        .body(Full::new(body.clone()))
        .unwrap();
    *request.headers_mut() = headers;
    request
        .extensions_mut()
        .insert(SocketAddr::from(([10, 1, 2, 3], 40000)));
    request
}

fn header(name: &'static str, value: &str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(name),
        HeaderValue::from_str(value).unwrap(),
    )
}

fn unique_id() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("d-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A service and how to make one request it accepts.
struct Case {
    name: &'static str,
    service: Service,
    headers: Box<dyn Fn(&Bytes) -> HeaderMap>,
}

fn cases(size: usize) -> Vec<Case> {
    let limit = size.max(1024);
    let github_signature = |body: &Bytes| -> HeaderMap {
        Signer::preset("github", GITHUB_SECRET)
            .unwrap()
            .sign(&Outgoing::new(body, 0, ""))
            .unwrap()
            .into_iter()
            .collect()
    };
    vec![
        Case {
            name: "bare",
            service: bare(),
            headers: Box::new(|_| HeaderMap::new()),
        },
        Case {
            name: "ip_filter",
            service: layered!(
                IpFilterLayer::new().allow("10.0.0.0/8").unwrap(),
                Full<Bytes>
            ),
            headers: Box::new(|_| HeaderMap::new()),
        },
        Case {
            name: "token",
            service: layered!(
                TokenLayer::header(HeaderName::from_static("x-webhook-token"))
                    .accept("ops", Secret::new(TOKEN).unwrap()),
                Full<Bytes>
            ),
            headers: Box::new(|_| HeaderMap::from_iter([header("x-webhook-token", TOKEN)])),
        },
        Case {
            name: "signature_github",
            service: layered!(
                SignatureLayer::github(Secret::new(GITHUB_SECRET).unwrap()).body_limit(limit),
                BufferedBody
            ),
            headers: Box::new(github_signature),
        },
        Case {
            name: "replay_header",
            service: layered!(
                ReplayLayer::header(HeaderName::from_static("x-timestamp"))
                    .seconds()
                    .body_limit(limit),
                BufferedBody
            ),
            headers: Box::new(|_| {
                HeaderMap::from_iter([header("x-timestamp", &unix_now().to_string())])
            }),
        },
        Case {
            name: "idempotency",
            service: layered!(
                IdempotencyLayer::from_unsigned_header(HeaderName::from_static("x-delivery-id"))
                    .body_limit(limit),
                BufferedBody
            ),
            headers: Box::new(|_| HeaderMap::from_iter([header("x-delivery-id", &unique_id())])),
        },
        Case {
            name: "idempotency_full_store",
            service: layered!(
                IdempotencyLayer::from_unsigned_header(HeaderName::from_static("x-delivery-id"))
                    .body_limit(limit)
                    .store(full_store()),
                BufferedBody
            ),
            headers: Box::new(|_| HeaderMap::from_iter([header("x-delivery-id", &unique_id())])),
        },
        Case {
            name: "audit",
            service: layered!(AuditLayer::new(), Full<Bytes>),
            headers: Box::new(|_| HeaderMap::new()),
        },
        Case {
            name: "hand_written",
            service: hand_written(limit),
            headers: Box::new(|body| demo_stack::signed_headers(body)),
        },
        Case {
            name: "full_stack",
            service: layered!(demo_stack::stack(limit), BufferedBody),
            headers: Box::new(|body| demo_stack::signed_headers(body)),
        },
        Case {
            name: "full_stack_full_store",
            service: layered!(
                demo_stack::stack_with(limit, IdempotencyLayer::new().store(full_store())),
                BufferedBody
            ),
            headers: Box::new(|body| demo_stack::signed_headers(body)),
        },
    ]
}

fn bench<M: Measurement>(c: &mut Criterion<M>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("layers");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for size in SIZES {
        let body = Bytes::from(vec![b'x'; size]);
        group.throughput(Throughput::Bytes(size as u64));
        for case in cases(size) {
            // Each service must accept what it is given, or the figure
            // would be the cost of a rejection.
            let check = runtime
                .block_on(
                    case.service
                        .clone()
                        .oneshot(request(&body, (case.headers)(&body))),
                )
                .unwrap();
            assert_eq!(check.status(), 200, "{} at {size} bytes", case.name);
            group.bench_function(BenchmarkId::new(case.name, size), |b| {
                b.iter_batched(
                    || request(&body, (case.headers)(&body)),
                    |request| {
                        black_box(
                            runtime
                                .block_on(case.service.clone().oneshot(request))
                                .unwrap(),
                        )
                    },
                    BatchSize::SmallInput,
                )
            });
        }
    }
    group.finish();
}

/// One default-sized store, already holding its capacity of other
/// deliveries: what a receiver that has run a while has, where every new
/// key evicts the oldest. (A fresh store spends its first million keys
/// growing its tables and faulting in their pages.)
fn full_store() -> MemoryStore {
    static FULL: std::sync::OnceLock<MemoryStore> = std::sync::OnceLock::new();
    FULL.get_or_init(|| {
        let store = MemoryStore::new();
        let lock = Duration::from_secs(60);
        let ttl = Duration::from_secs(24 * 3600);
        let ok = StoredOutcome::new(http::StatusCode::OK);
        for n in 0..store.capacity() {
            let key = format!("t-|s5:/hook|s:earlier-{n}");
            let Reservation::Acquired(token) = ready(store.reserve(&key, lock)) else {
                panic!("a fresh key was held");
            };
            assert!(ready(store.complete(&key, &token, ok, ttl)));
        }
        store
    })
    .clone()
}

/// Polls a future that must be ready at once (the memory store's are).
fn ready<T>(future: StoreFuture<'_, T>) -> T {
    let mut future = future;
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(output) => output.unwrap(),
        std::task::Poll::Pending => panic!("a memory store future was pending"),
    }
}

fn store<M: Measurement>(c: &mut Criterion<M>) {
    let mut group = c.benchmark_group("store");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    let lock = Duration::from_secs(60);
    let ttl = Duration::from_secs(24 * 3600);
    let ok = StoredOutcome::new(http::StatusCode::OK);
    let store = MemoryStore::new();
    let mut key = String::new();
    let mut next = 0u64;
    let mut deliver = |store: &MemoryStore| {
        use std::fmt::Write;
        key.clear();
        // The shape the layer writes: tenant, route, delivery id.
        let _ = write!(key, "t-|s5:/hook|k:msg_{next:016x}");
        next += 1;
        let Reservation::Acquired(token) = ready(store.reserve(&key, lock)) else {
            panic!("a fresh key was held");
        };
        assert!(ready(store.complete(&key, &token, ok, ttl)));
    };
    let mut full = false;
    group.bench_function("memory_reserve_complete_full", |b| {
        // Filled here, not before: a filter that skips this bench skips
        // the million inserts too.
        if !full {
            for _ in 0..store.capacity() {
                deliver(&store);
            }
            full = true;
        }
        b.iter(|| deliver(black_box(&store)))
    });
    group.bench_function("boxed_ready_future", |b| {
        b.iter(|| {
            let future: StoreFuture<'_, bool> =
                Box::pin(std::future::ready(Ok::<_, StoreError>(black_box(true))));
            black_box(ready(future))
        })
    });
    group.finish();
}

fn main() {
    // Wall time by default; `BENCH_CLOCK=thread-cpu` on a shared machine.
    if thread_cpu::selected() {
        let mut c = Criterion::default()
            .with_measurement(thread_cpu::ThreadCpu)
            .configure_from_args();
        bench(&mut c);
        store(&mut c);
        c.final_summary();
    } else {
        let mut c = Criterion::default().configure_from_args();
        bench(&mut c);
        store(&mut c);
        c.final_summary();
    }
}
