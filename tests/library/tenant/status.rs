//! Each tenant's security status through a rotation, over a real server:
//! the tenant layer resolves policies from a table that changes at runtime,
//! the audit layer feeds [`TenantSecurity`], and the status follows what
//! the senders actually do.

use crate::support;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use axum::routing::post;
use axum::Router;
use http::{HeaderName, HeaderValue, StatusCode};
use tower_webhook::audit::AuditLayer;
use tower_webhook::provider;
use tower_webhook::signature::{Key, Keyring, SignatureLayer};
use tower_webhook::tenant::{
    SecurityStatus, TenantKey, TenantLayer, TenantLookup, TenantReport, TenantSecurity,
};
use tower_webhook::token::TokenSet;
use tower_webhook::{Secret, WebhookStack};

const V1: &str = "acme-secret-one-7f3a9c2e";
const V2: &str = "acme-secret-two-1b8d4e6f";
const V3: &str = "acme-secret-three-5c2a7d";
const LEGACY: &str = "acme-legacy-token-0a9b8c";

/// The keys a tenant's policy accepts: (id, secret, still valid for).
type Table = Arc<RwLock<HashMap<String, Vec<(&'static str, &'static str)>>>>;

async fn start(table: Table, security: &TenantSecurity) -> (std::net::SocketAddr, TenantLayer) {
    let rows = Arc::clone(&table);
    let resolver = move |tenant: String| {
        let keys = rows.read().unwrap().get(&tenant).cloned();
        async move {
            let Some(keys) = keys else {
                return Ok::<_, std::io::Error>(TenantLookup::Unknown);
            };
            let mut keyring = Keyring::new();
            for (id, secret) in keys {
                let key = Key::new(id, Secret::new(secret).unwrap())
                    .valid_until(SystemTime::now() + Duration::from_secs(3600));
                keyring = keyring.with(key);
            }
            let signature = SignatureLayer::new(provider::github::github(), keyring)
                .unwrap()
                .accept_legacy_token(
                    HeaderName::from_static("x-webhook-token"),
                    TokenSet::new().with("legacy", Secret::new(LEGACY).unwrap()),
                );
            let policy = WebhookStack::new()
                .signature(signature)
                .into_tenant_policy()
                .unwrap();
            Ok(TenantLookup::policy(policy))
        }
    };
    let tenants = TenantLayer::new(TenantKey::PathAfter("/hooks".into()), resolver);
    let audit = AuditLayer::without_sinks().sink(security.clone());
    let route = post(|| async { "ok" }).layer(
        tower::ServiceBuilder::new()
            .layer(audit)
            .layer(tenants.clone()),
    );
    let addr = support::serve(Router::new().route("/hooks/{tenant}", route)).await;
    (addr, tenants)
}

async fn deliver_signed(addr: std::net::SocketAddr, secret: &str) -> StatusCode {
    let body = br#"{"ticket":1}"#;
    let headers = support::signed_headers("github", secret, body, 0, "d");
    support::post_with(addr, "/hooks/acme", &headers, body)
        .await
        .status
}

async fn deliver_legacy(addr: std::net::SocketAddr) -> StatusCode {
    let headers = [(
        HeaderName::from_static("x-webhook-token"),
        HeaderValue::from_static(LEGACY),
    )];
    support::post_with(addr, "/hooks/acme", &headers, b"{}")
        .await
        .status
}

#[tokio::test]
async fn a_tenant_walks_through_a_rotation() {
    let table = Table::default();
    table
        .write()
        .unwrap()
        .insert("acme".into(), vec![("v1", V1)]);
    let security = TenantSecurity::new();
    let (addr, tenants) = start(Arc::clone(&table), &security).await;
    let status = || security.report("acme").unwrap();

    // Signatures required, key v1: nothing arrived yet.
    security.policy_changed("acme", Some("v1"));
    assert_eq!(status().status, SecurityStatus::Pending);

    // The sender still uses the legacy token: still pending.
    assert_eq!(deliver_legacy(addr).await, StatusCode::OK);
    let report = status();
    assert_eq!(report.status, SecurityStatus::Pending);
    assert_eq!(report.legacy_token, 1);

    // It signs with v1: secure.
    assert_eq!(deliver_signed(addr, V1).await, StatusCode::OK);
    let report = status();
    assert_eq!(report.status, SecurityStatus::Secure);
    assert_eq!(report.verified_current(), 1);

    // Rotation: v2 is current, v1 still accepted during the overlap.
    table
        .write()
        .unwrap()
        .insert("acme".into(), vec![("v1", V1), ("v2", V2)]);
    tenants.invalidate("acme").await;
    security.policy_changed("acme", Some("v2"));
    assert_eq!(status().status, SecurityStatus::Pending);
    assert_eq!(status().legacy_token, 0, "counts restart at the change");

    // The sender has not switched: configuring, with the numbers.
    assert_eq!(deliver_signed(addr, V1).await, StatusCode::OK);
    assert_eq!(deliver_signed(addr, V1).await, StatusCode::OK);
    let report = status();
    assert_eq!(report.status, SecurityStatus::Configuring);
    assert_eq!(report.verified_other(), 2);
    assert_eq!(report.verified_by_key.get("v1"), Some(&2));

    // It switched: secure.
    assert_eq!(deliver_signed(addr, V2).await, StatusCode::OK);
    let report = status();
    assert_eq!(report.status, SecurityStatus::Secure);
    assert_eq!(report.verified_current(), 1);
    assert_eq!(report.verified_other(), 2);

    // A policy change the sender missed: only v3 accepted, it signs with
    // v2: failed.
    table
        .write()
        .unwrap()
        .insert("acme".into(), vec![("v3", V3)]);
    tenants.invalidate("acme").await;
    security.policy_changed("acme", Some("v3"));
    assert_eq!(deliver_signed(addr, V2).await, StatusCode::UNAUTHORIZED);
    let report = status();
    assert_eq!(report.status, SecurityStatus::Failed);
    assert_eq!(report.failures, 1);

    // Fixed on the sender's side.
    assert_eq!(deliver_signed(addr, V3).await, StatusCode::OK);
    assert_eq!(status().status, SecurityStatus::Secure);
    assert_eq!(security.reports().len(), 1);
}

#[tokio::test]
async fn unknown_tenants_are_not_reported() {
    let table = Table::default();
    let security = TenantSecurity::new();
    let (addr, _) = start(table, &security).await;
    let body = b"{}";
    let headers = support::signed_headers("github", V1, body, 0, "d");
    let reply = support::post_with(addr, "/hooks/nobody", &headers, body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(security.report("nobody").is_none());
    assert!(security.reports().is_empty());
}

#[tokio::test]
async fn status_changes_reach_the_write_back_hook_in_order_and_a_reloaded_policy_keeps_the_counts()
{
    let table = Table::default();
    table
        .write()
        .unwrap()
        .insert("acme".into(), vec![("v1", V1)]);
    let changes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let security = TenantSecurity::new().failed_after(2).on_change({
        let changes = Arc::clone(&changes);
        move |previous, report: &TenantReport| {
            changes
                .lock()
                .unwrap()
                .push((previous, report.status, report.failures));
        }
    });
    let (addr, _) = start(Arc::clone(&table), &security).await;
    security.policy_loaded("acme", Some("v1"));

    // One refusal: not yet failed, so nothing to write.
    assert_eq!(deliver_signed(addr, V2).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        security.report("acme").unwrap().status,
        SecurityStatus::Pending
    );
    assert!(changes.lock().unwrap().is_empty());
    assert_eq!(deliver_signed(addr, V2).await, StatusCode::UNAUTHORIZED);
    // Loading the same policy again (a cache miss) keeps the counts.
    security.policy_loaded("acme", Some("v1"));
    assert_eq!(security.report("acme").unwrap().failures, 2);
    assert_eq!(deliver_signed(addr, V1).await, StatusCode::OK);
    assert_eq!(deliver_signed(addr, V1).await, StatusCode::OK);
    assert_eq!(
        *changes.lock().unwrap(),
        [
            (SecurityStatus::Pending, SecurityStatus::Failed, 2),
            (SecurityStatus::Failed, SecurityStatus::Secure, 2),
        ]
    );

    // A policy with another current key restarts the counts, and is no
    // change caused by a delivery.
    security.policy_loaded("acme", Some("v2"));
    let report = security.report("acme").unwrap();
    assert_eq!(
        (report.status, report.failures),
        (SecurityStatus::Pending, 0)
    );
    assert_eq!(changes.lock().unwrap().len(), 2);
}
