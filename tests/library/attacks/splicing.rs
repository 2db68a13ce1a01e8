//! Digit splicing: providers that sign fields glued together with no
//! separator (HubSpot `{METHOD}{URI}{body}{timestamp}`, Mailgun
//! `{timestamp}{token}`, SendGrid and Discord `{timestamp}{body}`, Twitch
//! `{id}{timestamp}{body}`). A genuine signed delivery is taken and bytes
//! are moved across each boundary, keeping the signed bytes identical: the
//! result must be refused, never verified.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use tower::{service_fn, Layer, ServiceExt};
use tower_webhook::provider::{self, hubspot, mailgun};
#[cfg(any(feature = "ecdsa", feature = "ed25519"))]
use tower_webhook::signature::KeyMaterial;
use tower_webhook::signature::{Key, Keyring, Outgoing, SignatureLayer, Signer};
use tower_webhook::{Reason, Secret};

const NOW: i64 = 1_700_000_000;

/// The status and rejection reason `layer` gives `request`.
async fn judge(
    layer: &SignatureLayer,
    request: Request<Full<Bytes>>,
) -> (StatusCode, Option<Reason>) {
    let handler = service_fn(|_: Request<_>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ran"))))
    });
    let response = layer.layer(handler).oneshot(request).await.unwrap();
    (
        response.status(),
        response.extensions().get::<Reason>().copied(),
    )
}

fn request(uri: &str, headers: &[(HeaderName, HeaderValue)], body: &[u8]) -> Request<Full<Bytes>> {
    let mut request = Request::post(uri)
        .header("host", "hooks.example.com")
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(name.clone(), value.clone());
    }
    request
}

/// `headers` with `name` set to `value`.
fn with(
    headers: &[(HeaderName, HeaderValue)],
    name: &HeaderName,
    value: &str,
) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = headers.to_vec();
    headers.retain(|(n, _)| n != name);
    headers.push((name.clone(), HeaderValue::from_str(value).unwrap()));
    headers
}

fn value<'h>(headers: &'h [(HeaderName, HeaderValue)], name: &HeaderName) -> &'h str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.to_str().unwrap())
        .unwrap()
}

fn refused((status, reason): (StatusCode, Option<Reason>)) -> bool {
    status == StatusCode::UNAUTHORIZED && reason.is_some()
}

#[tokio::test]
async fn hubspot_v3_query_digits_cannot_move_into_the_timestamp() {
    let secret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    let layer = SignatureLayer::new(
        hubspot::hubspot_v3(),
        Keyring::single(Secret::new(secret).unwrap()),
    )
    .unwrap();
    let signer = Signer::preset("hubspot-v3", secret).unwrap();
    // A body-less delivery for `?userId=100`.
    let signed = signer
        .sign(&Outgoing::new(b"", NOW, "").to_url("https://hooks.example.com/hook?userId=100"))
        .unwrap();
    let ts = value(&signed, &hubspot::TIMESTAMP).to_owned();
    assert_eq!(
        judge(&layer, request("/hook?userId=100", &signed, b"")).await,
        (StatusCode::OK, None),
        "the genuine delivery passes"
    );

    // `?userId=100` + `ts` read as `?userId=1` + `00ts`: the same bytes.
    let spliced = with(&signed, &hubspot::TIMESTAMP, &format!("00{ts}"));
    let verdict = judge(&layer, request("/hook?userId=1", &spliced, b"")).await;
    assert_eq!(
        verdict,
        (StatusCode::UNAUTHORIZED, Some(Reason::TimestampMalformed))
    );

    // The timestamp's first digit moved into the URI.
    let spliced = with(&signed, &hubspot::TIMESTAMP, &ts[1..]);
    let uri = format!("/hook?userId=100{}", &ts[..1]);
    assert!(refused(judge(&layer, request(&uri, &spliced, b"")).await));

    // The URI's last digit moved into the body.
    let verdict = judge(&layer, request("/hook?userId=10", &signed, b"0")).await;
    assert_eq!(
        verdict,
        (StatusCode::UNAUTHORIZED, Some(Reason::SignatureMalformed))
    );
}

#[tokio::test]
async fn hubspot_v3_body_digits_cannot_move_into_the_timestamp() {
    let secret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    let layer = SignatureLayer::new(
        hubspot::hubspot_v3(),
        Keyring::single(Secret::new(secret).unwrap()),
    )
    .unwrap();
    let body = br#"[{"objectId":100}]"#;
    let signed = Signer::preset("hubspot-v3", secret)
        .unwrap()
        .sign(&Outgoing::new(body, NOW, "").to_url("https://hooks.example.com/hook"))
        .unwrap();
    let ts = value(&signed, &hubspot::TIMESTAMP).to_owned();
    assert_eq!(
        judge(&layer, request("/hook", &signed, body)).await.0,
        StatusCode::OK
    );
    // The timestamp's first digit moved to the body's end.
    let mut longer = body.to_vec();
    longer.push(ts.as_bytes()[0]);
    let spliced = with(&signed, &hubspot::TIMESTAMP, &ts[1..]);
    assert!(refused(
        judge(&layer, request("/hook", &spliced, &longer)).await
    ));
}

#[tokio::test]
async fn mailgun_token_digits_cannot_move_into_the_timestamp() {
    let key = Secret::new("key-mailgun-signing-key").unwrap();
    let layer = SignatureLayer::new(mailgun::mailgun(), Keyring::single(key.clone())).unwrap();
    let token = "0a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de";
    let block = mailgun::signature_block(&key, NOW, token);
    let body = |block: &serde_json::Value| {
        serde_json::json!({ "signature": block, "event-data": { "event": "delivered" } })
            .to_string()
            .into_bytes()
    };
    assert_eq!(
        judge(&layer, request("/mailgun", &[], &body(&block))).await,
        (StatusCode::OK, None)
    );
    let signature = block["signature"].as_str().unwrap();
    let ts = NOW.to_string();
    // `{ts}{0…}` read as `{ts0}{…}` and as `{ts without its last digit}{digit 0…}`.
    let splices = [
        (format!("{ts}0"), token[1..].to_owned()),
        (ts[..9].to_owned(), format!("{}{token}", &ts[9..])),
    ];
    for (timestamp, token) in splices {
        let forged = serde_json::json!({
            "timestamp": timestamp, "token": token, "signature": signature,
        });
        assert_eq!(
            judge(&layer, request("/mailgun", &[], &body(&forged))).await,
            (StatusCode::UNAUTHORIZED, Some(Reason::TimestampMalformed)),
            "{timestamp} {token}"
        );
    }
}

/// `{timestamp}{body}` schemes (Discord, SendGrid): the body's first digit
/// into the timestamp and the timestamp's last digit into the body.
#[cfg(any(feature = "ecdsa", feature = "ed25519"))]
async fn timestamp_then_body(layer: SignatureLayer, signer: Signer, timestamp: HeaderName) {
    let body = b"0{\"type\":1}";
    let signed = signer.sign(&Outgoing::new(body, NOW, "")).unwrap();
    assert_eq!(
        judge(&layer, request("/hook", &signed, body)).await,
        (StatusCode::OK, None)
    );
    let ts = NOW.to_string();
    let splices = [
        (format!("{ts}0"), &body[1..]),
        (ts[..9].to_owned(), &b"00{\"type\":1}"[..]),
    ];
    for (stamp, body) in splices {
        let forged = with(&signed, &timestamp, &stamp);
        assert_eq!(
            judge(&layer, request("/hook", &forged, body)).await,
            (StatusCode::UNAUTHORIZED, Some(Reason::TimestampMalformed)),
            "{stamp}"
        );
    }
}

#[cfg(feature = "ed25519")]
#[tokio::test]
async fn discord_body_digits_cannot_move_into_the_timestamp() {
    use tower_webhook::provider::discord;
    let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    let public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    let layer = SignatureLayer::new(
        discord::discord(),
        Keyring::new().with(Key::new("app", discord::public_key(public).unwrap())),
    )
    .unwrap();
    let signer = Signer::new(
        Arc::new(discord::discord()),
        discord::signing_key(seed).unwrap(),
    );
    timestamp_then_body(layer, signer, discord::TIMESTAMP).await;
}

#[cfg(feature = "ecdsa")]
#[tokio::test]
async fn sendgrid_body_digits_cannot_move_into_the_timestamp() {
    use tower_webhook::provider::sendgrid;
    let private = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
    let public = KeyMaterial::EcdsaP256(*private.verifying_key());
    let layer = SignatureLayer::new(
        sendgrid::sendgrid(),
        Keyring::new().with(Key::new("sendgrid", public)),
    )
    .unwrap();
    let signer = Signer::new(
        Arc::new(sendgrid::sendgrid()),
        KeyMaterial::EcdsaP256Signing(private),
    );
    timestamp_then_body(layer, signer, sendgrid::TIMESTAMP).await;
}

#[tokio::test]
async fn twitch_id_and_timestamp_keep_their_boundary() {
    let secret = "twitch-subscription-secret";
    let layer = SignatureLayer::new(
        provider::twitch::twitch(),
        Keyring::single(Secret::new(secret).unwrap()),
    )
    .unwrap();
    let signed = Signer::preset("twitch", secret)
        .unwrap()
        .sign(&Outgoing::new(b"{}", NOW, "msg-2"))
        .unwrap();
    assert_eq!(
        judge(&layer, request("/t", &signed, b"{}")).await.0,
        StatusCode::OK
    );
    let id = HeaderName::from_static("twitch-eventsub-message-id");
    let ts = HeaderName::from_static("twitch-eventsub-message-timestamp");
    let stamp = value(&signed, &ts).to_owned();
    // The id's last byte into the timestamp, the timestamp's first into the id,
    // the timestamp's last into the body.
    let cases = [
        (
            with(&with(&signed, &id, "msg-"), &ts, &format!("2{stamp}")),
            &b"{}"[..],
        ),
        (
            with(
                &with(&signed, &id, &format!("msg-2{}", &stamp[..1])),
                &ts,
                &stamp[1..],
            ),
            b"{}",
        ),
        (with(&signed, &ts, &stamp[..stamp.len() - 1]), b"Z{}"),
    ];
    for (headers, body) in cases {
        assert_eq!(
            judge(&layer, request("/t", &headers, body)).await,
            (StatusCode::UNAUTHORIZED, Some(Reason::TimestampMalformed))
        );
    }
}

#[tokio::test]
async fn standard_webhooks_ids_never_hold_the_separator() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    // A sender that put a `.` in the id signs `msg.123.{ts}.{body}`, which
    // also reads as id `msg`, timestamp `123`: the id is refused.
    let scheme = provider::standard::standard_webhooks();
    let error = Signer::preset("standard", secret)
        .unwrap()
        .sign(&Outgoing::new(b"{}", NOW, "msg.123"));
    assert!(error.is_err(), "the signing side refuses such an id");
    let layer =
        SignatureLayer::new(scheme, Keyring::single(Secret::from_whsec(secret).unwrap())).unwrap();
    let signed = Signer::preset("standard", secret)
        .unwrap()
        .sign(&Outgoing::new(b"{}", NOW, "msg_123"))
        .unwrap();
    let dotted = with(&signed, &HeaderName::from_static("webhook-id"), "msg.123");
    assert_eq!(
        judge(&layer, request("/s", &dotted, b"{}")).await,
        (StatusCode::UNAUTHORIZED, Some(Reason::SignatureMalformed))
    );
}

/// Every preset with a signed decimal timestamp refuses a second spelling
/// of it (a leading zero): one value, one text.
#[tokio::test]
async fn timestamps_have_one_spelling_in_every_preset() {
    let presets = [
        ("stripe", "whsec_test_secret", "stripe-signature"),
        (
            "slack",
            "8f742231b10e8888abcd99yyyzzz85a5",
            "x-slack-request-timestamp",
        ),
        (
            "standard",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "webhook-timestamp",
        ),
        ("zoom", "zoom-secret-token", "x-zm-request-timestamp"),
        ("paddle", "pdl_ntfset_secret", "paddle-signature"),
        ("timestamped", "generic-secret", "x-timestamp"),
        (
            "hubspot-v3",
            "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy",
            "x-hubspot-request-timestamp",
        ),
    ];
    for (preset, secret, header) in presets {
        let scheme = tower_webhook::provider::scheme_by_name(preset).unwrap();
        let key = scheme.parse_key(secret).unwrap();
        let layer = SignatureLayer::from_arc(
            Arc::clone(&scheme),
            Keyring::new().with(Key::new("k", key.clone())),
        )
        .unwrap();
        let signed = Signer::new(scheme, key)
            .sign(&Outgoing::new(b"{}", NOW, "msg_1").to_url("https://hooks.example.com/p"))
            .unwrap();
        assert_eq!(
            judge(&layer, request("/p", &signed, b"{}")).await.0,
            StatusCode::OK,
            "{preset}"
        );
        let name = HeaderName::from_static(header);
        let zeroed = value(&signed, &name).replacen(&NOW.to_string()[..1], "01", 1);
        let forged = with(&signed, &name, &zeroed);
        assert_eq!(
            judge(&layer, request("/p", &forged, b"{}")).await,
            (StatusCode::UNAUTHORIZED, Some(Reason::TimestampMalformed)),
            "{preset}: {zeroed}"
        );
    }
}

#[tokio::test]
async fn square_url_digits_cannot_move_into_the_body() {
    let secret = "Ibxx_5AKakO-3qeNVR61Dw";
    let layer = SignatureLayer::preset("square", secret).unwrap();
    let body = br#"{"event_id":"e1"}"#;
    let signed = Signer::preset("square", secret)
        .unwrap()
        .sign(&Outgoing::new(body, NOW, "").to_url("https://hooks.example.com/sq?merchant=100"))
        .unwrap();
    assert_eq!(
        judge(&layer, request("/sq?merchant=100", &signed, body)).await,
        (StatusCode::OK, None)
    );
    // `?merchant=100` + `{…}` read as `?merchant=10` + `0{…}`.
    let mut longer = b"0".to_vec();
    longer.extend_from_slice(body);
    assert_eq!(
        judge(&layer, request("/sq?merchant=10", &signed, &longer)).await,
        (StatusCode::UNAUTHORIZED, Some(Reason::SignatureMalformed))
    );
}
