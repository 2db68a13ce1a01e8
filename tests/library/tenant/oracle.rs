//! Tenant names cannot be enumerated from the answers, and a rotated secret
//! is gone under every spelling of a case-insensitive tenant name.

use crate::support;

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

/// A chunked body (no `Content-Length`) of `len` bytes: the server must read
/// it to learn its size.
async fn ask_chunked(addr: std::net::SocketAddr, path: &str, len: usize) -> support::Reply {
    use futures_util_free::ChunkedBody;
    let request = support::post(addr, path)
        .body(ChunkedBody::new(len))
        .unwrap();
    support::send_any(request).await
}

/// A body that arrives in 64 KiB frames and declares no length.
mod futures_util_free {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use bytes::Bytes;
    use http_body::{Body, Frame, SizeHint};

    pub struct ChunkedBody {
        left: usize,
    }

    impl ChunkedBody {
        pub fn new(len: usize) -> Self {
            Self { left: len }
        }
    }

    impl Body for ChunkedBody {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            if self.left == 0 {
                return Poll::Ready(None);
            }
            let n = self.left.min(64 * 1024);
            self.left -= n;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'{'; n])))))
        }

        fn size_hint(&self) -> SizeHint {
            SizeHint::default()
        }
    }
}

#[tokio::test]
async fn a_known_tenant_and_an_unknown_one_answer_alike_for_every_refusal_class() {
    use tower_webhook::ip::IpFilterLayer;
    use tower_webhook::provider;
    let github = TenantLookup::provider(&provider::GITHUB, "acme-github-secret").unwrap();
    let TenantLookup::Policy(github) = github else {
        panic!("a policy")
    };
    // Known tenants of each kind: a signature, a signature behind an
    // allowlist the test client is not on, a token.
    let fenced = WebhookStack::from_provider(&provider::GITHUB, "fenced-github-secret")
        .unwrap()
        .without_idempotency()
        .ip_filter(IpFilterLayer::new().allow("192.0.2.0/24").unwrap())
        .into_tenant_policy()
        .unwrap();
    let tenants = StaticTenants::new()
        .with_policy("signed", (*github).clone())
        .with_policy("fenced", fenced)
        .with_policy(
            "token",
            token_policy(
                TokenLayer::header(HeaderName::from_static("x-token"))
                    .accept("k", Secret::new("tenant-token-4b1d9e").unwrap()),
            ),
        );
    let limit = 256 * 1024;
    let layer = TenantLayer::new(TenantKey::PathAfter("/hooks".into()), tenants).body_limit(limit);
    let app = Router::new().route("/hooks/{tenant}", post(|| async { "ok" }).layer(layer));
    let addr = support::serve(app).await;

    // No credential, a forged signature, a body over the limit sent without
    // a length (so only reading it tells).
    let forged = support::signed_headers("github", "not-the-secret", b"{}", 0, "d1");
    for known in ["signed", "fenced", "token"] {
        let path = format!("/hooks/{known}");
        let unknown_path = "/hooks/nobody";
        assert_eq!(
            answer(&ask(addr, &path).await),
            answer(&ask(addr, unknown_path).await),
            "{known}: no credential"
        );
        assert_eq!(
            answer(&support::post_with(addr, &path, &forged, b"{}").await),
            answer(&support::post_with(addr, unknown_path, &forged, b"{}").await),
            "{known}: forged"
        );
        let known_big = ask_chunked(addr, &path, limit + 1).await;
        let unknown_big = ask_chunked(addr, unknown_path, limit + 1).await;
        assert_eq!(known_big.status, StatusCode::PAYLOAD_TOO_LARGE, "{known}");
        assert_eq!(
            answer(&known_big),
            answer(&unknown_big),
            "{known}: oversized"
        );
    }
}

#[tokio::test]
async fn strangers_names_never_become_tenant_labels() {
    use tower::ServiceExt;
    use tower_webhook::audit::AuditLayer;
    let tenants = StaticTenants::new().with_policy(
        "acme",
        token_policy(
            TokenLayer::header(HeaderName::from_static("x-token"))
                .accept("k", Secret::new("tenant-token-4b1d9e").unwrap()),
        ),
    );
    let audit = AuditLayer::new();
    let counters = audit.clone();
    let app = Router::new()
        .route(
            "/hooks/{tenant}",
            post(|| async { "ok" }).layer(TenantLayer::new(
                TenantKey::PathAfter("/hooks".into()),
                tenants,
            )),
        )
        .layer(audit);
    let call = |path: String, token: bool| {
        let mut request = http::Request::post(path);
        if token {
            request = request.header("x-token", "tenant-token-4b1d9e");
        }
        request.body(axum::body::Body::from("{}")).unwrap()
    };
    let reply = app
        .clone()
        .oneshot(call("/hooks/acme".into(), true))
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    for junk in 0..10_000 {
        let reply = app
            .clone()
            .oneshot(call(format!("/hooks/junk-{junk}"), false))
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    }
    let reply = app
        .clone()
        .oneshot(call("/hooks/acme".into(), true))
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let counts = counters.counts();
    assert_eq!(
        counts.tenant_method("acme", "token"),
        2,
        "{:?}",
        counts.by_tenant_and_method
    );
    assert_eq!(counts.tenant_method("(unknown)", "none"), 10_000);
    assert!(
        counts
            .by_tenant_and_method
            .keys()
            .all(|(tenant, _)| !tenant.starts_with("junk")),
        "a stranger's name became a label"
    );
}
