//! Verification cost against a raw HMAC-SHA256 of the same bytes.
//!
//! `verify/*` runs what `SignatureLayer` runs after buffering (parse the
//! headers, derive the message, MAC with the pre-keyed state, compare) for
//! the GitHub preset and Standard Webhooks; `raw_hmac` is
//! `Hmac::<Sha256>::new_from_slice` + `update` + `finalize` over the same
//! bytes with no parsing at all. The ratio verify / raw is the overhead.

use std::hint::black_box;
use std::sync::Arc;
use std::time::SystemTime;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, Request};
use sha2::Sha256;
use tower_webhook::signature::{schemes, Delivery, Keyring, Outgoing, Scheme, Signer};
use tower_webhook::Secret;

const SIZES: [usize; 3] = [1024, 64 * 1024, 1024 * 1024];

fn signed(scheme: &Arc<dyn Scheme>, secret: &Secret, body: &[u8]) -> http::request::Parts {
    let headers: HeaderMap = Signer::new(Arc::clone(scheme), secret.clone().into())
        .sign(&Outgoing::new(
            body,
            1_700_000_000,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
        ))
        .unwrap()
        .into_iter()
        .collect();
    let mut request = Request::post("/hook").body(()).unwrap();
    *request.headers_mut() = headers;
    request.into_parts().0
}

fn verify(scheme: &dyn Scheme, keyring: &Keyring, parts: &http::request::Parts, body: &[u8]) {
    let signatures = scheme.parse_head(parts).unwrap();
    let delivery = Delivery { parts, body };
    keyring
        .verify(scheme, &signatures, &delivery, SystemTime::now())
        .unwrap();
}

fn bench(c: &mut Criterion) {
    let secret = Secret::new("It's a Secret to Everybody, 32 b").unwrap();
    let keyring = Keyring::single(secret.clone());
    let presets: [(&str, Arc<dyn Scheme>); 2] = [
        ("github", Arc::new(schemes::github())),
        ("standard", Arc::new(schemes::standard_webhooks())),
    ];
    let mut group = c.benchmark_group("signature");
    for size in SIZES {
        let body = vec![b'a'; size];
        group.throughput(Throughput::Bytes(size as u64));
        for (name, scheme) in &presets {
            let parts = signed(scheme, &secret, &body);
            group.bench_with_input(
                BenchmarkId::new(format!("verify/{name}"), size),
                &body,
                |b, body| {
                    b.iter(|| {
                        verify(
                            scheme.as_ref(),
                            &keyring,
                            black_box(&parts),
                            black_box(body),
                        )
                    })
                },
            );
        }
        group.bench_with_input(BenchmarkId::new("raw_hmac", size), &body, |b, body| {
            b.iter(|| {
                let mut mac =
                    <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose_secret()).unwrap();
                mac.update(black_box(body));
                black_box(mac.finalize().into_bytes())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
