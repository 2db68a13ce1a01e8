//! The token layer over a real HTTP server, for what only a socket sends (a
//! header that is not UTF-8). The layer's decisions (every token kind
//! accepted and refused, rotation, challenges, hostile inputs) are unit
//! tests next to the code, in `src/token/tests.rs`.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use axum::routing::post;
use axum::Router;
use http::HeaderValue;
use support::{raw_exchange, raw_status, serve};
use tower_webhook::token::TokenLayer;
use tower_webhook::{Reason, Secret};

const GITLAB: &str = "glpat-2024-token-value";

/// A server whose handler counts its calls, behind `layer`; refusals carry
/// their reason in `x-reason`.
struct App {
    addr: std::net::SocketAddr,
    calls: Arc<AtomicUsize>,
}

impl App {
    async fn start(route: &str, layer: TokenLayer) -> Self {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let handler = move || {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        };
        let router = Router::new()
            .route(route, post(handler))
            .layer(layer)
            .layer(axum::middleware::map_response(reason_header));
        Self {
            addr: serve(router).await,
            calls,
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// Expose the rejection reason the layer put in the response extensions.
async fn reason_header(mut response: Response) -> Response {
    if let Some(reason) = response.extensions().get::<Reason>().copied() {
        response
            .headers_mut()
            .insert("x-reason", HeaderValue::from_static(reason.as_str()));
    }
    response
}

fn gitlab_layer() -> TokenLayer {
    TokenLayer::header("X-Gitlab-Token").accept("2024", Secret::new(GITLAB).unwrap())
}

#[tokio::test]
async fn non_utf8_header_over_raw_tcp() {
    let app = App::start("/hooks", gitlab_layer()).await;
    let mut request = b"POST /hooks HTTP/1.1\r\nHost: test\r\nX-Gitlab-Token: ".to_vec();
    request.extend_from_slice(b"glpat-\xc3\x28\xff");
    request.extend_from_slice(b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let reply = raw_exchange(app.addr, &request, Duration::from_secs(5)).await;
    assert_eq!(raw_status(&reply), 401, "{reply}");
    assert!(
        reply
            .to_ascii_lowercase()
            .contains("x-reason: token_invalid"),
        "{reply}"
    );
    assert_eq!(app.calls(), 0);
}
