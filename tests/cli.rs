//! The `tower-webhook` command (feature `cli`), run as a user would: the
//! built binary, a body on stdin, and its output and exit status.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const GITHUB_SECRET: &str = "It's a Secret to Everybody";

/// Run the command with `args` and `body` on stdin.
fn run(args: &[&str], body: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tower-webhook"))
        .args(args)
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
fn sign_prints_the_providers_headers() {
    // GitHub's published example.
    let output = run(
        &[
            "sign",
            "--scheme",
            "github",
            "--secret",
            GITHUB_SECRET,
            "--id",
            "d-1",
        ],
        b"Hello, World!",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains(
        "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\n"
    ));
}

#[test]
fn what_sign_prints_verify_accepts() {
    let body = br#"{"type":"invoice.paid"}"#;
    let signed = run(
        &[
            "sign",
            "--scheme=stripe",
            "--secret=whsec_cli",
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
            "--secret",
            "whsec_cli",
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
            "--secret",
            "whsec_cli",
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
            "--secret",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
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
        &["verify", "--scheme", "github", "--secret", GITHUB_SECRET],
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
fn usage_errors_exit_with_2_and_the_usage() {
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
            &["sign", "--scheme", "github"],
            "error: --secret is required",
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
                "--secret",
                "s",
                "--timestamp",
                "soon",
            ],
            "error: --timestamp must be Unix seconds, not `soon`",
            "usage: tower-webhook sign",
        ),
        (
            &["sign", "--scheme", "nope", "--secret", "s"],
            "error: unknown provider `nope`",
            "usage: tower-webhook sign",
        ),
        (
            &[
                "verify", "--scheme", "github", "--secret", "s", "-H", "no colon",
            ],
            "error: a header is `Name: value`, not `no colon`",
            "usage: tower-webhook verify",
        ),
        (
            &[
                "verify",
                "--scheme",
                "github",
                "--secret",
                "s",
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
                "--secret",
                "s",
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
        assert!(text.contains(usage), "{args:?}: {text}");
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
        let mut args = vec!["verify", "--scheme", scheme, "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"];
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
    let output = run(&["sign", "--scheme", "strpe", "--secret", "s"], b"{}");
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("did you mean `stripe`"), "{text}");
}
