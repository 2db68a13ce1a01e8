//! Signature verification against the physical limit and the peer crates,
//! in one run.
//!
//! ```text
//! cargo bench --all-features --bench signature
//! BENCH_CLOCK=thread-cpu cargo bench --all-features --bench signature   # CPU time, for shared machines
//! ```
//!
//! For each body size, on the same bytes:
//!
//! * `raw_hmac`: `Hmac::<Sha256>::new_from_slice` + `update` + `finalize`
//!   over exactly the bytes the scheme signs (the body for GitHub,
//!   `id.timestamp.body` for Standard Webhooks), no parsing, no compare:
//!   the cost any verifier must pay, key setup included;
//! * `raw_hmac_prekeyed`: the same from a keyed state cloned per call, which
//!   is what a verifier that keeps its key can reach;
//! * `tower-webhook/*`: what `SignatureLayer` runs once the body is
//!   buffered (parse the headers, MAC with the pre-keyed state, compare in
//!   constant time);
//! * `standardwebhooks/standard`, `webhook-verify/*`: the same scheme
//!   verified by the crates users pick today (their timestamp check
//!   included; ours is the replay layer's, a few nanoseconds);
//! * with `--features ed25519`: `raw_ed25519` and
//!   `tower-webhook/standard-ed25519`.

#[path = "support/thread_cpu.rs"]
mod thread_cpu;

use std::hint::black_box;
use std::sync::Arc;
use std::time::SystemTime;

use criterion::measurement::Measurement;
use criterion::{BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, Request};
use sha2::Sha256;
use tower_webhook::provider;
use tower_webhook::signature::{Delivery, Keyring, Outgoing, Scheme, Signer};
use tower_webhook::Secret;

/// Seconds since the Unix epoch, as a sender stamps a delivery.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

const SIZES: [usize; 3] = [1024, 64 * 1024, 1024 * 1024];
const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";

fn signed_headers(scheme: &str, secret: &str, body: &[u8], timestamp: i64) -> HeaderMap {
    Signer::preset(scheme, secret)
        .unwrap()
        .sign(&Outgoing::new(body, timestamp, ID))
        .unwrap()
        .into_iter()
        .collect()
}

fn parts(headers: HeaderMap) -> http::request::Parts {
    let mut request = Request::post("/hook").body(()).unwrap();
    *request.headers_mut() = headers;
    request.into_parts().0
}

/// What the signature layer does after buffering.
fn verify(scheme: &dyn Scheme, keyring: &Keyring, parts: &http::request::Parts, body: &[u8]) {
    let signatures = scheme.parse_head(parts).unwrap();
    let delivery = Delivery { parts, body };
    keyring
        .verify_with_clock(scheme, &signatures, &delivery, SystemTime::now)
        .unwrap();
}

fn raw_hmac(key: &[u8], message: &[u8]) -> impl Fn() {
    let key = key.to_vec();
    let message = message.to_vec();
    move || {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
        mac.update(black_box(&message));
        black_box(mac.finalize().into_bytes());
    }
}

fn raw_hmac_prekeyed(key: &[u8], message: &[u8]) -> impl Fn() {
    let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    let message = message.to_vec();
    move || {
        let mut mac = keyed.clone();
        mac.update(black_box(&message));
        black_box(mac.finalize().into_bytes());
    }
}

fn bench<M: Measurement>(c: &mut Criterion<M>) {
    let github: Arc<dyn Scheme> = Arc::new(provider::github::github());
    let standard: Arc<dyn Scheme> = Arc::new(provider::standard::standard_webhooks());
    let github_keys = Keyring::new().with(tower_webhook::signature::Key::new(
        "k",
        github.parse_key(GITHUB_SECRET).unwrap(),
    ));
    let standard_keys = Keyring::new().with(tower_webhook::signature::Key::new(
        "k",
        standard.parse_key(STANDARD_SECRET).unwrap(),
    ));
    let standard_key = Secret::from_whsec(STANDARD_SECRET).unwrap();
    let peer_standard = standardwebhooks::Webhook::new(STANDARD_SECRET).unwrap();
    let verify_github_secret = webhook_verify::Secret::new(GITHUB_SECRET);
    let verify_standard_secret = webhook_verify::Secret::new(STANDARD_SECRET);

    let mut group = c.benchmark_group("signature");
    group.warm_up_time(std::time::Duration::from_secs(1));
    group.measurement_time(std::time::Duration::from_secs(3));
    for size in SIZES {
        let body = vec![b'a'; size];
        group.throughput(Throughput::Bytes(size as u64));
        // Signed now: the peers check the timestamp against the clock.
        let timestamp = unix_now();
        let github_headers = signed_headers("github", GITHUB_SECRET, &body, 0);
        let standard_headers = signed_headers("standard", STANDARD_SECRET, &body, timestamp);
        let github_parts = parts(github_headers.clone());
        let standard_parts = parts(standard_headers.clone());
        let standard_message = [format!("{ID}.{timestamp}.").as_bytes(), &body].concat();

        let mut run = |name: &str, f: &dyn Fn()| {
            group.bench_function(BenchmarkId::new(name, size), |b| b.iter(f));
        };
        run(
            "github/raw_hmac",
            &raw_hmac(GITHUB_SECRET.as_bytes(), &body),
        );
        run(
            "github/raw_hmac_prekeyed",
            &raw_hmac_prekeyed(GITHUB_SECRET.as_bytes(), &body),
        );
        run("github/tower-webhook", &|| {
            verify(
                github.as_ref(),
                &github_keys,
                black_box(&github_parts),
                black_box(&body),
            )
        });
        run("github/webhook-verify", &|| {
            webhook_verify::verify(
                webhook_verify::Provider::GitHub,
                black_box(&github_headers),
                black_box(&body),
                &verify_github_secret,
                webhook_verify::VerifyOptions::default(),
            )
            .unwrap()
        });
        run(
            "standard/raw_hmac",
            &raw_hmac(standard_key.expose_secret(), &standard_message),
        );
        run(
            "standard/raw_hmac_prekeyed",
            &raw_hmac_prekeyed(standard_key.expose_secret(), &standard_message),
        );
        run("standard/tower-webhook", &|| {
            verify(
                standard.as_ref(),
                &standard_keys,
                black_box(&standard_parts),
                black_box(&body),
            )
        });
        run("standard/standardwebhooks", &|| {
            peer_standard
                .verify(black_box(&body), black_box(&standard_headers))
                .unwrap()
        });
        run("standard/webhook-verify", &|| {
            webhook_verify::verify(
                webhook_verify::Provider::StandardWebhooks,
                black_box(&standard_headers),
                black_box(&body),
                &verify_standard_secret,
                webhook_verify::VerifyOptions::default(),
            )
            .unwrap()
        });
        #[cfg(feature = "ed25519")]
        ed25519(&mut run, &body, timestamp);
    }
    group.finish();
}

/// Standard Webhooks `v1a` against a raw Ed25519 verify of the same bytes.
#[cfg(feature = "ed25519")]
fn ed25519(run: &mut dyn FnMut(&str, &dyn Fn()), body: &[u8], timestamp: i64) {
    use ed25519_dalek::{Signer as _, SigningKey, Verifier as _};
    use tower_webhook::signature::{Key, KeyMaterial};

    let signing = SigningKey::from_bytes(&[7; 32]);
    let verifying = signing.verifying_key();
    let message = [format!("{ID}.{timestamp}.").as_bytes(), body].concat();
    let signature = signing.sign(&message);
    run("ed25519/raw_verify", &|| {
        verifying
            .verify(black_box(&message), black_box(&signature))
            .unwrap()
    });

    let scheme: Arc<dyn Scheme> = Arc::new(provider::standard_ed25519::standard_ed25519());
    let headers: HeaderMap = Signer::new(Arc::clone(&scheme), KeyMaterial::Ed25519Signing(signing))
        .sign(&Outgoing::new(body, timestamp, ID))
        .unwrap()
        .into_iter()
        .collect();
    let keyring = Keyring::new().with(Key::new("k", KeyMaterial::Ed25519(verifying)));
    let parts = parts(headers);
    run("ed25519/tower-webhook", &|| {
        verify(
            scheme.as_ref(),
            &keyring,
            black_box(&parts),
            black_box(body),
        )
    });
}

fn main() {
    // Wall time by default; `BENCH_CLOCK=thread-cpu` on a shared machine.
    if thread_cpu::selected() {
        let mut c = Criterion::default()
            .with_measurement(thread_cpu::ThreadCpu)
            .configure_from_args();
        bench(&mut c);
        c.final_summary();
    } else {
        let mut c = Criterion::default().configure_from_args();
        bench(&mut c);
        c.final_summary();
    }
}
