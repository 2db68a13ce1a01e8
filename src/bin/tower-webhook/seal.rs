//! `tower-webhook seal`, `unseal` and `reseal`: tenant secrets sealed at
//! rest, from the shell (see `tower_webhook::seal`).

use std::io::{self, Write};

use tower_webhook::seal::{KekRing, SealedSecret, KEK_VARIABLE};
use tower_webhook::Secret;
use zeroize::Zeroizing;

use crate::args::{read_file, Help, SecretSource, UsageError};

/// Which of the three commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Seal,
    Unseal,
    Reseal,
}

impl Action {
    pub fn help(self) -> Help {
        match self {
            Action::Seal => Help::Seal,
            Action::Unseal => Help::Unseal,
            Action::Reseal => Help::Reseal,
        }
    }
}

/// Where the KEKs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KekSource {
    /// `--kek-file <path>`.
    File(String),
    /// `--kek-env <name>`, or [`KEK_VARIABLE`] by default.
    Variable(String),
}

pub struct SealOptions {
    pub action: Action,
    pub kek: KekSource,
    /// What the secret is bound to (the tenant's name).
    pub context: String,
    /// `seal`: the secret to seal.
    pub secret: SecretSource,
    /// `unseal`, `reseal`: the sealed text, `-` (default) for stdin.
    pub sealed: String,
}

pub fn parse(
    action: Action,
    mut args: impl Iterator<Item = String>,
) -> Result<crate::args::Command, UsageError> {
    let help = action.help();
    let error = |message: String| UsageError::new(help, message);
    let mut kek = None;
    let mut context = None;
    let mut secret = None;
    let mut sealed = None;
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(crate::args::Command::Help(help));
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        let known = match name.as_str() {
            "--kek-file" | "--kek-env" | "--context" => true,
            "--secret" | "--secret-env" | "--secret-file" => action == Action::Seal,
            "--sealed-file" => action != Action::Seal,
            _ => false,
        };
        if !known {
            return Err(error(format!("unknown argument `{name}`")));
        }
        let Some(value) = inline.or_else(|| args.next()) else {
            return Err(error(format!("{name} needs a value")));
        };
        match name.as_str() {
            "--kek-file" | "--kek-env" => {
                if kek.is_some() {
                    return Err(error("give the KEKs once: --kek-file or --kek-env".into()));
                }
                kek = Some(if name == "--kek-file" {
                    KekSource::File(value)
                } else {
                    KekSource::Variable(value)
                });
            }
            "--context" => context = Some(value),
            "--sealed-file" => sealed = Some(value),
            _ => {
                if secret.is_some() {
                    return Err(error(
                        "give the secret once: --secret-file, --secret-env or --secret".into(),
                    ));
                }
                secret = Some(match name.as_str() {
                    "--secret-env" => SecretSource::Variable(value),
                    "--secret-file" => SecretSource::File(value),
                    _ => SecretSource::Argument(value),
                });
            }
        }
    }
    let secret = secret.unwrap_or(SecretSource::Default);
    let sealed = sealed.unwrap_or_else(|| "-".to_owned());
    let kek = kek.unwrap_or_else(|| KekSource::Variable(KEK_VARIABLE.to_owned()));
    let from_stdin = [
        kek == KekSource::File("-".into()),
        secret == SecretSource::File("-".into()),
        action != Action::Seal && sealed == "-",
    ];
    if from_stdin.iter().filter(|&&stdin| stdin).count() > 1 {
        return Err(error(
            "only one input can come from standard input: give the others with a file".into(),
        ));
    }
    // Required, even when empty: a secret sealed for the wrong tenant (or
    // none) would only fail later, at the first delivery.
    let context = context.ok_or_else(|| {
        error(
            "--context is required: the tenant the secret belongs to (`--context ''` for none)"
                .into(),
        )
    })?;
    Ok(crate::args::Command::Seal(SealOptions {
        action,
        kek,
        context,
        secret,
        sealed,
    }))
}

pub fn run(options: SealOptions) -> Result<(), UsageError> {
    let help = options.action.help();
    let error = |message: String| UsageError::new(help, message);
    let ring = read_ring(&options.kek).map_err(error)?;
    let mut stdout = io::stdout().lock();
    let written = match options.action {
        Action::Seal => {
            let text = Zeroizing::new(options.secret.read(help)?);
            let secret = Secret::new(text.as_bytes()).map_err(|e| error(e.to_string()))?;
            let sealed = ring
                .seal(&secret, &options.context)
                .map_err(|e| error(e.to_string()))?;
            writeln!(stdout, "{sealed}")
        }
        Action::Unseal | Action::Reseal => {
            let sealed = read_sealed(&options.sealed).map_err(error)?;
            if options.action == Action::Unseal {
                let secret = ring
                    .open(&sealed, &options.context)
                    .map_err(|e| error(e.to_string()))?;
                stdout
                    .write_all(secret.expose_secret())
                    .and_then(|()| stdout.write_all(b"\n"))
            } else {
                let resealed = ring
                    .reseal(&sealed, &options.context)
                    .map_err(|e| error(e.to_string()))?;
                writeln!(stdout, "{resealed}")
            }
        }
    };
    written.map_err(|e| error(format!("writing the output: {e}")))
}

fn read_ring(source: &KekSource) -> Result<KekRing, String> {
    match source {
        KekSource::Variable(name) => KekRing::from_env(name).map_err(|e| {
            if name == KEK_VARIABLE {
                format!(
                    "{e}: give the KEKs with --kek-file <path>, --kek-env <name> or {KEK_VARIABLE}"
                )
            } else {
                format!("--kek-env: {e}")
            }
        }),
        KekSource::File(path) => {
            let bytes = read_file(path)
                .map(Zeroizing::new)
                .map_err(|e| format!("reading the KEKs from `{path}`: {e}"))?;
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| format!("the KEKs in `{path}` are not UTF-8"))?;
            KekRing::parse(text).map_err(|e| format!("the KEKs in `{path}`: {e}"))
        }
    }
}

fn read_sealed(path: &str) -> Result<SealedSecret, String> {
    let from = if path == "-" { "stdin" } else { path };
    let bytes =
        read_file(path).map_err(|e| format!("reading the sealed secret from {from}: {e}"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("the sealed secret from {from} is not UTF-8"))?;
    text.parse().map_err(|e| format!("{from}: {e}"))
}
