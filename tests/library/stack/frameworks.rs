//! The IP filter outside axum: a plain hyper `service_fn` server that puts
//! the peer address into the request extensions, and a tonic server.

use crate::support;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tower::{ServiceBuilder, ServiceExt};
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::{Reason, WebhookContext};

use support::{post, send, Reply};

/// The handler: answers with the client IP the layer recorded.
async fn handler(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let client_ip: Option<IpAddr> =
        WebhookContext::get(request.extensions()).and_then(|c| c.snapshot().client_ip);
    let text = client_ip.map_or_else(|| "none".to_owned(), |ip| ip.to_string());
    Ok(Response::new(Full::new(Bytes::from(text))))
}

/// Serve `layer` + [`handler`] with hyper's HTTP/1 server on 127.0.0.1,
/// inserting the peer `SocketAddr` into each request when `tell_peer` is set.
/// The rejection reason is copied into `x-test-reason` for the client.
async fn serve_hyper(layer: IpFilterLayer, tell_peer: bool) -> SocketAddr {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = ServiceBuilder::new()
        .layer(layer)
        .service(tower::service_fn(handler));
    tokio::spawn(async move {
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                continue;
            };
            let service = service.clone();
            let per_request = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                if tell_peer {
                    request.extensions_mut().insert(peer);
                }
                let service = service.clone();
                async move {
                    let mut response = service.oneshot(request).await?;
                    if let Some(reason) = response.extensions().get::<Reason>().copied() {
                        response
                            .headers_mut()
                            .insert("x-test-reason", HeaderValue::from_static(reason.as_str()));
                    }
                    Ok::<_, Infallible>(response)
                }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), per_request)
                    .await;
            });
        }
    });
    addr
}

async fn post_empty(addr: SocketAddr) -> Reply {
    send(post(addr, "/hook").body(Full::default()).unwrap()).await
}

#[tokio::test]
async fn hyper_service_fn_allowed() {
    let layer = IpFilterLayer::new().allow("127.0.0.0/8").unwrap();
    let reply = post_empty(serve_hyper(layer, true).await).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.text(), "127.0.0.1");
}

#[tokio::test]
async fn hyper_service_fn_denied() {
    let layer = IpFilterLayer::new().allow("10.0.0.0/8").unwrap();
    let reply = post_empty(serve_hyper(layer, true).await).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{reply:?}");
    assert_eq!(reply.headers["x-test-reason"], "ip_not_allowed");
}

/// A server that never says who the peer is fails closed, even with a
/// blank allowlist.
#[tokio::test]
async fn hyper_without_peer_address_fails_closed() {
    let reply = post_empty(serve_hyper(IpFilterLayer::new(), false).await).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{reply:?}");
    assert_eq!(reply.headers["x-test-reason"], "client_ip_unknown");
}

#[cfg(feature = "tonic")]
mod grpc {
    use super::*;
    use tonic::transport::server::TcpIncoming;
    use tonic::transport::{Channel, Server};
    use tonic::Code;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    /// A tonic server with the health service behind `layer`, on 127.0.0.1.
    async fn serve_tonic(layer: IpFilterLayer) -> SocketAddr {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (_reporter, health) = tonic_health::server::health_reporter();
        tokio::spawn(async move {
            Server::builder()
                .layer(layer)
                // One service, so no router (tonic's `router` feature) is needed.
                .serve_with_incoming(health, TcpIncoming::from(listener))
                .await
                .unwrap();
        });
        addr
    }

    async fn check_health(addr: SocketAddr) -> Result<i32, tonic::Status> {
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .map(|response| response.into_inner().status)
    }

    #[tokio::test]
    async fn tonic_allowed_client_is_serving() {
        let layer = IpFilterLayer::new().allow("127.0.0.1, ::1").unwrap();
        let status = check_health(serve_tonic(layer).await).await;
        assert_eq!(status.unwrap(), ServingStatus::Serving as i32);
    }

    #[tokio::test]
    async fn tonic_denied_client_gets_permission_denied() {
        let layer = IpFilterLayer::new().allow("10.0.0.0/8").unwrap();
        let status = check_health(serve_tonic(layer).await).await.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    }
}
