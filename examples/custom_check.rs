//! A protection of your own, next to the built-in ones: `cargo run --example
//! custom_check`. A Stripe endpoint that takes only live-mode events of the
//! types it handles. Both checks run after the signature verified, so a
//! forgery is refused as one; their refusals reach the audit trail under
//! their own names. In memory, no setup: the requests are sent in-process.
use axum::{body::Body, routing::post, Router};
use bytes::Bytes;
use http::{request::Parts, Request, StatusCode};
use tower::ServiceExt;
use tower_webhook::signature::{Outgoing, Signer};
use tower_webhook::{provider, Answer, Rejection, Stop, WebhookStack};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const HANDLED: &[&str] = &["invoice.paid", "customer.subscription.deleted"];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stripe = WebhookStack::from_provider(&provider::STRIPE, SECRET)?
        // A body check: test-mode events are not for this endpoint.
        .body_check(|_: &Parts, body: &Bytes| -> Result<(), Stop> {
            let event: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            match (event["livemode"].as_bool(), event["type"].as_str()) {
                (Some(false), _) => {
                    Err(Rejection::custom("test_mode", StatusCode::UNPROCESSABLE_ENTITY).into())
                }
                (_, Some(kind)) if HANDLED.contains(&kind) => Ok(()),
                // Answered, not refused: Stripe must not retry an event
                // nobody reads. Audited as `answered`, kind `not_handled`.
                _ => Err(Answer::new("not_handled", StatusCode::OK).into()),
            }
        })
        .build()?;
    let app = Router::new().route("/stripe", post(|| async { "handled" }).layer(stripe));

    for (what, body, forged) in [
        (
            "a live invoice.paid",
            r#"{"id":"evt_1","livemode":true,"type":"invoice.paid"}"#,
            false,
        ),
        (
            "a test-mode event",
            r#"{"id":"evt_2","livemode":false,"type":"invoice.paid"}"#,
            false,
        ),
        (
            "an event type not handled",
            r#"{"id":"evt_3","livemode":true,"type":"charge.updated"}"#,
            false,
        ),
        (
            "a forgery",
            r#"{"id":"evt_4","livemode":true,"type":"invoice.paid"}"#,
            true,
        ),
    ] {
        let signed_body = if forged { "{}" } else { body };
        let headers = Signer::preset("stripe", SECRET)?.sign(&Outgoing::new(
            signed_body.as_bytes(),
            unix_now(),
            "",
        ))?;
        let mut request = Request::post("/stripe").body(Body::from(body))?;
        request.headers_mut().extend(headers);
        let response = app.clone().oneshot(request).await?;
        let why = match (Rejection::of(&response), Answer::of(&response)) {
            (Some(refused), _) => format!("refused: {}", refused.reason()),
            (_, Some(answer)) => format!("answered: {}", answer.kind()),
            _ => "the handler ran".to_owned(),
        };
        println!("{what:27} -> {} ({why})", response.status());
    }
    Ok(())
}

fn unix_now() -> i64 {
    let now = std::time::UNIX_EPOCH.elapsed().unwrap_or_default();
    i64::try_from(now.as_secs()).unwrap_or(i64::MAX)
}
