//! Tenant invalidation through Redis pub/sub; documented in the
//! [`tenant`](crate::tenant) module.

use std::time::Duration;

use futures_util::StreamExt;

use super::TenantLayer;

/// The channel tenant names are published on.
const CHANNEL: &str = "tower-webhook:tenant-invalidations";

/// How long a listener waits before subscribing again after losing Redis.
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);

impl TenantLayer {
    /// Forget `tenant` here and on every replica listening
    /// ([`listen_for_invalidations`](Self::listen_for_invalidations)) on the
    /// Redis server at `url`. Forgotten here even when publishing fails; the
    /// error then says the other replicas learn it only when their cache
    /// entries expire.
    pub async fn invalidate_everywhere(
        &self,
        url: &str,
        tenant: &str,
    ) -> Result<(), redis::RedisError> {
        self.invalidate(tenant).await;
        let client = redis::Client::open(url)?;
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("PUBLISH")
            .arg(CHANNEL)
            .arg(tenant)
            .query_async::<i64>(&mut connection)
            .await?;
        Ok(())
    }

    /// Act on invalidations published by any replica on the Redis server at
    /// `url`, in a task of the current tokio runtime, for as long as the
    /// layer's cache lives. Losing the subscription forgets every cached
    /// tenant once it is back (see the [tenant module docs](crate::tenant#invalidation-across-replicas)).
    pub fn listen_for_invalidations(
        &self,
        url: &str,
    ) -> Result<tokio::task::JoinHandle<()>, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let layer = self.clone();
        Ok(tokio::spawn(async move {
            loop {
                match client.get_async_pubsub().await {
                    Ok(mut pubsub) => {
                        if let Err(error) = pubsub.subscribe(CHANNEL).await {
                            tracing::warn!(%error, "tenant invalidations: cannot subscribe");
                        } else {
                            // Whatever was published while unsubscribed is lost.
                            layer.invalidate_all();
                            let mut messages = pubsub.into_on_message();
                            while let Some(message) = messages.next().await {
                                if let Ok(tenant) = message.get_payload::<String>() {
                                    layer.invalidate(&tenant).await;
                                }
                            }
                            tracing::warn!(
                                "tenant invalidations: subscription lost, resubscribing"
                            );
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "tenant invalidations: cannot reach Redis");
                    }
                }
                tokio::time::sleep(RESUBSCRIBE_AFTER).await;
            }
        }))
    }
}
