//! Per-tenant policies through a real HTTP server: each tenant its own
//! secret and allowlist, legacy tenants on their static token until their
//! policy switches it off, rotation without restart, unknown tenants
//! indistinguishable from bad credentials.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::routing::post;
use axum::Router;
use http::{HeaderName, HeaderValue, StatusCode};
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::signature::SignatureLayer;
use tower_webhook::tenant::{StaticTenants, TenantKey, TenantLayer, TenantLookup, TenantPolicy};
use tower_webhook::token::TokenLayer;
use tower_webhook::{Secret, Verification, WebhookStack};

const ACME_SECRET: &str = "acme-webhook-secret-1f2e3d";
const GLOBEX_SECRET: &str = "globex-webhook-secret-9a8b";
const LEGACY_TOKEN: &str = "initech-static-token-5c6d";

/// Echoes who the layers decided the sender was.
async fn whoami(verification: Verification) -> String {
    let auth = verification.authentication.expect("authenticated");
    format!(
        "{}|{}",
        verification.tenant.as_deref().unwrap_or("-"),
        auth.method
    )
}

fn github_policy(secret: &str) -> TenantPolicy {
    WebhookStack::new()
        .signature(SignatureLayer::github(Secret::new(secret).unwrap()))
        .into_tenant_policy()
        .unwrap()
}

fn legacy_policy() -> TenantPolicy {
    WebhookStack::new()
        .token(
            TokenLayer::header(HeaderName::from_static("x-webhook-token"))
                .accept("legacy", Secret::new(LEGACY_TOKEN).unwrap()),
        )
        .into_tenant_policy()
        .unwrap()
}

async fn serve(layer: TenantLayer) -> std::net::SocketAddr {
    let router = Router::new().route("/hooks/{tenant}", post(whoami).layer(layer));
    support::serve(router).await
}

fn signed(secret: &str, body: &[u8]) -> Vec<(HeaderName, HeaderValue)> {
    support::signed_headers("github", secret, body, 0, "")
}

fn token(value: &str) -> Vec<(HeaderName, HeaderValue)> {
    vec![(
        HeaderName::from_static("x-webhook-token"),
        HeaderValue::from_str(value).unwrap(),
    )]
}

async fn post_to(
    addr: std::net::SocketAddr,
    path: &str,
    headers: &[(HeaderName, HeaderValue)],
) -> support::Reply {
    support::post_with(addr, path, headers, BODY).await
}

const BODY: &[u8] = br#"{"ticket":42}"#;

fn static_layer() -> TenantLayer {
    let tenants = StaticTenants::new()
        .with_policy("acme", github_policy(ACME_SECRET))
        .with_policy("globex", github_policy(GLOBEX_SECRET))
        .with_legacy("initech");
    TenantLayer::new(TenantKey::PathAfter("/hooks".into()), tenants).legacy_policy(legacy_policy())
}

#[tokio::test]
async fn each_tenant_verifies_with_its_own_secret() {
    let addr = serve(static_layer()).await;
    let acme = post_to(addr, "/hooks/acme", &signed(ACME_SECRET, BODY)).await;
    assert_eq!(acme.status, StatusCode::OK);
    assert_eq!(acme.text(), "acme|signature");
    let globex = post_to(addr, "/hooks/globex", &signed(GLOBEX_SECRET, BODY)).await;
    assert_eq!(globex.text(), "globex|signature");
    // One tenant's secret does not open another's door.
    let crossed = post_to(addr, "/hooks/acme", &signed(GLOBEX_SECRET, BODY)).await;
    assert_eq!(crossed.status, StatusCode::UNAUTHORIZED);
    let crossed = post_to(addr, "/hooks/globex", &signed(ACME_SECRET, BODY)).await;
    assert_eq!(crossed.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_tenant_without_policy_keeps_its_legacy_token() {
    let addr = serve(static_layer()).await;
    let reply = post_to(addr, "/hooks/initech", &token(LEGACY_TOKEN)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "initech|token (legacy)");
    let reply = post_to(addr, "/hooks/initech", &token("guess")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    // A hardened tenant does not take the legacy token.
    let reply = post_to(addr, "/hooks/acme", &token(LEGACY_TOKEN)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_tenants_look_like_bad_credentials() {
    let addr = serve(static_layer()).await;
    let unknown = post_to(addr, "/hooks/nobody", &signed(ACME_SECRET, BODY)).await;
    let bad_secret = post_to(addr, "/hooks/acme", &signed("wrong-secret-000000", BODY)).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, bad_secret.status);
    assert_eq!(unknown.body, bad_secret.body);

    let tenants = StaticTenants::new().with_policy("acme", github_policy(ACME_SECRET));
    let addr = serve(
        TenantLayer::new(TenantKey::PathAfter("/hooks".into()), tenants)
            .unknown_tenant_status(StatusCode::NOT_FOUND),
    )
    .await;
    assert_eq!(
        post_to(addr, "/hooks/nobody", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    // A legacy tenant with no legacy policy configured is refused too.
    let tenants = StaticTenants::new().with_legacy("initech");
    let addr = serve(TenantLayer::new(
        TenantKey::PathAfter("/hooks".into()),
        tenants,
    ))
    .await;
    assert_eq!(
        post_to(addr, "/hooks/initech", &token(LEGACY_TOKEN))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn hostile_tenant_names_are_refused_cleanly() {
    let addr = serve(static_layer()).await;
    let long = format!("/hooks/{}", "a".repeat(10_000));
    for path in [
        long.as_str(),
        "/hooks/%FF%FE",
        "/hooks/acme%00",
        "/hooks/%20",
    ] {
        let reply = post_to(addr, path, &signed(ACME_SECRET, BODY)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
    }
}

/// A tenant table that changes at runtime, like a database.
#[derive(Clone, Default)]
struct Table {
    secrets: Arc<RwLock<HashMap<String, Option<String>>>>,
    lookups: Arc<AtomicUsize>,
    down: Arc<std::sync::atomic::AtomicBool>,
}

impl Table {
    fn set(&self, tenant: &str, secret: Option<&str>) {
        self.secrets
            .write()
            .unwrap()
            .insert(tenant.into(), secret.map(str::to_owned));
    }

    fn layer(&self, cache: Duration) -> TenantLayer {
        let table = self.clone();
        let resolver = move |tenant: String| {
            let table = table.clone();
            async move {
                table.lookups.fetch_add(1, Ordering::SeqCst);
                if table.down.load(Ordering::SeqCst) {
                    return Err(std::io::Error::other("database unreachable"));
                }
                let entry = table.secrets.read().unwrap().get(&tenant).cloned();
                Ok(match entry {
                    None => TenantLookup::Unknown,
                    Some(None) => TenantLookup::Legacy,
                    Some(Some(secret)) => TenantLookup::policy(github_policy(&secret)),
                })
            }
        };
        TenantLayer::new(TenantKey::PathAfter("/hooks".into()), resolver)
            .cache_for(cache)
            .legacy_policy(legacy_policy())
    }
}

#[tokio::test]
async fn secrets_rotate_and_legacy_switches_off_without_restart() {
    let table = Table::default();
    table.set("acme", Some(ACME_SECRET));
    table.set("initech", None);
    let layer = table.layer(Duration::from_secs(3600));
    let addr = serve(layer.clone()).await;

    for _ in 0..3 {
        let reply = post_to(addr, "/hooks/acme", &signed(ACME_SECRET, BODY)).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    assert_eq!(table.lookups.load(Ordering::SeqCst), 1, "cached");

    // Rotate acme's secret in the table: the cache still holds the old one
    // until it is invalidated.
    table.set("acme", Some("acme-rotated-secret-7e6f"));
    layer.invalidate("acme").await;
    let new = post_to(
        addr,
        "/hooks/acme",
        &signed("acme-rotated-secret-7e6f", BODY),
    )
    .await;
    assert_eq!(new.status, StatusCode::OK);
    let old = post_to(addr, "/hooks/acme", &signed(ACME_SECRET, BODY)).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);

    // initech migrates: a policy of its own switches its legacy token off.
    assert_eq!(
        post_to(addr, "/hooks/initech", &token(LEGACY_TOKEN))
            .await
            .status,
        StatusCode::OK
    );
    table.set("initech", Some(GLOBEX_SECRET));
    layer.invalidate("initech").await;
    assert_eq!(
        post_to(addr, "/hooks/initech", &token(LEGACY_TOKEN))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let reply = post_to(addr, "/hooks/initech", &signed(GLOBEX_SECRET, BODY)).await;
    assert_eq!(reply.text(), "initech|signature");
}

#[tokio::test]
async fn a_short_cache_picks_up_changes_by_itself() {
    let table = Table::default();
    table.set("acme", Some(ACME_SECRET));
    let addr = serve(table.layer(Duration::from_millis(200))).await;
    assert_eq!(
        post_to(addr, "/hooks/acme", &signed(ACME_SECRET, BODY))
            .await
            .status,
        StatusCode::OK
    );
    table.set("acme", Some(GLOBEX_SECRET));
    // Poll until the entry expires (bounded; no timing assertion).
    let mut status = StatusCode::OK;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        status = post_to(addr, "/hooks/acme", &signed(GLOBEX_SECRET, BODY))
            .await
            .status;
        if status == StatusCode::OK {
            break;
        }
    }
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_failing_resolver_fails_closed_and_is_not_cached() {
    let table = Table::default();
    table.set("acme", Some(ACME_SECRET));
    table.down.store(true, Ordering::SeqCst);
    let addr = serve(table.layer(Duration::from_secs(3600))).await;
    let reply = post_to(addr, "/hooks/acme", &signed(ACME_SECRET, BODY)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    table.down.store(false, Ordering::SeqCst);
    let reply = post_to(addr, "/hooks/acme", &signed(ACME_SECRET, BODY)).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn per_tenant_allowlists_and_a_header_key() {
    let office_only = WebhookStack::new()
        .ip_filter(IpFilterLayer::new().allow("10.0.0.0/8").unwrap())
        .into_tenant_policy()
        .unwrap();
    let loopback = WebhookStack::new()
        .ip_filter(IpFilterLayer::new().allow("127.0.0.1, ::1").unwrap())
        .into_tenant_policy()
        .unwrap();
    let tenants = StaticTenants::new()
        .with_policy("office", office_only)
        .with_policy("local", loopback);
    let layer = TenantLayer::new(
        TenantKey::Header(HeaderName::from_static("x-tenant")),
        tenants,
    );
    let router = Router::new().route(
        "/hook",
        post(|v: Verification| async move { v.tenant.as_deref().unwrap_or("-").to_owned() })
            .layer(layer),
    );
    let addr = support::serve(router).await;
    let as_tenant = |name: &'static str| {
        vec![(
            HeaderName::from_static("x-tenant"),
            HeaderValue::from_static(name),
        )]
    };
    let reply = post_to(addr, "/hook", &as_tenant("local")).await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "local")
    );
    let reply = post_to(addr, "/hook", &as_tenant("office")).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // Two tenants named: ambiguous, refused.
    let mut both = as_tenant("local");
    both.extend(as_tenant("office"));
    assert_eq!(
        post_to(addr, "/hook", &both).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_to(addr, "/hook", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn per_request_layers_are_refused_in_a_policy() {
    use tower_webhook::audit::AuditLayer;
    use tower_webhook::idempotency::IdempotencyLayer;
    use tower_webhook::StackError;
    let error = WebhookStack::new()
        .signature(SignatureLayer::github(Secret::new(ACME_SECRET).unwrap()))
        .idempotency(IdempotencyLayer::new())
        .into_tenant_policy()
        .unwrap_err();
    assert_eq!(error, StackError::NotPerTenant);
    let error = WebhookStack::new()
        .signature(SignatureLayer::github(Secret::new(ACME_SECRET).unwrap()))
        .audit(AuditLayer::new())
        .into_tenant_policy()
        .unwrap_err();
    assert_eq!(error, StackError::NotPerTenant);
    assert_eq!(
        WebhookStack::new().into_tenant_policy().unwrap_err(),
        StackError::NoAuthentication
    );
}
