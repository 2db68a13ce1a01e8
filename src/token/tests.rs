//! The token layer's decisions, one request at a time through the layer
//! (`oneshot`): every token kind accepted and refused, rotation,
//! challenges, and hostile inputs. The handler counts its calls so each
//! refusal also proves it never ran. Moved from the HTTP tests
//! (`tests/library/token.rs`), which keep a header only a raw socket sends.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, StatusCode};

use super::{TokenLayer, TokenSource};
use crate::test_support::{empty, oneshot, Reply};
use crate::{Reason, Secret};

const GITLAB: &str = "glpat-2024-token-value";
const ROTATED: &str = "glpat-2025-token-value";

fn secret(text: &str) -> Secret {
    Secret::new(text).unwrap()
}

/// `layer` in front of a handler that counts its calls. The route a server
/// would match is only a note here: the layer sees the path as sent.
struct App {
    layer: TokenLayer,
    calls: AtomicUsize,
}

impl App {
    async fn start(_route: &str, layer: TokenLayer) -> Self {
        Self {
            layer,
            calls: AtomicUsize::new(0),
        }
    }

    fn request(&self, path: &str) -> http::request::Builder {
        Request::post(path)
    }

    async fn send(&self, builder: http::request::Builder) -> Reply {
        let reply = oneshot(&self.layer, empty(builder)).await;
        if reply.was_handled() {
            self.calls.fetch_add(1, Ordering::SeqCst);
        }
        reply
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// `<method> <key id>`: how the handler saw the sender authenticate.
#[track_caller]
fn assert_accepted(reply: &Reply, expected: &str) {
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let auth = reply
        .verification()
        .authentication
        .clone()
        .expect("authentication recorded");
    let seen = format!("{} {}", auth.method, auth.key_id.as_deref().unwrap_or("-"));
    assert_eq!(seen, expected);
}

#[track_caller]
fn assert_refused(reply: &Reply, reason: Reason) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    assert_eq!(reply.reason, Some(reason), "{reply:?}");
    assert_eq!(reply.text(), "Unauthorized", "the body says no more");
    assert!(!reply.was_handled());
}

fn challenges(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn basic(user_password: &[u8]) -> String {
    format!("Basic {}", STANDARD.encode(user_password))
}

fn gitlab_layer() -> TokenLayer {
    TokenLayer::header("X-Gitlab-Token").accept("2024", secret(GITLAB))
}

#[tokio::test]
async fn header_token_accepted_wrong_and_missing() {
    let app = App::start("/hooks", gitlab_layer()).await;

    let ok = app
        .send(app.request("/hooks").header("X-Gitlab-Token", GITLAB))
        .await;
    assert_accepted(&ok, "token 2024");

    let wrong = app
        .send(app.request("/hooks").header("X-Gitlab-Token", ROTATED))
        .await;
    assert_refused(&wrong, Reason::TokenInvalid);
    assert!(
        challenges(&wrong).is_empty(),
        "no HTTP scheme for a custom header"
    );

    let missing = app.send(app.request("/hooks")).await;
    assert_refused(&missing, Reason::TokenMissing);

    // Another header carrying the token does not count.
    let elsewhere = app
        .send(app.request("/hooks").header("X-Webhook-Token", GITLAB))
        .await;
    assert_refused(&elsewhere, Reason::TokenMissing);

    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn any_header_name_works() {
    let layer = TokenLayer::header("X-Webhook-Token").accept("main", secret(GITLAB));
    let app = App::start("/hooks", layer).await;
    let ok = app
        .send(app.request("/hooks").header("x-webhook-token", GITLAB))
        .await;
    assert_accepted(&ok, "token main");
    let wrong = app
        .send(app.request("/hooks").header("x-webhook-token", "nope"))
        .await;
    assert_refused(&wrong, Reason::TokenInvalid);
    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn rotation_accepts_both_tokens_and_tells_the_handler_which() {
    let layer = gitlab_layer().accept("2025", secret(ROTATED));
    let app = App::start("/hooks", layer).await;

    let old = app
        .send(app.request("/hooks").header("X-Gitlab-Token", GITLAB))
        .await;
    assert_accepted(&old, "token 2024");
    let new = app
        .send(app.request("/hooks").header("X-Gitlab-Token", ROTATED))
        .await;
    assert_accepted(&new, "token 2025");
    let neither = app
        .send(app.request("/hooks").header("X-Gitlab-Token", "glpat-2023"))
        .await;
    assert_refused(&neither, Reason::TokenInvalid);
    assert_eq!(app.calls(), 2);
}

#[tokio::test]
async fn bearer_accepted_wrong_and_missing_with_challenges() {
    let layer = TokenLayer::bearer()
        .accept("old", secret(GITLAB))
        .accept("new", secret(ROTATED));
    let app = App::start("/hooks", layer).await;

    for (token, id) in [(GITLAB, "old"), (ROTATED, "new")] {
        let ok = app
            .send(
                app.request("/hooks")
                    .header(AUTHORIZATION, format!("Bearer {token}")),
            )
            .await;
        assert_accepted(&ok, &format!("bearer {id}"));
    }
    // The scheme is case-insensitive.
    let lower = app
        .send(
            app.request("/hooks")
                .header(AUTHORIZATION, format!("bearer {GITLAB}")),
        )
        .await;
    assert_accepted(&lower, "bearer old");

    let wrong = app
        .send(app.request("/hooks").header(AUTHORIZATION, "Bearer guess"))
        .await;
    assert_refused(&wrong, Reason::TokenInvalid);
    assert_eq!(
        challenges(&wrong),
        ["Bearer realm=\"webhook\", error=\"invalid_token\""]
    );

    let missing = app.send(app.request("/hooks")).await;
    assert_refused(&missing, Reason::TokenMissing);
    assert_eq!(challenges(&missing), ["Bearer realm=\"webhook\""]);

    // A credential in a scheme this layer does not take is not "missing".
    let other = app
        .send(
            app.request("/hooks")
                .header(AUTHORIZATION, basic(b"u:guess")),
        )
        .await;
    assert_refused(&other, Reason::TokenInvalid);
    assert_eq!(challenges(&other), ["Bearer realm=\"webhook\""]);

    assert_eq!(app.calls(), 3);
}

#[tokio::test]
async fn basic_checks_user_and_password() {
    let layer = TokenLayer::basic()
        .user("hooks")
        .accept("basic", secret(GITLAB))
        .realm("deliveries");
    let app = App::start("/hooks", layer).await;

    let ok = app
        .send(
            app.request("/hooks")
                .header(AUTHORIZATION, basic(format!("hooks:{GITLAB}").as_bytes())),
        )
        .await;
    assert_accepted(&ok, "basic basic");

    let cases = [
        basic(format!("intruder:{GITLAB}").as_bytes()),
        basic(format!(":{GITLAB}").as_bytes()),
        basic(b"hooks:guess"),
    ];
    for header in cases {
        let refused = app
            .send(app.request("/hooks").header(AUTHORIZATION, header))
            .await;
        assert_refused(&refused, Reason::TokenInvalid);
        assert_eq!(challenges(&refused), ["Basic realm=\"deliveries\""]);
    }

    let missing = app.send(app.request("/hooks")).await;
    assert_refused(&missing, Reason::TokenMissing);
    assert_eq!(challenges(&missing), ["Basic realm=\"deliveries\""]);
    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn basic_without_user_takes_any_user_name() {
    let layer = TokenLayer::basic().accept("basic", secret(GITLAB));
    let app = App::start("/hooks", layer).await;
    for user in ["", "anyone", "x y"] {
        let header = basic(format!("{user}:{GITLAB}").as_bytes());
        let ok = app
            .send(app.request("/hooks").header(AUTHORIZATION, header))
            .await;
        assert_accepted(&ok, "basic basic");
    }
    assert_eq!(app.calls(), 3);
}

#[tokio::test]
async fn query_token_with_user() {
    let token = "tok/en+with spaces&=";
    let layer = TokenLayer::query("token")
        .user_param("user", "hooks")
        .accept("url", secret(token));
    let app = App::start("/hooks", layer).await;
    let encoded = |pairs: &[(&str, &str)]| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in pairs {
            query.append_pair(key, value);
        }
        format!("/hooks?{}", query.finish())
    };

    let ok = app
        .send(app.request(&encoded(&[("user", "hooks"), ("token", token)])))
        .await;
    assert_accepted(&ok, "url_token url");

    let refused = [
        encoded(&[("user", "other"), ("token", token)]),
        encoded(&[("token", token)]),
        encoded(&[("user", "hooks"), ("token", "guess")]),
        encoded(&[("user", "hooks"), ("token", "")]),
        // Two different tokens: which one counts is ambiguous.
        encoded(&[("user", "hooks"), ("token", token), ("token", "guess")]),
        // Sent unencoded, `+` and `&` change the value.
        "/hooks?user=hooks&token=tok/en+with spaces&=".replace(' ', "%20"),
    ];
    for path in refused {
        let reply = app.send(app.request(&path)).await;
        assert_refused(&reply, Reason::TokenInvalid);
    }

    let missing = app.send(app.request(&encoded(&[("user", "hooks")]))).await;
    assert_refused(&missing, Reason::TokenMissing);
    let no_query = app.send(app.request("/hooks")).await;
    assert_refused(&no_query, Reason::TokenMissing);
    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn path_segment_by_position_and_after_a_prefix() {
    let token = "p/q r+s";
    let encoded = "p%2Fq%20r+s";

    let by_position = TokenLayer::path_segment(1).accept("path", secret(token));
    let app = App::start("/hooks/{token}", by_position).await;
    let ok = app.send(app.request(&format!("/hooks/{encoded}"))).await;
    assert_accepted(&ok, "url_token path");
    let wrong = app.send(app.request("/hooks/guess")).await;
    assert_refused(&wrong, Reason::TokenInvalid);
    // The layer also guards the fallback: no segment, no token.
    let missing = app.send(app.request("/hooks")).await;
    assert_refused(&missing, Reason::TokenMissing);
    assert_eq!(app.calls(), 1);

    let after = TokenLayer::path_after("hooks")
        .user_segment(1, "acme")
        .accept("path", secret(token));
    let app = App::start("/api/{user}/hooks/{token}", after).await;
    let ok = app
        .send(app.request(&format!("/api/acme/hooks/{encoded}")))
        .await;
    assert_accepted(&ok, "url_token path");
    let wrong_user = app
        .send(app.request(&format!("/api/other/hooks/{encoded}")))
        .await;
    assert_refused(&wrong_user, Reason::TokenInvalid);
    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn several_sources_first_present_decides() {
    let layer = TokenLayer::bearer()
        .or(TokenSource::header("X-Webhook-Token"))
        .accept("main", secret(GITLAB));
    let app = App::start("/hooks", layer).await;

    let bearer = app
        .send(
            app.request("/hooks")
                .header(AUTHORIZATION, format!("Bearer {GITLAB}")),
        )
        .await;
    assert_accepted(&bearer, "bearer main");
    let header = app
        .send(app.request("/hooks").header("X-Webhook-Token", GITLAB))
        .await;
    assert_accepted(&header, "token main");

    // A wrong Bearer token is not rescued by a right header token.
    let both = app
        .send(
            app.request("/hooks")
                .header(AUTHORIZATION, "Bearer guess")
                .header("X-Webhook-Token", GITLAB),
        )
        .await;
    assert_refused(&both, Reason::TokenInvalid);
    assert_eq!(
        challenges(&both),
        ["Bearer realm=\"webhook\", error=\"invalid_token\""]
    );

    // A wrong header token, Bearer absent: refused, plain Bearer challenge.
    let wrong_header = app
        .send(app.request("/hooks").header("X-Webhook-Token", "guess"))
        .await;
    assert_refused(&wrong_header, Reason::TokenInvalid);
    assert_eq!(challenges(&wrong_header), ["Bearer realm=\"webhook\""]);

    let missing = app.send(app.request("/hooks")).await;
    assert_refused(&missing, Reason::TokenMissing);
    assert_eq!(app.calls(), 2);
}

#[tokio::test]
async fn ambiguous_headers_are_refused() {
    let app = App::start("/hooks", gitlab_layer()).await;
    let two_tokens = app
        .send(
            app.request("/hooks")
                .header("X-Gitlab-Token", GITLAB)
                .header("X-Gitlab-Token", "guess"),
        )
        .await;
    assert_refused(&two_tokens, Reason::TokenInvalid);
    // A repeated identical value is harmless.
    let repeated = app
        .send(
            app.request("/hooks")
                .header("X-Gitlab-Token", GITLAB)
                .header("X-Gitlab-Token", GITLAB),
        )
        .await;
    assert_accepted(&repeated, "token 2024");
    assert_eq!(app.calls(), 1);

    let layer = TokenLayer::bearer().accept("main", secret(GITLAB));
    let app = App::start("/hooks", layer).await;
    // Two Authorization headers are refused even when both are right.
    let two_authorizations = app
        .send(
            app.request("/hooks")
                .header(AUTHORIZATION, format!("Bearer {GITLAB}"))
                .header(AUTHORIZATION, format!("Bearer {GITLAB}")),
        )
        .await;
    assert_refused(&two_authorizations, Reason::TokenInvalid);
    assert_eq!(app.calls(), 0);
}

#[tokio::test]
async fn malformed_credentials_are_refused() {
    let layer = TokenLayer::basic()
        .or(TokenSource::bearer())
        .accept("main", secret(GITLAB));
    let app = App::start("/hooks", layer).await;
    let long_token = format!("Bearer {}", "a".repeat(64 * 1024));
    let cases: [&[u8]; 9] = [
        b"Basic !!!not base64!!!",
        b"Basic aG9va3M=", // "hooks": no colon
        b"Basic aG9va3M6", // "hooks:": empty password
        b"Basic",
        b"Bearer",
        b"Bearer    ",
        b"Bearer two words",
        b"Bearer glpat-\xff\xfe",
        long_token.as_bytes(),
    ];
    for value in cases {
        let reply = app
            .send(
                app.request("/hooks")
                    .header(AUTHORIZATION, HeaderValue::from_bytes(value).unwrap()),
            )
            .await;
        assert_refused(&reply, Reason::TokenInvalid);
    }
    assert_eq!(app.calls(), 0);
}

#[tokio::test]
async fn bad_static_header_values_are_refused() {
    let app = App::start("/hooks", gitlab_layer()).await;
    let mut obs_text = GITLAB.as_bytes().to_vec();
    obs_text.extend_from_slice(b"\xe9\xff");
    let long = "a".repeat(64 * 1024);
    let cases: [&[u8]; 3] = [b"", &obs_text, long.as_bytes()];
    for value in cases {
        let reply = app
            .send(
                app.request("/hooks")
                    .header("X-Gitlab-Token", HeaderValue::from_bytes(value).unwrap()),
            )
            .await;
        assert_refused(&reply, Reason::TokenInvalid);
    }
    assert_eq!(app.calls(), 0);
}

#[tokio::test]
async fn without_verification_accepts_everyone_and_warns_once() {
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    // The test runs on one thread: the guard sees every event from
    // building the layer to answering the requests.
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = App::start("/hooks", TokenLayer::without_verification()).await;

    let bare = app.send(app.request("/hooks")).await;
    assert_accepted(&bare, "anonymous -");
    let with_junk = app
        .send(app.request("/hooks").header(AUTHORIZATION, "Bearer"))
        .await;
    assert_accepted(&with_junk, "anonymous -");
    assert_eq!(app.calls(), 2);

    let logged = logs.text();
    assert_eq!(logged.matches("WARN").count(), 1, "{logged}");
    assert!(logged.contains("without verification"), "{logged}");
}

#[test]
fn debug_never_shows_tokens() {
    let layer = gitlab_layer()
        .accept("2025", secret(ROTATED))
        .or(TokenSource::basic().user("hooks"));
    let printed = format!("{layer:?}");
    assert!(
        !printed.contains(GITLAB) && !printed.contains(ROTATED),
        "{printed}"
    );
    assert!(
        printed.contains("2024") && printed.contains("x-gitlab-token"),
        "{printed}"
    );
}

/// A log sink the test can read back.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
