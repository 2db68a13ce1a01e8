//! One provider, one truth: the bundle, the bundle by name, a policy naming
//! the provider, a customised bundle and a tenant resolved to the provider
//! give the same verdict on one corpus (fresh, duplicate, replayed under
//! fresh unsigned headers, forged, stale, future, oversized), through a
//! real server; settings of the stack survive swapping a layer.

#[path = "../../examples/support/recipe.rs"]
mod recipe;
use crate::redis_server;
use crate::support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::unix_now;

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, StatusCode};
use http_body_util::Full;
use tower_webhook::audit::AuditLayer;
use tower_webhook::idempotency::{IdempotencyLayer, MemoryStore, REPLAYED_HEADER};
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::policy::WebhookPolicy;
use tower_webhook::provider::mailgun;
use tower_webhook::provider::{self, Provider};
use tower_webhook::signature::{KeyMaterial, Outgoing, Signer};
use tower_webhook::tenant::{TenantKey, TenantLayer, TenantLookup};
use tower_webhook::{Secret, StackError, WebhookStack};

const SECRET: &str = "a-shared-secret-for-every-provider";

/// The secret as `provider` shows it: plain text, `whsec_…` where the
/// provider hands out base64 keys, or hex (Adyen).
fn shown(provider: &Provider) -> &'static str {
    [
        SECRET,
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
    ]
    .into_iter()
    .find(|shown| (provider.scheme)().parse_key(shown).is_ok())
    .unwrap_or(SECRET)
}

/// The key `provider`'s receivers are configured with, as the provider
/// shows it (a shared secret, or a public key), and the signer of its
/// deliveries (the shared secret, or the private key).
fn keys(provider: &Provider) -> (String, Signer) {
    match provider.name {
        // Svix's test key pair (svix-server worker.rs).
        #[cfg(feature = "ed25519")]
        "standard-ed25519" => (
            "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=".into(),
            Signer::preset(
                provider.name,
                "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==",
            )
            .unwrap(),
        ),
        #[cfg(feature = "ed25519")]
        "discord" => {
            let private = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
            let public = hex::encode(private.verifying_key().as_bytes());
            let signer = Signer::new((provider.scheme)(), KeyMaterial::Ed25519Signing(private));
            (public, signer)
        }
        #[cfg(feature = "ecdsa")]
        "sendgrid" => {
            use base64::Engine as _;
            use p256::pkcs8::EncodePublicKey;
            let private = p256::ecdsa::SigningKey::from_slice(&[5; 32]).unwrap();
            let der = private.verifying_key().to_public_key_der().unwrap();
            let shown = base64::engine::general_purpose::STANDARD.encode(der.as_bytes());
            let signer = Signer::new((provider.scheme)(), KeyMaterial::EcdsaP256Signing(private));
            (shown, signer)
        }
        #[cfg(feature = "ecdsa")]
        "plaid" => {
            let private = p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
            let shown = support::to_jwk_p256(private.verifying_key());
            let signer = Signer::new((provider.scheme)(), KeyMaterial::EcdsaP256Signing(private));
            (shown, signer)
        }
        _ => (
            shown(provider).to_owned(),
            Signer::preset(provider.name, shown(provider)).unwrap(),
        ),
    }
}

/// What a sender sees of one answer, and whether the handler ran.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdict {
    status: StatusCode,
    duplicate: bool,
    handled: bool,
}

/// The handler of the Redis route, counting into the same `runs`.
fn handler_for_redis(runs: &Arc<AtomicUsize>) -> axum::routing::MethodRouter {
    let runs = Arc::clone(runs);
    post(move || {
        runs.fetch_add(1, Ordering::SeqCst);
        async { "handled" }
    })
}

/// Every way of building a receiver for `provider`, on one server, each on
/// its own path (a URL-signing scheme signs the path, so every request is
/// signed for the path it goes to).
async fn receivers(
    provider: &'static Provider,
    redis: Option<&tower_webhook::idempotency::RedisStore>,
) -> (SocketAddr, Vec<&'static str>, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let handler = {
        let runs = Arc::clone(&runs);
        post(move || {
            runs.fetch_add(1, Ordering::SeqCst);
            async { "handled" }
        })
    };
    let (key, _) = keys(provider);
    let policy: WebhookPolicy = serde_json::from_value(serde_json::json!({
        "provider": provider.name,
        "require_signature": true,
        "signing_secret": key,
    }))
    .unwrap();
    let tenant_policy = policy.tenant_policy().unwrap();
    let resolver = move |tenant: String| {
        let policy = tenant_policy.clone();
        async move {
            Ok::<_, std::io::Error>(match tenant.as_str() {
                "acme" => TenantLookup::policy(policy),
                _ => TenantLookup::Unknown,
            })
        }
    };
    let tenants = TenantLayer::new(TenantKey::PathAfter("/tenant".into()), resolver)
        .body_limit(provider.body_limit);
    // Customised as an adopter does: an audit sink, the client address
    // behind a proxy, the body limit said again, another store.
    let mut customised = WebhookStack::provider(provider.name, &key)
        .unwrap()
        .audit(AuditLayer::new())
        .client_ip(
            tower_webhook::ip::ClientIp::new()
                .trust_proxies("10.0.0.0/8")
                .unwrap()
                .use_x_forwarded_for(),
        )
        .body_limit(provider.body_limit);
    if provider.deduplicate {
        customised = customised.idempotency(IdempotencyLayer::new().store(MemoryStore::new()));
    }
    // The bundle with its idempotency on a Redis store shared by replicas,
    // as the demo receiver does with REDIS_URL (keys apart per provider).
    let on_redis = redis.filter(|_| provider.deduplicate).map(|store| {
        let store = store
            .clone()
            .prefix(&format!("one-truth:{}:", provider.name));
        WebhookStack::provider(provider.name, &key)
            .unwrap()
            .idempotency(IdempotencyLayer::new().shared_store(Arc::new(store)))
            .build()
            .unwrap()
    });
    let mut router = Router::new()
        .route(
            "/bundle",
            handler.clone().layer(
                WebhookStack::from_provider(provider, &key)
                    .unwrap()
                    .build()
                    .unwrap(),
            ),
        )
        .route(
            "/by-name",
            handler.clone().layer(
                WebhookStack::provider(provider.name, &key)
                    .unwrap()
                    .build()
                    .unwrap(),
            ),
        )
        .route("/policy", handler.clone().layer(policy.build().unwrap()))
        .route(
            "/customised",
            handler.clone().layer(customised.build().unwrap()),
        )
        .route(
            "/tenant/{tenant}",
            if provider.deduplicate {
                handler.layer(
                    tower::ServiceBuilder::new()
                        .layer(tenants)
                        .layer(IdempotencyLayer::new().body_limit(provider.body_limit)),
                )
            } else {
                handler.layer(tenants)
            },
        );
    let mut paths = vec![
        "/bundle",
        "/by-name",
        "/policy",
        "/customised",
        "/tenant/acme",
    ];
    if let Some(on_redis) = on_redis {
        router = router.route("/redis", handler_for_redis(&runs).layer(on_redis));
        paths.push("/redis");
    }
    let addr = support::serve(router).await;
    (addr, paths, runs)
}

/// One request of the corpus.
struct Case {
    name: &'static str,
    /// Seconds added to now for the signed timestamp.
    shift: i64,
    /// Bytes added to the body after signing (a forgery).
    tamper: bool,
    /// A body of this many bytes instead of the event.
    size: Option<usize>,
    /// Unsigned headers rewritten after signing (a replay under fresh
    /// delivery headers).
    fresh_unsigned: bool,
    /// Sent twice: the verdict of the second.
    twice: bool,
}

const CORPUS: &[Case] = &[
    Case {
        name: "fresh",
        shift: 0,
        tamper: false,
        size: None,
        fresh_unsigned: false,
        twice: false,
    },
    Case {
        name: "duplicate",
        shift: 0,
        tamper: false,
        size: None,
        fresh_unsigned: false,
        twice: true,
    },
    Case {
        name: "replay under fresh unsigned headers",
        shift: 0,
        tamper: false,
        size: None,
        fresh_unsigned: true,
        twice: true,
    },
    Case {
        name: "forged",
        shift: 0,
        tamper: true,
        size: None,
        fresh_unsigned: false,
        twice: false,
    },
    Case {
        name: "a year old",
        shift: -365 * 86_400,
        tamper: false,
        size: None,
        fresh_unsigned: false,
        twice: false,
    },
    Case {
        name: "a year ahead",
        shift: 365 * 86_400,
        tamper: false,
        size: None,
        fresh_unsigned: false,
        twice: false,
    },
    Case {
        name: "oversized",
        shift: 0,
        tamper: false,
        size: Some(usize::MAX),
        fresh_unsigned: false,
        twice: false,
    },
];

async fn send(
    addr: SocketAddr,
    path: &str,
    provider: &Provider,
    case: &Case,
    serial: usize,
) -> Verdict {
    let at = unix_now() + case.shift;
    let id = format!("{}-{serial}", provider.name);
    let (_, signer) = keys(provider);
    let body = match case.size {
        Some(_) => vec![b' '; provider.body_limit + 1],
        // Mailgun signs a timestamp and a token inside the body; a forgery
        // is a block signed with another key.
        None if provider.name == "mailgun" => {
            let key = if case.tamper { "not-the-key" } else { SECRET };
            let token = format!("{id:0>50}");
            let block = mailgun::signature_block(&Secret::new(key).unwrap(), at, &token);
            serde_json::json!({"signature": block, "event-data": {"id": id}})
                .to_string()
                .into_bytes()
        }
        // Adyen signs fields of the item inside the body; a forgery is an
        // item signed with another key.
        None if provider.name == "adyen" => {
            let key = if case.tamper {
                "00".repeat(32)
            } else {
                shown(provider).to_owned()
            };
            adyen_notification(&key, &id)
        }
        // Twilio signs form parameters.
        None if provider.name == "twilio" => format!("MessageSid={id}&Body=hello").into_bytes(),
        None => format!(
            r#"{{"id":"{id}","event_id":"{id}","type":"event_callback","webhookTimestamp":{}}}"#,
            at * 1000
        )
        .into_bytes(),
    };
    // URL-signing schemes rebuild the URL as the sender saw it, behind TLS.
    let signed_url = format!("https://{addr}{path}");
    let signed = if provider.name == "mailgun" || provider.name == "adyen" {
        Vec::new()
    } else {
        signer
            .delivery_headers(&Outgoing::new(&body, at, &id).to_url(&signed_url))
            .unwrap()
            .into_iter()
            .collect()
    };
    let mut request = Request::post(format!("http://{addr}{path}"))
        .body(body)
        .unwrap();
    if provider.name == "twilio" {
        request.headers_mut().insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
    }
    request.headers_mut().extend(signed);
    let (mut parts, mut body) = request.into_parts();
    if case.tamper && provider.name != "mailgun" && provider.name != "adyen" {
        body.extend_from_slice(b" ");
    }
    let mut outcome = None;
    let times = if case.twice { 2 } else { 1 };
    for attempt in 0..times {
        if case.fresh_unsigned && attempt == 1 {
            for name in provider.unsigned_headers {
                parts.headers.insert(
                    HeaderName::from_static(name),
                    HeaderValue::from_static("rewritten-by-the-attacker"),
                );
            }
        }
        let request = Request::from_parts(parts.clone(), Full::new(Bytes::from(body.clone())));
        outcome = Some(support::send(request).await);
    }
    let reply = outcome.unwrap();
    Verdict {
        status: reply.status,
        duplicate: reply.headers.contains_key(REPLAYED_HEADER),
        handled: reply.text() == "handled",
    }
}

/// An Adyen standard notification for delivery `id`, signed as Adyen does
/// (the eight fields joined by `:`) with the hex `key`.
fn adyen_notification(key: &str, id: &str) -> Vec<u8> {
    use base64::Engine as _;
    use hmac::{KeyInit, Mac};
    let signed = format!("{id}::TestMerchant:order-{id}:1130:EUR:AUTHORISATION:true");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&hex::decode(key).unwrap()).unwrap();
    mac.update(signed.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    serde_json::json!({
        "live": "false",
        "notificationItems": [{"NotificationRequestItem": {
            "pspReference": id,
            "merchantAccountCode": "TestMerchant",
            "merchantReference": format!("order-{id}"),
            "amount": {"value": 1130, "currency": "EUR"},
            "eventCode": "AUTHORISATION",
            "success": "true",
            "additionalData": {"hmacSignature": signature},
        }}],
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn every_way_of_building_a_receiver_gives_the_bundles_verdict() {
    let _heavy = support::heavy().await;
    let redis = redis_server::RedisProcess::start(&[]);
    let store = tower_webhook::idempotency::RedisStore::connect(&format!(
        "redis://127.0.0.1:{}/",
        redis.port
    ))
    .await
    .expect("connecting to Redis");
    let mut checked = 0;
    let mut on_redis = 0;
    for provider in provider::ALL {
        let (addr, paths, _) = receivers(provider, Some(&store)).await;
        on_redis += usize::from(paths.contains(&"/redis"));
        for (serial, case) in CORPUS.iter().enumerate() {
            let mut verdicts = BTreeMap::new();
            for path in &paths {
                verdicts.insert(*path, send(addr, path, provider, case, serial).await);
            }
            let bundle = verdicts["/bundle"].clone();
            for (path, verdict) in &verdicts {
                assert_eq!(
                    verdict, &bundle,
                    "{}: `{}` through {path} differs from the bundle",
                    provider.name, case.name
                );
            }
            // And the bundle's verdict is the right one.
            let scheme = (provider.scheme)();
            let signs_timestamp = scheme.signs_timestamp() || provider.body_timestamp.is_some();
            // Stripe's window, as its SDKs check it, bounds only the past.
            let bounds_future = provider.body_timestamp.is_some()
                || (scheme.signs_timestamp()
                    && scheme.tolerance().is_none_or(|t| t.future.is_some()));
            let expected = match case.name {
                "fresh" => StatusCode::OK,
                // Twitch's message type is checked against the signed body:
                // rewritten, it contradicts it.
                "replay under fresh unsigned headers" if provider.name == "twitch" => {
                    StatusCode::UNAUTHORIZED
                }
                "duplicate" | "replay under fresh unsigned headers" => StatusCode::OK,
                // Okta signs nothing (its deliveries carry the secret
                // itself): a changed body is not a forgery it can tell.
                "forged" if provider.name == "okta" => StatusCode::OK,
                "forged" => StatusCode::UNAUTHORIZED,
                "a year old" if signs_timestamp => StatusCode::UNAUTHORIZED,
                "a year ahead" if bounds_future => StatusCode::UNAUTHORIZED,
                "a year old" | "a year ahead" => StatusCode::OK,
                "oversized" => StatusCode::PAYLOAD_TOO_LARGE,
                other => unreachable!("{other}"),
            };
            assert_eq!(bundle.status, expected, "{}: {}", provider.name, case.name);
            if case.twice && bundle.status == StatusCode::OK {
                assert_eq!(
                    bundle.duplicate, provider.deduplicate,
                    "{}: {}",
                    provider.name, case.name
                );
            }
        }
        checked += 1;
    }
    assert_eq!(checked, provider::ALL.len());
    // Every deduplicating provider went through Redis too.
    let deduplicating = provider::ALL.iter().filter(|p| p.deduplicate).count();
    assert_eq!(on_redis, deduplicating);
}

#[tokio::test]
async fn a_custom_idempotency_store_keeps_githubs_body_cap() {
    // The issue: swapping the bundle's idempotency layer (for a Redis store)
    // reset GitHub's 25 MB cap to 1 MiB, refusing a signed 2 MB push with 413.
    let stack = WebhookStack::from_provider(&provider::GITHUB, SECRET)
        .unwrap()
        .idempotency(IdempotencyLayer::new().store(MemoryStore::new()));
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let router = Router::new().route(
        "/github",
        post(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { "handled" }
        })
        .layer(stack.build().unwrap()),
    );
    let addr = support::serve(router).await;
    let body = format!(
        r#"{{"ref":"refs/heads/main","padding":"{}"}}"#,
        "x".repeat(2 << 20)
    );
    let headers = support::signed_headers("github", SECRET, body.as_bytes(), unix_now(), "push-1");
    let reply = support::post_with(addr, "/github", &headers, body.as_bytes()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_redis_store_keeps_githubs_body_cap_and_stripes_retry_horizon() {
    use tower_webhook::idempotency::RedisStore;
    let redis = redis_server::RedisProcess::start(&[]);
    let url = format!("redis://127.0.0.1:{}/", redis.port);
    let store = Arc::new(
        RedisStore::connect(&url)
            .await
            .expect("connecting to Redis"),
    );
    // As the demo receiver does with REDIS_URL: the bundle with its
    // idempotency layer replaced by one on the shared store.
    let github = WebhookStack::github(tower_webhook::Secret::new(SECRET).unwrap())
        .idempotency(IdempotencyLayer::new().shared_store(store.clone()))
        .build()
        .unwrap();
    let router = Router::new().route("/github", post(|| async { "handled" }).layer(github));
    let addr = support::serve(router).await;
    let body = format!(
        r#"{{"ref":"refs/heads/main","padding":"{}"}}"#,
        "x".repeat(2 << 20)
    );
    let headers = support::signed_headers("github", SECRET, body.as_bytes(), unix_now(), "push-2");
    let reply = support::post_with(addr, "/github", &headers, body.as_bytes()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let again = support::post_with(addr, "/github", &headers, body.as_bytes()).await;
    assert!(again.headers.contains_key(REPLAYED_HEADER));

    // Stripe on the same store: the completed key lives at least 72 h.
    let stripe = WebhookStack::stripe(tower_webhook::Secret::new("whsec_stripe").unwrap())
        .idempotency(IdempotencyLayer::new().shared_store(store))
        .build()
        .unwrap();
    let router = Router::new().route("/stripe", post(|| async { "handled" }).layer(stripe));
    let addr = support::serve(router).await;
    let body = br#"{"id":"evt_horizon","type":"charge.succeeded"}"#;
    let headers = support::signed_headers("stripe", "whsec_stripe", body, unix_now(), "evt");
    let reply = support::post_with(addr, "/stripe", &headers, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let longest = longest_ttl_ms(&url).await;
    assert!(
        longest >= 72 * 3600 * 1000,
        "the longest key lives {longest} ms, under Stripe's three days"
    );
}

/// The longest time to live (ms) of any key on the Redis server at `url`.
async fn longest_ttl_ms(url: &str) -> i64 {
    let mut client = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut client)
        .await
        .unwrap();
    let mut longest = 0;
    for key in keys {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut client)
            .await
            .unwrap();
        longest = longest.max(ttl);
    }
    longest
}

#[test]
fn every_ttl_covers_the_providers_retry_horizon_and_window() {
    for provider in provider::ALL {
        let ttl = provider.idempotency_ttl();
        if let Some(horizon) = provider.retry_horizon {
            assert!(ttl >= horizon, "{}: {ttl:?} < {horizon:?}", provider.name);
            assert!(
                !provider.retry_horizon_source.is_empty(),
                "{}",
                provider.name
            );
        }
    }
    assert!(provider::STRIPE.idempotency_ttl() >= Duration::from_secs(72 * 3600));
    assert!(provider::PADDLE.idempotency_ttl() >= Duration::from_secs(72 * 3600));
}

#[test]
fn an_explicit_ttl_shorter_than_the_retry_horizon_is_refused() {
    // Stripe retries for three days: a 24 h TTL would run a late retry again.
    let short = WebhookStack::from_provider(&provider::STRIPE, "whsec_x")
        .unwrap()
        .idempotency(IdempotencyLayer::new().ttl(Duration::from_secs(24 * 3600)))
        .build();
    let error = short.map(|_| ()).unwrap_err();
    assert!(matches!(error, StackError::Idempotency(_)), "{error}");
    assert!(error.to_string().contains("retry horizon"), "{error}");
    // Left out, the stack raises it.
    WebhookStack::from_provider(&provider::STRIPE, "whsec_x")
        .unwrap()
        .idempotency(IdempotencyLayer::new())
        .build()
        .unwrap();
}

#[test]
fn an_allowlist_of_the_whole_internet_is_no_authentication() {
    for everyone in [
        "0.0.0.0/0, ::/0",
        "0.0.0.0/1, 128.0.0.0/1",
        "0.0.0.0/0",
        "::/0, 10.0.0.0/8",
    ] {
        let stack = WebhookStack::new().ip_filter(IpFilterLayer::new().allow(everyone).unwrap());
        let error = stack.build().map(|_| ()).unwrap_err();
        assert_eq!(error, StackError::NoAuthentication, "{everyone}");
        assert!(
            error.to_string().contains("insecure_no_authentication"),
            "{error}"
        );
        let policy: WebhookPolicy =
            serde_json::from_value(serde_json::json!({ "ip_allowlist": everyone })).unwrap();
        let error = policy.build().map(|_| ()).unwrap_err();
        assert!(
            error.to_string().contains("insecure_no_authentication"),
            "{error}"
        );
    }
    // Named networks still authenticate.
    WebhookStack::new()
        .ip_filter(
            IpFilterLayer::new()
                .allow("192.30.252.0/22, 2606:50c0::/32")
                .unwrap(),
        )
        .build()
        .unwrap();
}

#[test]
fn a_policy_names_the_field_and_the_closest_provider() {
    let policy: WebhookPolicy = serde_json::from_value(serde_json::json!({
        "provider": "strpe",
        "require_signature": true,
        "signing_secret": "whsec_x",
    }))
    .unwrap();
    let error = policy.build().map(|_| ()).unwrap_err().to_string();
    assert!(error.starts_with("provider: "), "{error}");
    assert!(error.contains("did you mean `stripe`"), "{error}");
    // A wider window than the provider's is not a setting.
    let wider: WebhookPolicy = serde_json::from_value(serde_json::json!({
        "provider": "stripe",
        "require_signature": true,
        "signing_secret": "whsec_x",
        "timestamp_window_seconds": 86_400,
    }))
    .unwrap();
    let error = wider.build().map(|_| ()).unwrap_err().to_string();
    assert!(error.contains("timestamp_window_seconds"), "{error}");
}

#[test]
fn the_readme_shows_the_recipe_the_tests_run() {
    let readme = include_str!("../../README.md");
    let recipe = include_str!("../../examples/support/recipe.rs");
    assert!(
        readme.contains(recipe),
        "README.md's production recipe differs from examples/support/recipe.rs"
    );
    assert!(recipe.lines().count() <= 40);
    assert!(!recipe.contains("insecure"));
}

#[tokio::test]
async fn the_production_recipe_on_two_replicas_sharing_redis() {
    let _heavy = support::heavy().await;
    use tower_webhook::idempotency::RedisStore;
    let redis = redis_server::RedisProcess::start(&[]);
    let url = format!("redis://127.0.0.1:{}/", redis.port);
    let rows = |tenant: String| async move {
        Ok(match tenant.as_str() {
            "acme" => Some(("github".to_owned(), "acme-github-secret".to_owned())),
            "globex" => Some(("stripe".to_owned(), "whsec_globex".to_owned())),
            "initech" => Some(("slack".to_owned(), "initech-slack-secret".to_owned())),
            _ => None,
        })
    };
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let store = Arc::new(
            RedisStore::connect(&url)
                .await
                .expect("connecting to Redis"),
        );
        let app = recipe::webhooks(rows, store).unwrap();
        replicas.push(support::serve(app).await);
    }
    let (a, b) = (replicas[0], replicas[1]);

    // GitHub: a signed 2 MB push runs once across the replicas.
    let push = format!(
        r#"{{"ref":"refs/heads/main","padding":"{}"}}"#,
        "x".repeat(2 << 20)
    );
    let signed = support::signed_headers(
        "github",
        "acme-github-secret",
        push.as_bytes(),
        unix_now(),
        "d1",
    );
    let first = support::post_with(a, "/hooks/acme", &signed, push.as_bytes()).await;
    assert_eq!(
        (first.status, first.text().as_str()),
        (StatusCode::OK, "ok")
    );
    let copy = support::post_with(b, "/hooks/acme", &signed, push.as_bytes()).await;
    assert!(
        copy.headers.contains_key(REPLAYED_HEADER),
        "{}",
        copy.text()
    );
    // A forgery and an unknown tenant: the same 401.
    let forged = support::signed_headers("github", "not-the-secret", b"{}", unix_now(), "d2");
    let forged = support::post_with(a, "/hooks/acme", &forged, b"{}").await;
    let stranger = support::post_with(a, "/hooks/hooli", &signed, push.as_bytes()).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        (stranger.status, stranger.body.clone()),
        (forged.status, forged.body.clone())
    );

    // Stripe: a year-old delivery is refused, a fresh one remembered for
    // Stripe's three days although the layer's own TTL is 24 h.
    let event = br#"{"id":"evt_1","type":"charge.succeeded"}"#;
    let stale = support::signed_headers(
        "stripe",
        "whsec_globex",
        event,
        unix_now() - 365 * 86_400,
        "e",
    );
    let reply = support::post_with(a, "/hooks/globex", &stale, event).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let fresh = support::signed_headers("stripe", "whsec_globex", event, unix_now(), "e");
    assert_eq!(
        support::post_with(a, "/hooks/globex", &fresh, event)
            .await
            .status,
        StatusCode::OK
    );
    let copy = support::post_with(b, "/hooks/globex", &fresh, event).await;
    assert!(copy.headers.contains_key(REPLAYED_HEADER));
    let longest = longest_ttl_ms(&url).await;
    assert!(
        longest >= 72 * 3600 * 1000,
        "no key lives Stripe's three days: the longest {longest} ms"
    );

    // Slack: the URL verification is answered, not handled.
    let challenge = br#"{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#;
    let signed =
        support::signed_headers("slack", "initech-slack-secret", challenge, unix_now(), "c");
    let reply = support::post_with(b, "/hooks/initech", &signed, challenge).await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (
            StatusCode::OK,
            "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
        )
    );
}

#[tokio::test]
async fn shopify_refuses_a_delivery_without_the_headers_shopify_always_sends() {
    let layer = WebhookStack::from_provider(&provider::SHOPIFY, SECRET)
        .unwrap()
        .build()
        .unwrap();
    let router = Router::new().route("/shopify", post(|| async { "handled" }).layer(layer));
    let addr = support::serve(router).await;
    let body = br#"{"id":820982911946154508}"#;
    let full = Signer::preset("shopify", SECRET)
        .unwrap()
        .delivery_headers(&Outgoing::new(body, unix_now(), "wh-1"))
        .unwrap();
    for required in provider::SHOPIFY.requires {
        let without: Vec<_> = full
            .iter()
            .filter(|(name, _)| name != required)
            .cloned()
            .collect();
        let reply = support::post_with(addr, "/shopify", &without, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "without {required}");
        // Unsigned as well: a forgery is refused as one first.
        let forged: Vec<_> = without
            .into_iter()
            .filter(|(name, _)| name != "x-shopify-hmac-sha256")
            .collect();
        let reply = support::post_with(addr, "/shopify", &forged, body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "forged without {required}"
        );
    }
    let reply = support::post_with(addr, "/shopify", &full, body).await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "handled")
    );
}

#[tokio::test]
async fn every_way_of_building_a_receiver_answers_the_handshake_alike() {
    /// A provider, its signed handshake body, the headers that say it is
    /// one, and what the answer echoes.
    type Handshake = (
        &'static Provider,
        &'static [u8],
        &'static [(&'static str, &'static str)],
        &'static str,
    );
    let handshakes: &[Handshake] = &[
        (
            &provider::SLACK,
            br#"{"type":"url_verification","challenge":"slack-challenge-1"}"#,
            &[],
            "slack-challenge-1",
        ),
        (
            &provider::TWITCH,
            br#"{"challenge":"twitch-challenge-1","subscription":{"status":"webhook_callback_verification_pending"}}"#,
            &[("twitch-eventsub-message-type", "webhook_callback_verification")],
            "twitch-challenge-1",
        ),
        (
            &provider::ZOOM,
            br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1,"event":"endpoint.url_validation"}"#,
            &[],
            "qgg8vlvZRS6UYooatFL8Aw",
        ),
        (
            &provider::SMARTSHEET,
            br#"{"challenge":"smartsheet-challenge-1","webhookId":2674017481058180}"#,
            &[("smartsheet-hook-challenge", "smartsheet-challenge-1")],
            "smartsheet-challenge-1",
        ),
    ];
    for (provider, body, extra, echoed) in handshakes {
        let (addr, paths, runs) = receivers(provider, None).await;
        for path in paths {
            let mut headers: Vec<_> = Signer::preset(provider.name, shown(provider))
                .unwrap()
                .delivery_headers(&Outgoing::new(body, unix_now(), "hs-1"))
                .unwrap()
                .into_iter()
                .filter(|(name, _)| !extra.iter().any(|(n, _)| name == n))
                .collect();
            for (name, value) in *extra {
                headers.push((
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                ));
            }
            let reply = support::post_with(addr, path, &headers, body).await;
            assert_eq!(reply.status, StatusCode::OK, "{}: {path}", provider.name);
            assert!(
                reply.text().contains(echoed),
                "{}: {path}: {}",
                provider.name,
                reply.text()
            );
            assert_eq!(
                reply
                    .headers
                    .get("x-content-type-options")
                    .map(|v| v.as_bytes()),
                Some(&b"nosniff"[..]),
                "{}: {path}",
                provider.name
            );
        }
        assert_eq!(
            runs.load(Ordering::SeqCst),
            0,
            "{}: a handshake reached the handler",
            provider.name
        );
    }
}
