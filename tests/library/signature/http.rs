//! The signature layer through a real HTTP server, where the socket is the
//! point: the headers judged before a body that never completes. The
//! layer's decisions (rejection reasons, rotation, hostile headers, legacy
//! tokens, presets) are unit tests next to the code, in
//! `src/signature/tests.rs`.

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use tower_webhook::signature::SignatureLayer;
use tower_webhook::{Reason, Secret, Verification, WebhookContext};

type Seen = Arc<Mutex<Vec<Verification>>>;

/// Outermost layer: owns the request's context and keeps what every layer
/// recorded, including rejections invisible over HTTP.
async fn capture(State(seen): State<Seen>, mut request: Request, next: Next) -> Response {
    let context = WebhookContext::of(&mut request);
    let response = next.run(request).await;
    seen.lock().unwrap().push(context.snapshot());
    response
}

async fn handler() -> &'static str {
    "handled"
}

struct Server {
    addr: std::net::SocketAddr,
    seen: Seen,
}

impl Server {
    async fn start(layer: SignatureLayer) -> Self {
        let seen = Seen::default();
        let router = Router::new()
            .route("/hook", post(handler).layer(layer))
            .layer(middleware::from_fn_with_state(Arc::clone(&seen), capture));
        let addr = support::serve(router).await;
        Self { addr, seen }
    }

    fn last_rejection(&self) -> Option<Reason> {
        self.seen
            .lock()
            .unwrap()
            .last()
            .expect("a request was seen")
            .rejection
    }
}

#[tokio::test]
async fn headers_are_checked_before_the_body_is_read() {
    let server = Server::start(SignatureLayer::github(Secret::new("s3cr3t-value").unwrap())).await;
    // The body never completes: only a decision on the headers can answer.
    let without_signature = format!(
        "POST /hook HTTP/1.1\r\nHost: {}\r\nContent-Length: 100000\r\n\r\npartial",
        server.addr
    );
    let reply = support::raw_exchange(
        server.addr,
        without_signature.as_bytes(),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(support::raw_status(&reply), 401, "{reply}");
    assert_eq!(server.last_rejection(), Some(Reason::SignatureMissing));

    // Control: with a well-formed signature the layer waits for the body.
    let with_signature = format!(
        "POST /hook HTTP/1.1\r\nHost: {}\r\nContent-Length: 100000\r\nX-Hub-Signature-256: sha256={}\r\n\r\npartial",
        server.addr,
        "00".repeat(32)
    );
    let reply = support::raw_exchange(
        server.addr,
        with_signature.as_bytes(),
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(reply, "", "no answer before the body is complete");
}
