//! HTTP load test: the same axum route served bare, behind a hand-written
//! receiver (raw HMAC, constant-time compare, `HashSet` dedupe: the least
//! work a correct receiver does) and behind the webhook stack, driven over
//! loopback by the same client, in one run.
//!
//! ```text
//! cargo run --release --example loadtest -- [requests] [concurrency] [body_bytes] [rounds]
//! ```
//!
//! Defaults: 20,000 requests per route and round, 16 connections, 1 KiB
//! bodies, 3 rounds. Each route gets the same warm-up, then the rounds
//! alternate the three routes; the output has requests/s and p50/p99
//! latency of each run, the ratios (stack/bare, hand/bare, stack/hand) of
//! the best rounds and the median ratio of a round, the process CPU time per request of each route (client
//! included: the throughput ratio a CPU-bound machine would show, and a
//! figure that holds on a machine shared with other work), and the
//! process's peak RSS. Each run is bounded by its
//! request count (and a 120 s cap).
#[path = "support/demo_stack.rs"]
mod demo_stack;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use bytes::Bytes;
use http::HeaderMap;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;

async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    addr
}

struct Run {
    requests_per_second: f64,
    /// Process CPU time (client and server) per request, when known.
    cpu_per_request: Option<Duration>,
    p50: Duration,
    p99: Duration,
    failures: usize,
}

async fn drive(
    addr: SocketAddr,
    requests: usize,
    concurrency: usize,
    headers: Arc<Vec<HeaderMap>>,
    body: Bytes,
) -> Run {
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(concurrency)
        .build_http::<Full<Bytes>>();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(120);
    let started = Instant::now();
    let cpu_before = process_cpu();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let next = Arc::clone(&next);
        let headers = Arc::clone(&headers);
        let body = body.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0;
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= requests || Instant::now() > deadline {
                    break;
                }
                // Built the same way for both routes; only the headers
                // differ (signed ahead of time for the stacked route).
                let mut request = http::Request::post(format!("http://{addr}/hook"))
                    .body(Full::new(body.clone()))
                    .expect("request");
                if let Some(signed) = headers.get(n) {
                    request.headers_mut().extend(signed.clone());
                }
                let start = Instant::now();
                match client.request(request).await {
                    Ok(response) => {
                        let ok = response.status().is_success();
                        let _ = response.into_body().collect().await;
                        if !ok {
                            failures += 1;
                        }
                    }
                    Err(_) => failures += 1,
                }
                latencies.push(start.elapsed());
            }
            (latencies, failures)
        }));
    }
    let mut latencies = Vec::with_capacity(requests);
    let mut failures = 0;
    for worker in workers {
        let (mut l, f) = worker.await.expect("worker");
        latencies.append(&mut l);
        failures += f;
    }
    let elapsed = started.elapsed();
    let cpu_per_request = process_cpu()
        .zip(cpu_before)
        .map(|(after, before)| (after - before) / latencies.len().max(1) as u32);
    latencies.sort();
    let pick = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Run {
        requests_per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        cpu_per_request,
        p50: pick(0.50),
        p99: pick(0.99),
        failures,
    }
}

/// User + system CPU time of this process so far (Linux, 100 Hz ticks):
/// unlike requests/s, it does not depend on how much of the machine other
/// work left us.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let mut arg = |default: usize| match args.next() {
        None => default,
        Some(Ok(value)) if value > 0 => value,
        Some(_) => {
            eprintln!(
                "usage: loadtest [requests] [concurrency] [body_bytes] [rounds] (positive integers)"
            );
            std::process::exit(2);
        }
    };
    let requests = arg(20_000);
    let concurrency = arg(16);
    let body_bytes = arg(1024);
    let rounds = arg(3);

    // Every route runs the same handler; the hand-written one is the least
    // work a correct receiver does, the anchor the stack is compared with.
    let routes = [
        ("bare", serve(demo_stack::bare_router()).await, false),
        ("hand", serve(demo_stack::hand_written_router()).await, true),
        ("stack", serve(demo_stack::router(body_bytes)).await, true),
    ];
    let body = Bytes::from(vec![b'x'; body_bytes]);
    // Signed before the clock starts, so the client's HMAC is not timed;
    // fresh ids for the warm-up and the run, so every request is handled.
    let headers = |count: usize, signed: bool| {
        Arc::new(if signed {
            (0..count)
                .map(|_| demo_stack::signed_headers(&body))
                .collect::<Vec<_>>()
        } else {
            Vec::new()
        })
    };

    println!(
        "{requests} requests per route and round, {rounds} rounds, {concurrency} connections, \
         {body_bytes}-byte bodies"
    );
    // Same warm-up for all: connections opened, caches and allocator warm.
    let warm_up = requests / 10;
    for (_, address, signed) in routes {
        drive(
            address,
            warm_up,
            concurrency,
            headers(warm_up, signed),
            body.clone(),
        )
        .await;
    }
    // Rounds alternate the routes, so a change in what else the machine is
    // doing lands on each; the best round of each is the least disturbed.
    let mut rounds_run: Vec<Vec<Run>> = Vec::new();
    for _ in 0..rounds {
        let mut round = Vec::new();
        for (_, address, signed) in routes {
            let signed = headers(requests, signed);
            round.push(drive(address, requests, concurrency, signed, body.clone()).await);
        }
        rounds_run.push(round);
    }
    for (number, round) in rounds_run.iter().enumerate() {
        for ((name, ..), run) in routes.iter().zip(round) {
            println!(
                "round {number} {name:>5}: {:>9.0} req/s  p50 {:>7.1} µs  p99 {:>7.1} µs  \
                 CPU {:>6.1} µs/request  failures {}",
                run.requests_per_second,
                run.p50.as_secs_f64() * 1e6,
                run.p99.as_secs_f64() * 1e6,
                run.cpu_per_request
                    .map_or(f64::NAN, |cpu| cpu.as_secs_f64() * 1e6),
                run.failures
            );
        }
    }
    let best = |route: usize| {
        rounds_run
            .iter()
            .map(|round| round[route].requests_per_second)
            .fold(0.0, f64::max)
    };
    let median_ratio = |route: usize, anchor: usize| {
        let mut ratios: Vec<f64> = rounds_run
            .iter()
            .map(|round| round[route].requests_per_second / round[anchor].requests_per_second)
            .collect();
        ratios.sort_by(f64::total_cmp);
        ratios[ratios.len() / 2]
    };
    let cpu = |route: usize| -> Option<f64> {
        let total = rounds_run
            .iter()
            .map(|round| round[route].cpu_per_request)
            .sum::<Option<Duration>>()?;
        Some(total.as_secs_f64() / rounds as f64)
    };
    for (route, (name, ..)) in routes.iter().enumerate() {
        println!(
            "{name:>5}: best {:.0} req/s, CPU per request (client and server) {}",
            best(route),
            cpu(route).map_or("n/a".to_owned(), |cpu| format!("{:.1} µs", cpu * 1e6))
        );
    }
    for (route, anchor) in [(2, 0), (1, 0), (2, 1)] {
        let (name, anchor_name) = (routes[route].0, routes[anchor].0);
        print!(
            "ratio {name}/{anchor_name} throughput: {:.3} (best rounds), {:.3} (median round)",
            best(route) / best(anchor),
            median_ratio(route, anchor)
        );
        match (cpu(route), cpu(anchor)) {
            (Some(cpu), Some(anchor_cpu)) => println!("; CPU {:.3}", cpu / anchor_cpu),
            _ => println!(),
        }
    }
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS: {:.1} MiB", kib as f64 / 1024.0);
    }
}
