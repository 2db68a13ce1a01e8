//! A tonic service behind tower-webhook layers: the gRPC health service,
//! callable only from loopback with a Bearer token, every call audited.
//!
//! ```text
//! cargo run --features tonic --example tonic_receiver            # serves on 127.0.0.1:50051
//! cargo run --features tonic --example tonic_receiver -- --demo  # one call with the token, one without
//! ```
//!
//! A refusal reaches a tonic client as a gRPC status (`UNAUTHENTICATED`,
//! `PERMISSION_DENIED`, ...), not a transport error, and the audit event
//! records its `grpc_status` beside the HTTP status 200 gRPC always uses.
//!
//! **Streaming RPCs.** The IP filter and the token layer read only the
//! request head, so they suit every kind of RPC, streaming ones included.
//! Layers that need the body — `SignatureLayer`, a `ReplayLayer` reading a
//! body field, `BufferBodyLayer`, and `WebhookStack` (which buffers as soon
//! as one of its checks does) — read the *whole* request stream, under the
//! body limit, before the service sees its first message: fine for unary and
//! server-streaming calls, wrong for client-streaming and bidirectional
//! ones, which would stall until the client closes its stream. Keep those
//! behind head-only layers, as here.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tower::ServiceBuilder;
use tower_webhook::audit::{AuditLayer, JsonLinesSink};
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::token::TokenLayer;
use tower_webhook::Secret;

/// Serve the health service on `listener`, accepting `token` as a Bearer
/// credential from loopback clients, with `audit` outermost.
pub async fn serve(
    listener: TcpListener,
    token: Secret,
    audit: AuditLayer,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (_reporter, health) = tonic_health::server::health_reporter();
    let layers = ServiceBuilder::new()
        .layer(audit)
        // The peer address comes from tonic's `TcpConnectInfo` (feature `tonic`).
        .layer(IpFilterLayer::new().allow("127.0.0.1, ::1")?)
        .layer(TokenLayer::bearer().accept("grpc-client", token));
    Server::builder()
        .layer(layers)
        // One service, so no router (tonic's `router` feature) is needed.
        .serve_with_incoming(health, TcpIncoming::from(listener))
        .await?;
    Ok(())
}

/// Ask the health service at `addr` for its status, with `token` as a
/// Bearer credential if given.
pub async fn check(addr: SocketAddr, token: Option<&str>) -> Result<i32, tonic::Status> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .map_err(|error| tonic::Status::invalid_argument(error.to_string()))?
        .connect()
        .await
        .map_err(|error| tonic::Status::unavailable(error.to_string()))?;
    let mut request = tonic::Request::new(HealthCheckRequest {
        service: String::new(),
    });
    if let Some(token) = token {
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|_| tonic::Status::invalid_argument("token is not a header value"))?;
        request.metadata_mut().insert("authorization", value);
    }
    HealthClient::new(channel)
        .check(request)
        .await
        .map(|response| response.into_inner().status)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let demo = std::env::args().any(|arg| arg == "--demo");
    let token = match std::env::var("GRPC_TOKEN") {
        Ok(token) => token,
        Err(_) => {
            let token = hex_token();
            eprintln!("GRPC_TOKEN not set; generated: {token}");
            token
        }
    };
    let addr = if demo {
        "127.0.0.1:0".to_owned()
    } else {
        std::env::var("TONIC_ADDR").unwrap_or_else(|_| "127.0.0.1:50051".to_owned())
    };
    let listener = TcpListener::bind(&addr).await?;
    let addr = listener.local_addr()?;
    let audit = AuditLayer::without_sinks().sink(JsonLinesSink::new(std::io::stdout())?);
    let server = tokio::spawn(serve(listener, Secret::new(&token)?, audit));
    if !demo {
        eprintln!("gRPC health service on {addr}; try:");
        eprintln!(
            "  grpcurl -plaintext -H 'authorization: Bearer {token}' {addr} grpc.health.v1.Health/Check"
        );
        return server.await?;
    }
    println!("with the token:    {:?}", check(addr, Some(&token)).await);
    println!(
        "without a token:   {:?}",
        check(addr, None).await.map_err(|s| s.code())
    );
    // Let the JSON-lines writer catch up before the process exits.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    Ok(())
}

/// A random token, for the demo.
fn hex_token() -> String {
    Secret::generate()
        .expose_secret()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
