//! The `vibe` server: HTTP API, collector, dashboard assets and background jobs.
//! `main.rs` is the CLI; tests start the same [`App`] on port 0.

pub mod api;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod campaigns;
pub mod client_ip;
pub mod collector;
pub mod config;
pub mod csrf;
pub mod csv;
pub mod demo;
pub mod domain;
pub mod error;
pub mod identity;
pub mod live;
pub mod metrics;
pub mod outbound;
pub mod push;
pub mod router;
pub mod secrets;
pub mod security_headers;
pub mod state;
pub mod static_file;
pub mod templates;
pub mod throttle;
pub mod vault;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use vibe_core::time::Clock;

use crate::collector::{IngestQueue, QueueLimits, WriterHandle};
use crate::config::Config;
use crate::live::hub::Hubs;
use crate::live::relay::{LocalRelay, PgRelay, Relay};
use crate::live::schedule::Leadership;
use crate::live::Live;
use crate::metrics::Metrics;
use crate::state::{AppState, Inner, KeyCache};

pub struct App {
    pub state: AppState,
    pub addr: SocketAddr,
    listener: TcpListener,
    writer: WriterHandle,
    leadership: Leadership,
}

impl App {
    /// Opens storage, runs first-run set-up and binds the listener.
    pub async fn build(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let store = bootstrap::open_store(&config).await?;
        let vault = bootstrap::open_vault(&config, store.backend())?;
        let setup_token = bootstrap::first_run(store.as_ref(), &config, clock.now_ms()).await?;
        // Rollups a migration added or changed (older databases).
        let pending = store.pending_rollup_rebuilds().await?;
        if !pending.is_empty() {
            for p in store.list_projects().await? {
                if pending.contains(&p.id) {
                    tracing::info!(project = %p.id, "rebuilding rollups from stored events");
                    vibe_store::rollup::rebuild_history(store.as_ref(), &p, clock.now_ms()).await?;
                }
            }
            for project_id in &pending {
                store.rollup_rebuild_done(project_id).await?;
            }
        }
        // Funnels whose rollup is not built (new, edited, or from older databases)
        // are built in the background by `api::funnels::builder` once serving.
        let metrics = Arc::new(Metrics::default());
        let hubs = Hubs::new(
            store.clone(),
            clock.clone(),
            config.live_channel_capacity,
            config.live_hub_backlog,
        );
        let (relay, leadership): (Arc<dyn Relay>, Leadership) = match store.backend() {
            "postgres" => {
                let url = config
                    .database_url
                    .as_ref()
                    .map(|u| u.expose().to_owned())
                    .context("PostgreSQL without a database URL")?;
                (
                    Arc::new(PgRelay::start(&url, hubs.clone()).await?),
                    Leadership::pg(&url),
                )
            }
            _ => (Arc::new(LocalRelay(hubs.clone())), Leadership::Always),
        };
        let (ingest, writer) = IngestQueue::start(
            store.clone(),
            QueueLimits {
                requests: config.queue_capacity,
                bytes: config.queue_max_bytes,
            },
            metrics.clone(),
            relay.clone(),
        );
        let listener = TcpListener::bind(&config.addr)
            .await
            .with_context(|| format!("binding {}", config.addr))?;
        let addr = listener.local_addr()?;
        let state = AppState::new(Inner {
            store,
            config,
            clock,
            ingest,
            metrics,
            write_keys: KeyCache::new(Duration::from_secs(30)),
            live: Live::new(hubs, relay),
            funnel_builds: tokio::sync::Notify::new(),
            setup_token: Mutex::new(setup_token),
            throttle: Default::default(),
            identity: identity::IdentityCache::new(Duration::from_secs(30)),
            vault,
            agent_sockets: Default::default(),
            outbound: outbound::Outbound::new()?,
        });
        Ok(Self {
            state,
            addr,
            listener,
            writer,
            leadership,
        })
    }

    /// The one-time setup URL, while no owner exists.
    pub fn setup_url(&self) -> Option<String> {
        let token = self
            .state
            .setup_token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        let base = self
            .state
            .config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.addr));
        Some(format!(
            "{}/setup?token={token}",
            base.trim_end_matches('/')
        ))
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and
    /// commits everything already queued before returning.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            state,
            listener,
            writer,
            leadership,
            ..
        } = self;
        let scheduler = tokio::spawn(live::schedule::run(
            state.clone(),
            leadership,
            state.live.relay.clone(),
            state.live.is_leader.clone(),
            state.live.shutdown.subscribe(),
        ));
        let builder = tokio::spawn(api::funnels::builder::run(
            state.clone(),
            state.live.shutdown.subscribe(),
        ));
        let sender = tokio::spawn(outbound::sender::run(
            state.clone(),
            state.live.shutdown.subscribe(),
        ));
        // Campaign sending: every node runs it, only the leader sends.
        let campaigns = tokio::spawn(campaigns::sender::run(
            state.clone(),
            state.live.shutdown.subscribe(),
        ));
        let live_stop = state.live.shutdown.clone();
        let shutdown = async move {
            shutdown.await;
            // Live sockets close with 1001 and scheduled work stops.
            live_stop.send_replace(true);
        };
        let app = router::router(state);
        // The peer address is what sign-in throttling keys on.
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        if tokio::time::timeout(Duration::from_secs(10), scheduler)
            .await
            .is_err()
        {
            tracing::warn!("scheduler did not stop in time");
        }
        if tokio::time::timeout(Duration::from_secs(10), builder)
            .await
            .is_err()
        {
            tracing::warn!("funnel builder did not stop in time");
        }
        // In-flight sends end within the request timeout; then they are recorded.
        if tokio::time::timeout(outbound::REQUEST_TIMEOUT + Duration::from_secs(5), sender)
            .await
            .is_err()
        {
            tracing::warn!("outbound sender did not stop in time");
        }
        if tokio::time::timeout(
            outbound::REQUEST_TIMEOUT + Duration::from_secs(5),
            campaigns,
        )
        .await
        .is_err()
        {
            tracing::warn!("campaign sender did not stop in time");
        }
        writer.drain().await;
        Ok(())
    }
}

/// A custom segment's `user_count` is recounted once it is this old.
pub const SEGMENT_RECOUNT_MS: i64 = 10 * 60 * 1000;
/// Segments recounted per maintenance run (each is one count query).
pub const SEGMENTS_PER_RUN: i64 = 5;

/// Closes sessions that have been idle longer than `session_idle_s`,
/// deletes expired dashboard sign-ins, recounts a few custom segments whose
/// count is older than [`SEGMENT_RECOUNT_MS`], refreshes AI people snapshots
/// and sets agents whose dashboard sockets are gone offline.
pub async fn run_maintenance(state: &AppState) -> anyhow::Result<u64> {
    let now = state.clock.now_ms();
    let idle_before = now - state.config.session_idle_s * 1000;
    let purged = state.store.purge_expired_auth_sessions(now).await?;
    if purged > 0 {
        tracing::debug!(purged, "deleted expired dashboard sessions");
    }
    // A failed recount must not keep sessions from expiring.
    match state
        .store
        .refresh_stale_segments(now - SEGMENT_RECOUNT_MS, now, SEGMENTS_PER_RUN)
        .await
    {
        Ok(n) if n > 0 => tracing::debug!(recounted = n, "recounted custom segments"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "recounting custom segments failed"),
    }
    match state
        .store
        .refresh_ai_people(state.config.ai_people_policy(now))
        .await
    {
        Ok(n) if n > 0 => tracing::debug!(refreshed = n, "refreshed AI people snapshots"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "refreshing AI people snapshots failed"),
    }
    match api::inbox::presence::offline_stale(state).await {
        Ok(n) if n > 0 => tracing::debug!(agents = n, "set agents without sockets offline"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "agent presence sweep failed"),
    }
    // Inbox bots: due auto-resolves, conversations the contact dropped.
    match state.store.support_sweep(now).await {
        Ok(s) if s.resolved + s.dropped > 0 => {
            tracing::debug!(resolved = s.resolved, dropped = s.dropped, "inbox sweep")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "inbox sweep failed"),
    }
    // Support snapshots of the hours closed at least the grace ago (after
    // the presence sweep above, whose offline rows reach minutes back).
    match state.store.keep_support_snapshots(now).await {
        Ok(k) if k.hours + k.days + k.weeks > 0 => tracing::debug!(
            hours = k.hours,
            days = k.days,
            weeks = k.weeks,
            "support snapshots"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "support snapshots failed"),
    }
    Ok(state.store.expire_sessions(idle_before).await?)
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests and draining the ingest queue");
}
