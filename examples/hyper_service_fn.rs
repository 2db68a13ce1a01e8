//! A webhook receiver on plain hyper, guarded by the IP filter.
//!
//! hyper has no connect-info machinery: the server inserts the peer
//! `SocketAddr` into each request's extensions, where the layer finds it.
//!
//! ```text
//! cargo run --example hyper_service_fn
//! curl -X POST http://127.0.0.1:3000/webhook          # 200, from 127.0.0.1
//! curl -X POST http://127.0.0.1:3000/webhook \
//!      -H 'x-forwarded-for: 192.0.2.7'                 # 200: header ignored, the peer is no proxy
//! ```

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tower::{ServiceBuilder, ServiceExt};
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::WebhookContext;

async fn webhook(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let client_ip =
        WebhookContext::get(request.extensions()).and_then(|context| context.snapshot().client_ip);
    let text = format!("delivery accepted from {client_ip:?}\n");
    Ok(Response::new(Full::new(Bytes::from(text))))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let service = ServiceBuilder::new()
        .layer(
            IpFilterLayer::new()
                .allow("127.0.0.0/8, ::1, 192.0.2.0/24")?
                .trust_proxies("10.0.0.0/8")?
                .client_ip_from_x_forwarded_for(),
        )
        .service(tower::service_fn(webhook));

    let listener = TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, peer) = listener.accept().await?;
        let service = service.clone();
        let per_request = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(peer);
            service.clone().oneshot(request)
        });
        tokio::spawn(async move {
            if let Err(error) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), per_request)
                .await
            {
                eprintln!("connection from {peer}: {error}");
            }
        });
    }
}
