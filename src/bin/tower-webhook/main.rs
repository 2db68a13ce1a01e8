//! `tower-webhook`: sign a body as a provider would, verify a signed
//! delivery, seal a tenant's secret for storage, list the providers, or
//! list, retry and purge an inbox's dead letters, from the command line.
//!
//! ```text
//! cargo install tower-webhook --features cli
//! export TOWER_WEBHOOK_SECRET="It's a Secret to Everybody"
//! echo '{"zen":"hi"}' | tower-webhook sign --scheme github
//! ```
//!
//! Exit status: 0 done (signed, or the signature verified), 1 the signature
//! was refused, 2 a usage or input error, 3 the inbox's store failed.

mod args;
#[cfg(feature = "inbox-sqlite")]
mod inbox;
mod seal;
mod sign;
mod verify;

use std::process::ExitCode;

use args::{Command, Help, UsageError};

/// What went wrong, and so which exit status.
enum Failure {
    /// Bad arguments or input: status 2, with where the usage is.
    Usage(UsageError),
    /// `verify` refused the delivery: status 1.
    Refused(String),
    /// The inbox's store could not be read or changed: status 3.
    #[cfg_attr(not(feature = "inbox-sqlite"), allow(dead_code))]
    Store(String),
}

impl From<UsageError> for Failure {
    fn from(error: UsageError) -> Self {
        Failure::Usage(error)
    }
}

fn main() -> ExitCode {
    match args::parse(std::env::args().skip(1))
        .map_err(Failure::from)
        .and_then(run)
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Refused(reason)) => {
            eprintln!("refused: {reason}");
            ExitCode::from(1)
        }
        Err(Failure::Store(message)) => {
            eprintln!("inbox: {message}");
            ExitCode::from(3)
        }
        Err(Failure::Usage(error)) => {
            // The error and where the usage is: the whole usage would bury
            // the one line that matters.
            eprintln!("error: {}\n{}", error.message, args::help_hint(error.help));
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Help(help) => print!("{}", args::usage(help)),
        Command::Version => println!("tower-webhook {}", env!("CARGO_PKG_VERSION")),
        Command::Providers => print!("{}", tower_webhook::provider::markdown_table()),
        Command::Sign(options) => {
            // The secret first: `--secret-file -` reads standard input.
            let secret = options.secret.read(Help::Sign)?;
            let body = read_body(Help::Sign, options.body.as_deref())?;
            sign::run(options, &secret, &body)?
        }
        Command::Seal(options) => seal::run(options)?,
        #[cfg(feature = "inbox-sqlite")]
        Command::Inbox(options) => inbox::run(options)?,
        #[cfg(not(feature = "inbox-sqlite"))]
        Command::Inbox(_) => {
            return Err(Failure::Usage(args::UsageError::new(
                Help::Inbox,
                "this build has no inbox support: install with --features cli,inbox-sqlite \
                 (and redis for a Redis inbox)",
            )))
        }
        Command::Verify(options) => {
            let secret = options.secret.read(Help::Verify)?;
            let body = read_body(Help::Verify, options.body.as_deref())?;
            verify::run(options, &secret, &body)?
        }
    }
    Ok(())
}

/// The body, from `--body-file` or else standard input, byte for byte (a
/// trailing newline is part of it).
fn read_body(help: Help, file: Option<&str>) -> Result<Vec<u8>, UsageError> {
    let file = file.unwrap_or("-");
    args::read_file(file).map_err(|error| {
        let from = if file == "-" { "stdin" } else { file };
        UsageError::new(help, format!("reading the body from {from}: {error}"))
    })
}
