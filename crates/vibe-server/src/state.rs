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

/// Caches write key → project for the collector, so a page view does not cost a
/// project lookup. Entries (also misses) expire, which bounds staleness when a
/// project changes on another node.
pub struct KeyCache {
    ttl: Duration,
    map: RwLock<HashMap<String, (Option<Project>, Instant)>>,
}

impl KeyCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            map: RwLock::new(HashMap::new()),
        }
    }

    pub async fn project(
        &self,
        store: &dyn Store,
        write_key: &str,
    ) -> StoreResult<Option<Project>> {
        if let Some((p, at)) = self
            .map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(write_key)
        {
            if at.elapsed() < self.ttl {
                return Ok(p.clone());
            }
        }
        let p = store.project_by_write_key(write_key).await?;
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.clear();
        }
        map.insert(write_key.to_owned(), (p.clone(), Instant::now()));
        Ok(p)
    }

    pub fn invalidate(&self) {
        self.map.write().unwrap_or_else(|e| e.into_inner()).clear();
    }
}
