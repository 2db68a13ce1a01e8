//! Tenant names cannot be enumerated from the answers, and a rotated secret
//! is gone under every spelling of a case-insensitive tenant name.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::header::{DATE, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, StatusCode};
use http_body_util::Full;
use tower_webhook::tenant::{StaticTenants, TenantKey, TenantLayer, TenantLookup};
use tower_webhook::token::TokenLayer;
use tower_webhook::{Secret, WebhookStack};

fn token_policy(layer: TokenLayer) -> tower_webhook::tenant::TenantPolicy {
    WebhookStack::new()
        .token(layer)
        .into_tenant_policy()
        .unwrap()
}

async fn ask(addr: std::net::SocketAddr, path: &str) -> support::Reply {
    let request = support::post(addr, path)
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    support::send(request).await
}

/// Everything a client sees, except the `Date` header.
fn answer(reply: &support::Reply) -> (StatusCode, Vec<(String, Vec<u8>)>, Bytes) {
    let mut headers: Vec<_> = reply
        .headers
        .iter()
        .filter(|(name, _)| *name != DATE)
        .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
        .collect();
    headers.sort();
    (reply.status, headers, reply.body.clone())
}

#[tokio::test]
async fn known_and_unknown_tenants_answer_alike() {
    let secret = || Secret::new("tenant-token-4b1d9e").unwrap();
    let tenants = StaticTenants::new()
        .with_policy(
            "bearer",
            token_policy(TokenLayer::bearer().accept("k", secret())),
        )
        .with_policy(
            "basic",
            token_policy(TokenLayer::basic().accept("k", secret())),
        )
        .with_policy(
            "header",
            token_policy(
                TokenLayer::header(HeaderName::from_static("x-token")).accept("k", secret()),
            ),
        );
    let layer = TenantLayer::new(TenantKey::PathAfter("/hooks".into()), tenants);
    let app = Router::new().route("/hooks/{tenant}", post(|| async { "ok" }).layer(layer));
    let addr = support::serve(app).await;

    let unknown = answer(&ask(addr, "/hooks/nobody").await);
    assert_eq!(unknown.0, StatusCode::UNAUTHORIZED);
    for known in ["bearer", "basic", "header"] {
        let reply = ask(addr, &format!("/hooks/{known}")).await;
        assert_eq!(
            answer(&reply),
            unknown,
            "{known} answers like an unknown tenant"
        );
    }

    // One challenge for everyone, when the operator wants one.
    let tenants = StaticTenants::new().with_policy(
        "bearer",
        token_policy(TokenLayer::bearer().accept("k", secret())),
    );
    let layer = TenantLayer::new(TenantKey::PathAfter("/hooks".into()), tenants)
        .challenge(HeaderValue::from_static("Bearer realm=\"hooks\""));
    let app = Router::new().route("/hooks/{tenant}", post(|| async { "ok" }).layer(layer));
    let addr = support::serve(app).await;
    let unknown = ask(addr, "/hooks/nobody").await;
    let known = ask(addr, "/hooks/bearer").await;
    assert_eq!(answer(&known), answer(&unknown));
    assert_eq!(unknown.headers[WWW_AUTHENTICATE], "Bearer realm=\"hooks\"");
}

#[tokio::test]
async fn invalidate_forgets_every_spelling_of_a_case_insensitive_name() {
    let table: Arc<RwLock<HashMap<String, String>>> = Arc::default();
    table
        .write()
        .unwrap()
        .insert("acme".into(), "token-one-8f3a2c".into());
    let rows = Arc::clone(&table);
    // Looks names up case-insensitively, as a SQL collation would.
    let resolver = move |tenant: String| {
        let token = rows
            .read()
            .unwrap()
            .get(&tenant.to_ascii_lowercase())
            .cloned();
        async move {
            let Some(token) = token else {
                return Ok::<_, std::io::Error>(TenantLookup::Unknown);
            };
            let layer = TokenLayer::header(HeaderName::from_static("x-token"))
                .accept("current", Secret::new(token).unwrap());
            Ok(TenantLookup::policy(token_policy(layer)))
        }
    };
    let tenants = TenantLayer::new(TenantKey::PathAfter("/hooks".into()), resolver);
    let app = Router::new().route(
        "/hooks/{tenant}",
        post(|| async { "ok" }).layer(tenants.clone()),
    );
    let addr = support::serve(app).await;
    let deliver = |path: &'static str, token: &'static str| async move {
        let request = support::post(addr, path)
            .header("x-token", token)
            .body(Full::new(Bytes::new()))
            .unwrap();
        support::send(request).await.status
    };
    for path in ["/hooks/acme", "/hooks/ACME", "/hooks/Acme"] {
        assert_eq!(
            deliver(path, "token-one-8f3a2c").await,
            StatusCode::OK,
            "{path}"
        );
    }
    table
        .write()
        .unwrap()
        .insert("acme".into(), "token-two-61d0e7".into());
    tenants.invalidate("acme").await;
    for path in ["/hooks/acme", "/hooks/ACME", "/hooks/Acme"] {
        assert_eq!(
            deliver(path, "token-one-8f3a2c").await,
            StatusCode::UNAUTHORIZED,
            "{path}: the old token is gone"
        );
        assert_eq!(
            deliver(path, "token-two-61d0e7").await,
            StatusCode::OK,
            "{path}"
        );
    }
}
