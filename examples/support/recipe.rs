use std::{future::Future, sync::Arc};

use axum::{routing::post, Router};
use tower::ServiceBuilder;
use tower_webhook::idempotency::{IdempotencyLayer, IdempotencyStore};
use tower_webhook::tenant::{TenantKey, TenantLayer, TenantLookup};
use tower_webhook::{audit::AuditLayer, ip::ClientIp, provider};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// `POST /hooks/{tenant}` for each tenant's GitHub, Stripe or Slack: `row`
/// reads (provider, secret) from your tenants table; `store` is shared by
/// the replicas (`RedisStore::connect(url)`); nginx runs in 10.0.0.0/8.
pub fn webhooks<F, Row>(row: F, store: Arc<dyn IdempotencyStore>) -> Result<Router, Error>
where
    F: Fn(String) -> Row + Send + Sync + 'static,
    Row: Future<Output = Result<Option<(String, String)>, Error>> + Send + 'static,
{
    let resolver = move |tenant: String| {
        let row = row(tenant);
        async move {
            let Some((name, secret)) = row.await? else {
                return Ok::<_, Error>(TenantLookup::Unknown);
            };
            Ok(TenantLookup::provider(provider::by_name(&name)?, &secret)?)
        }
    };
    let proxies = ClientIp::new().trust_proxies("10.0.0.0/8")?; // X-Forwarded-For
    let tenants = TenantLayer::new(TenantKey::PathAfter("/hooks".into()), resolver)
        .client_ip(proxies)
        .body_limit(provider::GITHUB.body_limit);
    let protections = ServiceBuilder::new()
        .layer(AuditLayer::new())
        .layer(tenants)
        .layer(IdempotencyLayer::new().shared_store(store));
    let route = post(|| async { "ok" }).layer(protections);
    Ok(Router::new().route("/hooks/{tenant}", route))
}
