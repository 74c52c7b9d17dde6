//! Shared application state: one non-generic struct behind an `Arc`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use vibe_core::time::Clock;
use vibe_store::{Project, Store, StoreResult};

use crate::collector::IngestQueue;
use crate::config::Config;
use crate::live::Live;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub config: Config,
    pub clock: Clock,
    pub ingest: IngestQueue,
    pub metrics: Arc<Metrics>,
    pub write_keys: KeyCache,
    pub live: Live,
    /// Wakes the funnel builder when a funnel was created or edited here.
    pub funnel_builds: tokio::sync::Notify,
    /// The one-time setup token this node printed (its hash is in the database,
    /// which decides); `None` once an owner exists.
    pub setup_token: Mutex<Option<String>>,
    /// Failed sign-ins and setups per client IP and per account.
    pub throttle: crate::throttle::Throttle,
    /// Identity secrets of projects that require signed user ids.
    pub identity: crate::identity::IdentityCache,
    /// Seals and opens channel credentials (`vault.rs`).
    pub vault: crate::vault::Vault,
    /// Dashboard sockets open on this node, for agent presence.
    pub agent_sockets: crate::api::inbox::presence::AgentSockets,
    /// The outbound sender's wake-up and HTTP client (`outbound/`).
    pub outbound: crate::outbound::Outbound,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }
}

/// A small map whose entries (misses included) expire after a TTL, so what the
/// collector looks up per request costs one query per key per TTL, and a change
/// made on another node is seen within it. Cleared when it grows past 100,000
/// keys, so a flood of made-up keys cannot grow it without bound.
pub struct TtlCache<V> {
    ttl: Duration,
    map: RwLock<HashMap<String, (V, Instant)>>,
}

impl<V: Clone> TtlCache<V> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            map: RwLock::new(HashMap::new()),
        }
    }

    /// The cached value of `key`, or what `load` returns (then cached).
    pub async fn get_or_load<F: std::future::Future<Output = StoreResult<V>>>(
        &self,
        key: &str,
        load: impl FnOnce() -> F,
    ) -> StoreResult<V> {
        if let Some((v, at)) = self.map.read().unwrap_or_else(|e| e.into_inner()).get(key) {
            if at.elapsed() < self.ttl {
                return Ok(v.clone());
            }
        }
        let v = load().await?;
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.clear();
        }
        map.insert(key.to_owned(), (v.clone(), Instant::now()));
        Ok(v)
    }

    pub fn remove(&self, key: &str) {
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    pub fn clear(&self) {
        self.map.write().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// Caches write key → project for the collector, so a page view does not cost a
/// project lookup.
pub type KeyCache = TtlCache<Option<Project>>;

impl KeyCache {
    pub async fn project(
        &self,
        store: &dyn Store,
        write_key: &str,
    ) -> StoreResult<Option<Project>> {
        self.get_or_load(write_key, || store.project_by_write_key(write_key))
            .await
    }

    pub fn invalidate(&self) {
        self.clear();
    }
}
