//! Publishing Inbox changes to the live feed: every write path (agent
//! replies and notes, conversation changes, reads, channel webhooks, the chat
//! widget) calls [`publish`] after its change is committed. The changes ride
//! the same relay as visitor activity (so they reach every node), and each
//! node's hub turns them into `inbox.*` messages that only subscribers whose
//! `Scope` may see the conversation receive (see `hub::Audience`).

use super::record::{InboxChange, LiveBatch};
use crate::state::AppState;

pub fn publish(state: &AppState, project_id: &str, changes: Vec<InboxChange>) {
    if changes.is_empty() {
        return;
    }
    state
        .live
        .relay
        .publish(vec![LiveBatch::inbox(project_id, changes)]);
}
