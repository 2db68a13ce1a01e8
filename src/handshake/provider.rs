//! [`Handshake`]: one provider's handshake, and how it is answered.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use hmac::Mac;
use http::header::{HeaderName, HeaderValue};
use http::request::Parts;
use http::{Method, StatusCode};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::rejection::{Answer, Reason, Rejection, HANDSHAKE};
use crate::secret::Secret;
use crate::secret::SharedSecret;

const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const JSON: HeaderValue = HeaderValue::from_static("application/json");
const NOSNIFF: (HeaderName, HeaderValue) = (
    HeaderName::from_static("x-content-type-options"),
    HeaderValue::from_static("nosniff"),
);
const TWITCH_TYPE: HeaderName = HeaderName::from_static("twitch-eventsub-message-type");
const SMARTSHEET_CHALLENGE: HeaderName = HeaderName::from_static("smartsheet-hook-challenge");
const OKTA_CHALLENGE: HeaderName = HeaderName::from_static("x-okta-verification-challenge");
const HOOK_SECRET: HeaderName = HeaderName::from_static("x-hook-secret");
const HOOK_SIGNATURE: HeaderName = HeaderName::from_static("x-hook-signature");

/// The longest `X-Hook-Secret` echoed back (Asana's are 32 characters).
const MAX_HOOK_SECRET_LEN: usize = 256;

/// Decides whether to take an Asana hook secret (see [`Handshake::asana`]).
type AcceptSecret = std::sync::Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// The longest value a handshake echoes back (a challenge, a validation
/// token, Zoom's `plainToken`), in bytes; a longer one is refused with
/// `413` (`payload_too_large`) instead of being reflected. Every provider's
/// challenge is far shorter.
pub(crate) const MAX_REFLECTED_LEN: usize = 4096;

#[derive(Clone)]
enum Kind {
    Slack,
    Twitch,
    Zoom(std::sync::Arc<SharedSecret>),
    Discord,
    Dropbox,
    Meta(Secret),
    MicrosoftGraph,
    Smartsheet,
    XCrc(std::sync::Arc<SharedSecret>),
    Trello,
    Okta,
    Asana(AcceptSecret),
}

/// A provider's handshake: the request it sends to check that an endpoint is
/// really the subscriber's (URL verification, challenge, ping), and the
/// answer it documents.
///
/// Handshakes carried in a signed body ([`slack`](Self::slack),
/// [`twitch`](Self::twitch), [`zoom`](Self::zoom), [`discord`](Self::discord))
/// are answered only once a signature verified; the query-string ones
/// ([`dropbox`](Self::dropbox), [`meta`](Self::meta),
/// [`microsoft_graph`](Self::microsoft_graph)) and Smartsheet's header
/// challenge ([`smartsheet`](Self::smartsheet)) are not known to be signed
/// and are answered before any signature is asked for.
#[derive(Clone)]
pub struct Handshake {
    kind: Kind,
    forward: bool,
}

impl fmt::Debug for Handshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The Zoom secret and Meta verify token stay out of logs.
        f.debug_struct("Handshake")
            .field("name", &self.name())
            .field("forward", &self.forward)
            .finish()
    }
}

/// What a handshake check found in a request.
pub(crate) enum Found {
    /// Not this handshake: the request goes on.
    No,
    /// This handshake; its answer (or its refusal, for a wrong verify token).
    Answer(&'static str, Result<Answer, Rejection>),
    /// Refused before it was known to be a handshake: an unsigned header
    /// contradicts the signed body.
    Refused(Rejection),
}

impl Handshake {
    fn of(kind: Kind) -> Self {
        Self {
            kind,
            forward: false,
        }
    }

    /// Slack Events API `url_verification`: a signed JSON body
    /// `{"type":"url_verification","challenge":…}`, answered `200` with the
    /// challenge as `text/plain`.
    pub fn slack() -> Self {
        Self::of(Kind::Slack)
    }

    /// Twitch EventSub: a signed `webhook_callback_verification` is
    /// answered `200` with the body's `challenge` as `text/plain`; a signed
    /// `revocation` is recorded (`twitch.revocation`) and answered `204`.
    ///
    /// The kind is read from the signed body, not from the unsigned
    /// `Twitch-Eventsub-Message-Type` header: a verification has a
    /// `challenge` and a subscription in status
    /// `webhook_callback_verification_pending`, a notification an `event`,
    /// a revocation neither, with its subscription in a status such as
    /// `authorization_revoked`. A header naming another kind than the body
    /// is is refused (`401`, `unsigned_header_mismatch`): a captured
    /// verification re-sent as a `revocation` neither reaches the handler
    /// nor is recorded as one.
    pub fn twitch() -> Self {
        Self::of(Kind::Twitch)
    }

    /// Zoom `endpoint.url_validation`: a signed JSON body with
    /// `payload.plainToken`, answered `200` with
    /// `{"plainToken":…,"encryptedToken":…}`, the latter the hex
    /// HMAC-SHA256 of the plain token keyed with the app's secret token.
    pub fn zoom(secret_token: Secret) -> Self {
        Self::of(Kind::Zoom(std::sync::Arc::new(SharedSecret::new(
            secret_token,
        ))))
    }

    /// Discord interactions `PING` (`"type":1`, Ed25519-signed), answered
    /// `200` with `{"type":1}`.
    pub fn discord() -> Self {
        Self::of(Kind::Discord)
    }

    /// Dropbox's verification request, `GET ?challenge=…` (unsigned),
    /// answered `200` with the challenge, `Content-Type: text/plain` and
    /// `X-Content-Type-Options: nosniff` as Dropbox documents.
    pub fn dropbox() -> Self {
        Self::of(Kind::Dropbox)
    }

    /// Meta (Facebook, Instagram, WhatsApp) verification request,
    /// `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`: answered
    /// `200` with the challenge when the verify token equals `verify_token`
    /// (compared in constant time), `403` otherwise.
    pub fn meta(verify_token: Secret) -> Self {
        Self::of(Kind::Meta(verify_token))
    }

    /// Microsoft Graph change-notification validation: a request with a
    /// `validationToken` query parameter (unsigned), answered `200` with the
    /// decoded token as `text/plain`, at once (Graph waits 10 seconds).
    pub fn microsoft_graph() -> Self {
        Self::of(Kind::MicrosoftGraph)
    }

    /// Smartsheet's verification request: a `POST` carrying a
    /// `Smartsheet-Hook-Challenge` header (and the same value as the body's
    /// `challenge`), sent when a webhook is enabled and again every 100
    /// callbacks. Answered `200` with the JSON
    /// `{"smartsheetHookResponse":…}` Smartsheet accepts in place of its
    /// response header, so the value goes back in the body only.
    ///
    /// Smartsheet does not document the request as signed, so it is
    /// answered from the head, before any signature is asked for: the
    /// answer echoes the challenge and proves nothing about the key.
    pub fn smartsheet() -> Self {
        Self::of(Kind::Smartsheet)
    }

    /// X (Twitter) Account Activity challenge-response check,
    /// `GET ?crc_token=…` (unsigned): answered `200` with
    /// `{"response_token":"sha256=<base64 HMAC-SHA256 of the token>"}`,
    /// keyed with the app's consumer secret.
    ///
    /// The answer is a MAC, under the key that signs deliveries, of a value
    /// anyone can choose: a token starting with `{` is refused (`400`), and
    /// X's scheme accepts only bodies starting with `{`
    /// ([`DeclaredScheme::json_object_body`](crate::signature::DeclaredScheme::json_object_body)),
    /// so no answer is the signature of a delivery the receiver accepts.
    pub fn x_crc(consumer_secret: Secret) -> Self {
        Self::of(Kind::XCrc(std::sync::Arc::new(SharedSecret::new(
            consumer_secret,
        ))))
    }

    /// Trello's check when a webhook is created: a `HEAD` request to the
    /// callback URL (unsigned), answered `200` with no body.
    pub fn trello() -> Self {
        Self::of(Kind::Trello)
    }

    /// Okta event hooks' one-time verification: a `GET` with
    /// `X-Okta-Verification-Challenge` (unsigned), answered `200` with
    /// `{"verification":"<the challenge>"}`.
    pub fn okta() -> Self {
        Self::of(Kind::Okta)
    }

    /// Asana's handshake when a webhook is created: a `POST` carrying
    /// `X-Hook-Secret` and no `X-Hook-Signature` (unsigned). The secret is
    /// the key that will sign every later delivery, so `accept` is asked
    /// first: it must store it and return `true` only while the
    /// application's own call creating that webhook is in flight (anyone
    /// can send a handshake; a secret taken from a stranger would let them
    /// sign deliveries). Accepted, it is answered `200` with the same
    /// `X-Hook-Secret`, as Asana requires; refused, `403`.
    ///
    /// The one value this crate echoes in a header, so only a token of at
    /// most 256 letters, digits, `-`, `_` and `.` is echoed (or offered to
    /// `accept`); anything else is `400`.
    pub fn asana(accept: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        Self::of(Kind::Asana(std::sync::Arc::new(accept)))
    }

    /// Let the handshake reach the handler instead of answering it; it is
    /// still recorded in the context (`Verification::handshake`) and the
    /// audit trail.
    pub fn forward_to_handler(mut self) -> Self {
        self.forward = true;
        self
    }

    /// Whether the handshake reaches the handler
    /// ([`forward_to_handler`](Self::forward_to_handler)).
    pub fn forwards(&self) -> bool {
        self.forward
    }

    /// The name recorded in the context and audit trail
    /// (`slack.url_verification`, `twitch.webhook_callback_verification`,
    /// `zoom.url_validation`, `discord.ping`, `dropbox.challenge`,
    /// `meta.verification`, `microsoft_graph.validation`,
    /// `smartsheet.verification`, `x.crc`, `trello.head`, `okta.verification`,
    /// `asana.hook_secret`). A Twitch
    /// revocation is recorded as `twitch.revocation`.
    pub fn name(&self) -> &'static str {
        match self.kind {
            Kind::Slack => "slack.url_verification",
            Kind::Twitch => "twitch.webhook_callback_verification",
            Kind::Zoom(_) => "zoom.url_validation",
            Kind::Discord => "discord.ping",
            Kind::Dropbox => "dropbox.challenge",
            Kind::Meta(_) => "meta.verification",
            Kind::MicrosoftGraph => "microsoft_graph.validation",
            Kind::Smartsheet => "smartsheet.verification",
            Kind::XCrc(_) => "x.crc",
            Kind::Trello => "trello.head",
            Kind::Okta => "okta.verification",
            Kind::Asana(_) => "asana.hook_secret",
        }
    }

    /// Whether the provider signs the handshake, so it is answered only
    /// after the signature verified.
    pub fn is_signed(&self) -> bool {
        matches!(
            self.kind,
            Kind::Slack | Kind::Twitch | Kind::Zoom(_) | Kind::Discord
        )
    }

    /// An unsigned handshake, from the request head alone.
    pub(crate) fn find_in_head(&self, parts: &Parts) -> Found {
        let query = parts.uri.query().unwrap_or("");
        match &self.kind {
            Kind::Dropbox if parts.method == Method::GET => match query_param(query, "challenge") {
                Param::Absent => Found::No,
                Param::Ambiguous => answer(self.name(), Err(incomplete())),
                Param::One(challenge) => answer(self.name(), echo(&challenge)),
            },
            Kind::Meta(token) if parts.method == Method::GET => {
                let Param::One(mode) = query_param(query, "hub.mode") else {
                    return Found::No;
                };
                if mode != "subscribe" {
                    return Found::No;
                }
                let presented = query_param(query, "hub.verify_token");
                let challenge = query_param(query, "hub.challenge");
                let answered = match (presented, challenge) {
                    (Param::One(presented), Param::One(challenge))
                        if bool::from(token.expose_secret().ct_eq(presented.as_bytes())) =>
                    {
                        echo(&challenge)
                    }
                    _ => {
                        Err(Rejection::new(Reason::TokenInvalid).with_status(StatusCode::FORBIDDEN))
                    }
                };
                answer(self.name(), answered)
            }
            Kind::MicrosoftGraph => match query_param(query, "validationToken") {
                Param::Absent => Found::No,
                Param::Ambiguous => answer(self.name(), Err(incomplete())),
                // Graph does not sign the token: it is echoed to whoever
                // asks, which is why every echo is inert text.
                Param::One(token) => answer(self.name(), echo(&token)),
            },
            Kind::Smartsheet if parts.method == Method::POST => {
                let mut values = parts.headers.get_all(SMARTSHEET_CHALLENGE).iter();
                match (values.next(), values.next()) {
                    (None, _) => Found::No,
                    (Some(challenge), None) => {
                        let answered = challenge
                            .to_str()
                            .map_err(|_| incomplete())
                            .and_then(|challenge| echo_json("smartsheetHookResponse", challenge));
                        answer(self.name(), answered)
                    }
                    // Two challenges: no single value to answer with.
                    (Some(_), Some(_)) => answer(self.name(), Err(incomplete())),
                }
            }
            Kind::XCrc(secret) if parts.method == Method::GET => {
                match query_param(query, "crc_token") {
                    Param::Absent => Found::No,
                    Param::Ambiguous => answer(self.name(), Err(incomplete())),
                    Param::One(token) => answer(self.name(), crc_answer(secret, &token)),
                }
            }
            Kind::Trello if parts.method == Method::HEAD => {
                answer(self.name(), Ok(answer_with(TEXT_PLAIN, Bytes::new())))
            }
            Kind::Asana(accept)
                if parts.method == Method::POST && !parts.headers.contains_key(HOOK_SIGNATURE) =>
            {
                let mut values = parts.headers.get_all(HOOK_SECRET).iter();
                let Some(first) = values.next() else {
                    return Found::No;
                };
                let answered = if values.any(|other| other != first) {
                    Err(incomplete())
                } else {
                    echo_header(HOOK_SECRET, first, accept.as_ref())
                };
                answer(self.name(), answered)
            }
            Kind::Okta if parts.method == Method::GET => {
                let mut values = parts.headers.get_all(OKTA_CHALLENGE).iter();
                let Some(first) = values.next() else {
                    return Found::No;
                };
                // Repeats must agree, as for every value a request names twice.
                let answered = if values.any(|other| other != first) {
                    Err(incomplete())
                } else {
                    first
                        .to_str()
                        .map_err(|_| incomplete())
                        .and_then(|challenge| echo_json("verification", challenge))
                };
                answer(self.name(), answered)
            }
            _ => Found::No,
        }
    }

    /// A signed handshake, from the verified body.
    pub(crate) fn find_in_body(&self, parts: &Parts, body: &[u8]) -> Found {
        match &self.kind {
            Kind::Slack => {
                #[derive(Deserialize)]
                struct Probe<'a> {
                    #[serde(rename = "type", borrow)]
                    kind: Option<Cow<'a, str>>,
                    #[serde(borrow)]
                    challenge: Option<Cow<'a, str>>,
                }
                match serde_json::from_slice::<Probe<'_>>(body) {
                    Ok(Probe {
                        kind: Some(kind),
                        challenge,
                    }) if kind == "url_verification" => answer(
                        self.name(),
                        challenge.ok_or_else(incomplete).and_then(|c| echo(&c)),
                    ),
                    _ => Found::No,
                }
            }
            Kind::Twitch => {
                let header = parts.headers.get(TWITCH_TYPE).map(HeaderValue::as_bytes);
                let signed = TwitchMessage::of(body);
                let agrees = match header {
                    None => true,
                    Some(header) => signed.header_value() == Some(header),
                };
                match signed {
                    // A body of no known shape under a `notification` (or
                    // no) header changes nothing this crate does: the
                    // handler judges it, as it would any notification.
                    TwitchMessage::Other if matches!(header, None | Some(b"notification")) => {
                        Found::No
                    }
                    _ if !agrees => Found::Refused(
                        Rejection::new(Reason::UnsignedHeaderMismatch).with_detail(format!(
                            "Twitch-Eventsub-Message-Type does not match the signed body ({})",
                            signed.describe()
                        )),
                    ),
                    TwitchMessage::Verification(challenge) => answer(self.name(), echo(&challenge)),
                    TwitchMessage::Revocation => answer(
                        "twitch.revocation",
                        Ok(answer_with(TEXT_PLAIN, Bytes::new())
                            .with_status(StatusCode::NO_CONTENT)),
                    ),
                    TwitchMessage::Notification | TwitchMessage::Other => Found::No,
                }
            }
            Kind::Zoom(secret) => {
                #[derive(Deserialize)]
                struct Payload<'a> {
                    #[serde(rename = "plainToken", borrow)]
                    plain_token: Option<Cow<'a, str>>,
                }
                #[derive(Deserialize)]
                struct Probe<'a> {
                    #[serde(borrow)]
                    event: Option<Cow<'a, str>>,
                    #[serde(borrow)]
                    payload: Option<Payload<'a>>,
                }
                match serde_json::from_slice::<Probe<'_>>(body) {
                    Ok(Probe {
                        event: Some(event),
                        payload,
                    }) if event == "endpoint.url_validation" => {
                        let answered = payload
                            .and_then(|p| p.plain_token)
                            .ok_or_else(incomplete)
                            .and_then(|plain| reflectable(&plain).map(|()| plain))
                            .map(|plain| {
                                let mut mac = secret.hmac_sha256();
                                mac.update(plain.as_bytes());
                                let encrypted = hex::encode(mac.finalize().into_bytes());
                                // In the order Zoom's docs show the fields.
                                let json = format!(
                                    r#"{{"plainToken":{},"encryptedToken":"{encrypted}"}}"#,
                                    serde_json::Value::from(plain.as_ref()),
                                );
                                answer_with(JSON, Bytes::from(json))
                            });
                        answer(self.name(), answered)
                    }
                    _ => Found::No,
                }
            }
            Kind::Discord => {
                #[derive(Deserialize)]
                struct Probe {
                    #[serde(rename = "type")]
                    kind: Option<serde_json::Value>,
                }
                match serde_json::from_slice::<Probe>(body) {
                    Ok(Probe { kind: Some(kind) }) if kind == 1 => answer(
                        self.name(),
                        Ok(answer_with(JSON, Bytes::from_static(br#"{"type":1}"#))),
                    ),
                    _ => Found::No,
                }
            }
            _ => Found::No,
        }
    }
}

fn answer(name: &'static str, answered: Result<Answer, Rejection>) -> Found {
    Found::Answer(name, answered)
}

/// Every handshake's answer: `200` with `body`, never sniffed as another
/// type than it says (a browser pointed at the endpoint must not run a
/// challenge as HTML or script).
fn answer_with(content_type: HeaderValue, body: Bytes) -> Answer {
    Answer::of_kind(HANDSHAKE, StatusCode::OK)
        .with_body(content_type, body)
        .with_header(NOSNIFF.0, NOSNIFF.1)
}

/// The one way a value the request chose goes back to it: as the whole
/// body, UTF-8 plain text, at most 4,096 bytes, and in no
/// header.
fn echo(value: &str) -> Result<Answer, Rejection> {
    reflectable(value)?;
    Ok(answer_with(
        TEXT_PLAIN,
        Bytes::copy_from_slice(value.as_bytes()),
    ))
}

/// A value the request chose, echoed as the one string field `field` of a
/// JSON object: escaped by the serializer, bounded like [`echo`], never in
/// a header.
fn echo_json(field: &str, value: &str) -> Result<Answer, Rejection> {
    reflectable(value)?;
    let mut object = serde_json::Map::new();
    object.insert(field.to_owned(), value.into());
    Ok(answer_with(
        JSON,
        Bytes::from(serde_json::Value::Object(object).to_string()),
    ))
}

/// Asana's answer: the secret back in its own header, once `accept` took
/// it. Only an inert token goes back (no separator, no whitespace, short),
/// so the header can carry nothing but what it names.
fn echo_header(
    name: HeaderName,
    value: &HeaderValue,
    accept: &(dyn Fn(&str) -> bool + Send + Sync),
) -> Result<Answer, Rejection> {
    let token = value.as_bytes();
    let inert = !token.is_empty()
        && token.len() <= MAX_HOOK_SECRET_LEN
        && token
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let text = match std::str::from_utf8(token) {
        Ok(text) if inert => text,
        _ => return Err(incomplete()),
    };
    if !accept(text) {
        return Err(Rejection::new(Reason::TokenInvalid).with_status(StatusCode::FORBIDDEN));
    }
    Ok(answer_with(TEXT_PLAIN, Bytes::new()).with_header(name, value.clone()))
}

/// X's CRC answer for `token`: `sha256=` and the base64 HMAC-SHA256 of it.
fn crc_answer(secret: &SharedSecret, token: &str) -> Result<Answer, Rejection> {
    use base64::Engine as _;
    // The answer is a MAC under the delivery key: never of something that
    // could be a delivery body (X's scheme accepts only `{`-led bodies).
    if token.is_empty() || token.starts_with('{') {
        return Err(incomplete());
    }
    reflectable(token)?;
    let mut mac = secret.hmac_sha256();
    mac.update(token.as_bytes());
    let digest = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    echo_json("response_token", &format!("sha256={digest}"))
}

/// Refuse a value too long to echo: an endpoint must not be usable to
/// reflect arbitrary content at length.
fn reflectable(value: &str) -> Result<(), Rejection> {
    if value.len() > MAX_REFLECTED_LEN {
        return Err(Rejection::new(Reason::PayloadTooLarge).with_detail(format!(
            "handshake value over {MAX_REFLECTED_LEN} bytes, not echoed"
        )));
    }
    Ok(())
}

/// What a signed Twitch body is, by its own fields.
enum TwitchMessage<'a> {
    /// `challenge` and a subscription pending verification.
    Verification(Cow<'a, str>),
    /// An `event`, and no `challenge`.
    Notification,
    /// Neither, and a subscription in a status other than `enabled` or
    /// pending (`authorization_revoked`, `user_removed`, `version_removed`,
    /// `notification_failures_exceeded`, ...).
    Revocation,
    /// None of these (not JSON, or a shape Twitch does not send).
    Other,
}

impl<'a> TwitchMessage<'a> {
    fn of(body: &'a [u8]) -> Self {
        #[derive(Deserialize)]
        struct Subscription<'a> {
            #[serde(borrow)]
            status: Option<Cow<'a, str>>,
        }
        #[derive(Deserialize)]
        struct Probe<'a> {
            #[serde(borrow)]
            challenge: Option<Cow<'a, str>>,
            event: Option<serde::de::IgnoredAny>,
            #[serde(borrow)]
            subscription: Option<Subscription<'a>>,
        }
        let Ok(probe) = serde_json::from_slice::<Probe<'a>>(body) else {
            return Self::Other;
        };
        let status = probe.subscription.and_then(|s| s.status);
        match (probe.challenge, probe.event, status.as_deref()) {
            (Some(challenge), None, Some("webhook_callback_verification_pending")) => {
                Self::Verification(challenge)
            }
            (None, Some(_), _) => Self::Notification,
            (None, None, Some(status))
                if status != "enabled" && status != "webhook_callback_verification_pending" =>
            {
                Self::Revocation
            }
            _ => Self::Other,
        }
    }

    /// The `Twitch-Eventsub-Message-Type` Twitch sends with this body.
    fn header_value(&self) -> Option<&'static [u8]> {
        match self {
            Self::Verification(_) => Some(b"webhook_callback_verification"),
            Self::Notification => Some(b"notification"),
            Self::Revocation => Some(b"revocation"),
            Self::Other => None,
        }
    }

    /// For the audit detail: what the signed body is.
    fn describe(&self) -> &'static str {
        match self {
            Self::Verification(_) => "a webhook_callback_verification",
            Self::Notification => "a notification",
            Self::Revocation => "a revocation",
            Self::Other => "of no known kind",
        }
    }
}

/// A handshake without its challenge, or with two different ones: `400`.
fn incomplete() -> Rejection {
    Rejection::new(Reason::PayloadIncomplete)
}

/// A query parameter, percent-decoded.
pub(crate) enum Param<'q> {
    Absent,
    One(Cow<'q, str>),
    /// Present twice with different values: the request means two things.
    Ambiguous,
}

pub(crate) fn query_param<'q>(query: &'q str, name: &str) -> Param<'q> {
    let mut found = Param::Absent;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key != name {
            continue;
        }
        found = match found {
            Param::Absent => Param::One(value),
            Param::One(first) if first == value => Param::One(first),
            _ => return Param::Ambiguous,
        };
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parts(method: Method, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut builder = http::Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    fn all() -> Vec<Handshake> {
        vec![
            Handshake::slack(),
            Handshake::twitch(),
            Handshake::zoom(Secret::new("zoom").unwrap()),
            Handshake::discord(),
            Handshake::dropbox(),
            Handshake::meta(Secret::new("token").unwrap()),
            Handshake::microsoft_graph(),
            Handshake::x_crc(Secret::new("x").unwrap()),
            Handshake::trello(),
            Handshake::okta(),
            Handshake::asana(|_| true),
        ]
    }

    #[test]
    fn query_params_are_decoded_and_repeats_must_agree() {
        assert!(matches!(query_param("a=1&b=x%20y", "b"), Param::One(v) if v == "x y"));
        assert!(matches!(query_param("b=1&b=1", "b"), Param::One(v) if v == "1"));
        assert!(matches!(query_param("b=1&b=2", "b"), Param::Ambiguous));
        assert!(matches!(query_param("a=1", "b"), Param::Absent));
        assert!(matches!(query_param("", "b"), Param::Absent));
    }

    #[test]
    fn a_challenge_without_a_value_is_incomplete() {
        let slack = Handshake::slack();
        let head = parts(Method::POST, "/", &[]);
        let Found::Answer(name, Err(refusal)) =
            slack.find_in_body(&head, br#"{"type":"url_verification"}"#)
        else {
            panic!("a url_verification without challenge is this handshake, refused");
        };
        assert_eq!(name, "slack.url_verification");
        assert_eq!(refusal.reason(), Reason::PayloadIncomplete);
    }

    #[test]
    fn the_secret_and_token_stay_out_of_debug() {
        let printed = format!(
            "{:?} {:?}",
            Handshake::zoom(Secret::new("zoom-secret-value").unwrap()),
            Handshake::meta(Secret::new("meta-verify-value").unwrap())
        );
        assert!(!printed.contains("secret-value") && !printed.contains("verify-value"));
    }

    proptest! {
        #[test]
        fn no_input_panics(
            query in "\\PC{0,80}",
            body in proptest::collection::vec(any::<u8>(), 0..200),
            json_ish in "\\{\"(type|challenge|event|payload|plainToken)\":(1|\"[a-z.]{0,20}\"|\\{\\})\\}",
            message_type in "(webhook_callback_verification|revocation|notification|x)",
        ) {
            let uri = format!("/hook?{}", percent_encoding::utf8_percent_encode(&query, percent_encoding::CONTROLS));
            for method in [Method::GET, Method::POST] {
                let head = match http::Request::builder()
                    .method(method)
                    .uri(&uri)
                    .header("twitch-eventsub-message-type", message_type.as_str())
                    .body(())
                {
                    Ok(request) => request.into_parts().0,
                    Err(_) => continue,
                };
                for handshake in all() {
                    let _ = handshake.find_in_head(&head);
                    let _ = handshake.find_in_body(&head, &body);
                    let _ = handshake.find_in_body(&head, json_ish.as_bytes());
                }
            }
        }

        #[test]
        fn any_challenge_is_echoed_exactly(challenge in "\\PC{1,64}") {
            let encoded: String = form_urlencoded::byte_serialize(challenge.as_bytes()).collect();
            let head = parts(Method::GET, &format!("/h?challenge={encoded}"), &[]);
            let Found::Answer(_, Ok(answer)) = Handshake::dropbox().find_in_head(&head) else {
                panic!("a dropbox challenge");
            };
            prop_assert_eq!(answer.body().unwrap().as_ref(), challenge.as_bytes());

            let body = serde_json::json!({"type": "url_verification", "challenge": challenge}).to_string();
            let Found::Answer(_, Ok(answer)) = Handshake::slack().find_in_body(&head, body.as_bytes()) else {
                panic!("a slack challenge");
            };
            prop_assert_eq!(answer.body().unwrap().as_ref(), challenge.as_bytes());
        }
    }
}
