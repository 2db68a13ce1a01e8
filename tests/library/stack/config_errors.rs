//! Configurations that build but are wrong get a clear error (or a flag the
//! stack can read) instead of an endpoint that is silently open or shut.

use http::HeaderName;
use tower_webhook::ip::{IpFilterLayer, ParseAllowlistError};
use tower_webhook::provider;
use tower_webhook::secret::SecretError;
use tower_webhook::signature::{Keyring, SignatureConfigError, SignatureLayer};
use tower_webhook::token::TokenLayer;
use tower_webhook::Secret;

/// Seconds since the Unix epoch, as a sender stamps a delivery.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

#[test]
fn a_blank_allowlist_is_not_any_source() {
    for blank in ["", " ", " , ,"] {
        let error = IpFilterLayer::new().allow(blank).unwrap_err();
        assert_eq!(error, ParseAllowlistError::Blank, "{blank:?}");
        assert!(error.to_string().contains("allow_any"), "{error}");
    }
    // Admitting every source is said out loud, and counts as no protection.
    assert!(!IpFilterLayer::new().allow_any().restricts());
    assert!(!IpFilterLayer::new().restricts());
    assert!(IpFilterLayer::new()
        .allow("10.0.0.0/8")
        .unwrap()
        .restricts());
    assert!(!IpFilterLayer::new()
        .allow("10.0.0.0/8")
        .unwrap()
        .allow_any()
        .restricts());
}

#[test]
fn a_space_separated_allowlist_is_told_to_use_commas() {
    for list in [
        "10.0.0.0/8 192.168.0.0/16",
        "10.0.0.1  ::1",
        "10.0.0.0/8, 1.2.3.4 5.6.7.8",
    ] {
        let error = IpFilterLayer::new().allow(list).unwrap_err();
        assert!(
            matches!(error, ParseAllowlistError::NotCommaSeparated { .. }),
            "{list}: {error:?}"
        );
        assert!(
            error.to_string().contains("separate them with commas"),
            "{error}"
        );
    }
    // A plain typo is still just invalid.
    assert!(matches!(
        IpFilterLayer::new()
            .allow("10.0.0.0/8 nonsense")
            .unwrap_err(),
        ParseAllowlistError::InvalidEntry { .. }
    ));
}

#[test]
fn a_whitespace_secret_is_refused_for_every_preset() {
    for blank in [" ", "\t", "  \n"] {
        assert_eq!(Secret::new(blank).unwrap_err(), SecretError::Blank);
        for name in tower_webhook::provider::SHARED_SECRET_SCHEMES
            .iter()
            .chain(&["mailgun", "insecure-hubspot-v1", "insecure-hubspot-v2"])
        {
            let scheme = tower_webhook::provider::scheme_by_name(name).unwrap();
            assert!(scheme.parse_key(blank).is_err(), "{name} took {blank:?}");
            assert!(
                SignatureLayer::preset(name, blank).is_err(),
                "{name} took {blank:?}"
            );
        }
    }
}

#[test]
fn whsec_secrets_in_the_wrong_form_are_named() {
    let shown = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    // Standard Webhooks keys with the bytes after `whsec_`, not the text.
    for scheme in [
        tower_webhook::provider::scheme_by_name("standard").unwrap(),
        tower_webhook::provider::scheme_by_name("svix").unwrap(),
        tower_webhook::provider::scheme_by_name("gitlab").unwrap(),
    ] {
        let error = SignatureLayer::from_arc(scheme, Keyring::single(Secret::new(shown).unwrap()))
            .unwrap_err();
        assert_eq!(
            error,
            SignatureConfigError::InvalidSecret(SecretError::WhsecNotDecoded)
        );
        assert!(error.to_string().contains("Secret::from_whsec"), "{error}");
    }
    // Stripe keys with the whole text, not its decoding.
    let error = SignatureLayer::new(
        provider::stripe::stripe(),
        Keyring::single(Secret::from_whsec(shown).unwrap()),
    )
    .unwrap_err();
    assert_eq!(
        error,
        SignatureConfigError::InvalidSecret(SecretError::WhsecDecoded)
    );
    assert!(error.to_string().contains("Secret::new"), "{error}");
    // The right forms build.
    assert!(SignatureLayer::new(
        provider::stripe::stripe(),
        Keyring::single(Secret::new(shown).unwrap())
    )
    .is_ok());
    assert!(SignatureLayer::new(
        provider::standard::standard_webhooks(),
        Keyring::single(Secret::from_whsec(shown).unwrap())
    )
    .is_ok());
}

#[tokio::test]
async fn the_one_key_constructors_take_either_form_of_a_whsec_secret() {
    use tower::{service_fn, Layer, ServiceExt};
    use tower_webhook::signature::{Outgoing, Signer};

    async fn status(layer: SignatureLayer, preset: &str, secret: &str) -> http::StatusCode {
        let body = br#"{"id":"evt_1"}"#;
        let mut request = http::Request::post("/hook")
            .body(http_body_util::Full::new(bytes::Bytes::from_static(body)))
            .unwrap();
        for (name, value) in Signer::preset(preset, secret)
            .unwrap()
            .sign(&Outgoing::new(body, unix_now(), "msg_1"))
            .unwrap()
        {
            request.headers_mut().append(name, value);
        }
        let handler = service_fn(|_: http::Request<_>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
        });
        layer
            .layer(handler)
            .oneshot(request)
            .await
            .unwrap()
            .status()
    }
    let shown = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    for secret in [
        Secret::new(shown).unwrap(),
        Secret::from_whsec(shown).unwrap(),
    ] {
        let standard = SignatureLayer::standard_webhooks(secret.clone());
        assert_eq!(status(standard, "standard", shown).await, 200);
        let stripe = SignatureLayer::stripe(secret);
        assert_eq!(status(stripe, "stripe", shown).await, 200);
    }
}

#[test]
fn a_token_layer_without_tokens_has_no_credentials() {
    let header = HeaderName::from_static("x-token");
    assert!(!TokenLayer::header(header.clone()).has_credentials());
    assert!(!TokenLayer::without_verification().has_credentials());
    assert!(TokenLayer::header(header)
        .accept("k", Secret::new("a-long-shared-token").unwrap())
        .has_credentials());
}
