//! Sealed secrets and tenants in SQLite, over a real server on 127.0.0.1:
//! `examples/tenants_sqlite.rs` as the receiver, secrets sealed by the
//! `tower-webhook` binary, deliveries signed as GitHub signs them, and the
//! status the table holds after each one.

use crate::support;

#[path = "../../examples/tenants_sqlite.rs"]
#[allow(dead_code)]
mod example;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use example::{StatusWriter, TenantStore};
use http::StatusCode;
use tokio::sync::watch;
use tower_webhook::seal::{Kek, KekRing};
use tower_webhook::tenant::TenantLayer;
use tower_webhook::Secret;

const ACME_SECRET: &str = "acme-github-secret-3f9a1c7e";
const ACME_NEXT: &str = "acme-github-secret-next-84be20d";
const GLOBEX_SECRET: &str = "globex-github-secret-6d02b5aa";
const KEK_ONE: &str = "one:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";

fn kek(id: &str, byte: u8) -> Kek {
    Kek::from_bytes(id, &[byte; 32]).unwrap()
}

/// A receiver over `store`, serving on 127.0.0.1.
struct Receiver {
    addr: SocketAddr,
    tenants: TenantLayer,
    writer: StatusWriter,
}

async fn start(store: &TenantStore) -> Receiver {
    let writer = StatusWriter::start(store.clone());
    let (router, tenants) = example::app(store.clone(), &writer);
    let addr = support::serve(router).await;
    Receiver {
        addr,
        tenants,
        writer,
    }
}

/// Deliver `body` to `tenant`, signed with `secret` as GitHub signs.
async fn deliver(addr: SocketAddr, tenant: &str, secret: &str) -> StatusCode {
    let body = br#"{"action":"opened"}"#;
    let headers = support::signed_headers("github", secret, body, 0, "d");
    support::post_with(addr, &format!("/hooks/{tenant}"), &headers, body)
        .await
        .status
}

impl Receiver {
    /// The status the table holds for `tenant` once every change the
    /// deliveries so far caused is written.
    async fn stored_status(&self, store: &TenantStore, tenant: &str) -> String {
        self.writer.flush().await;
        store.row(tenant).unwrap().unwrap().status
    }
}

fn seal_with_the_cli(tenant: &str, secret: &str, keks: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_tower-webhook"))
        .args(["seal", "--context", tenant, "--secret-env", "THE_SECRET"])
        .env("THE_SECRET", secret)
        .env("TOWER_WEBHOOK_KEK", keks)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn a_secret_sealed_by_the_cli_and_stored_in_sqlite_verifies_a_delivery() {
    let sealed = seal_with_the_cli("acme", ACME_SECRET, KEK_ONE);
    assert!(sealed.starts_with("tws1.one."), "{sealed}");
    let store = TenantStore::open(":memory:", KekRing::parse(KEK_ONE).unwrap()).unwrap();
    store
        .add_tenant("acme", "github", &sealed, Some("127.0.0.1/32"))
        .unwrap();
    let receiver = start(&store).await;

    assert_eq!(
        deliver(receiver.addr, "acme", ACME_SECRET).await,
        StatusCode::OK
    );
    assert_eq!(receiver.stored_status(&store, "acme").await, "SECURE");
    assert_eq!(
        deliver(receiver.addr, "acme", GLOBEX_SECRET).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        deliver(receiver.addr, "nobody", ACME_SECRET).await,
        StatusCode::UNAUTHORIZED
    );
    // The table never holds the secret itself.
    let row = store.row("acme").unwrap().unwrap();
    assert!(!row.sealed_secret.contains(ACME_SECRET));
}

#[tokio::test]
async fn a_kek_rotation_reseals_every_row_while_a_sender_keeps_delivering_and_none_is_refused() {
    let tenants = [
        ("acme", "acme-rotation-secret-a81f"),
        ("globex", "globex-rotation-secret-77c2"),
        ("initech", "initech-rotation-secret-0e4d"),
    ];
    let store = TenantStore::open(":memory:", KekRing::new(kek("old", 1))).unwrap();
    for (name, secret) in tenants {
        let sealed = store.seal(name, &Secret::new(secret).unwrap()).unwrap();
        store
            .add_tenant(name, "github", sealed.as_str(), None)
            .unwrap();
    }
    let receiver = start(&store).await;

    // The sender: round robin over the tenants until told to stop; every
    // status it gets is kept, and its progress published.
    let (progress, mut delivered) = watch::channel(0usize);
    let stop = Arc::new(AtomicBool::new(false));
    let sender = tokio::spawn({
        let stop = Arc::clone(&stop);
        let addr = receiver.addr;
        async move {
            let mut statuses = Vec::new();
            for &(name, secret) in tenants.iter().cycle() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                statuses.push((name, deliver(addr, name, secret).await));
                progress.send_replace(statuses.len());
            }
            statuses
        }
    });
    // Waits until the sender delivered to every tenant at least once more.
    let mut rounds = 0;
    let mut a_full_round = async || {
        let target = *delivered.borrow() + tenants.len() + 1;
        delivered.wait_for(|n| *n >= target).await.unwrap();
        rounds += 1;
    };

    a_full_round().await;
    // 1. Every replica gets the new KEK as current, the old one kept.
    store.set_keks(KekRing::new(kek("old", 1)).rotate(kek("new", 2)).unwrap());
    a_full_round().await;
    // 2. Each row resealed, and its cached policy dropped so the next
    //    delivery goes through the resealed row.
    for (name, _) in tenants {
        assert!(store.reseal(name).unwrap(), "{name} resealed");
        receiver.tenants.invalidate(name).await;
        a_full_round().await;
    }
    assert!(store.reseal_all().unwrap().is_empty(), "nothing left");
    for (name, _) in tenants {
        let row = store.row(name).unwrap().unwrap();
        assert!(row.sealed_secret.starts_with("tws1.new."), "{name}");
    }
    // 3. The old KEK retired; every tenant resolved again without it.
    store.set_keks(KekRing::new(kek("new", 2)));
    for (name, _) in tenants {
        receiver.tenants.invalidate(name).await;
    }
    a_full_round().await;

    stop.store(true, Ordering::SeqCst);
    let statuses = sender.await.unwrap();
    let refused: Vec<_> = statuses
        .iter()
        .filter(|(_, status)| *status != StatusCode::OK)
        .collect();
    assert!(
        refused.is_empty(),
        "refused during the rotation: {refused:?}"
    );
    assert_eq!(rounds, 6);
    assert!(statuses.len() >= rounds * (tenants.len() + 1));
}

#[tokio::test]
async fn the_stored_status_follows_real_deliveries_through_failures_and_a_secret_rotation() {
    let store = TenantStore::open(":memory:", KekRing::new(kek("k", 3))).unwrap();
    let sealed = store
        .seal("acme", &Secret::new(ACME_SECRET).unwrap())
        .unwrap();
    store
        .add_tenant("acme", "github", sealed.as_str(), None)
        .unwrap();
    let receiver = start(&store).await;
    let addr = receiver.addr;
    assert_eq!(receiver.stored_status(&store, "acme").await, "PENDING");

    // Refused deliveries: still pending until FAILED_AFTER of them.
    for _ in 1..example::FAILED_AFTER {
        assert_eq!(
            deliver(addr, "acme", GLOBEX_SECRET).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(receiver.stored_status(&store, "acme").await, "PENDING");
    assert_eq!(
        deliver(addr, "acme", GLOBEX_SECRET).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(receiver.stored_status(&store, "acme").await, "FAILED");

    // The sender fixed its secret: secure, and forged requests after that
    // do not demote it.
    assert_eq!(deliver(addr, "acme", ACME_SECRET).await, StatusCode::OK);
    assert_eq!(receiver.stored_status(&store, "acme").await, "SECURE");
    for _ in 0..example::FAILED_AFTER {
        deliver(addr, "acme", GLOBEX_SECRET).await;
    }
    assert_eq!(receiver.stored_status(&store, "acme").await, "SECURE");

    // A rotation: pending again, the previous secret still accepted.
    example::rotate_secret(
        &store,
        &receiver.tenants,
        "acme",
        &Secret::new(ACME_NEXT).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(receiver.stored_status(&store, "acme").await, "PENDING");
    assert_eq!(deliver(addr, "acme", ACME_SECRET).await, StatusCode::OK);
    assert_eq!(receiver.stored_status(&store, "acme").await, "CONFIGURING");
    assert_eq!(deliver(addr, "acme", ACME_NEXT).await, StatusCode::OK);
    assert_eq!(receiver.stored_status(&store, "acme").await, "SECURE");
    // A retry the sender signed before switching: accepted, still secure.
    assert_eq!(deliver(addr, "acme", ACME_SECRET).await, StatusCode::OK);
    assert_eq!(receiver.stored_status(&store, "acme").await, "SECURE");

    // The rotation finished: the previous secret is refused.
    assert!(store.finish_rotation("acme").unwrap());
    receiver.tenants.invalidate("acme").await;
    assert_eq!(
        deliver(addr, "acme", ACME_SECRET).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(deliver(addr, "acme", ACME_NEXT).await, StatusCode::OK);
    assert_eq!(receiver.stored_status(&store, "acme").await, "SECURE");
}

#[tokio::test]
async fn replicas_write_back_only_for_the_stored_secret_version_and_only_forward() {
    let store = TenantStore::open(":memory:", KekRing::new(kek("k", 4))).unwrap();
    let sealed = store
        .seal("acme", &Secret::new(ACME_SECRET).unwrap())
        .unwrap();
    store
        .add_tenant("acme", "github", sealed.as_str(), None)
        .unwrap();
    // Two replicas over one table, each with its own cache and sink.
    let a = start(&store).await;
    let b = start(&store).await;
    assert_eq!(deliver(a.addr, "acme", ACME_SECRET).await, StatusCode::OK);
    assert_eq!(a.stored_status(&store, "acme").await, "SECURE");
    // B has the policy cached (a stray request made it load it), and
    // nothing verified there yet.
    assert_eq!(
        deliver(b.addr, "acme", GLOBEX_SECRET).await,
        StatusCode::UNAUTHORIZED
    );

    // Rotated through replica A; B's invalidation is lost (no Redis here).
    example::rotate_secret(&store, &a.tenants, "acme", &Secret::new(ACME_NEXT).unwrap())
        .await
        .unwrap();
    assert_eq!(a.stored_status(&store, "acme").await, "PENDING");
    // B still verifies with its cached policy, where the old secret is
    // current: its sink sees the tenant turn secure, which says nothing
    // about version 2, so the table keeps PENDING.
    assert_eq!(deliver(b.addr, "acme", ACME_SECRET).await, StatusCode::OK);
    assert_eq!(b.stored_status(&store, "acme").await, "PENDING");

    // Once B loads the new row, it judges the new version like A does.
    b.tenants.invalidate("acme").await;
    assert_eq!(deliver(b.addr, "acme", ACME_SECRET).await, StatusCode::OK);
    assert_eq!(b.stored_status(&store, "acme").await, "CONFIGURING");
    assert_eq!(deliver(b.addr, "acme", ACME_NEXT).await, StatusCode::OK);
    assert_eq!(b.stored_status(&store, "acme").await, "SECURE");

    // A third replica that sees only forged requests judges the tenant
    // failed; the table, where it is secure, keeps SECURE.
    let c = start(&store).await;
    for _ in 0..example::FAILED_AFTER {
        assert_eq!(
            deliver(c.addr, "acme", GLOBEX_SECRET).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(c.stored_status(&store, "acme").await, "SECURE");
}

#[tokio::test]
async fn a_sealed_secret_copied_into_another_tenants_row_is_refused() {
    let store = TenantStore::open(":memory:", KekRing::new(kek("k", 5))).unwrap();
    let acme = store
        .seal("acme", &Secret::new(ACME_SECRET).unwrap())
        .unwrap();
    store
        .add_tenant("acme", "github", acme.as_str(), None)
        .unwrap();
    // Someone with write access to the table copies acme's sealed secret
    // into globex's row, to sign globex's deliveries with acme's secret.
    store
        .add_tenant("globex", "github", acme.as_str(), None)
        .unwrap();
    let receiver = start(&store).await;

    assert_eq!(
        deliver(receiver.addr, "globex", ACME_SECRET).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        deliver(receiver.addr, "globex", GLOBEX_SECRET).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        deliver(receiver.addr, "acme", ACME_SECRET).await,
        StatusCode::OK
    );
    // Nothing verified for globex, so nothing was written for it.
    assert_eq!(receiver.stored_status(&store, "globex").await, "PENDING");
}
