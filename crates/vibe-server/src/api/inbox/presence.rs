//! Agent presence. While one of an agent's dashboard sockets (the live feed,
//! `api/tracking/live.rs`) is open, their open status row is stamped — when
//! the socket opens, at every ping, and by each maintenance run for the
//! sockets open on this node. Maintenance then sets online or away agents
//! offline once none of their sockets has been seen for the project's online
//! window, from the moment they were last seen, so the activity log does not
//! count the gap as time online (docs/metrics.md, "Agent status").

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use vibe_store::inbox::AgentStatus;

use crate::state::AppState;

type Key = (String, String);

/// The dashboard sockets open on this node, per (project, account).
#[derive(Default)]
pub struct AgentSockets(Arc<Mutex<HashMap<Key, usize>>>);

/// Counts one open socket until dropped.
pub struct OpenSocket {
    sockets: Arc<Mutex<HashMap<Key, usize>>>,
    key: Key,
}

impl AgentSockets {
    pub fn open(&self, project_id: &str, account_id: &str) -> OpenSocket {
        let key = (project_id.to_owned(), account_id.to_owned());
        *self.lock().entry(key.clone()).or_default() += 1;
        OpenSocket {
            sockets: self.0.clone(),
            key,
        }
    }

    fn open_now(&self) -> Vec<Key> {
        self.lock().keys().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, usize>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        let mut open = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Stamps the agent's status row: a socket of theirs is open now.
pub async fn seen(state: &AppState, project_id: &str, account_id: &str) {
    let now = state.clock.now_ms();
    if let Err(e) = state.store.touch_agent(project_id, account_id, now).await {
        tracing::warn!(error = %e, project = project_id, "stamping agent presence failed");
    }
}

/// Sets offline every online or away agent no socket has been seen for
/// since their project's online window; how many.
pub async fn offline_stale(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now_ms();
    for (project, account) in state.agent_sockets.open_now() {
        state.store.touch_agent(&project, &account, now).await?;
    }
    let stale = state.store.stale_agents(now).await?;
    for (project, account, last_seen) in &stale {
        let id = uuid::Uuid::new_v4().to_string();
        state
            .store
            .set_agent_status(project, account, AgentStatus::Offline, &id, *last_seen)
            .await?;
        crate::live::inbox::publish(
            state,
            project,
            vec![crate::live::record::InboxChange::AgentStatus(
                account.clone(),
            )],
        );
        tracing::info!(project, account, "agent set offline: no dashboard socket");
    }
    Ok(stale.len())
}
