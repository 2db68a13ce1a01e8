//! `tower-webhook inbox list|retry|purge`: the dead letters of an inbox, on
//! its SQLite file or its Redis.

use std::sync::Arc;

use tower_webhook::inbox::{Inbox, SqliteInbox};

use crate::args::{Help, InboxAction, InboxOptions, InboxStore, UsageError};
use crate::Failure;

pub fn run(options: InboxOptions) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| store_error(format!("starting the runtime: {e}")))?;
    runtime.block_on(async move {
        let inbox = open(&options.store).await?;
        match options.action {
            InboxAction::List => {
                let letters = inbox
                    .dead_letters(options.limit)
                    .await
                    .map_err(|e| store_error(e.to_string()))?;
                println!("key\tattempts\tprovider\tdelivery_id\treceived_at_ms\tlast_error");
                for letter in &letters {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        letter.key,
                        letter.attempts,
                        letter.provider.as_deref().unwrap_or("-"),
                        letter.delivery_id.as_deref().unwrap_or("-"),
                        letter.received_at_ms,
                        // One line per letter, whatever the handler said.
                        letter.last_error.replace(['\n', '\r', '\t'], " "),
                    );
                }
                eprintln!("{} dead letter(s)", letters.len());
            }
            InboxAction::Retry => {
                let moved = inbox
                    .retry_dead(options.key.as_deref())
                    .await
                    .map_err(|e| store_error(e.to_string()))?;
                println!("{moved} dead letter(s) back in the inbox");
            }
            InboxAction::Purge => {
                let purged = inbox
                    .purge_dead(options.key.as_deref())
                    .await
                    .map_err(|e| store_error(e.to_string()))?;
                println!("{purged} dead letter(s) purged");
            }
        }
        Ok(())
    })
}

async fn open(store: &InboxStore) -> Result<Arc<dyn Inbox>, Failure> {
    match store {
        InboxStore::Sqlite(path) => {
            if !std::path::Path::new(path).exists() {
                // Opening would create an empty inbox: surely a typo.
                return Err(Failure::Usage(UsageError::new(
                    Help::Inbox,
                    format!("no inbox file `{path}`"),
                )));
            }
            let inbox = SqliteInbox::open(path).map_err(|e| store_error(e.to_string()))?;
            Ok(Arc::new(inbox))
        }
        #[cfg(feature = "redis")]
        InboxStore::Redis { url, prefix } => {
            let inbox = tower_webhook::inbox::RedisInbox::connect_with_prefix(url, prefix)
                .await
                .map_err(|e| store_error(e.to_string()))?;
            Ok(Arc::new(inbox))
        }
        #[cfg(not(feature = "redis"))]
        InboxStore::Redis { .. } => Err(Failure::Usage(UsageError::new(
            Help::Inbox,
            "this build has no Redis support (feature `redis`)",
        ))),
        #[cfg(feature = "redis-cluster")]
        InboxStore::RedisCluster { nodes, prefix } => {
            let nodes: Vec<&str> = nodes.iter().map(String::as_str).collect();
            let inbox = tower_webhook::inbox::RedisInbox::connect_cluster(&nodes, prefix)
                .await
                .map_err(|e| store_error(e.to_string()))?;
            Ok(Arc::new(inbox))
        }
        #[cfg(not(feature = "redis-cluster"))]
        InboxStore::RedisCluster { .. } => Err(Failure::Usage(UsageError::new(
            Help::Inbox,
            "this build has no Redis Cluster support (feature `redis-cluster`)",
        ))),
    }
}

fn store_error(message: String) -> Failure {
    Failure::Store(message)
}
