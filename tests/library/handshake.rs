//! Provider handshakes through a real server: each answered exactly as the
//! provider documents (status, content type, body), never reaching the
//! handler, recorded in the audit trail; signed ones only when signed.

use crate::support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use support::unix_now;

use axum::routing::any;
use axum::Router;
use bytes::Bytes;
use http::{header, HeaderName, HeaderValue, Request, StatusCode};
use http_body_util::Full;
use tower_webhook::audit::{AuditEvent, AuditLayer, Outcome};
use tower_webhook::handshake::{Handshake, HandshakeLayer};
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::replay::ReplayLayer;
use tower_webhook::signature::SignatureLayer;
use tower_webhook::{Reason, Secret, WebhookStack};

const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const TWITCH_SECRET: &str = "twitch-subscription-secret";
const ZOOM_SECRET: &str = "zoom-secret-token";
const META_SECRET: &str = "meta-app-secret";
const DROPBOX_SECRET: &str = "dropbox-app-secret";

type Events = Arc<Mutex<Vec<AuditEvent>>>;

struct Server {
    addr: SocketAddr,
    runs: Arc<AtomicUsize>,
    events: Events,
}

impl Server {
    async fn start(stack: WebhookStack) -> Self {
        let events = Events::default();
        let sink = Arc::clone(&events);
        let audit = AuditLayer::without_sinks()
            .sink(move |event: &AuditEvent| sink.lock().unwrap().push(event.clone()));
        let layer = stack.audit(audit).build().expect("a consistent stack");
        Self::serve(move |handler| handler.layer(layer), events).await
    }

    async fn serve(
        wrap: impl FnOnce(axum::routing::MethodRouter) -> axum::routing::MethodRouter,
        events: Events,
    ) -> Self {
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&runs);
        let handler = any(move || {
            let runs = Arc::clone(&counter);
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                "handled"
            }
        });
        let addr = support::serve(Router::new().route("/hook", wrap(handler))).await;
        Self { addr, runs, events }
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    fn last_event(&self) -> AuditEvent {
        self.events
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("an audit event")
    }

    async fn post(&self, headers: &[(HeaderName, HeaderValue)], body: &[u8]) -> support::Reply {
        support::post_with(self.addr, "/hook", headers, body).await
    }

    async fn get(&self, path_and_query: &str) -> support::Reply {
        let request = Request::get(format!("http://{}{path_and_query}", self.addr))
            .body(Full::new(Bytes::new()))
            .unwrap();
        support::send(request).await
    }
}

fn signed(scheme: &str, secret: &str, body: &[u8]) -> Vec<(HeaderName, HeaderValue)> {
    support::signed_headers(scheme, secret, body, unix_now(), "delivery-1")
}

fn content_type(reply: &support::Reply) -> &str {
    reply.headers[header::CONTENT_TYPE].to_str().unwrap()
}

/// What every echoed value is answered with: UTF-8 plain text that no
/// browser sniffs into HTML.
fn assert_inert_text(reply: &support::Reply) {
    assert_eq!(content_type(reply), "text/plain; charset=utf-8");
    assert_nosniff(reply);
}

fn assert_nosniff(reply: &support::Reply) {
    let values: Vec<_> = reply
        .headers
        .get_all("x-content-type-options")
        .iter()
        .collect();
    assert_eq!(values, ["nosniff"], "{:?}", reply.headers);
}

fn assert_handshake(server: &Server, name: &str) {
    let event = server.last_event();
    assert_eq!(event.outcome, Outcome::Handshake, "{event:?}");
    assert_eq!(event.event, "webhook.handshake");
    assert_eq!(event.handshake, Some(name));
    // An answer, not a refusal.
    assert_eq!(event.reason, None);
    assert_eq!(event.answer, Some("handshake"));
}

fn slack_stack() -> WebhookStack {
    WebhookStack::new()
        .signature(SignatureLayer::slack(Secret::new(SLACK_SECRET).unwrap()))
        .replay(ReplayLayer::signed_timestamp())
        .handshake(Handshake::slack())
}

const SLACK_CHALLENGE: &[u8] = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;

#[tokio::test]
async fn slack_url_verification_is_answered_with_the_challenge_as_plain_text() {
    let server = Server::start(slack_stack()).await;
    let reply = server
        .post(
            &signed("slack", SLACK_SECRET, SLACK_CHALLENGE),
            SLACK_CHALLENGE,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_inert_text(&reply);
    assert_eq!(
        reply.text(),
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
    assert_eq!(server.runs(), 0, "the handler never sees the handshake");
    assert_handshake(&server, "slack.url_verification");

    // An ordinary event still reaches the handler.
    let event = br#"{"type":"event_callback","event_id":"Ev1"}"#;
    let reply = server
        .post(&signed("slack", SLACK_SECRET, event), event)
        .await;
    assert_eq!(reply.text(), "handled");
    assert_eq!(server.runs(), 1);
    assert_eq!(server.last_event().outcome, Outcome::Accepted);
}

#[tokio::test]
async fn an_unsigned_or_forged_slack_challenge_gets_no_answer() {
    let server = Server::start(slack_stack()).await;
    let reply = server.post(&[], SLACK_CHALLENGE).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let forged = signed("slack", "another-secret", SLACK_CHALLENGE);
    let reply = server.post(&forged, SLACK_CHALLENGE).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(!reply.text().contains("3eZbrw"), "{}", reply.text());
    assert_eq!(server.runs(), 0);
    assert_eq!(server.last_event().handshake, None);
}

#[tokio::test]
async fn a_stale_signed_slack_challenge_is_refused_by_the_window() {
    let server = Server::start(slack_stack()).await;
    let stale = support::signed_headers(
        "slack",
        SLACK_SECRET,
        SLACK_CHALLENGE,
        unix_now() - 3600,
        "x",
    );
    let reply = server.post(&stale, SLACK_CHALLENGE).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        server.last_event().reason,
        Some(Reason::TimestampOutsideWindow)
    );
}

#[tokio::test]
async fn a_forwarded_handshake_reaches_the_handler_and_is_still_recorded() {
    let stack = WebhookStack::new()
        .signature(SignatureLayer::slack(Secret::new(SLACK_SECRET).unwrap()))
        .handshake(Handshake::slack().forward_to_handler());
    let server = Server::start(stack).await;
    let reply = server
        .post(
            &signed("slack", SLACK_SECRET, SLACK_CHALLENGE),
            SLACK_CHALLENGE,
        )
        .await;
    assert_eq!(reply.text(), "handled");
    let event = server.last_event();
    assert_eq!(event.outcome, Outcome::Accepted);
    assert_eq!(event.handshake, Some("slack.url_verification"));
}

fn twitch_headers(body: &[u8], message_type: &'static str) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = signed("twitch", TWITCH_SECRET, body);
    headers.push((
        HeaderName::from_static("twitch-eventsub-message-type"),
        HeaderValue::from_static(message_type),
    ));
    headers
}

fn twitch_stack() -> WebhookStack {
    WebhookStack::new()
        .signature(SignatureLayer::preset("twitch", TWITCH_SECRET).expect("the twitch preset"))
        .replay(ReplayLayer::signed_timestamp())
        .handshake(Handshake::twitch())
}

#[tokio::test]
async fn twitch_callback_verification_and_revocation() {
    let server = Server::start(twitch_stack()).await;
    let body = br#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"webhook_callback_verification_pending","type":"channel.follow","version":"1"}}"#;
    let reply = server
        .post(&twitch_headers(body, "webhook_callback_verification"), body)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_inert_text(&reply);
    assert_eq!(reply.text(), "pogchamp-kappa-360noscope-vohiyo");
    assert_handshake(&server, "twitch.webhook_callback_verification");

    let revoked = br#"{"subscription":{"id":"f1c2a387","status":"authorization_revoked","type":"channel.follow","version":"1"}}"#;
    let reply = server
        .post(&twitch_headers(revoked, "revocation"), revoked)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_nosniff(&reply);
    assert_handshake(&server, "twitch.revocation");
    assert_eq!(server.runs(), 0);

    let notification =
        br#"{"subscription":{"id":"f1c2a387","status":"enabled"},"event":{"user_id":"1337"}}"#;
    let reply = server
        .post(&twitch_headers(notification, "notification"), notification)
        .await;
    assert_eq!(reply.text(), "handled");
    assert_eq!(server.runs(), 1);
}

const TWITCH_VERIFICATION: &[u8] = br#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387","status":"webhook_callback_verification_pending","type":"channel.follow","version":"1"}}"#;
const TWITCH_REVOCATION: &[u8] = br#"{"subscription":{"id":"f1c2a387","status":"authorization_revoked","type":"channel.follow","version":"1"}}"#;
const TWITCH_NOTIFICATION: &[u8] =
    br#"{"subscription":{"id":"f1c2a387","status":"enabled"},"event":{"user_id":"1337"}}"#;

#[tokio::test]
async fn a_twitch_message_type_that_contradicts_the_signed_body_is_refused() {
    // Forwarding on: a relabelled message must not reach the handler as
    // what the header says either.
    let stack = WebhookStack::new()
        .signature(SignatureLayer::preset("twitch", TWITCH_SECRET).unwrap())
        .replay(ReplayLayer::signed_timestamp())
        .handshake(Handshake::twitch().forward_to_handler());
    let server = Server::start(stack).await;
    for (body, header) in [
        // A captured verification re-sent as a revocation.
        (TWITCH_VERIFICATION, "revocation"),
        (TWITCH_VERIFICATION, "notification"),
        (TWITCH_REVOCATION, "webhook_callback_verification"),
        (TWITCH_REVOCATION, "notification"),
        (TWITCH_NOTIFICATION, "revocation"),
        (TWITCH_NOTIFICATION, "webhook_callback_verification"),
        (TWITCH_NOTIFICATION, "something_else"),
    ] {
        let reply = server.post(&twitch_headers(body, header), body).await;
        let said = String::from_utf8_lossy(body);
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{said} as {header}");
        assert!(!reply.text().contains("pogchamp"), "{said} as {header}");
        let event = server.last_event();
        assert_eq!(event.outcome, Outcome::Rejected, "{said} as {header}");
        assert_eq!(event.reason, Some(Reason::UnsignedHeaderMismatch));
        assert_eq!(event.handshake, None, "{said} as {header}");
    }
    assert_eq!(server.runs(), 0);

    // Agreeing, each is what it is (forwarded, here, and recorded).
    for (body, header, handshake) in [
        (
            TWITCH_VERIFICATION,
            "webhook_callback_verification",
            Some("twitch.webhook_callback_verification"),
        ),
        (TWITCH_REVOCATION, "revocation", Some("twitch.revocation")),
        (TWITCH_NOTIFICATION, "notification", None),
    ] {
        let reply = server.post(&twitch_headers(body, header), body).await;
        assert_eq!(reply.text(), "handled", "{header}");
        assert_eq!(server.last_event().handshake, handshake);
    }
    assert_eq!(server.runs(), 3);
}

#[tokio::test]
async fn a_twitch_kind_comes_from_the_signed_body_when_the_header_is_absent() {
    let server = Server::start(twitch_stack()).await;
    let reply = server
        .post(
            &signed("twitch", TWITCH_SECRET, TWITCH_VERIFICATION),
            TWITCH_VERIFICATION,
        )
        .await;
    assert_eq!(reply.text(), "pogchamp-kappa-360noscope-vohiyo");
    assert_handshake(&server, "twitch.webhook_callback_verification");
    let reply = server
        .post(
            &signed("twitch", TWITCH_SECRET, TWITCH_NOTIFICATION),
            TWITCH_NOTIFICATION,
        )
        .await;
    assert_eq!(reply.text(), "handled");
    assert_eq!(server.runs(), 1);
}

#[tokio::test]
async fn slack_and_zoom_read_their_kind_from_the_signed_body_alone() {
    // A header naming a handshake turns no ordinary event into one: the
    // kind is the signed body's `type` / `event`.
    let server = Server::start(slack_stack()).await;
    let event = br#"{"type":"event_callback","challenge":"not-a-handshake"}"#;
    let mut headers = signed("slack", SLACK_SECRET, event);
    headers.push((
        HeaderName::from_static("x-slack-type"),
        HeaderValue::from_static("url_verification"),
    ));
    let reply = server.post(&headers, event).await;
    assert_eq!(reply.text(), "handled");
    assert_eq!(server.last_event().handshake, None);

    let stack = WebhookStack::new()
        .signature(SignatureLayer::preset("zoom", ZOOM_SECRET).unwrap())
        .handshake(Handshake::zoom(Secret::new(ZOOM_SECRET).unwrap()));
    let server = Server::start(stack).await;
    let event = br#"{"event":"meeting.started","payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"}}"#;
    let mut headers = signed("zoom", ZOOM_SECRET, event);
    headers.push((
        HeaderName::from_static("x-zm-event"),
        HeaderValue::from_static("endpoint.url_validation"),
    ));
    let reply = server.post(&headers, event).await;
    assert_eq!(reply.text(), "handled");
    assert_eq!(server.last_event().handshake, None);
}

#[tokio::test]
async fn zoom_url_validation_answers_the_hmac_of_the_plain_token() {
    let stack = WebhookStack::new()
        .signature(SignatureLayer::preset("zoom", ZOOM_SECRET).unwrap())
        .replay(ReplayLayer::signed_timestamp())
        .handshake(Handshake::zoom(Secret::new(ZOOM_SECRET).unwrap()));
    let server = Server::start(stack).await;
    let body = br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    let reply = server.post(&signed("zoom", ZOOM_SECRET, body), body).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(content_type(&reply), "application/json");
    assert_nosniff(&reply);
    // encryptedToken computed independently (Python's hmac module):
    // hmac.new(b"zoom-secret-token", b"qgg8vlvZRS6UYooatFL8Aw", sha256).hexdigest()
    assert_eq!(
        reply.text(),
        r#"{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"d9e0d764a78494688ba3f2d5c0ed4ca311394b4834d959759213424d2df961e3"}"#
    );
    assert_handshake(&server, "zoom.url_validation");
    assert_eq!(server.runs(), 0);

    // Unsigned: no answer, so nobody learns an HMAC under the secret.
    let reply = server.post(&[], body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[cfg(feature = "ed25519")]
#[tokio::test]
async fn discord_ping_is_answered_with_type_1() {
    use tower_webhook::provider::discord;
    use tower_webhook::signature::{Key, KeyMaterial, Keyring, Outgoing, Signer};

    let private = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let public = KeyMaterial::Ed25519(private.verifying_key());
    let signer = Signer::new(
        Arc::new(discord::discord()),
        KeyMaterial::Ed25519Signing(private),
    );
    let stack = WebhookStack::new()
        .signature(
            SignatureLayer::new(
                discord::discord(),
                Keyring::new().with(Key::new("app", public)),
            )
            .unwrap(),
        )
        .handshake(Handshake::discord());
    let server = Server::start(stack).await;
    let sign = |body: &[u8]| -> Vec<(HeaderName, HeaderValue)> {
        signer
            .sign(&Outgoing::new(body, unix_now(), "x"))
            .unwrap()
            .into_iter()
            .collect()
    };
    let ping = br#"{"id":"1","application_id":"2","type":1,"token":"t","version":1}"#;
    let reply = server.post(&sign(ping), ping).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(content_type(&reply), "application/json");
    assert_nosniff(&reply);
    assert_eq!(reply.text(), r#"{"type":1}"#);
    assert_handshake(&server, "discord.ping");

    // Discord probes with bad signatures and expects 401.
    let reply = server.post(&[], ping).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    let command = br#"{"id":"3","type":2,"data":{"name":"hello"}}"#;
    let reply = server.post(&sign(command), command).await;
    assert_eq!(reply.text(), "handled");
    assert_eq!(server.runs(), 1);
}

#[tokio::test]
async fn dropbox_challenge_is_echoed_with_the_documented_headers() {
    let stack = WebhookStack::new()
        .signature(SignatureLayer::preset("dropbox", DROPBOX_SECRET).unwrap())
        .handshake(Handshake::dropbox());
    let server = Server::start(stack).await;
    let reply = server.get("/hook?challenge=a%2Bb%20c").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_inert_text(&reply);
    assert_eq!(reply.text(), "a+b c");
    assert_handshake(&server, "dropbox.challenge");

    // A GET without a challenge is an ordinary unsigned request.
    let reply = server.get("/hook").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    // Two different challenges: ambiguous, refused.
    let reply = server.get("/hook?challenge=a&challenge=b").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    let body = br#"{"list_folder":{"accounts":["dbid:1"]}}"#;
    let reply = server
        .post(&signed("dropbox", DROPBOX_SECRET, body), body)
        .await;
    assert_eq!(reply.text(), "handled");
    assert_eq!(server.runs(), 1);
}

fn meta_stack() -> WebhookStack {
    WebhookStack::new()
        .signature(SignatureLayer::preset("meta", META_SECRET).unwrap())
        .handshake(Handshake::meta(Secret::new("meatyhamhock").unwrap()))
}

#[tokio::test]
async fn meta_verification_echoes_the_challenge_only_for_the_right_token() {
    let server = Server::start(meta_stack()).await;
    let reply = server
        .get("/hook?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_inert_text(&reply);
    assert_eq!(reply.text(), "1158201444");
    assert_handshake(&server, "meta.verification");

    for query in [
        "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wrong",
        "hub.mode=subscribe&hub.challenge=1158201444",
        "hub.mode=subscribe&hub.challenge=1&hub.verify_token=meatyhamhock&hub.verify_token=x",
    ] {
        let reply = server.get(&format!("/hook?{query}")).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{query}");
        assert!(!reply.text().contains("1158201444"));
        let event = server.last_event();
        assert_eq!(event.outcome, Outcome::Rejected);
        assert_eq!(event.handshake, Some("meta.verification"));
        assert_eq!(event.reason, Some(Reason::TokenInvalid));
    }

    // The Meta preset: X-Hub-Signature-256 over the body with the app secret.
    let body = br#"{"object":"page","entry":[]}"#;
    let reply = server.post(&signed("meta", META_SECRET, body), body).await;
    assert_eq!(reply.text(), "handled");
    assert_eq!(server.runs(), 1);
}

#[tokio::test]
async fn microsoft_graph_validation_token_is_echoed_decoded() {
    let stack = WebhookStack::new()
        .signature(SignatureLayer::preset("github", "unused-for-graph").unwrap())
        .handshake(Handshake::microsoft_graph());
    let server = Server::start(stack).await;
    let request = Request::post(format!(
        "http://{}/hook?validationToken=Validation%3A%20Testing%20client%20application",
        server.addr
    ))
    .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
    .body(Full::new(Bytes::new()))
    .unwrap();
    let reply = support::send(request).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_inert_text(&reply);
    assert_eq!(reply.text(), "Validation: Testing client application");
    assert_handshake(&server, "microsoft_graph.validation");
    assert_eq!(server.runs(), 0);
}

#[tokio::test]
async fn the_ip_filter_runs_before_an_unsigned_handshake() {
    let stack = meta_stack().ip_filter(IpFilterLayer::new().allow("10.0.0.0/8").unwrap());
    let server = Server::start(stack).await;
    let reply = server
        .get("/hook?hub.mode=subscribe&hub.challenge=1&hub.verify_token=meatyhamhock")
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(server.last_event().reason, Some(Reason::IpNotAllowed));
    assert_eq!(server.last_event().handshake, None);
}

#[tokio::test]
async fn the_layer_alone_inside_the_signature_layer() {
    let events = Events::default();
    let layers = tower::ServiceBuilder::new()
        .layer(SignatureLayer::slack(Secret::new(SLACK_SECRET).unwrap()))
        .layer(HandshakeLayer::new(Handshake::slack()));
    let server = Server::serve(move |handler| handler.layer(layers), events).await;
    let reply = server
        .post(
            &signed("slack", SLACK_SECRET, SLACK_CHALLENGE),
            SLACK_CHALLENGE,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.text(),
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
    assert_eq!(server.runs(), 0);
}

#[tokio::test]
async fn the_layer_outside_the_signature_layer_answers_no_signed_handshake() {
    let events = Events::default();
    let layers = tower::ServiceBuilder::new()
        .layer(HandshakeLayer::new(Handshake::slack()))
        .layer(SignatureLayer::slack(Secret::new(SLACK_SECRET).unwrap()));
    let server = Server::serve(move |handler| handler.layer(layers), events).await;
    let reply = server.post(&[], SLACK_CHALLENGE).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_reflected_value_is_inert_text_and_bounded() {
    // HTML in a challenge comes back as the plain text it is.
    let server = Server::start(meta_stack()).await;
    let reply = server
        .get("/hook?hub.mode=subscribe&hub.verify_token=meatyhamhock&hub.challenge=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_inert_text(&reply);
    assert_eq!(reply.text(), "<script>alert(1)</script>");

    // The documented cap on a reflected value.
    let limit = 4096;
    let stack = WebhookStack::new()
        .signature(SignatureLayer::preset("dropbox", DROPBOX_SECRET).unwrap())
        .handshake(Handshake::dropbox())
        .handshake(Handshake::microsoft_graph());
    let server = Server::start(stack).await;
    for parameter in ["challenge", "validationToken"] {
        let reply = server
            .get(&format!("/hook?{parameter}={}", "a".repeat(limit)))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{parameter}");
        assert_eq!(reply.text().len(), limit);
        let reply = server
            .get(&format!("/hook?{parameter}={}", "a".repeat(limit + 1)))
            .await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{parameter}");
        assert!(!reply.text().contains("aaaa"), "{parameter}");
        assert_eq!(server.last_event().reason, Some(Reason::PayloadTooLarge));
    }
    assert_eq!(server.runs(), 0);

    // A signed one is bounded too.
    let server = Server::start(slack_stack()).await;
    let body = serde_json::json!({"type": "url_verification", "challenge": "c".repeat(limit + 1)})
        .to_string();
    let reply = server
        .post(
            &signed("slack", SLACK_SECRET, body.as_bytes()),
            body.as_bytes(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!reply.text().contains("cccc"));
}
