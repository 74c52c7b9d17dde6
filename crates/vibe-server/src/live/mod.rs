//! The live feed behind `GET /api/v1/projects/{id}/live`: committed batches
//! become [`record::LiveBatch`]es, a [`relay::Relay`] carries them to every
//! node, and per-project [`hub::Hub`]s turn them into sequenced messages for
//! the WebSocket clients (`api/tracking/live.rs`). The Support page's updates
//! are [`support`] (which sections changed, throttled) and
//! [`support_subscription`] (the bodies a connection asked for). Scheduled
//! work that must run on one node only lives in [`schedule`].

pub mod hub;
pub mod inbox;
pub mod record;
pub mod relay;
pub mod schedule;
pub mod support;
pub mod support_subscription;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

use self::hub::Hubs;
use self::relay::Relay;

pub struct Live {
    pub hubs: Arc<Hubs>,
    pub relay: Arc<dyn Relay>,
    /// Whether this node currently runs scheduled work.
    pub is_leader: Arc<AtomicBool>,
    /// Flips to true when the server starts shutting down; sockets close with 1001.
    pub shutdown: watch::Sender<bool>,
}

impl Live {
    pub fn new(hubs: Arc<Hubs>, relay: Arc<dyn Relay>) -> Self {
        Self {
            hubs,
            relay,
            is_leader: Arc::new(AtomicBool::new(false)),
            shutdown: watch::channel(false).0,
        }
    }

    pub fn is_leader(&self) -> bool {
        self.is_leader.load(Ordering::SeqCst)
    }
}
