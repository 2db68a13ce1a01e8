//! The `tower-webhook` command (feature `cli`), run as a user would: the
//! built binary, a body on stdin, and its output and exit status.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use proptest::strategy::Strategy;

const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// GitHub's published signature of `Hello, World!` under [`GITHUB_SECRET`].
const GITHUB_HELLO: &str =
    "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\n";

/// Run the command with `args` and `body` on stdin. The secrets the tests
/// use are in the environment (`--secret-env GITHUB_SECRET`, ...), the
/// default variable is not, unless `extra_env` sets it.
fn run(args: &[&str], body: &[u8]) -> Output {
    run_env(args, body, &[])
}

fn run_env(args: &[&str], body: &[u8], extra_env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tower-webhook"))
        .args(args)
        .env_remove("TOWER_WEBHOOK_SECRET")
        .env_remove("TOWER_WEBHOOK_KEK")
        .env("GITHUB_SECRET", GITHUB_SECRET)
        .env("STRIPE_SECRET", "whsec_cli")
        .env("STANDARD_SECRET", STANDARD_SECRET)
        .env("S", "s")
        .envs(extra_env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A usage error exits before reading stdin: a broken pipe is expected then.
    let _ = child.stdin.take().unwrap().write_all(body);
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn sign_prints_every_header_the_provider_sends_or_only_the_signature() {
    let args = [
        "sign",
        "--scheme",
        "github",
        "--secret-env",
        "GITHUB_SECRET",
        "--id",
        "d-1",
    ];
    let output = run(&args, b"Hello, World!");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with(GITHUB_HELLO), "{text}");
    assert!(text.contains("X-Github-Delivery: d-1\n"), "{text}");
    assert!(text.contains("X-Github-Event: ping\n"), "{text}");

    let output = run(
        &[&args[..], &["--signature-only"]].concat(),
        b"Hello, World!",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), GITHUB_HELLO);
}

#[test]
fn mailgun_sign_prints_the_body_mailgun_sends_and_verify_accepts_it() {
    let args = [
        "sign",
        "--scheme",
        "mailgun",
        "--secret-env",
        "S",
        "--timestamp",
        "1700000000",
        "--id",
        "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0",
    ];
    let signed = run(&args, br#"{"event":"delivered"}"#);
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    let body: serde_json::Value = serde_json::from_slice(&signed.stdout).unwrap();
    assert_eq!(body["event-data"]["event"], "delivered");
    assert_eq!(body["signature"]["timestamp"], "1700000000");
    let verified = run(
        &["verify", "--scheme", "mailgun", "--secret-env", "S"],
        &signed.stdout,
    );
    assert_eq!(verified.status.code(), Some(0), "{}", stderr(&verified));
    assert!(stdout(&verified).starts_with("verified: scheme mailgun"));

    let block = run(&[&args[..], &["--signature-only"]].concat(), b"");
    assert_eq!(block.status.code(), Some(0), "{}", stderr(&block));
    let block: serde_json::Value = serde_json::from_slice(&block.stdout).unwrap();
    assert_eq!(block, body["signature"]);

    // Not JSON: said plainly, and no talk of a private key.
    let refused = run(&args, b"event=delivered");
    assert_eq!(refused.status.code(), Some(2));
    let text = stderr(&refused);
    assert!(text.starts_with("error: mailgun sends JSON"), "{text}");
    assert!(!text.contains("private key"), "{text}");
}

#[test]
fn sign_prints_the_providers_headers() {
    // GitHub's published example.
    let output = run(
        &[
            "sign",
            "--scheme",
            "github",
            "--secret-env",
            "GITHUB_SECRET",
            "--id",
            "d-1",
        ],
        b"Hello, World!",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains(GITHUB_HELLO));
    assert_eq!(stderr(&output), "");
}

/// Environment variables set for one run.
type Env = Vec<(&'static str, &'static str)>;

/// A file named for this test and process, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> Self {
        let path =
            std::env::temp_dir().join(format!("tower-webhook-cli-{name}-{}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn the_secret_comes_from_a_file_a_variable_or_stdin_off_the_command_line() {
    // Written as `echo` writes it: the final newline is no part of it.
    let secret_file = TempFile::new("secret", format!("{GITHUB_SECRET}\n").as_bytes());
    let body_file = TempFile::new("body", b"Hello, World!");
    let hello = b"Hello, World!".to_vec();
    let cases: Vec<(Vec<String>, Vec<u8>, Env)> = vec![
        (
            vec!["--secret-file".into(), secret_file.path().into()],
            hello.clone(),
            vec![],
        ),
        (
            vec![format!("--secret-file={}", secret_file.path())],
            hello.clone(),
            vec![],
        ),
        (
            vec!["--secret-env".into(), "MY_GITHUB".into()],
            hello.clone(),
            vec![("MY_GITHUB", GITHUB_SECRET)],
        ),
        (
            vec![],
            hello.clone(),
            vec![("TOWER_WEBHOOK_SECRET", GITHUB_SECRET)],
        ),
        (
            vec![
                "--secret-file".into(),
                "-".into(),
                "--body-file".into(),
                body_file.path().into(),
            ],
            format!("{GITHUB_SECRET}\r\n").into_bytes(),
            vec![],
        ),
    ];
    for (options, stdin, env) in cases {
        let mut args = vec!["sign", "--scheme", "github"];
        args.extend(options.iter().map(String::as_str));
        let output = run_env(&args, &stdin, &env);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stdout(&output).contains(GITHUB_HELLO),
            "{args:?}: {}",
            stdout(&output)
        );
        assert_eq!(stderr(&output), "", "{args:?}: no warning");
    }
}

#[test]
fn a_secret_on_the_command_line_still_works_and_warns() {
    let output = run(
        &["sign", "--scheme", "github", "--secret", GITHUB_SECRET],
        b"Hello, World!",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains(GITHUB_HELLO));
    let warning = stderr(&output);
    assert!(
        warning.starts_with("warning: --secret shows the secret"),
        "{warning}"
    );
    assert!(warning.contains("--secret-file") && warning.contains("TOWER_WEBHOOK_SECRET"));
    assert!(
        !warning.contains(GITHUB_SECRET),
        "the warning does not repeat it"
    );
}

#[test]
fn help_recommends_the_file_and_the_environment() {
    for command in ["sign", "verify"] {
        let output = run(&["help", command], b"");
        let help = stdout(&output);
        assert!(
            help.starts_with(&format!(
                "usage: tower-webhook {command} --scheme <name> --secret-file <path>"
            )),
            "{help}"
        );
        assert!(help.contains("--secret-env <name>"), "{help}");
        assert!(help.contains("TOWER_WEBHOOK_SECRET"), "{help}");
        assert!(help.contains("discouraged"), "{help}");
    }
}

#[test]
fn what_sign_prints_verify_accepts() {
    let body = br#"{"type":"invoice.paid"}"#;
    let signed = run(
        &[
            "sign",
            "--scheme=stripe",
            "--secret-env=STRIPE_SECRET",
            "--timestamp=1700000000",
        ],
        body,
    );
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    let headers = std::env::temp_dir().join(format!("tower-webhook-cli-{}", std::process::id()));
    std::fs::write(&headers, &signed.stdout).unwrap();
    let headers = headers.to_str().unwrap();

    let verified = run(
        &[
            "verify",
            "--scheme",
            "stripe",
            "--secret-env",
            "STRIPE_SECRET",
            "--headers",
            headers,
        ],
        body,
    );
    assert_eq!(verified.status.code(), Some(0), "{}", stderr(&verified));
    assert_eq!(
        stdout(&verified),
        "verified: scheme stripe, key default, timestamp 1700000000 (age not checked)\n"
    );

    let tampered = run(
        &[
            "verify",
            "--scheme",
            "stripe",
            "--secret-env",
            "STRIPE_SECRET",
            "--headers",
            headers,
        ],
        br#"{"type":"invoice.paid","amount":1}"#,
    );
    assert_eq!(tampered.status.code(), Some(1));
    assert_eq!(stderr(&tampered), "refused: signature_mismatch\n");
    std::fs::remove_file(headers).unwrap();
}

#[test]
fn verify_reads_header_options() {
    // The Standard Webhooks specification's example.
    let output = run(
        &[
            "verify",
            "--scheme",
            "standard",
            "--secret-env",
            "STANDARD_SECRET",
            "-H",
            "webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek",
            "--header",
            "Webhook-Timestamp: 1614265330",
            "-H",
            "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ],
        br#"{"test": 2432232314}"#,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("verified: scheme standard"));
}

#[test]
fn a_delivery_without_its_signature_is_refused() {
    let output = run(
        &[
            "verify",
            "--scheme",
            "github",
            "--secret-env",
            "GITHUB_SECRET",
        ],
        b"{}",
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr(&output), "refused: signature_missing\n");
}

#[test]
fn help_goes_to_stdout_and_succeeds() {
    for args in [&["--help"][..], &["help"], &["-h"]] {
        let output = run(args, b"");
        assert_eq!(output.status.code(), Some(0));
        assert!(stdout(&output).starts_with("usage: tower-webhook <command>"));
        assert!(stdout(&output).contains("github, gitlab"));
        assert!(stdout(&output).contains("github-sha1"));
    }
    for args in [
        &["help", "verify"][..],
        &["verify", "--help"],
        &["verify", "--scheme", "x", "-h"],
    ] {
        let output = run(args, b"");
        assert_eq!(output.status.code(), Some(0));
        assert!(stdout(&output).starts_with("usage: tower-webhook verify"));
    }
    let output = run(&["--version"], b"");
    assert_eq!(
        stdout(&output),
        format!("tower-webhook {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_are_the_error_and_one_line_pointing_to_help() {
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &[],
            "error: a command is required",
            "usage: tower-webhook <command>",
        ),
        (
            &["frobnicate"],
            "error: no command `frobnicate`",
            "usage: tower-webhook <command>",
        ),
        (
            &["seel"],
            "error: no command `seel`; did you mean `seal`?",
            "usage: tower-webhook <command>",
        ),
        (
            &["help", "unsael"],
            "error: no command `unsael`; did you mean `unseal`?",
            "usage: tower-webhook <command>",
        ),
        (
            &["unseal", "--context", "acme", "--secret-env", "S"],
            "error: unknown argument `--secret-env`",
            "usage: tower-webhook unseal",
        ),
        (
            &["sign", "--scheme", "github"],
            "error: a secret is required: --secret-file <path>, --secret-env <name> or TOWER_WEBHOOK_SECRET",
            "usage: tower-webhook sign",
        ),
        (
            &["sign", "--scheme", "github", "--secret-env", "TOWER_WEBHOOK_TEST_UNSET"],
            "error: --secret-env: the environment variable `TOWER_WEBHOOK_TEST_UNSET` is not set",
            "usage: tower-webhook sign",
        ),
        (
            &["sign", "--scheme", "github", "--secret-file", "/nonexistent/secret"],
            "error: reading the secret from `/nonexistent/secret`",
            "usage: tower-webhook sign",
        ),
        (
            &["verify", "--scheme", "github", "--secret-file", "-"],
            "error: --secret-file - reads the secret from standard input: give the body with --body-file",
            "usage: tower-webhook verify",
        ),
        (
            &["sign", "--scheme", "github", "--secret-env", "S", "--secret-file", "x"],
            "error: give the secret once",
            "usage: tower-webhook sign",
        ),
        (
            &["sign", "--scheme"],
            "error: --scheme needs a value",
            "usage: tower-webhook sign",
        ),
        (
            &["sign", "--header", "a: b"],
            "error: unknown argument `--header`",
            "usage: tower-webhook sign",
        ),
        (
            &[
                "sign",
                "--scheme",
                "github",
                "--secret-env",
                "S",
                "--timestamp",
                "soon",
            ],
            "error: --timestamp must be Unix seconds, not `soon`",
            "usage: tower-webhook sign",
        ),
        (
            &["sign", "--scheme", "nope", "--secret-env", "S"],
            "error: unknown provider `nope`",
            "usage: tower-webhook sign",
        ),
        (
            &[
                "verify", "--scheme", "github", "--secret-env", "S", "-H", "no colon",
            ],
            "error: a header is `Name: value`, not `no colon`",
            "usage: tower-webhook verify",
        ),
        (
            &[
                "verify",
                "--scheme",
                "github",
                "--secret-env",
                "S",
                "-H",
                "bad name: x",
            ],
            "error: `bad name` is not a header name",
            "usage: tower-webhook verify",
        ),
        (
            &[
                "verify",
                "--scheme",
                "github",
                "--secret-env",
                "S",
                "--headers",
                "/nonexistent/headers",
            ],
            "error: reading headers from `/nonexistent/headers`",
            "usage: tower-webhook verify",
        ),
    ];
    for (args, message, usage) in cases {
        let output = run(args, b"{}");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        let text = stderr(&output);
        assert!(text.starts_with(message), "{args:?}: {text}");
        // Not the whole usage: the error, then where the usage is.
        let command = usage
            .trim_start_matches("usage: ")
            .replace(" <command>", "");
        let hint = format!("run `{command} --help` for the usage");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {text}");
        assert_eq!(lines[1], hint, "{args:?}: {text}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Whatever arrives, `verify` answers with a status, never a panic (101).
    #[test]
    fn verify_never_panics_on_received_headers(
        scheme in proptest::sample::select(vec!["github", "stripe", "standard", "slack", "twilio", "mailgun", "discord", "sendgrid"]),
        lines in proptest::collection::vec("[ -~]{0,40}", 0..4),
        body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
    ) {
        let mut args = vec!["verify", "--scheme", scheme, "--secret-env", "STANDARD_SECRET"];
        for line in &lines {
            args.extend(["-H", line.as_str()]);
        }
        let output = run(&args, &body);
        let code = output.status.code();
        proptest::prop_assert!(matches!(code, Some(1 | 2)), "{code:?}: {}", stderr(&output));
    }
}

#[test]
fn a_misspelt_scheme_gets_the_closest_name() {
    let output = run(&["sign", "--scheme", "strpe", "--secret-env", "S"], b"{}");
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("did you mean `stripe`"), "{text}");
}

/// `tower-webhook providers` prints the registry's table, and the README
/// shows that same table: the three cannot disagree.
#[test]
fn providers_lists_the_registry_as_the_readme_shows_it() {
    let output = run(&["providers"], b"");
    assert!(output.status.success(), "{}", stderr(&output));
    let table = tower_webhook::provider::markdown_table();
    assert_eq!(stdout(&output), table);
    for provider in tower_webhook::provider::ALL {
        let row = table
            .lines()
            .find(|line| line.starts_with(&format!("| `{}` |", provider.name)))
            .unwrap_or_else(|| panic!("{} is not listed", provider.name));
        let verified = if provider.vectors.is_verified() {
            "| verified |"
        } else {
            "| **unverified** |"
        };
        assert!(row.contains(verified), "{row}");
    }
    assert_eq!(
        table.lines().count(),
        tower_webhook::provider::ALL.len() + 2
    );
    // The README is generated with every provider, so every feature.
    if cfg!(all(feature = "ed25519", feature = "ecdsa")) {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        assert!(
            readme.contains(&table),
            "README.md's provider table is stale: paste `tower-webhook providers` into it"
        );
        let verified = tower_webhook::provider::ALL
            .iter()
            .filter(|provider| provider.vectors.is_verified())
            .count();
        let summary = format!(
            "{} providers, {verified} of them verified.",
            tower_webhook::provider::ALL.len()
        );
        assert!(readme.contains(&summary), "README.md should say: {summary}");
        let opener = format!(
            "signatures of {} providers)",
            tower_webhook::provider::ALL.len()
        );
        assert!(readme.contains(&opener), "README.md should say: {opener}");
    }
    // Anything after the command is a usage error, not ignored.
    let output = run(&["providers", "stripe"], b"");
    assert_eq!(output.status.code(), Some(2));
}

/// Two KEKs as an operator writes them: base64 and hex.
const KEK_NEW: &str = "new:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
const KEK_OLD: &str = "old:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const TENANT_SECRET: &str = "acme-webhook-secret-5d8f2a91";

#[test]
fn seal_unseal_and_reseal_a_tenant_secret_with_keks_from_a_file_or_the_environment() {
    let secret_file = TempFile::new("seal-secret", format!("{TENANT_SECRET}\n").as_bytes());
    let old_ring = TempFile::new(
        "kek-old",
        format!("# the first KEK\n{KEK_OLD}\n").as_bytes(),
    );
    let sealed = run(
        &[
            "seal",
            "--context",
            "acme",
            "--secret-file",
            secret_file.path(),
            "--kek-file",
            old_ring.path(),
        ],
        b"",
    );
    assert_eq!(sealed.status.code(), Some(0), "{}", stderr(&sealed));
    assert_eq!(stderr(&sealed), "");
    let sealed_text = stdout(&sealed);
    assert!(sealed_text.starts_with("tws1.old."), "{sealed_text}");
    assert!(!sealed_text.contains(TENANT_SECRET));

    // Opened from stdin with the KEKs in the default variable.
    let old_env = [("TOWER_WEBHOOK_KEK", KEK_OLD)];
    let opened = run_env(
        &["unseal", "--context", "acme"],
        sealed_text.as_bytes(),
        &old_env,
    );
    assert_eq!(opened.status.code(), Some(0), "{}", stderr(&opened));
    assert_eq!(stdout(&opened), format!("{TENANT_SECRET}\n"));

    // Sealed for acme, it does not open for globex; the error names no secret.
    let refused = run_env(
        &["unseal", "--context", "globex"],
        sealed_text.as_bytes(),
        &old_env,
    );
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(stdout(&refused), "");
    assert!(stderr(&refused).starts_with("error: the sealed secret does not open"));

    // KEK rotation: the new KEK first, the old one still listed.
    let both = format!("{KEK_NEW},{KEK_OLD}");
    let both_env = [("ROTATING", both.as_str())];
    let sealed_file = TempFile::new("sealed", sealed_text.as_bytes());
    let resealed = run_env(
        &[
            "reseal",
            "--context",
            "acme",
            "--kek-env",
            "ROTATING",
            "--sealed-file",
            sealed_file.path(),
        ],
        b"",
        &both_env,
    );
    assert_eq!(resealed.status.code(), Some(0), "{}", stderr(&resealed));
    let resealed_text = stdout(&resealed);
    assert!(resealed_text.starts_with("tws1.new."), "{resealed_text}");

    // The old KEK retired: the resealed text opens, the old one cannot.
    let new_env = [("TOWER_WEBHOOK_KEK", KEK_NEW)];
    let opened = run_env(
        &["unseal", "--context", "acme"],
        resealed_text.as_bytes(),
        &new_env,
    );
    assert_eq!(opened.status.code(), Some(0), "{}", stderr(&opened));
    assert_eq!(stdout(&opened), format!("{TENANT_SECRET}\n"));
    let stale = run_env(
        &["unseal", "--context", "acme"],
        sealed_text.as_bytes(),
        &new_env,
    );
    assert_eq!(stale.status.code(), Some(2));
    assert!(
        stderr(&stale).contains("names KEK `old`, which the keyring does not hold"),
        "{}",
        stderr(&stale)
    );
}

#[test]
fn seal_says_what_is_missing_and_never_echoes_a_key() {
    // No KEK anywhere.
    let output = run_env(
        &["seal", "--context", "acme", "--secret-env", "S"],
        b"",
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.starts_with("error: the environment variable `TOWER_WEBHOOK_KEK` is not set"),
        "{text}"
    );
    assert!(text.contains("--kek-file"), "{text}");

    // No context: refused before anything is read.
    let output = run_env(
        &["seal", "--secret-env", "S"],
        b"",
        &[("TOWER_WEBHOOK_KEK", KEK_NEW)],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).starts_with("error: --context is required"));

    // A short key: said so, without the key.
    let short = "k:c2hvcnQta2V5LTEyMw==";
    let output = run_env(
        &["seal", "--context", "acme", "--secret-env", "S"],
        b"",
        &[("TOWER_WEBHOOK_KEK", short)],
    );
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("KEK `k` is not 32 bytes"), "{text}");
    assert!(!text.contains("c2hvcnQta2V5"), "{text}");

    // Two inputs from stdin cannot both be read.
    let output = run(&["unseal", "--context", "acme", "--kek-file", "-"], b"");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).starts_with("error: only one input can come from standard input"));
}

/// Arguments a user might type, known flags included so parsing gets past
/// the first word. (No NUL: a process argument cannot hold one.)
fn word() -> impl Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        Just("sign".to_owned()),
        Just("verify".to_owned()),
        Just("seal".to_owned()),
        Just("unseal".to_owned()),
        Just("reseal".to_owned()),
        Just("providers".to_owned()),
        Just("--context".to_owned()),
        Just("--kek-file".to_owned()),
        Just("--kek-env".to_owned()),
        Just("--sealed-file".to_owned()),
        Just("--secret-file".to_owned()),
        Just("-".to_owned()),
        Just("help".to_owned()),
        Just("--scheme".to_owned()),
        Just("--secret".to_owned()),
        Just("--secret-env".to_owned()),
        Just("--body-file".to_owned()),
        Just("--timestamp".to_owned()),
        Just("--id".to_owned()),
        Just("--url".to_owned()),
        Just("-H".to_owned()),
        Just("--header".to_owned()),
        Just("--help".to_owned()),
        Just("--scheme=github".to_owned()),
        Just("--timestamp=-1".to_owned()),
        Just("=".to_owned()),
        "[^\0]{0,12}",
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Any command line is carried out or refused with a message, never a
    /// panic (exit status 101) or a silent failure.
    #[test]
    fn any_arguments_parse_or_fail_without_panicking(args in proptest::collection::vec(word(), 0..8)) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run(&args, b"");
        let code = output.status.code();
        proptest::prop_assert!(matches!(code, Some(0..=2)), "{args:?}: {code:?}: {}", stderr(&output));
        if code != Some(0) {
            proptest::prop_assert!(!stderr(&output).trim().is_empty(), "{args:?}: no message");
        }
    }

    /// `--name value` and `--name=value` mean the same.
    #[test]
    fn inline_and_separate_values_mean_the_same(
        scheme in proptest::prop_oneof![
            proptest::sample::select(vec!["github", "stripe", "standard", "slack"]).prop_map(str::to_owned),
            "[a-z-]{1,10}",
        ],
        secret in "[^=\0]{0,12}",
        ts in proptest::prelude::any::<i64>(),
    ) {
        let ts = ts.to_string();
        let separate = ["sign", "--scheme", &scheme, "--secret", &secret, "--timestamp", &ts, "--id", "d-1"];
        let inline = [
            "sign".to_owned(),
            format!("--scheme={scheme}"),
            format!("--secret={secret}"),
            format!("--timestamp={ts}"),
            "--id=d-1".to_owned(),
        ];
        let inline: Vec<&str> = inline.iter().map(String::as_str).collect();
        let (a, b) = (run(&separate, b"body"), run(&inline, b"body"));
        proptest::prop_assert_eq!(a.status.code(), b.status.code());
        proptest::prop_assert_eq!(stdout(&a), stdout(&b));
        proptest::prop_assert_eq!(stderr(&a), stderr(&b));
    }
}

#[test]
fn only_one_final_newline_of_a_secret_file_is_dropped() {
    for (contents, secret) in [("s\n", "s"), ("s\r\n", "s"), ("s\n\n", "s\n"), ("s", "s")] {
        let file = TempFile::new("newline", contents.as_bytes());
        let from_file = run(
            &[
                "sign",
                "--scheme",
                "github",
                "--signature-only",
                "--secret-file",
                file.path(),
            ],
            b"x",
        );
        let from_env = run_env(
            &[
                "sign",
                "--scheme",
                "github",
                "--signature-only",
                "--secret-env",
                "SECRET_AS_IS",
            ],
            b"x",
            &[("SECRET_AS_IS", secret)],
        );
        assert_eq!(from_file.status.code(), Some(0), "{}", stderr(&from_file));
        assert_eq!(stdout(&from_file), stdout(&from_env), "{contents:?}");
    }
}
