//! Planner statistics when autovacuum is off. Without them PostgreSQL keeps
//! planning the write path as if the tables were as small as when they were
//! created, and ingestion slows down as they grow (seen on a server with
//! `autovacuum = off`: the last tenth of a 300k-event load took 20 times longer
//! than the first). When the server does not analyze, the store does it itself,
//! after enough rows have been written.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool};

/// The tables the write path reads while it writes.
const ANALYZE: &str = "ANALYZE user_events, site_users, site_user_aliases, site_sessions, user_days, daily_stats, funnel_hits, funnel_reach";

/// Counts messages written since the last ANALYZE.
#[derive(Default)]
pub struct WrittenSinceAnalyze(AtomicU64);

impl WrittenSinceAnalyze {
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

/// Starts the analyzer when autovacuum is off; returns the counter to feed.
pub async fn start_if_needed(
    pool: &PgPool,
    opts: &PgConnectOptions,
) -> Option<Arc<WrittenSinceAnalyze>> {
    let autovacuum: String = sqlx::query_scalar("SHOW autovacuum")
        .fetch_one(pool)
        .await
        .ok()?;
    if autovacuum == "on" {
        return None;
    }
    tracing::warn!("PostgreSQL autovacuum is off; Vibe will ANALYZE its tables as they grow");
    let counter = Arc::new(WrittenSinceAnalyze::default());
    // Its own connection, without the pool's slow-statement warnings: a long
    // ANALYZE is expected.
    let opts = opts
        .clone()
        .log_slow_statements(log::LevelFilter::Off, Duration::from_secs(60));
    tokio::spawn(run(opts, Arc::downgrade(&counter)));
    Some(counter)
}

async fn run(opts: PgConnectOptions, counter: Weak<WrittenSinceAnalyze>) {
    // Analyze after 5,000 rows, then whenever the tables have grown by a fifth.
    let mut threshold: u64 = 5_000;
    let mut analyzed_rows: u64 = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let Some(counter) = counter.upgrade() else {
            return;
        };
        let written = counter.0.load(Ordering::Relaxed);
        if written < threshold {
            continue;
        }
        counter.0.fetch_sub(written, Ordering::Relaxed);
        drop(counter);
        let analyzed = match opts.connect().await {
            Ok(mut conn) => {
                let done = sqlx::Executor::execute(&mut conn, ANALYZE).await;
                let _ = conn.close().await;
                done
            }
            Err(e) => Err(e),
        };
        match analyzed {
            Ok(_) => {
                analyzed_rows += written;
                threshold = (analyzed_rows / 5).max(5_000);
                tracing::debug!(rows = analyzed_rows, "analyzed the write path's tables");
            }
            Err(e) => tracing::warn!(error = %e, "ANALYZE failed"),
        }
    }
}
