//! "A request that carries a signature is judged by it": with a legacy
//! token accepted during a migration, a request whose signature header is
//! present but whose signed companions (the delivery id) are missing is
//! refused as a malformed signature, never let through on the token.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use tower::{service_fn, Layer, ServiceExt};
use tower_webhook::signature::{Outgoing, SignatureLayer, Signer};
use tower_webhook::token::TokenSet;
use tower_webhook::{Reason, Secret};

const LEGACY: HeaderName = HeaderName::from_static("x-gitlab-token");

async fn judge(
    layer: &SignatureLayer,
    headers: &[(HeaderName, HeaderValue)],
) -> (StatusCode, Option<Reason>) {
    let mut request = Request::post("/hook")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(name.clone(), value.clone());
    }
    request
        .headers_mut()
        .insert(LEGACY, HeaderValue::from_static("the-legacy-token-123"));
    let handler = service_fn(|_: Request<_>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
    });
    let response = layer.layer(handler).oneshot(request).await.unwrap();
    (
        response.status(),
        response.extensions().get::<Reason>().copied(),
    )
}

#[tokio::test]
async fn a_signature_without_its_id_is_malformed_not_a_legacy_token() {
    let tokens = TokenSet::new().with("legacy", Secret::new("the-legacy-token-123").unwrap());
    let cases = [
        (
            "standard",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "webhook-id",
        ),
        (
            "gitlab",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "webhook-id",
        ),
        ("svix", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "svix-id"),
        (
            "twitch",
            "twitch-subscription-secret",
            "twitch-eventsub-message-id",
        ),
    ];
    for (preset, secret, id) in cases {
        let layer = SignatureLayer::preset(preset, secret)
            .unwrap()
            .accept_legacy_token(LEGACY, tokens.clone());
        let signed: Vec<_> = Signer::preset(preset, secret)
            .unwrap()
            .sign(&Outgoing::new(b"{}", 1_700_000_000, "msg_1"))
            .unwrap();
        // Signature as signed plus the legacy token: judged by the signature
        // (it is not fresh, but no replay layer is in this test).
        assert_eq!(
            judge(&layer, &signed).await,
            (StatusCode::OK, None),
            "{preset}"
        );
        let without_id: Vec<_> = signed.iter().filter(|(n, _)| n != id).cloned().collect();
        assert_eq!(
            judge(&layer, &without_id).await,
            (StatusCode::UNAUTHORIZED, Some(Reason::SignatureMalformed)),
            "{preset} without {id}"
        );
    }
    // HubSpot v2 receiving a v1 signature: a signature of another version
    // is still a signature, refused rather than passed to the token.
    let layer = SignatureLayer::preset(
        "insecure-hubspot-v2",
        "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy",
    )
    .unwrap()
    .accept_legacy_token(LEGACY, tokens.clone());
    let v1 = Signer::preset(
        "insecure-hubspot-v1",
        "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy",
    )
    .unwrap()
    .sign(&Outgoing::new(b"{}", 1_700_000_000, ""))
    .unwrap();
    assert_eq!(
        judge(&layer, &v1).await,
        (StatusCode::UNAUTHORIZED, Some(Reason::SignatureMalformed))
    );
    // HubSpot v3 receiving only a legacy signature, and v2 only a v3 one:
    // the other generation's signature is judged, not ignored.
    for (scheme, other) in [
        ("hubspot-v3", "insecure-hubspot-v2"),
        ("insecure-hubspot-v2", "hubspot-v3"),
    ] {
        let layer = SignatureLayer::preset(scheme, "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy")
            .unwrap()
            .accept_legacy_token(LEGACY, tokens.clone());
        let signed = Signer::preset(other, "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy")
            .unwrap()
            .sign(&Outgoing::new(b"{}", 1_700_000_000, "").to_url("https://hooks.example/hook"))
            .unwrap();
        assert_eq!(
            judge(&layer, &signed).await,
            (StatusCode::UNAUTHORIZED, Some(Reason::SignatureMalformed)),
            "{scheme} receiving {other}"
        );
    }
    // GitHub without SHA-1 enabled, receiving only the SHA-1 header.
    let layer = SignatureLayer::preset("github", "It's a Secret to Everybody")
        .unwrap()
        .accept_legacy_token(LEGACY, tokens.clone());
    let sha1 = Signer::preset("github-sha1", "It's a Secret to Everybody")
        .unwrap()
        .sign(&Outgoing::new(b"{}", 1_700_000_000, ""))
        .unwrap();
    assert_eq!(
        judge(&layer, &sha1).await,
        (StatusCode::UNAUTHORIZED, Some(Reason::SignatureMalformed))
    );
    // Square without its deprecated SHA-1 signature enabled, receiving one.
    let layer = SignatureLayer::preset("square", "Ibxx_5AKakO-3qeNVR61Dw")
        .unwrap()
        .accept_legacy_token(LEGACY, tokens.clone());
    let sha1 = [(
        HeaderName::from_static("x-square-signature"),
        HeaderValue::from_static("c2lnbmF0dXJl"),
    )];
    assert_eq!(
        judge(&layer, &sha1).await,
        (StatusCode::UNAUTHORIZED, Some(Reason::SignatureMalformed))
    );
    // No signature header at all: the legacy token still works.
    let layer = SignatureLayer::preset("standard", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .unwrap()
        .accept_legacy_token(LEGACY, tokens);
    assert_eq!(judge(&layer, &[]).await, (StatusCode::OK, None));
}

#[cfg(feature = "ed25519")]
#[tokio::test]
async fn standard_ed25519_without_its_id_is_malformed() {
    use std::sync::Arc;
    use tower_webhook::provider::standard_ed25519;
    use tower_webhook::signature::{Key, Keyring, Scheme};
    let scheme = standard_ed25519::standard_ed25519();
    let private = scheme
        .parse_key("whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==")
        .unwrap();
    let public = scheme
        .parse_key("whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=")
        .unwrap();
    let layer = SignatureLayer::new(scheme, Keyring::new().with(Key::new("k", public)))
        .unwrap()
        .accept_legacy_token(
            LEGACY,
            TokenSet::new().with("legacy", Secret::new("the-legacy-token-123").unwrap()),
        );
    let signed = Signer::new(Arc::new(standard_ed25519::standard_ed25519()), private)
        .sign(&Outgoing::new(b"{}", 1_700_000_000, "msg_1"))
        .unwrap();
    assert_eq!(judge(&layer, &signed).await.0, StatusCode::OK);
    let without_id: Vec<_> = signed
        .iter()
        .filter(|(n, _)| n != "webhook-id")
        .cloned()
        .collect();
    assert_eq!(
        judge(&layer, &without_id).await,
        (StatusCode::UNAUTHORIZED, Some(Reason::SignatureMalformed))
    );
}
