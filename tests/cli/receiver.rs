//! End to end: start the demo receiver binary (`examples/receiver.rs`, built
//! by `cargo test`), send each route a delivery signed by the crate's
//! signing side and a tampered one, and read its audit lines. Then run the
//! `curl` commands of the file it writes, as a newcomer would.
//!
//! `cargo test` builds the examples before the tests; after changing the
//! receiver, run `cargo build --examples` before running these tests alone
//! (`cargo test --all-features --test cli receiver::`).

use crate::support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::unix_now;

use http::{HeaderName, HeaderValue, StatusCode};
use tower_webhook::idempotency::REPLAYED_HEADER;

const ENV: &[(&str, &str)] = &[
    ("GITHUB_SECRET", "e2e-github-secret-2b7c1d"),
    ("GITLAB_TOKEN", "e2e-gitlab-token-9f8e7d"),
    ("STRIPE_SECRET", "whsec_e2eStripeSigningSecret01"),
    ("SLACK_SECRET", "e2e-slack-signing-secret-4a5b"),
    ("STANDARD_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    ("SHOPIFY_SECRET", "e2e-shopify-client-secret-6c"),
    ("TIMESTAMPED_SECRET", "e2e-timestamped-secret-1a2b"),
    ("TENANT_ACME_SECRET", "e2e-acme-tenant-secret-3c4d"),
    ("TENANT_LEGACY_TOKEN", "e2e-legacy-tenant-token-5e6f"),
    ("ZOOM_SECRET", "e2e-zoom-secret-token-7a8b"),
    ("TWITCH_SECRET", "e2e-twitch-secret-9c0d"),
    ("META_APP_SECRET", "e2e-meta-app-secret-1e2f"),
    ("META_VERIFY_TOKEN", "e2e-meta-verify-token-3a4b"),
    ("DROPBOX_SECRET", "e2e-dropbox-app-secret-5c6d"),
];

fn env(name: &str) -> &'static str {
    ENV.iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .unwrap()
}

/// `target/debug/examples/<name>`, next to this test's own binary.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug = exe.parent().and_then(|deps| deps.parent()).unwrap();
    debug.join("examples").join(name)
}

/// The running receiver; killed when dropped.
struct Receiver {
    child: Child,
    addr: SocketAddr,
    stdout: Arc<Mutex<Vec<String>>>,
    /// The file of secrets and commands it writes.
    commands: PathBuf,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.commands);
    }
}

/// A commands file of this test process's own.
fn commands_path() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!(
        "tower-webhook-receiver-test-{}-{n}.sh",
        std::process::id()
    ))
}

impl Receiver {
    /// Start the binary with the test's secrets (or none, so it generates
    /// them) and the default allowlist unless `allow_ips` is given.
    fn start(with_secrets: bool, allow_ips: Option<&str>) -> Self {
        Self::start_with(with_secrets, allow_ips, &[])
    }

    /// [`start`](Self::start) with more environment variables. Audit lines
    /// are JSON unless `extra` says otherwise.
    fn start_with(with_secrets: bool, allow_ips: Option<&str>, extra: &[(&str, &str)]) -> Self {
        let commands = commands_path();
        let mut command = Command::new(example("receiver"));
        command
            .env("RECEIVER_ADDR", "127.0.0.1:0")
            .env("AUDIT_FORMAT", "json")
            .env("RECEIVER_COMMANDS", &commands)
            .env_remove("ALLOW_IPS")
            .env_remove("TRUSTED_PROXIES")
            .env_remove("REDIS_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(list) = allow_ips {
            command.env("ALLOW_IPS", list);
        }
        command.envs(extra.iter().copied());
        for (name, value) in ENV {
            if with_secrets {
                command.env(name, value);
            } else {
                command.env_remove(name);
            }
        }
        let mut child = command
            .spawn()
            .expect("the receiver example is built by `cargo test`");
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let collected = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    let _ = addr_tx.send(addr.parse::<SocketAddr>().unwrap());
                }
                collected.lock().unwrap().push(line);
            }
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the receiver prints its address");
        Self {
            child,
            addr,
            stdout: lines,
            commands,
        }
    }

    /// Wait (bounded) until the banner is out: its last line says the
    /// audit lines follow.
    async fn banner(&self) -> Vec<String> {
        for _ in 0..200 {
            let lines = self.lines();
            if lines.iter().any(|l| l.starts_with("audit lines")) {
                return lines;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no banner: {:#?}", self.lines());
    }

    fn lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// Wait (bounded) until `count` audit lines have been written.
    async fn audit_lines(&self, count: usize) -> Vec<serde_json::Value> {
        for _ in 0..200 {
            let audit: Vec<serde_json::Value> = self
                .lines()
                .iter()
                .filter(|line| line.starts_with('{'))
                .map(|line| serde_json::from_str(line).expect("audit lines are JSON"))
                .collect();
            if audit.len() >= count {
                return audit;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("fewer than {count} audit lines: {:#?}", self.lines());
    }

    async fn post(
        &self,
        path: &str,
        headers: &[(HeaderName, HeaderValue)],
        body: &[u8],
    ) -> support::Reply {
        support::post_with(self.addr, path, headers, body).await
    }
}

fn header(name: &str, value: &str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_bytes(name.as_bytes()).unwrap(),
        HeaderValue::from_str(value).unwrap(),
    )
}

/// Every header the provider sends, signature included.
fn signed(scheme: &str, secret: &str, body: &[u8], id: &str) -> Vec<(HeaderName, HeaderValue)> {
    tower_webhook::signature::Signer::preset(scheme, secret)
        .unwrap()
        .delivery_headers(&tower_webhook::signature::Outgoing::new(
            body,
            unix_now(),
            id,
        ))
        .unwrap()
        .into_iter()
        .collect()
}

/// A route, the headers for `body`, and the body.
struct Delivery {
    path: &'static str,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Vec<u8>,
}

fn deliveries() -> Vec<Delivery> {
    let sig = |path, scheme, secret_env, body: &str, extra: Option<(&str, &str)>| {
        let mut headers = signed(scheme, env(secret_env), body.as_bytes(), "msg_e2e_1");
        headers.extend(extra.map(|(n, v)| header(n, v)));
        Delivery {
            path,
            headers,
            body: body.as_bytes().to_vec(),
        }
    };
    let token = |path, name, secret_env, id_header| Delivery {
        path,
        headers: vec![header(name, env(secret_env)), header(id_header, "e2e-1")],
        body: br#"{"object_kind":"push"}"#.to_vec(),
    };
    vec![
        sig(
            "/github",
            "github",
            "GITHUB_SECRET",
            r#"{"zen":"e2e"}"#,
            Some(("x-github-delivery", "e2e-1")),
        ),
        token(
            "/gitlab",
            "x-gitlab-token",
            "GITLAB_TOKEN",
            "idempotency-key",
        ),
        sig(
            "/stripe",
            "stripe",
            "STRIPE_SECRET",
            r#"{"id":"evt_e2e_1"}"#,
            None,
        ),
        sig(
            "/slack",
            "slack",
            "SLACK_SECRET",
            r#"{"event_id":"Ev_e2e_1"}"#,
            None,
        ),
        sig(
            "/standard",
            "standard",
            "STANDARD_SECRET",
            r#"{"type":"e2e"}"#,
            None,
        ),
        sig(
            "/shopify",
            "shopify",
            "SHOPIFY_SECRET",
            r#"{"id":1}"#,
            Some(("x-shopify-webhook-id", "e2e-1")),
        ),
        sig(
            "/timestamped",
            "timestamped",
            "TIMESTAMPED_SECRET",
            r#"{"event":"e2e"}"#,
            None,
        ),
        sig(
            "/zoom",
            "zoom",
            "ZOOM_SECRET",
            r#"{"event":"meeting.started","event_ts":1}"#,
            None,
        ),
        sig(
            "/twitch",
            "twitch",
            "TWITCH_SECRET",
            r#"{"subscription":{"type":"channel.follow"},"event":{"user_id":"1"}}"#,
            Some(("twitch-eventsub-message-type", "notification")),
        ),
        sig(
            "/meta",
            "meta",
            "META_APP_SECRET",
            r#"{"object":"page","entry":[]}"#,
            None,
        ),
        sig(
            "/tenants/acme",
            "github",
            "TENANT_ACME_SECRET",
            r#"{"ticket":1}"#,
            Some(("x-delivery-id", "e2e-1")),
        ),
        token(
            "/tenants/legacy-co",
            "x-webhook-token",
            "TENANT_LEGACY_TOKEN",
            "x-delivery-id",
        ),
    ]
}

#[tokio::test]
async fn every_route_accepts_a_signed_delivery_once_and_refuses_a_tampered_one() {
    let receiver = Receiver::start(true, None);
    let all = deliveries();
    for delivery in &all {
        let reply = receiver
            .post(delivery.path, &delivery.headers, &delivery.body)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}: {}",
            delivery.path,
            reply.text()
        );
        assert!(reply.headers.get(REPLAYED_HEADER).is_none());

        let again = receiver
            .post(delivery.path, &delivery.headers, &delivery.body)
            .await;
        assert_eq!(again.status, StatusCode::OK, "{}", delivery.path);
        assert_eq!(
            again.headers.get(REPLAYED_HEADER).map(|v| v.as_bytes()),
            Some(&b"true"[..]),
            "{}: a duplicate is acknowledged, not handled",
            delivery.path
        );

        let mut tampered = delivery.body.clone();
        tampered.extend_from_slice(b" ");
        let mut headers = delivery.headers.clone();
        if !delivery.path.contains("gitlab") && !delivery.path.contains("legacy") {
            let forged = receiver.post(delivery.path, &headers, &tampered).await;
            assert_eq!(
                forged.status,
                StatusCode::UNAUTHORIZED,
                "{}: tampered body",
                delivery.path
            );
        }
        // Wrong credential (token routes) or missing signature.
        headers.retain(|(name, _)| {
            !name.as_str().contains("signature")
                && !name.as_str().contains("token")
                && !name.as_str().contains("hmac")
        });
        let missing = receiver.post(delivery.path, &headers, &delivery.body).await;
        assert_eq!(
            missing.status,
            StatusCode::UNAUTHORIZED,
            "{}: no credential",
            delivery.path
        );
    }

    // Each handler prints its line before its request's audit line, so
    // once every audit line is in, so is every delivery line.
    let audit = receiver.audit_lines(all.len() * 4 - 2).await;
    let deliveries_printed = receiver
        .lines()
        .iter()
        .filter(|line| line.starts_with("delivery:"))
        .count();
    assert_eq!(deliveries_printed, all.len(), "each handler ran once");
    let accepted = audit
        .iter()
        .filter(|e| e["event"] == "webhook.accepted")
        .count();
    assert_eq!(accepted, all.len());
    let duplicates = audit.iter().filter(|e| e["answer"] == "duplicate").count();
    assert_eq!(duplicates, all.len());
    let legacy = audit
        .iter()
        .find(|e| e["path"] == "/tenants/legacy-co" && e["event"] == "webhook.accepted")
        .unwrap();
    assert_eq!(legacy["auth_method"], "token (legacy)");
    assert_eq!(legacy["tenant"], "legacy-co");

    // No secret, token or signature in anything the receiver printed.
    let printed = receiver.lines().join("\n");
    for (_, secret) in ENV {
        assert!(!printed.contains(secret), "stdout shows {secret}");
    }
    for delivery in &all {
        for (name, value) in &delivery.headers {
            if name.as_str().contains("signature") || name.as_str().contains("hmac") {
                assert!(
                    !printed.contains(value.to_str().unwrap()),
                    "stdout shows a signature"
                );
            }
        }
    }
}

#[tokio::test]
async fn slack_url_verification_is_answered_so_a_real_app_can_be_set_up() {
    let receiver = Receiver::start(true, None);
    let body = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let headers = signed("slack", env("SLACK_SECRET"), body, "unused");
    let reply = receiver.post("/slack", &headers, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(
        reply.text(),
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
    let audit = receiver.audit_lines(1).await;
    assert_eq!(audit[0]["event"], "webhook.handshake");
    assert_eq!(audit[0]["handshake"], "slack.url_verification");
    assert!(!receiver.lines().iter().any(|l| l.starts_with("delivery:")));
}

async fn get(addr: SocketAddr, path_and_query: &str) -> support::Reply {
    let request = http::Request::get(format!("http://{addr}{path_and_query}"))
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    support::send(request).await
}

#[tokio::test]
async fn every_route_answers_its_providers_handshake() {
    let receiver = Receiver::start(true, None);

    let body = br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1,"event":"endpoint.url_validation"}"#;
    let reply = receiver
        .post(
            "/zoom",
            &signed("zoom", env("ZOOM_SECRET"), body, "x"),
            body,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.headers["content-type"], "application/json");
    // HMAC-SHA256("e2e-zoom-secret-token-7a8b", plainToken), computed with
    // Python's hmac module.
    assert_eq!(
        reply.text(),
        r#"{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"f3d5e1f2cfdab4748f711fd1f730f48a0bde1ee122ed305bea8ef9854b58ddc1"}"#
    );

    let body = br#"{"challenge":"twitch-challenge-1","subscription":{"status":"webhook_callback_verification_pending"}}"#;
    let mut headers = signed("twitch", env("TWITCH_SECRET"), body, "m-1");
    // The signer sends a notification's type; this one is a verification.
    headers.retain(|(name, _)| name != "twitch-eventsub-message-type");
    headers.push(header(
        "twitch-eventsub-message-type",
        "webhook_callback_verification",
    ));
    let reply = receiver.post("/twitch", &headers, body).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(reply.text(), "twitch-challenge-1");

    let query = format!(
        "/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={}",
        env("META_VERIFY_TOKEN")
    );
    let reply = get(receiver.addr, &query).await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "1158201444")
    );
    let reply = get(
        receiver.addr,
        "/meta?hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong",
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    let reply = get(receiver.addr, "/dropbox?challenge=dbx-challenge").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");
    assert_eq!(reply.text(), "dbx-challenge");

    let audit = receiver.audit_lines(5).await;
    let handshakes: Vec<_> = audit
        .iter()
        .filter(|e| e["event"] == "webhook.handshake")
        .map(|e| e["handshake"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        handshakes,
        [
            "zoom.url_validation",
            "twitch.webhook_callback_verification",
            "meta.verification",
            "dropbox.challenge"
        ]
    );
    assert!(!receiver.lines().iter().any(|l| l.starts_with("delivery:")));
}

#[tokio::test]
async fn behind_trusted_proxies_the_allowlist_sees_the_forwarded_client() {
    let receiver = Receiver::start_with(
        true,
        Some("203.0.113.0/24"),
        &[("TRUSTED_PROXIES", "127.0.0.1/32")],
    );
    let delivery = &deliveries()[0];
    let mut headers = delivery.headers.clone();
    headers.push(header("x-forwarded-for", "203.0.113.7"));
    let reply = receiver.post(delivery.path, &headers, &delivery.body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

    // The proxy itself, or a client outside the list behind it: refused.
    let mut headers = delivery.headers.clone();
    headers.push(header("x-forwarded-for", "198.51.100.9"));
    let reply = receiver.post(delivery.path, &headers, &delivery.body).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = receiver
        .post(delivery.path, &delivery.headers, &delivery.body)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    let audit = receiver.audit_lines(3).await;
    assert_eq!(audit[0]["client_ip"], "203.0.113.7");
    assert_eq!(audit[1]["reason"], "ip_not_allowed");
}

/// A `redis-server` of the test's own on a free port; killed when dropped.
#[cfg(feature = "redis")]
struct RedisServer {
    child: Child,
    port: u16,
}

#[cfg(feature = "redis")]
impl RedisServer {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (apt-get install redis-server)");
        // Owned at once, so the process is killed and reaped on every path.
        let server = Self { child, port };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server did not start on port {port}");
    }
}

#[cfg(feature = "redis")]
impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn with_redis_url_two_replicas_handle_a_delivery_once() {
    let redis = RedisServer::start();
    let url = format!("redis://127.0.0.1:{}/", redis.port);
    let env = [("REDIS_URL", url.as_str())];
    let first = Receiver::start_with(true, None, &env);
    let second = Receiver::start_with(true, None, &env);
    assert!(first
        .lines()
        .iter()
        .any(|l| l == "idempotency store: Redis (REDIS_URL)"));
    assert!(
        !first.lines().join("\n").contains(&url),
        "the URL is not printed"
    );

    let delivery = &deliveries()[0];
    let reply = first
        .post(delivery.path, &delivery.headers, &delivery.body)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.headers.get(REPLAYED_HEADER).is_none());
    let reply = second
        .post(delivery.path, &delivery.headers, &delivery.body)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers.get(REPLAYED_HEADER).map(|v| v.as_bytes()),
        Some(&b"true"[..]),
        "the other replica already handled it"
    );
    let handled = first
        .lines()
        .iter()
        .chain(second.lines().iter())
        .filter(|l| l.starts_with("delivery:"))
        .count();
    assert_eq!(handled, 1);

    // A correctly signed 2 MB GitHub push, on the bundle whose idempotency
    // layer the demo replaced with one on Redis: GitHub's 25 MB cap holds.
    let push = format!(
        r#"{{"ref":"refs/heads/main","padding":"{}"}}"#,
        "x".repeat(2 << 20)
    );
    let headers = signed(
        "github",
        self::env("GITHUB_SECRET"),
        push.as_bytes(),
        "push-2mb",
    );
    let reply = first.post("/github", &headers, push.as_bytes()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

#[tokio::test]
async fn clients_outside_the_allowlist_are_refused() {
    let receiver = Receiver::start(true, Some("10.0.0.0/8"));
    let delivery = &deliveries()[0];
    let reply = receiver
        .post(delivery.path, &delivery.headers, &delivery.body)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let audit = receiver.audit_lines(1).await;
    assert_eq!(audit[0]["reason"], "ip_not_allowed");
}

/// A newcomer's first minutes: one line per route on the screen, no
/// secret there, and a private file holding the generated secrets and a
/// ready `curl` command per route that runs as it is (no compilation, no
/// other tool than curl).
#[tokio::test]
async fn the_commands_file_sends_every_route_a_delivery() {
    // A missing curl fails the test rather than skipping it: the README's
    // quick start is what a newcomer runs, and scripts/test installs curl.
    assert!(
        Command::new("curl").arg("--version").output().is_ok(),
        "curl is not on PATH: this test runs the curl commands the demo \
         writes (scripts/test installs it)"
    );
    let receiver = Receiver::start(false, None);
    let lines = receiver.banner().await;
    let routes: Vec<&String> = lines.iter().filter(|l| l.starts_with("  /")).collect();
    assert_eq!(routes.len(), 13, "one line per route: {lines:#?}");
    assert!(lines.len() < 25, "a short banner: {lines:#?}");
    let announced = format!(
        "secrets and a signed curl command per route: {}",
        receiver.commands.display()
    );
    assert!(
        lines.iter().any(|l| l.starts_with(&announced)),
        "{lines:#?}"
    );

    let file = std::fs::read_to_string(&receiver.commands).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&receiver.commands)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only its owner reads the secrets");
    }
    let secrets: Vec<&str> = file
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("curl "))
        .filter_map(|l| l.split_once("='"))
        .map(|(_, value)| value.trim_end_matches('\''))
        .collect();
    assert_eq!(secrets.len(), ENV.len(), "every generated secret: {file}");
    let printed = lines.join("\n");
    for secret in &secrets {
        assert!(!printed.contains(secret), "the screen shows a secret");
    }

    let commands: Vec<String> = file
        .lines()
        .filter(|l| l.starts_with("curl "))
        .map(str::to_owned)
        .collect();
    assert_eq!(commands.len(), 13, "{file}");
    for command in commands {
        assert!(!command.contains("cargo"), "nothing to compile: {command}");
        let output = tokio::task::spawn_blocking(move || {
            Command::new("sh").arg("-c").arg(&command).output().unwrap()
        })
        .await
        .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    }
    let audit = receiver.audit_lines(13).await;
    assert!(audit.iter().all(|e| e["event"] == "webhook.accepted"));
}

/// The default audit lines are for people: one line each, only the fields
/// that have a value; the JSON lines leave out their `null` fields.
#[tokio::test]
async fn audit_lines_are_readable_text_or_json_without_nulls() {
    let delivery = &deliveries()[0];
    let text = Receiver::start_with(true, None, &[("AUDIT_FORMAT", "text")]);
    text.banner().await;
    text.post(delivery.path, &delivery.headers, &delivery.body)
        .await;
    text.post(delivery.path, &delivery.headers, b"tampered")
        .await;
    let mut lines = Vec::new();
    for _ in 0..200 {
        lines = text
            .lines()
            .into_iter()
            .filter(|l| l.contains(" webhook."))
            .collect();
        if lines.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(lines.len(), 2, "{:#?}", text.lines());
    assert!(
        lines[0].contains(" webhook.accepted 200 POST /github auth=signature key=default scheme=github client=127.0.0.1 id="),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains(" webhook.rejected 401 POST /github reason=signature_mismatch refused=signature scheme=github client=127.0.0.1 "),
        "{}",
        lines[1]
    );
    assert!(lines
        .iter()
        .all(|l| !l.contains("null") && l.ends_with("µs")));

    let json = Receiver::start(true, None);
    json.post(delivery.path, &delivery.headers, &delivery.body)
        .await;
    let audit = json.audit_lines(1).await;
    let line = json
        .lines()
        .into_iter()
        .find(|l| l.starts_with('{'))
        .unwrap();
    assert!(!line.contains("null"), "{line}");
    assert_eq!(audit[0]["status"], 200);
    assert_eq!(audit[0]["scheme"], "github");
    assert!(audit[0].get("reason").is_none());
}
