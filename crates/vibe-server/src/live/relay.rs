//! How committed changes reach every node's hubs. SQLite is single-node, so the
//! relay hands batches straight to the local hubs. On PostgreSQL the node that
//! committed sends `NOTIFY` and every node — the origin included — feeds its
//! hubs from `LISTEN`, so all nodes see the same changes in the same order and
//! nothing is delivered twice (see docs/architecture.md, "Live feed").

use std::sync::Arc;

use anyhow::Context;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::{mpsc, Notify};

use super::hub::Hubs;
use super::record::LiveBatch;

pub trait Relay: Send + Sync {
    /// Publishes changes that are already committed. Never blocks the caller.
    fn publish(&self, batches: Vec<LiveBatch>);
}

pub struct LocalRelay(pub Arc<Hubs>);

impl Relay for LocalRelay {
    fn publish(&self, batches: Vec<LiveBatch>) {
        for b in batches {
            self.0.dispatch(b);
        }
    }
}

/// Committed batches waiting for `NOTIFY`, at most; beyond that (PostgreSQL slow
/// or unreachable) records are dropped and every node is told to resync.
const OUTBOX_CAPACITY: usize = 1024;
/// A `NOTIFY` payload that is not a record: every node reloads its hubs'
/// presence and sends fresh snapshots (records were lost before it).
const RESYNC_PAYLOAD: &str = "resync";

/// `NOTIFY`/`LISTEN` on one channel per database schema, so test databases that
/// share one PostgreSQL database do not hear each other.
pub struct PgRelay {
    outbox: mpsc::Sender<Vec<String>>,
    /// Signalled when records were dropped; the next `NOTIFY` asks for a resync.
    lost: Arc<Notify>,
}

impl Relay for PgRelay {
    fn publish(&self, batches: Vec<LiveBatch>) {
        let payloads: Vec<String> = batches.iter().flat_map(LiveBatch::encode).collect();
        if !payloads.is_empty() && self.outbox.try_send(payloads).is_err() {
            self.lost.notify_one();
        }
    }
}

/// The schema named in the URL's `search_path` option, if any.
pub fn schema_of(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("search_path")?;
    let rest = rest.trim_start_matches(']').trim_start_matches('=');
    let schema: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!schema.is_empty()).then_some(schema)
}

pub fn channel_for(url: &str) -> String {
    match schema_of(url) {
        Some(s) => format!("vibe_live_{s}"),
        None => "vibe_live".to_owned(),
    }
}

impl PgRelay {
    /// Starts listening before returning, so nothing committed after start-up is
    /// missed.
    pub async fn start(url: &str, hubs: Arc<Hubs>) -> anyhow::Result<Self> {
        let channel = channel_for(url);
        let listener = listen(url, &channel).await?;
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .context("live feed: connecting the NOTIFY pool")?;
        let (outbox, rx) = mpsc::channel(OUTBOX_CAPACITY);
        let lost = Arc::new(Notify::new());
        tokio::spawn(notify_loop(pool, channel.clone(), rx, lost.clone()));
        tokio::spawn(listen_loop(listener, url.to_owned(), channel, hubs));
        Ok(Self { outbox, lost })
    }
}

async fn listen(url: &str, channel: &str) -> anyhow::Result<PgListener> {
    let mut listener = PgListener::connect(url)
        .await
        .context("live feed: connecting the LISTEN session")?;
    listener
        .listen(channel)
        .await
        .context("live feed: LISTEN")?;
    Ok(listener)
}

async fn notify_loop(
    pool: PgPool,
    channel: String,
    mut rx: mpsc::Receiver<Vec<String>>,
    lost: Arc<Notify>,
) {
    let mut pending = Vec::new();
    loop {
        let mut resync = false;
        tokio::select! {
            n = rx.recv_many(&mut pending, 256) => if n == 0 { break },
            () = lost.notified() => resync = true,
        }
        let mut payloads: Vec<String> = pending.drain(..).flatten().collect();
        if resync {
            // After the records still queued: nodes reload once they have them.
            payloads.push(RESYNC_PAYLOAD.to_owned());
        }
        // One round trip for everything queued; notifications of one statement
        // are delivered in order.
        let sent = sqlx::query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p")
            .bind(&channel)
            .bind(&payloads)
            .execute(&pool)
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, records = payloads.len(), "live feed: NOTIFY failed");
            // Those records are lost: ask for a resync once NOTIFY works again.
            lost.notify_one();
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
}

/// Notifications sent while the `LISTEN` session was down are lost, so after
/// reconnecting every watching dashboard gets a fresh snapshot.
async fn listen_loop(mut listener: PgListener, url: String, channel: String, hubs: Arc<Hubs>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) if n.payload() == RESYNC_PAYLOAD => hubs.resync(),
            Ok(Some(n)) => match serde_json::from_str::<LiveBatch>(n.payload()) {
                Ok(batch) => hubs.dispatch(batch),
                Err(e) => tracing::warn!(error = %e, "live feed: unreadable NOTIFY payload"),
            },
            Ok(None) | Err(_) => {
                tracing::warn!("live feed: LISTEN connection lost; reconnecting");
                listener = loop {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    match listen(&url, &channel).await {
                        Ok(l) => break l,
                        Err(e) => tracing::warn!(error = %e, "live feed: still cannot LISTEN"),
                    }
                };
                hubs.resync();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn channel_follows_the_schema() {
        assert_eq!(
            super::channel_for("postgres://h/db?options[search_path]=t_abc"),
            "vibe_live_t_abc"
        );
        assert_eq!(
            super::channel_for("postgres://h/db?options=-c%20search_path%3Dx"),
            "vibe_live"
        );
        assert_eq!(super::channel_for("postgres://h/db"), "vibe_live");
    }
}
