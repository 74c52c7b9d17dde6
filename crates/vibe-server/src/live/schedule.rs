//! Scheduled work — session expiry and the live feed's time-out sweep — runs on
//! exactly one node at a time. On PostgreSQL that node holds a session-level
//! `pg_try_advisory_lock` on a dedicated connection; the others retry every tick,
//! so when the holder stops (or its connection dies) another takes over within
//! one tick. SQLite is single-node: its only node always leads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::postgres::PgConnection;
use sqlx::Connection;

use super::record::{LeftReason, LiveBatch};
use super::relay::{schema_of, Relay};
use crate::state::AppState;

/// How often idle sessions are closed (`session_idle_s`).
const MAINTENANCE_EVERY: Duration = Duration::from_secs(30);

/// Who may run scheduled work.
pub enum Leadership {
    Always,
    PgLock {
        url: String,
        key: i64,
        conn: Option<PgConnection>,
        holding: bool,
    },
}

impl Leadership {
    pub fn pg(url: &str) -> Self {
        // One lock per schema, so test databases in one PostgreSQL database
        // each elect their own leader.
        let name = format!("vibe-scheduler:{}", schema_of(url).unwrap_or_default());
        let digest = Sha256::digest(name.as_bytes());
        let mut key = [0u8; 8];
        key.copy_from_slice(&digest[..8]);
        Self::PgLock {
            url: url.to_owned(),
            key: i64::from_be_bytes(key),
            conn: None,
            holding: false,
        }
    }

    /// Whether this node leads now, taking the lock if it is free. The
    /// connection is kept between attempts, held or not.
    async fn ensure(&mut self) -> bool {
        let Self::PgLock {
            url,
            key,
            conn,
            holding,
        } = self
        else {
            return true;
        };
        if conn.is_none() {
            match PgConnection::connect(url).await {
                Ok(c) => *conn = Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "scheduler: cannot connect to take the lock");
                    return false;
                }
            }
        }
        let Some(c) = conn.as_mut() else {
            return false;
        };
        let result = if *holding {
            // Still our session? Then we still hold the lock.
            sqlx::query("SELECT 1").execute(&mut *c).await.map(|_| true)
        } else {
            sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(*key)
                .fetch_one(&mut *c)
                .await
        };
        match result {
            Ok(leads) => {
                if leads && !*holding {
                    tracing::info!("scheduler: this node now runs scheduled work");
                }
                *holding = leads;
                leads
            }
            Err(e) => {
                tracing::warn!(error = %e, "scheduler: lock session failed; reconnecting");
                *conn = None;
                *holding = false;
                false
            }
        }
    }

    async fn release(&mut self) {
        if let Self::PgLock {
            conn: Some(c),
            key,
            holding: true,
            ..
        } = self
        {
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(*key)
                .execute(&mut *c)
                .await;
        }
        if let Self::PgLock { conn, .. } = self {
            if let Some(c) = conn.take() {
                let _ = c.close().await;
            }
        }
    }
}

/// Runs until `stop` flips to true, then gives up the lock.
pub async fn run(
    state: AppState,
    mut leadership: Leadership,
    relay: Arc<dyn Relay>,
    is_leader: Arc<AtomicBool>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(state.config.live_sweep_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sweep = TimeoutSweep::default();
    let mut last_maintenance: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = async { stop.wait_for(|s| *s).await.map(|_| ()) } => break,
        }
        let leads = leadership.ensure().await;
        if is_leader.swap(leads, Ordering::SeqCst) && !leads {
            // Whoever leads next starts its own sweep window.
            sweep = TimeoutSweep::default();
        }
        if !leads {
            continue;
        }
        if let Err(e) = sweep.run(&state, relay.as_ref()).await {
            tracing::warn!(error = %e, "time-out sweep failed");
        }
        if last_maintenance.is_none_or(|t| t.elapsed() >= MAINTENANCE_EVERY) {
            last_maintenance = Some(tokio::time::Instant::now());
            if let Err(e) = crate::run_maintenance(&state).await {
                tracing::warn!(error = %e, "maintenance failed");
            }
        }
    }
    is_leader.store(false, Ordering::SeqCst);
    leadership.release().await;
}

/// Finds sessions that dropped out of their project's online window since the
/// previous sweep and publishes them as `visitor_left` (reason `timeout`).
#[derive(Default)]
struct TimeoutSweep {
    /// Per project, the cut-off of the previous sweep.
    last_cutoff: HashMap<String, i64>,
}

/// A new leader looks this far back, so a hand-over loses no time-outs; hubs
/// ignore sessions they do not show, so repeats are harmless.
const FIRST_SWEEP_LOOKBACK_MS: i64 = 60_000;

impl TimeoutSweep {
    async fn run(&mut self, state: &AppState, relay: &dyn Relay) -> anyhow::Result<()> {
        let now = state.clock.now_ms();
        let mut batches = Vec::new();
        for p in state.store.list_projects().await? {
            let cutoff = now - p.online_window_s * 1000;
            let from = self
                .last_cutoff
                .get(&p.id)
                .copied()
                .unwrap_or(cutoff - FIRST_SWEEP_LOOKBACK_MS);
            if cutoff <= from {
                continue;
            }
            let gone = state
                .store
                .sessions_last_seen_between(&p.id, from, cutoff)
                .await?;
            self.last_cutoff.insert(p.id.clone(), cutoff);
            if !gone.is_empty() {
                batches.push(LiveBatch {
                    project_id: p.id.clone(),
                    left: gone.into_iter().map(|s| (s, LeftReason::Timeout)).collect(),
                    ..LiveBatch::default()
                });
            }
        }
        relay.publish(batches);
        Ok(())
    }
}
