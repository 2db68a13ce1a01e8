//! The Redis store on a 3-master Redis Cluster, behind Sentinel through a
//! primary failover, and over TLS with certificate verification. Real
//! `redis-server` processes (and `redis-cli` to create the cluster) that
//! the tests start themselves; `scripts/test` installs them.
#![cfg(feature = "redis")]
// The helpers serve tests behind different features (`redis-cluster`,
// `redis-sentinel`, `redis-tls`); with only some enabled, some go unused.
#![allow(unused_imports, dead_code)]

use crate::fleet;
use crate::redis_server;
use crate::support;

use std::time::{Duration, Instant};

use fleet::{deliver, fleet, ids, tally};
use redis_server::RedisProcess;

/// Wait until `done` holds, polling every 50 ms, at most `limit`.
pub(crate) fn eventually(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A primary (AOF), its replica and one sentinel that watches them as
/// `webhooks` (quorum 1, the primary down after 1 s without an answer).
#[cfg(feature = "redis-sentinel")]
pub(crate) struct SentinelGroup {
    pub(crate) primary: RedisProcess,
    pub(crate) replica: RedisProcess,
    pub(crate) sentinel: RedisProcess,
}

#[cfg(feature = "redis-sentinel")]
impl SentinelGroup {
    /// Started, the replica in sync and known to the sentinel.
    pub(crate) fn start() -> Self {
        let primary = RedisProcess::start(&["--appendonly", "yes"]);
        let replica_of = format!("127.0.0.1 {}", primary.port);
        let replica = RedisProcess::start(&["--appendonly", "yes", "--replicaof", &replica_of]);
        let monitor = format!(
            "sentinel monitor webhooks 127.0.0.1 {} 1\n\
             sentinel down-after-milliseconds webhooks 1000\n\
             sentinel failover-timeout webhooks 10000\n",
            primary.port
        );
        let sentinel = RedisProcess::start_with_config(
            Some(("sentinel.conf".into(), monitor)),
            &["--sentinel"],
        );
        eventually(Duration::from_secs(20), "the replica in sync", || {
            replica
                .cli(&["INFO", "replication"])
                .contains("master_link_status:up")
        });
        eventually(
            Duration::from_secs(20),
            "the sentinel to see the replica",
            || {
                sentinel
                    .cli(&["SENTINEL", "replicas", "webhooks"])
                    .contains(&replica.port.to_string())
            },
        );
        Self {
            primary,
            replica,
            sentinel,
        }
    }

    /// The replica has every write the primary had made when asked (what a
    /// `WAIT 1` after the last of them would ensure): its replication
    /// offset reached the primary's. (The sentinel's hello messages move
    /// both on meanwhile, hence "reached", not "equals".)
    pub(crate) fn replica_caught_up(&self) -> bool {
        let offset = |process: &RedisProcess, field: &str| {
            process
                .cli(&["INFO", "replication"])
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|value| value.trim().parse::<u64>().ok())
        };
        let Some(primary) = offset(&self.primary, "master_repl_offset:") else {
            return false;
        };
        offset(&self.replica, "slave_repl_offset:").is_some_and(|replica| replica >= primary)
    }

    /// The sentinel names the (former) replica as the primary.
    pub(crate) fn replica_promoted(&self) -> bool {
        self.sentinel
            .cli(&["SENTINEL", "get-master-addr-by-name", "webhooks"])
            .contains(&self.replica.port.to_string())
    }

    /// The failover is over: the sentinel's record of the primary is the
    /// (former) replica, up. (`get-master-addr-by-name` names the replica
    /// from its promotion on; the record, which clients that check flags
    /// read, switches a little later.)
    pub(crate) fn switched_over(&self) -> bool {
        let record = self.sentinel.cli(&["SENTINEL", "master", "webhooks"]);
        let lines: Vec<&str> = record.lines().map(str::trim).collect();
        let field = |name: &str| {
            lines
                .chunks_exact(2)
                .find(|pair| pair[0] == name)
                .map(|pair| pair[1])
        };
        field("port") == Some(self.replica.port.to_string().as_str())
            && field("flags") == Some("master")
    }
}

#[cfg(feature = "redis-cluster")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_on_a_three_master_cluster_run_each_delivery_once() {
    let _heavy = support::heavy().await;
    use tower_webhook::idempotency::RedisOptions;

    let nodes = redis_server::start_cluster(3);

    let urls: Vec<String> = nodes.iter().map(RedisProcess::url).collect();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let mut stores = Vec::new();
    for _ in 0..3 {
        stores.push(
            RedisOptions::new()
                .connect_cluster(&urls)
                .await
                .expect("connecting to the cluster"),
        );
    }
    let replicas = fleet(stores, Duration::from_secs(5), Duration::from_millis(5)).await;
    let ids = ids("cluster", 300);
    let report = deliver(&replicas, &ids, 3, 48, Duration::from_millis(50), 200).await;
    let (doubled, lost) = tally(&replicas.runs, &ids);
    println!(
        "cluster: {:?} in {:?}, p50 {:?} p99 {:?}",
        report.statuses,
        report.elapsed,
        report.percentile(0.5),
        report.percentile(0.99)
    );
    assert_eq!(report.unacknowledged, 0);
    assert!(doubled.is_empty(), "ran twice: {doubled:?}");
    assert!(lost.is_empty(), "never ran: {lost:?}");
    // No MOVED refusals (they would be 503 store_unavailable): every copy
    // was handled, acknowledged, or found its twin in flight.
    assert!(
        report
            .statuses
            .keys()
            .all(|status| ["200", "200r", "409"].contains(&status.as_str())),
        "{:?}",
        report.statuses
    );

    // The deliveries are spread over every master, one key each.
    let mut total = 0;
    for node in &nodes {
        let keys: usize = node.cli(&["DBSIZE"]).trim().parse().unwrap();
        assert!(keys > 0, "no key on node {}", node.port);
        total += keys;
    }
    assert_eq!(total, ids.len());
}

#[cfg(feature = "redis-sentinel")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_failover_mid_run_loses_nothing_and_reruns_no_acknowledged_delivery() {
    let _heavy = support::heavy().await;
    use tower_webhook::idempotency::{RedisOptions, RedisStore};

    let mut group = SentinelGroup::start();
    let sentinels = [group.sentinel.url()];
    let sentinels: Vec<&str> = sentinels.iter().map(String::as_str).collect();
    let connect = |wait: bool| {
        let sentinels = sentinels.clone();
        async move {
            let mut options = RedisOptions::new().response_timeout(Duration::from_millis(500));
            if wait {
                options = options.wait_for_replicas(1, Duration::from_millis(500));
            }
            options
                .connect_sentinel(&sentinels, "webhooks")
                .await
                .expect("connecting through the sentinel")
        }
    };

    // The cost of waiting for the replica's acknowledgement, on a healthy
    // pair: the same load with and without WAIT.
    for wait in [false, true] {
        let stores: Vec<RedisStore> = vec![connect(wait).await, connect(wait).await];
        let replicas = fleet(stores, Duration::from_secs(5), Duration::ZERO).await;
        let ids = ids(if wait { "cost_wait" } else { "cost_plain" }, 400);
        let report = deliver(&replicas, &ids, 1, 16, Duration::from_millis(50), 100).await;
        println!(
            "sentinel primary, WAIT {wait}: {} deliveries in {:?} ({:.0}/s), p50 {:?} p99 {:?}",
            ids.len(),
            report.elapsed,
            ids.len() as f64 / report.elapsed.as_secs_f64(),
            report.percentile(0.5),
            report.percentile(0.99)
        );
        assert_eq!(report.unacknowledged, 0);
    }

    // The failover, with WAIT on.
    let stores: Vec<RedisStore> = vec![connect(true).await, connect(true).await];
    let replicas = fleet(stores, Duration::from_secs(5), Duration::from_millis(20)).await;
    let ids = ids("failover", 300);
    let chaos = async {
        while replicas.runs.lock().unwrap().len() < ids.len() / 3 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let failed_at = Instant::now();
        group.primary.kill();
        failed_at
    };
    let (report, failed_at) = tokio::join!(
        deliver(&replicas, &ids, 3, 32, Duration::from_millis(100), 300),
        chaos
    );
    let (doubled, lost) = tally(&replicas.runs, &ids);
    let acknowledged_before: Vec<&String> = report
        .handled_at
        .iter()
        .filter(|(_, at)| **at < failed_at)
        .map(|(id, _)| id)
        .collect();
    let rerun: Vec<_> = doubled
        .iter()
        .filter(|(id, _)| acknowledged_before.contains(&id))
        .collect();
    println!(
        "failover: {:?} in {:?}; {} acknowledged before the failover; doubled {doubled:?}",
        report.statuses,
        report.elapsed,
        acknowledged_before.len()
    );
    assert!(group.replica_promoted());
    assert_eq!(report.unacknowledged, 0);
    assert!(lost.is_empty(), "never ran: {lost:?}");
    assert!(!acknowledged_before.is_empty());
    assert!(rerun.is_empty(), "acknowledged, then ran again: {rerun:?}");
}

/// After a failover, the calls that find no primary share one discovery:
/// twenty inbox operations at once open a couple of connections to the
/// promoted replica (the sentinels' role check and the connection), not
/// two each. (The inbox, not the store: a failed store reservation sends a
/// release at once, which would make the discovery before the twenty.)
#[cfg(all(feature = "redis-sentinel", feature = "inbox"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_sentinel_failover_concurrent_calls_share_one_discovery() {
    let _heavy = support::heavy().await;
    use tower_webhook::inbox::{Inbox, RedisInbox};
    const CALLS: u64 = 20;

    let mut group = SentinelGroup::start();
    let sentinels = [group.sentinel.url()];
    let sentinels: Vec<&str> = sentinels.iter().map(String::as_str).collect();
    let inbox = RedisInbox::connect_sentinel(&sentinels, "webhooks", "discovery")
        .await
        .expect("connecting through the sentinel");
    group.primary.kill();
    eventually(Duration::from_secs(30), "the failover", || {
        group.switched_over()
    });
    // One call finds the old primary gone (and forgets it).
    assert!(inbox.stats().await.is_err());

    let connections = || -> u64 {
        group
            .replica
            .cli(&["INFO", "stats"])
            .lines()
            .find_map(|line| line.strip_prefix("total_connections_received:"))
            .and_then(|value| value.trim().parse().ok())
            .expect("INFO stats")
    };
    let before = connections();
    // The sentinel stopped while the calls start, so that none can find
    // the primary before all of them have looked for it.
    group.sentinel.signal("STOP");
    let replies = join_all((0..CALLS).map(|_| inbox.stats()).collect(), || {
        group.sentinel.signal("CONT");
    })
    .await;
    // Less the one of this INFO.
    let opened = connections() - before - 1;
    println!("{CALLS} calls after the failover opened {opened} connections to the new primary");
    for reply in replies {
        assert!(reply.is_ok(), "{reply:?}");
    }
    assert!(opened < CALLS, "{opened} connections for {CALLS} calls");
}

/// Poll every future in turn on this task until all are done, calling
/// `started` once each has been polled once.
async fn join_all<F: std::future::Future>(
    futures: Vec<F>,
    started: impl FnOnce(),
) -> Vec<F::Output> {
    use std::task::Poll;
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    let mut started = Some(started);
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if let Some(started) = started.take() {
            started();
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[cfg(feature = "redis-tls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_redis_with_a_self_signed_certificate_is_verified() {
    use tower_webhook::idempotency::{IdempotencyStore, RedisOptions, Reservation};

    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let port = redis_server::free_port();
    let dir = RedisProcess::dir_for(port);
    let cert = dir.join("redis.crt");
    let key = dir.join("redis.key");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let port_text = port.to_string();
    let redis = RedisProcess::start_on(
        port,
        dir.clone(),
        None,
        &[
            "--port",
            "0",
            "--tls-port",
            &port_text,
            "--tls-cert-file",
            cert.to_str().unwrap(),
            "--tls-key-file",
            key.to_str().unwrap(),
            "--tls-ca-cert-file",
            cert.to_str().unwrap(),
            "--tls-auth-clients",
            "no",
        ],
    );
    let url = format!("rediss://127.0.0.1:{port}/");

    let store = RedisOptions::new()
        .tls_root_certificates(certified.cert.pem())
        .connect(&url)
        .await
        .expect("TLS with the server's certificate as root");
    let Reservation::Acquired(token) = store
        .reserve("tls-delivery", Duration::from_secs(5))
        .await
        .unwrap()
    else {
        panic!("a fresh key must be acquired");
    };
    assert!(store
        .complete(
            "tls-delivery",
            &token,
            tower_webhook::idempotency::StoredOutcome::new(http::StatusCode::OK),
            Duration::from_secs(60)
        )
        .await
        .unwrap());
    assert!(matches!(
        store.reserve("tls-delivery", Duration::from_secs(5)).await,
        Ok(Reservation::Completed(_))
    ));

    // Verification is on: another certificate as root is refused.
    let stranger = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let refused = RedisOptions::new()
        .tls_root_certificates(stranger.cert.pem())
        .connect(&url)
        .await;
    assert!(refused.is_err(), "an unverified server was accepted");
    drop(redis);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acl_user_database_and_prefix_are_applied() {
    use tower_webhook::idempotency::{IdempotencyStore, RedisOptions, Reservation};

    let redis = RedisProcess::start(&[]);
    assert_eq!(
        redis
            .cli(&[
                "ACL",
                "SETUSER",
                "webhooks",
                "on",
                ">s3cret-pass",
                "~*",
                "+@all"
            ])
            .trim(),
        "OK"
    );
    let options = || {
        RedisOptions::new()
            .username("webhooks")
            .database(3)
            .key_prefix("billing:")
    };
    let refused = options().password("wrong").connect(&redis.url()).await;
    assert!(refused.is_err(), "a wrong password was accepted");

    let store = options()
        .password("s3cret-pass")
        .connect(&redis.url())
        .await
        .expect("the ACL user");
    assert!(matches!(
        store
            .reserve("tenant/route/msg_1", Duration::from_secs(5))
            .await,
        Ok(Reservation::Acquired(_))
    ));
    // In database 3, under the prefix, the delivery key as a hash tag.
    assert_eq!(redis.cli(&["-n", "0", "DBSIZE"]).trim(), "0");
    assert_eq!(
        redis.cli(&["-n", "3", "KEYS", "*"]).trim(),
        "billing:{tenant/route/msg_1}"
    );
}
