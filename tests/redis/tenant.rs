//! Tenant policies across replicas: a rotation published through Redis
//! reaches a replica that cached the old policy (moved from
//! `tests/library/tenant/http.rs` because it starts a `redis-server`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::routing::post;
use axum::Router;
use http::{HeaderName, HeaderValue, StatusCode};
use tower_webhook::tenant::{TenantKey, TenantLayer, TenantLookup};
use tower_webhook::token::TokenLayer;
use tower_webhook::{Secret, WebhookStack};

use crate::redis_server;
use crate::support;

const BODY: &[u8] = br#"{"ticket":42}"#;

async fn post_to(
    addr: std::net::SocketAddr,
    path: &str,
    headers: &[(HeaderName, HeaderValue)],
) -> support::Reply {
    support::post_with(addr, path, headers, BODY).await
}

#[tokio::test]
async fn a_rotation_reaches_every_replica_through_redis() {
    let redis = redis_server::RedisProcess::start(&[]);
    let url = format!("redis://127.0.0.1:{}/", redis.port);
    let table: Arc<RwLock<HashMap<String, String>>> = Arc::default();
    table
        .write()
        .unwrap()
        .insert("acme".into(), "token-one-8f3a2c".into());
    let replica = |table: Arc<RwLock<HashMap<String, String>>>| {
        let resolver = move |tenant: String| {
            let token = table.read().unwrap().get(&tenant).cloned();
            async move {
                Ok::<_, std::io::Error>(match token {
                    Some(token) => TenantLookup::policy(
                        WebhookStack::new()
                            .token(
                                TokenLayer::header(HeaderName::from_static("x-token"))
                                    .accept("current", Secret::new(token).unwrap()),
                            )
                            .into_tenant_policy()
                            .unwrap(),
                    ),
                    None => TenantLookup::Unknown,
                })
            }
        };
        // Cached for an hour: only an invalidation makes a rotation visible.
        TenantLayer::new(TenantKey::PathAfter("/hooks".into()), resolver)
            .cache_for(Duration::from_secs(3600))
    };
    let (a, b) = (replica(Arc::clone(&table)), replica(Arc::clone(&table)));
    a.listen_for_invalidations(&url).unwrap();
    b.listen_for_invalidations(&url).unwrap();
    let serve = |layer: TenantLayer| async move {
        support::serve(Router::new().route("/hooks/{tenant}", post(|| async { "ok" }).layer(layer)))
            .await
    };
    let (addr_a, addr_b) = (serve(a.clone()).await, serve(b.clone()).await);
    let with = |token: &'static str| {
        vec![(
            HeaderName::from_static("x-token"),
            HeaderValue::from_static(token),
        )]
    };
    for addr in [addr_a, addr_b] {
        let reply = post_to(addr, "/hooks/acme", &with("token-one-8f3a2c")).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    // Both replicas subscribed before the rotation is published.
    let mut connection = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    for _ in 0..200 {
        let counts: Vec<(String, i64)> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg("tower-webhook:tenant-invalidations")
            .query_async(&mut connection)
            .await
            .unwrap();
        if counts.first().is_some_and(|(_, n)| *n >= 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    table
        .write()
        .unwrap()
        .insert("acme".into(), "token-two-77d1e0".into());
    a.invalidate_everywhere(&url, "acme").await.unwrap();
    // Replica B learns it from Redis: the old token stops working there.
    let mut old_refused = false;
    for _ in 0..200 {
        if post_to(addr_b, "/hooks/acme", &with("token-one-8f3a2c"))
            .await
            .status
            == StatusCode::UNAUTHORIZED
        {
            old_refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(old_refused, "replica B still accepts the rotated-out token");
    for addr in [addr_a, addr_b] {
        let reply = post_to(addr, "/hooks/acme", &with("token-two-77d1e0")).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
}
