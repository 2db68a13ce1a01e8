//! The stack the load test and benches put in front of the route. Replaced
//! by the full stack once every layer has landed.
#![allow(dead_code)]

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http_body_util::Full;
use tower_webhook::body::BufferBodyLayer;

/// The layered router, and how to build a request it accepts (`n` makes
/// each delivery unique).
pub fn router(
    body_limit: usize,
) -> (
    Router,
    impl Fn(usize, Bytes) -> http::Request<Full<Bytes>> + Send + Sync + 'static,
) {
    let router = Router::new()
        .route(
            "/hook",
            post(|body: Bytes| async move { body.len().to_string() }),
        )
        .layer(BufferBodyLayer::new(body_limit.max(1024)));
    let sign = |_n: usize, body: Bytes| {
        http::Request::post("/hook")
            .body(Full::new(body))
            .expect("request")
    };
    (router, sign)
}
