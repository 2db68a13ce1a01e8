//! `examples/tonic_receiver.rs`, run as a test: the layers in front of a
//! real tonic server, a real tonic client, and the audit event of a refusal
//! with its gRPC code.
#![cfg(feature = "tonic")]

#[path = "../../../examples/tonic_receiver.rs"]
#[allow(dead_code)]
mod example;

use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tower_webhook::audit::{AuditEvent, AuditLayer, Outcome};
use tower_webhook::{Reason, Secret};

const TOKEN: &str = "grpc-token-5f0c9a1e2b";

#[tokio::test]
async fn the_tonic_example_serves_with_the_token_and_refuses_without_it() {
    let events = Arc::new(Mutex::new(Vec::<AuditEvent>::new()));
    let audit = AuditLayer::without_sinks().sink({
        let events = Arc::clone(&events);
        move |event: &AuditEvent| events.lock().unwrap().push(event.clone())
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(example::serve(listener, Secret::new(TOKEN).unwrap(), audit));

    let serving = example::check(addr, Some(TOKEN)).await;
    assert_eq!(serving.unwrap(), ServingStatus::Serving as i32);
    let refused = example::check(addr, None).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    let wrong = example::check(addr, Some("not-the-token-0000"))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::Unauthenticated, "{wrong:?}");

    let events = events.lock().unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[0].outcome, Outcome::Accepted);
    assert_eq!(events[0].auth_method, Some("bearer"));
    assert_eq!(events[0].client_ip, Some("127.0.0.1".parse().unwrap()));
    for (event, reason) in events[1..]
        .iter()
        .zip([Reason::TokenMissing, Reason::TokenInvalid])
    {
        assert_eq!(event.outcome, Outcome::Rejected);
        assert_eq!(event.reason, Some(reason));
        assert_eq!(event.status, 200);
        assert_eq!(event.grpc_status, Some(Code::Unauthenticated as u16));
        // Loopback passed the allowlist, but the call was refused for its
        // token: not allowlist traffic.
        assert_eq!(event.auth_method, None, "{event:?}");
        assert_eq!(event.auth_attempted, Some("bearer"), "{event:?}");
    }
}
