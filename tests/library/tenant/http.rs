//! Per-tenant policies through a real HTTP server: each tenant its own
//! secret and allowlist, legacy tenants on their static token until their
//! policy switches it off, rotation without restart, unknown tenants
//! indistinguishable from bad credentials.

use crate::support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::Path;
use axum::routing::post;
use axum::Router;
use http::{HeaderName, HeaderValue, StatusCode};
use proptest::prelude::*;
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::signature::SignatureLayer;
use tower_webhook::tenant::{StaticTenants, TenantKey, TenantLayer, TenantLookup, TenantPolicy};
use tower_webhook::token::{TokenLayer, TokenSet};
use tower_webhook::{Reason, Secret, Verification, WebhookStack};

/// The longest tenant name a request may carry, as documented.
const MAX_TENANT_LEN: usize = 128;

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
    // A tenant's own allowlist answers like every other refusal of a
    // tenant's policy (401, the reason `ip_not_allowed` in the audit): a
    // 403 only known tenants give would tell strangers which exist.
    let reply = post_to(addr, "/hook", &as_tenant("office")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
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

/// Puts the refusal's reason in `x-reason`, so a test can tell refusals
/// with the same status apart.
async fn reason_header(mut response: axum::response::Response) -> axum::response::Response {
    if let Some(reason) = response.extensions().get::<Reason>().copied() {
        response
            .headers_mut()
            .insert("x-reason", HeaderValue::from_static(reason.as_str()));
    }
    response
}

fn reason(reply: &support::Reply) -> &str {
    reply
        .headers
        .get("x-reason")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
}

#[tokio::test]
async fn the_layer_and_the_handler_agree_on_the_tenant() {
    // The handler reads the tenant from the route, decoded by axum; the layer
    // must have verified that same tenant, not the raw escaped text.
    let handler = |Path(tenant): Path<String>, v: Verification| async move {
        format!("{tenant}|{}", v.tenant.as_deref().unwrap_or("-"))
    };
    let router = Router::new().route("/hooks/{tenant}", post(handler).layer(static_layer()));
    let addr = support::serve(router).await;
    let reply = post_to(addr, "/hooks/ac%6De", &signed(ACME_SECRET, BODY)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "acme|acme");
    // Escaped or not, acme's secret is still the only one that opens acme.
    let reply = post_to(addr, "/hooks/ac%6De", &signed(GLOBEX_SECRET, BODY)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn concurrent_requests_share_one_lookup() {
    let table = Table::default();
    table.set("acme", Some(ACME_SECRET));
    table.set("globex", Some(GLOBEX_SECRET));
    let addr = serve(table.layer(Duration::from_secs(3600))).await;
    let acme = signed(ACME_SECRET, BODY);
    let globex = signed(GLOBEX_SECRET, BODY);
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..16 {
        let (path, headers) = if i % 2 == 0 {
            ("/hooks/acme", acme.clone())
        } else {
            ("/hooks/globex", globex.clone())
        };
        requests.spawn(async move { post_to(addr, path, &headers).await.status });
    }
    while let Some(status) = requests.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    // One lookup per tenant, however many requests raced for it.
    assert_eq!(table.lookups.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failing_resolver_answers_tenant_unavailable_every_time() {
    let table = Table::default();
    table.set("acme", Some(ACME_SECRET));
    table.down.store(true, Ordering::SeqCst);
    let router = Router::new()
        .route(
            "/hooks/{tenant}",
            post(whoami).layer(table.layer(Duration::from_secs(3600))),
        )
        .layer(axum::middleware::map_response(reason_header));
    let addr = support::serve(router).await;
    for _ in 0..2 {
        let reply = post_to(addr, "/hooks/acme", &signed(ACME_SECRET, BODY)).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reason(&reply), "tenant_unavailable");
    }
    // Each request asked again: a failure is never cached as an answer.
    assert_eq!(table.lookups.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_unknown_tenant_answers_exactly_like_a_bad_token() {
    let router = Router::new()
        .route("/hooks/{tenant}", post(whoami).layer(static_layer()))
        .layer(axum::middleware::map_response(reason_header));
    let addr = support::serve(router).await;
    let unknown = post_to(addr, "/hooks/nobody", &token(LEGACY_TOKEN)).await;
    let bad_token = post_to(addr, "/hooks/initech", &token("not-the-token")).await;
    // The reasons differ (for logs and audits)...
    assert_eq!(reason(&unknown), "tenant_unknown");
    assert_eq!(reason(&bad_token), "token_invalid");
    // ...but the sender sees the same answer, headers included.
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, bad_token.status);
    assert_eq!(unknown.body, bad_token.body);
    let visible = |reply: &support::Reply| {
        let mut headers: Vec<_> = reply
            .headers
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-reason"))
            .map(|(name, value)| format!("{name}: {value:?}"))
            .collect();
        headers.sort();
        headers
    };
    assert_eq!(visible(&unknown), visible(&bad_token));
}

#[tokio::test]
async fn a_policy_keeps_the_legacy_token_until_it_switches_it_off() {
    let header = HeaderName::from_static("x-webhook-token");
    let migrating = WebhookStack::new()
        .signature(
            SignatureLayer::github(Secret::new(ACME_SECRET).unwrap()).accept_legacy_token(
                header.clone(),
                TokenSet::new().with("acme-old", Secret::new(LEGACY_TOKEN).unwrap()),
            ),
        )
        .into_tenant_policy()
        .unwrap();
    let tenants = StaticTenants::new()
        .with_policy("migrating", migrating)
        .with_policy("done", github_policy(ACME_SECRET));
    let addr = serve(TenantLayer::new(
        TenantKey::PathAfter("/hooks".into()),
        tenants,
    ))
    .await;
    let reply = post_to(addr, "/hooks/migrating", &token(LEGACY_TOKEN)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "migrating|token (legacy)");
    let reply = post_to(addr, "/hooks/migrating", &signed(ACME_SECRET, BODY)).await;
    assert_eq!(reply.text(), "migrating|signature");
    // Same secret, legacy token switched off: the token no longer passes.
    let reply = post_to(addr, "/hooks/done", &token(LEGACY_TOKEN)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = post_to(addr, "/hooks/done", &signed(ACME_SECRET, BODY)).await;
    assert_eq!(reply.text(), "done|signature");
}

/// Every byte of `name` as a `%XX` escape.
fn escaped(name: &str) -> String {
    name.bytes().map(|b| format!("%{b:02X}")).collect()
}

fn request_parts(path: &str, header: Option<&[u8]>) -> Option<http::request::Parts> {
    let mut builder = http::Request::builder().uri(http::Uri::try_from(path).ok()?);
    if let Some(value) = header {
        builder = builder.header("x-tenant", HeaderValue::from_bytes(value).ok()?);
    }
    Some(builder.body(()).ok()?.into_parts().0)
}

fn keys() -> [TenantKey; 4] {
    [
        TenantKey::PathAfter("/hooks".into()),
        TenantKey::PathSegment(1),
        TenantKey::PathSegment(0),
        TenantKey::Header(HeaderName::from_static("x-tenant")),
    ]
}

proptest! {
    /// Whatever the path and header hold, a key is either refused or a short
    /// name of visible ASCII.
    #[test]
    fn extracted_names_are_always_clean(
        segment in proptest::collection::vec(
            prop_oneof![Just("%".to_owned()), "%[0-9A-Fa-f]{2}", "[!-~]{1,8}", "%[0-9a-zA-Z]{0,1}"],
            0..400,
        ),
        header in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let path = format!("/hooks/{}/push", segment.concat());
        if let Some(parts) = request_parts(&path, Some(&header)) {
            for key in keys() {
                if let Some(name) = key.extract(&parts) {
                    prop_assert!(!name.is_empty() && name.len() <= MAX_TENANT_LEN);
                    prop_assert!(name.bytes().all(|b| b.is_ascii_graphic()));
                }
            }
        }
    }

    /// A name the router would decode to `name` is read as `name`, escaped
    /// or not; one byte too long is refused either way.
    #[test]
    fn escaped_names_decode_to_the_same_tenant(name in "[!-.0-~]{1,128}") {
        // Unescaped, `#` `?` `%` would end the path or start an escape, and
        // some characters are no valid URI; escaped, every name is valid.
        let plain = format!("/hooks/{name}");
        let plain = request_parts(&plain, None).filter(|_| !name.contains(['#', '?', '%']));
        let encoded = request_parts(&format!("/hooks/{}", escaped(&name)), None);
        prop_assert!(encoded.is_some());
        for parts in [plain, encoded].into_iter().flatten() {
            let read = TenantKey::PathAfter("/hooks".into()).extract(&parts);
            prop_assert_eq!(read.as_deref(), Some(name.as_str()));
        }
        let long = format!("/hooks/{}", escaped(&format!("{name}{}", "x".repeat(MAX_TENANT_LEN))));
        let parts = request_parts(&long, None).expect("escapes are a valid path");
        prop_assert_eq!(TenantKey::PathAfter("/hooks".into()).extract(&parts), None);
    }
}

#[tokio::test]
async fn hostile_header_keys_are_refused_cleanly() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let tenants = StaticTenants::new().with_policy("acme", github_policy(ACME_SECRET));
    let layer = TenantLayer::new(
        TenantKey::Header(HeaderName::from_static("x-tenant")),
        tenants,
    );
    let handler = move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { "ok" }
    };
    let router = Router::new().route("/hook", post(handler).layer(layer));
    let addr = support::serve(router).await;
    let long = "a".repeat(MAX_TENANT_LEN + 1);
    let values: [&[u8]; 6] = [
        b"",
        b"   ",
        long.as_bytes(),
        b"caf\xe9",
        b"ac me",
        b"acme\xff",
    ];
    for value in values {
        let mut headers = signed(ACME_SECRET, BODY);
        headers.push((
            HeaderName::from_static("x-tenant"),
            HeaderValue::from_bytes(value).unwrap(),
        ));
        let reply = post_to(addr, "/hook", &headers).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{value:?}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // The same delivery naming acme cleanly passes: the refusals above were
    // about the name alone.
    let mut headers = signed(ACME_SECRET, BODY);
    headers.push((
        HeaderName::from_static("x-tenant"),
        HeaderValue::from_static("acme"),
    ));
    assert_eq!(
        post_to(addr, "/hook", &headers).await.status,
        StatusCode::OK
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
