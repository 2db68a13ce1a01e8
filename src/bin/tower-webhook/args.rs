//! The command line, parsed by hand: a few subcommands and options do not
//! justify an argument-parsing dependency in everyone's build.

use tower_webhook::provider;

use crate::seal::{Action, SealOptions};

/// What to do.
pub enum Command {
    Sign(SignOptions),
    Verify(VerifyOptions),
    /// `seal`, `unseal`, `reseal`.
    Seal(SealOptions),
    /// `providers`: the registry as a table.
    Providers,
    /// `inbox list|retry|purge`: the dead letters.
    #[cfg_attr(not(feature = "inbox-sqlite"), allow(dead_code))]
    Inbox(InboxOptions),
    Help(Help),
    Version,
}

/// Which usage text to show.
#[derive(Debug, Clone, Copy)]
pub enum Help {
    Main,
    Sign,
    Verify,
    Seal,
    Unseal,
    Reseal,
    Inbox,
}

/// What `inbox` does to the dead letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxAction {
    List,
    Retry,
    Purge,
}

/// Where the inbox is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "inbox-sqlite"), allow(dead_code))]
pub enum InboxStore {
    Sqlite(String),
    Redis { url: String, prefix: String },
    RedisCluster { nodes: Vec<String>, prefix: String },
}

#[cfg_attr(not(feature = "inbox-sqlite"), allow(dead_code))]
pub struct InboxOptions {
    pub action: InboxAction,
    pub store: InboxStore,
    /// `--key`; `None` with `--all` (retry and purge ask for one of them).
    pub key: Option<String>,
    /// `--limit` for `list` (default 100).
    pub limit: usize,
}

/// The environment variable read for the secret when no option names one.
pub const SECRET_VARIABLE: &str = "TOWER_WEBHOOK_SECRET";

/// Where the secret comes from. Read only once the command line parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `--secret <secret>`: visible in `ps`, `/proc/*/cmdline` and the
    /// shell history, so it prints a warning.
    Argument(String),
    /// `--secret-env <name>`.
    Variable(String),
    /// `--secret-file <path>`, `-` for standard input.
    File(String),
    /// None of them: [`SECRET_VARIABLE`].
    Default,
}

pub struct SignOptions {
    pub scheme: String,
    pub secret: SecretSource,
    /// `--body-file`; standard input when absent.
    pub body: Option<String>,
    /// Unix seconds; now when absent.
    pub timestamp: Option<i64>,
    /// The delivery id; a random `msg_…` when absent.
    pub id: Option<String>,
    pub url: Option<String>,
    /// `--signature-only`: the signature headers alone, not the delivery
    /// and event headers the provider sends with them.
    pub signature_only: bool,
}

pub struct VerifyOptions {
    pub scheme: String,
    pub secret: SecretSource,
    /// `--body-file`; standard input when absent.
    pub body: Option<String>,
    /// `Name: value` lines, from `--header` and `--headers`, in order.
    pub headers: Vec<String>,
    pub url: Option<String>,
}

/// Bad arguments, and the usage to show with the message.
pub struct UsageError {
    pub help: Help,
    pub message: String,
}

impl UsageError {
    pub fn new(help: Help, message: impl Into<String>) -> Self {
        Self {
            help,
            message: message.into(),
        }
    }
}

/// The one line a usage error ends with: where the whole usage is.
pub fn help_hint(help: Help) -> &'static str {
    match help {
        Help::Main => "run `tower-webhook --help` for the usage",
        Help::Sign => "run `tower-webhook sign --help` for the usage",
        Help::Verify => "run `tower-webhook verify --help` for the usage",
        Help::Seal => "run `tower-webhook seal --help` for the usage",
        Help::Unseal => "run `tower-webhook unseal --help` for the usage",
        Help::Reseal => "run `tower-webhook reseal --help` for the usage",
        Help::Inbox => "run `tower-webhook inbox --help` for the usage",
    }
}

pub fn usage(help: Help) -> String {
    match help {
        Help::Main => format!(
            "usage: tower-webhook <command> [options] < body\n\
             \n\
             commands:\n  \
               sign     print the headers a provider would send with the body\n  \
               verify   check a delivery's signature headers against the body\n  \
               seal     seal a tenant's secret for storage (a KEK from TOWER_WEBHOOK_KEK)\n  \
               unseal   open a sealed secret\n  \
               reseal   open a sealed secret and seal it with the current KEK\n  \
               inbox    list, retry or purge the dead letters of an inbox\n  \
               providers  every provider: what it signs, whether it is verified on\n             \
                          the provider's published examples, its handshake,\n             \
                          tolerance and retry horizon (a Markdown table)\n  \
               help     this text, or `help <command>`\n\
             \n\
             options: -h, --help (also after a command), -V, --version\n\
             exit status: 0 done, 1 signature refused, 2 usage or input error,\n\
             3 the inbox's store failed\n\
             \n\
             schemes: {}\n",
            scheme_list()
        ),
        Help::Sign => format!(
            "usage: tower-webhook sign --scheme <name> --secret-file <path> [options] < body\n\
             \n\
             Prints every header the provider would send, one `Name: value` per line:\n\
             the signature, the delivery id and the event (a harmless default such as\n\
             `ping` where it depends on the event). Mailgun signs in the body: for it,\n\
             prints the JSON body Mailgun sends, the input as its `event-data`.\n\
             \n  \
               --scheme <name>       the provider's scheme (see below)\n\
             {}  \
               --timestamp <secs>    Unix seconds to sign (default: now)\n  \
               --id <id>             the delivery id (default: a random msg_…)\n  \
               --url <url>           the URL called, for schemes that sign it\n                        \
                                     (twilio, square, hubspot)\n  \
               --body-file <path>    the body, instead of standard input\n  \
               --signature-only      only the signature headers (Mailgun: only the\n                        \
                                     `signature` object)\n\
             \n\
             The secret as the provider shows it: whsec_… for standard/svix, verbatim\n\
             for stripe and mailgun (the HTTP webhook signing key), a private key for\n\
             ed25519/ecdsa.\n\
             \n\
             schemes: {}\n",
            SECRET_OPTIONS,
            scheme_list()
        ),
        Help::Verify => format!(
            "usage: tower-webhook verify --scheme <name> --secret-file <path> [options] < body\n\
             \n\
             Checks the signature headers against the body as the signature layer does;\n\
             prints what verified, or `refused: <reason>` and exits with 1. The timestamp's\n\
             age is not checked (that is the replay layer's job): it is printed.\n\
             \n  \
               --scheme <name>       the provider's scheme (see below)\n\
             {}  \
               -H, --header <line>   a received header, `Name: value` (repeatable)\n  \
               --headers <file>      received headers, one `Name: value` per line\n                        \
                                     (what `tower-webhook sign` prints)\n  \
               --url <url>           the URL called, for schemes that sign it\n  \
               --body-file <path>    the body, instead of standard input\n\
             \n\
             The secret as the provider shows it (a public key for ed25519/ecdsa).\n\
             \n\
             schemes: {}\n",
            SECRET_OPTIONS,
            scheme_list()
        ),
        Help::Seal => format!(
            "usage: tower-webhook seal --context <tenant> --secret-file <path> [--kek-file <path>]\n\
             \n\
             Prints the secret sealed with the current KEK, bound to <tenant>:\n\
             `tws1.<kek-id>.<base64>`, to store in the tenant's row. It opens only with\n\
             that KEK and for that tenant.\n\
             \n  \
               --context <tenant>    what the secret is bound to, usually the tenant's\n                        \
                                     name (`--context ''` for none)\n  \
               --secret-file <path>  read the secret from a file (one trailing newline\n                        \
                                     dropped); `-` reads it from standard input\n  \
               --secret-env <name>   read it from the environment variable <name>\n                        \
                                     (default: TOWER_WEBHOOK_SECRET)\n  \
               --secret <secret>     the secret itself: discouraged, it shows in `ps`\n\
             {KEK_OPTIONS}\
             \n\
             Seal the secret as the provider shows it (whsec_… included).\n"
        ),
        Help::Unseal => format!(
            "usage: tower-webhook unseal --context <tenant> [--sealed-file <path>] [--kek-file <path>]\n\
             \n\
             Prints the secret a sealed text holds (read from standard input by default).\n\
             \n  \
               --context <tenant>    the tenant it was sealed for\n  \
               --sealed-file <path>  the sealed text, instead of standard input\n\
             {KEK_OPTIONS}"
        ),
        Help::Reseal => format!(
            "usage: tower-webhook reseal --context <tenant> [--sealed-file <path>] [--kek-file <path>]\n\
             \n\
             Opens a sealed text with whichever KEK sealed it and prints it sealed with the\n\
             current KEK (the first one), for rotating KEKs: add the new KEK first in the\n\
             list on every replica, reseal every row, then remove the old KEK.\n\
             \n  \
               --context <tenant>    the tenant it was sealed for\n  \
               --sealed-file <path>  the sealed text, instead of standard input\n\
             {KEK_OPTIONS}"
        ),
        Help::Inbox => "usage: tower-webhook inbox <list|retry|purge> (--sqlite <path> | --redis <url> | --redis-cluster <urls>) [options]\n\
             \n\
             The dead letters of an inbox: deliveries whose handler failed on every attempt.\n\
             \n  \
               list                  one line per dead letter: key, attempts, provider,\n                        \
                                     delivery id, received at (Unix ms), last error\n  \
               retry                 put dead letters back in the inbox, attempts reset\n  \
               purge                 delete dead letters (their keys stay remembered, so\n                        \
                                     the sender's retries are not taken again)\n\
             \n  \
               --sqlite <path>       the inbox file (SqliteInbox)\n  \
               --redis <url>         the Redis of a RedisInbox (redis://host:port/db)\n  \
               --redis-cluster <urls>\n                        \
                                     the nodes of a Redis Cluster, comma-separated\n  \
               --prefix <prefix>     its key prefix (default tower-webhook:inbox)\n  \
               --key <key>           retry or purge only this dead letter\n  \
               --all                 retry or purge every dead letter\n  \
               --limit <n>           list at most n (default 100)\n"
            .to_owned(),
    }
}

/// The KEK options, as the seal commands' usage lists them.
const KEK_OPTIONS: &str = "  \
  --kek-file <path>     the KEKs: `id:key` entries (32 bytes as base64 or 64 hex\n                        \
                        digits), one per line or comma-separated, the current\n                        \
                        one first; make a key with `openssl rand -base64 32`\n  \
  --kek-env <name>      the KEKs from the environment variable <name>\n                        \
                        (default when neither is given: TOWER_WEBHOOK_KEK)\n";

/// The secret options, as both commands' usage lists them.
const SECRET_OPTIONS: &str = "  \
  --secret-file <path>  read the secret from a file (one trailing newline dropped);\n                        \
                        `-` reads it from standard input (the body then comes from\n                        \
                        --body-file)\n  \
  --secret-env <name>   read the secret from the environment variable <name>\n                        \
                        (default when no secret option is given: TOWER_WEBHOOK_SECRET)\n  \
  --secret <secret>     the secret itself: discouraged, it shows in `ps` and the\n                        \
                        shell history\n";

fn scheme_list() -> String {
    provider::scheme_names().collect::<Vec<_>>().join(", ")
}

pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Command, UsageError> {
    let Some(command) = args.next() else {
        return Err(UsageError::new(Help::Main, "a command is required"));
    };
    match command.as_str() {
        "sign" => parse_options(Help::Sign, args),
        "inbox" => parse_inbox(args),
        "verify" => parse_options(Help::Verify, args),
        "seal" => crate::seal::parse(Action::Seal, args),
        "unseal" => crate::seal::parse(Action::Unseal, args),
        "reseal" => crate::seal::parse(Action::Reseal, args),
        "providers" => match args.next() {
            None => Ok(Command::Providers),
            Some(arg) if arg == "-h" || arg == "--help" => Ok(Command::Help(Help::Main)),
            Some(other) => Err(UsageError::new(
                Help::Main,
                format!("`providers` takes no argument (got `{other}`)"),
            )),
        },
        "help" | "-h" | "--help" => Ok(Command::Help(match args.next().as_deref() {
            None => Help::Main,
            Some("sign") => Help::Sign,
            Some("verify") => Help::Verify,
            Some("seal") => Help::Seal,
            Some("unseal") => Help::Unseal,
            Some("reseal") => Help::Reseal,
            Some("inbox") => Help::Inbox,
            Some(other) => return Err(no_command(other)),
        })),
        "-V" | "--version" => Ok(Command::Version),
        other => Err(no_command(other)),
    }
}

const COMMANDS: [&str; 8] = [
    "sign",
    "verify",
    "seal",
    "unseal",
    "reseal",
    "providers",
    "inbox",
    "help",
];

/// An unknown command, with the closest one if it is a likely typo (with
/// three commands ending in `seal`, `seel` and `unsael` happen).
fn no_command(asked: &str) -> UsageError {
    let closest = COMMANDS
        .iter()
        .map(|known| (strsim::damerau_levenshtein(asked, known), known))
        .min();
    let message = match closest {
        Some((distance, known)) if distance <= 2 => {
            format!("no command `{asked}`; did you mean `{known}`?")
        }
        _ => format!("no command `{asked}`"),
    };
    UsageError::new(Help::Main, message)
}

fn parse_options(
    help: Help,
    mut args: impl Iterator<Item = String>,
) -> Result<Command, UsageError> {
    let error = |message: String| UsageError::new(help, message);
    let mut scheme = None;
    let mut secret: Option<SecretSource> = None;
    let mut body = None;
    let mut timestamp = None;
    let mut id = None;
    let mut url = None;
    let mut headers = Vec::new();
    let mut signature_only = false;
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help(help));
        }
        if arg == "--signature-only" && matches!(help, Help::Sign) {
            signature_only = true;
            continue;
        }
        // `--name value` or `--name=value`.
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        let signing = matches!(help, Help::Sign);
        let known = match name.as_str() {
            "--scheme" | "--secret" | "--secret-env" | "--secret-file" | "--url"
            | "--body-file" => true,
            "--timestamp" | "--id" => signing,
            "-H" | "--header" | "--headers" => !signing,
            _ => false,
        };
        if !known {
            return Err(error(format!("unknown argument `{name}`")));
        }
        let value = match inline.or_else(|| args.next()) {
            Some(value) => value,
            None => return Err(error(format!("{name} needs a value"))),
        };
        match name.as_str() {
            "--scheme" => scheme = Some(value),
            "--secret" | "--secret-env" | "--secret-file" => {
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
            "--body-file" => body = Some(value),
            "--url" => url = Some(value),
            "--id" => id = Some(value),
            "--timestamp" => {
                let seconds = value.parse().map_err(|_| {
                    error(format!("--timestamp must be Unix seconds, not `{value}`"))
                })?;
                timestamp = Some(seconds);
            }
            "-H" | "--header" => headers.push(value),
            _ => {
                let text = std::fs::read_to_string(&value)
                    .map_err(|e| error(format!("reading headers from `{value}`: {e}")))?;
                headers.extend(
                    text.lines()
                        .filter(|line| !line.trim().is_empty())
                        .map(str::to_owned),
                );
            }
        }
    }
    let scheme = scheme.ok_or_else(|| error("--scheme is required".into()))?;
    let secret = secret.unwrap_or(SecretSource::Default);
    if secret == SecretSource::File("-".into()) && body.as_deref().is_none_or(|b| b == "-") {
        return Err(error(
            "--secret-file - reads the secret from standard input: give the body with --body-file"
                .into(),
        ));
    }
    Ok(match help {
        Help::Verify => Command::Verify(VerifyOptions {
            scheme,
            secret,
            body,
            headers,
            url,
        }),
        _ => Command::Sign(SignOptions {
            scheme,
            secret,
            body,
            timestamp,
            id,
            url,
            signature_only,
        }),
    })
}

fn parse_inbox(mut args: impl Iterator<Item = String>) -> Result<Command, UsageError> {
    let error = |message: String| UsageError::new(Help::Inbox, message);
    let action = match args.next().as_deref() {
        Some("list") => InboxAction::List,
        Some("retry") => InboxAction::Retry,
        Some("purge") => InboxAction::Purge,
        Some("-h" | "--help") => return Ok(Command::Help(Help::Inbox)),
        Some(other) => {
            return Err(error(format!(
                "no inbox action `{other}`: list, retry or purge"
            )))
        }
        None => return Err(error("an action is required: list, retry or purge".into())),
    };
    let (mut sqlite, mut redis, mut prefix, mut key) = (None, None, None, None);
    let mut cluster: Option<String> = None;
    let (mut all, mut limit) = (false, 100usize);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help(Help::Inbox)),
            "--all" => {
                all = true;
                continue;
            }
            _ => {}
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        if !matches!(
            name.as_str(),
            "--sqlite" | "--redis" | "--redis-cluster" | "--prefix" | "--key" | "--limit"
        ) {
            return Err(error(format!("unknown argument `{name}`")));
        }
        let Some(value) = inline.or_else(|| args.next()) else {
            return Err(error(format!("{name} needs a value")));
        };
        match name.as_str() {
            "--sqlite" => sqlite = Some(value),
            "--redis" => redis = Some(value),
            "--redis-cluster" => cluster = Some(value),
            "--prefix" => prefix = Some(value),
            "--key" => key = Some(value),
            _ => {
                limit = value
                    .parse()
                    .map_err(|_| error(format!("--limit must be a number, not `{value}`")))?;
            }
        }
    }
    let prefix = prefix.unwrap_or_else(|| "tower-webhook:inbox".to_owned());
    let store = match (sqlite, redis, cluster) {
        (Some(path), None, None) => InboxStore::Sqlite(path),
        (None, Some(url), None) => InboxStore::Redis { url, prefix },
        (None, None, Some(nodes)) => InboxStore::RedisCluster {
            nodes: nodes.split(',').map(str::to_owned).collect(),
            prefix,
        },
        _ => {
            return Err(error(
                "give the inbox: --sqlite <path>, --redis <url> or --redis-cluster <urls>".into(),
            ))
        }
    };
    if action != InboxAction::List && key.is_some() == all {
        return Err(error("retry and purge need --key <key> or --all".into()));
    }
    Ok(Command::Inbox(InboxOptions {
        action,
        store,
        key,
        limit,
    }))
}

impl SecretSource {
    /// The secret. `--secret` warns on standard error, since the secret is
    /// already exposed by the time this runs.
    pub fn read(&self, help: Help) -> Result<String, UsageError> {
        let error = |message: String| UsageError::new(help, message);
        match self {
            SecretSource::Argument(secret) => {
                eprintln!(
                    "warning: --secret shows the secret in the process list and the shell \
                     history; prefer --secret-file <path>, --secret-env <name> or {SECRET_VARIABLE}"
                );
                Ok(secret.clone())
            }
            SecretSource::Variable(name) => variable(name).ok_or_else(|| {
                error(format!(
                    "--secret-env: the environment variable `{name}` is not set (or not UTF-8)"
                ))
            }),
            SecretSource::Default => variable(SECRET_VARIABLE).ok_or_else(|| {
                error(format!(
                    "a secret is required: --secret-file <path>, --secret-env <name> or \
                     {SECRET_VARIABLE}"
                ))
            }),
            SecretSource::File(path) => {
                let bytes = read_file(path)
                    .map_err(|e| error(format!("reading the secret from `{path}`: {e}")))?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| error(format!("the secret in `{path}` is not UTF-8")))?;
                Ok(without_final_newline(text))
            }
        }
    }
}

fn variable(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A file's bytes; `-` is standard input.
pub fn read_file(path: &str) -> std::io::Result<Vec<u8>> {
    if path == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(path)
    }
}

/// Editors and `echo` end a file with a newline that is no part of the
/// secret.
fn without_final_newline(mut text: String) -> String {
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    text
}
