//! One hub per watched project: it turns [`LiveBatch`]es into feed messages with
//! a per-project sequence number and fans them out over a broadcast channel to
//! every dashboard watching on this node. A hub exists while it has subscribers;
//! the last one leaving lets it stop, so unwatched projects cost nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc, watch, Notify};
use vibe_core::time::Clock;
use vibe_store::inbox::{Conversation, Message, Scope};
use vibe_store::{Project, Store, StoreResult};

use super::record::{InboxChange, LeftReason, LiveBatch};
use super::support::{self, Sections};
use crate::api::analytics::definitions::{self, Metrics};
use crate::api::tracking::online::Visitor;

/// How often a hub may send `metrics`, and checks whether anyone still listens.
const METRICS_EVERY: Duration = Duration::from_secs(1);

/// A feed message: its sequence number and its JSON text (which includes it).
#[derive(Debug)]
pub struct FeedMessage {
    pub seq: u64,
    /// Shared by every subscriber's socket without copying.
    pub text: Utf8Bytes,
    /// Not for the socket: the hub reloaded presence after changes may have
    /// been missed, and every subscriber should send a fresh snapshot.
    pub resync: bool,
    /// Inbox events only: who may see the conversation. Each connection
    /// decides with its own scope; these carry no sequence number (they are
    /// not part of the visitor feed, and a subscriber skips those it may not see).
    pub audience: Option<Audience>,
    /// The Support page sections the change may have moved, for the same
    /// audience (`live/support.rs`); none for visitor-feed messages.
    pub support: Sections,
}

/// What decides whether a scope sees a conversation, as
/// `vibe_store::inbox::Scope`'s SQL condition reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    pub assignee: Option<String>,
    pub team_id: Option<String>,
    /// The teams the assignee belongs to (a supervisor sees the
    /// conversations of anyone sharing a team with them).
    pub assignee_teams: Vec<String>,
}

impl Audience {
    pub fn of(c: &Conversation, assignee_teams: Vec<String>) -> Self {
        Self {
            assignee: c.assignee_account_id.clone(),
            team_id: c.team_id.clone(),
            assignee_teams,
        }
    }

    /// An agent's status change, seen like a conversation of theirs without
    /// a team: by the agent, supervisors sharing a team with them, and
    /// owners and admins.
    pub fn agent(account_id: &str, teams: Vec<String>) -> Self {
        Self {
            assignee: Some(account_id.to_owned()),
            team_id: None,
            assignee_teams: teams,
        }
    }

    /// The same rule as [`Scope`]'s condition, given the teams of the
    /// scope's account.
    pub fn visible_to(&self, scope: &Scope, my_teams: &[String]) -> bool {
        let in_mine = |t: &Option<String>| t.as_ref().is_some_and(|t| my_teams.contains(t));
        match scope {
            Scope::All => true,
            Scope::Nobody => false,
            Scope::Agent { account_id } => {
                self.assignee.as_ref() == Some(account_id)
                    || (self.assignee.is_none()
                        && (self.team_id.is_none() || in_mine(&self.team_id)))
            }
            Scope::Supervisor { account_id } => {
                self.assignee.as_ref() == Some(account_id)
                    || (self.assignee.is_none() && self.team_id.is_none())
                    || in_mine(&self.team_id)
                    || (self.assignee.is_some()
                        && self.assignee_teams.iter().any(|t| my_teams.contains(t)))
            }
        }
    }
}

pub struct Hub {
    tx: broadcast::Sender<Arc<FeedMessage>>,
    /// Bounded: a hub that falls behind (slow database) drops batches and
    /// resyncs instead of buffering without limit.
    batches: mpsc::Sender<LiveBatch>,
    /// Signalled when a batch was dropped because `batches` was full.
    overflowed: Notify,
    /// Sequence number of the newest message sent. Written before the send, so a
    /// subscriber that reads it after subscribing misses nothing above it.
    last_seq: AtomicU64,
    /// True once the hub has loaded presence. A subscriber's first snapshot
    /// must be read after that, or a visitor who joins in between would be in
    /// the hub's set (no `visitor_joined`) but not in the snapshot.
    ready: watch::Sender<bool>,
}

impl Hub {
    pub async fn wait_ready(&self) {
        let _ = self.ready.subscribe().wait_for(|r| *r).await;
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq.load(Ordering::SeqCst)
    }

    /// A receiver starting at the newest message, for a subscriber that fell
    /// behind and is about to get a fresh snapshot.
    pub fn resubscribe(&self) -> broadcast::Receiver<Arc<FeedMessage>> {
        self.tx.subscribe()
    }
}

/// This node's hubs, by project id.
pub struct Hubs {
    store: Arc<dyn Store>,
    clock: Clock,
    capacity: usize,
    backlog: usize,
    map: Mutex<HashMap<String, Arc<Hub>>>,
    /// Bumped when changes may have been missed (the relay reconnected): hubs
    /// reload presence and every connection sends a fresh snapshot.
    epoch: watch::Sender<u64>,
}

impl Hubs {
    pub fn new(store: Arc<dyn Store>, clock: Clock, capacity: usize, backlog: usize) -> Arc<Self> {
        Arc::new(Self {
            store,
            clock,
            capacity: capacity.max(1),
            backlog: backlog.max(1),
            map: Mutex::new(HashMap::new()),
            epoch: watch::channel(0).0,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Hub>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Joins the project's feed, starting its hub if nobody watched it yet.
    /// Subscribing happens under the map lock, so a hub that is about to stop
    /// for lack of subscribers can never hand out a receiver.
    pub fn subscribe(
        self: &Arc<Self>,
        project: &Project,
    ) -> (Arc<Hub>, broadcast::Receiver<Arc<FeedMessage>>) {
        let mut map = self.lock();
        if let Some(hub) = map.get(&project.id) {
            return (hub.clone(), hub.tx.subscribe());
        }
        let (tx, rx) = broadcast::channel(self.capacity);
        let (batches, batch_rx) = mpsc::channel(self.backlog);
        let hub = Arc::new(Hub {
            tx,
            batches,
            overflowed: Notify::new(),
            last_seq: AtomicU64::new(0),
            ready: watch::channel(false).0,
        });
        map.insert(project.id.clone(), hub.clone());
        tokio::spawn(run_hub(
            self.clone(),
            hub.clone(),
            project.clone(),
            batch_rx,
        ));
        (hub, rx)
    }

    /// Hands a batch to the project's hub, if anyone on this node watches it.
    /// Never waits: if the hub is `backlog` batches behind, the batch is
    /// dropped and the hub reloads presence and has every subscriber send a
    /// fresh snapshot, which covers whatever was dropped.
    pub fn dispatch(&self, batch: LiveBatch) {
        if let Some(hub) = self.lock().get(&batch.project_id) {
            if let Err(mpsc::error::TrySendError::Full(_)) = hub.batches.try_send(batch) {
                hub.overflowed.notify_one();
            }
        }
    }

    pub fn resync(&self) {
        self.epoch.send_modify(|e| *e += 1);
    }

    pub fn epoch(&self) -> watch::Receiver<u64> {
        self.epoch.subscribe()
    }

    /// Projects with a running hub on this node.
    pub fn watched_projects(&self) -> usize {
        self.lock().len()
    }

    /// Removes the hub if nobody listens any more; true if it was removed.
    fn remove_if_idle(&self, project_id: &str, hub: &Arc<Hub>) -> bool {
        let mut map = self.lock();
        if hub.tx.receiver_count() > 0 {
            return false;
        }
        if map.get(project_id).is_some_and(|h| Arc::ptr_eq(h, hub)) {
            map.remove(project_id);
        }
        true
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// The `visitors` and `metrics` of a snapshot: exactly what `/online` and
/// `/metrics` answer at this moment.
pub async fn snapshot_parts(
    store: &dyn Store,
    project: &Project,
    now_ms: i64,
) -> StoreResult<(Vec<Visitor>, Metrics)> {
    let rows = store
        .online_visitors(&project.id, now_ms - project.online_window_s * 1000)
        .await?;
    let visitors = rows
        .into_iter()
        .map(|v| Visitor::from_row(v, now_ms))
        .collect();
    let metrics = definitions::metrics(store, project, now_ms).await?;
    Ok((visitors, metrics))
}

struct HubTask {
    hubs: Arc<Hubs>,
    hub: Arc<Hub>,
    project: Project,
    /// Online sessions as this hub last told its subscribers, with their path:
    /// decides joined vs moved, and makes repeated leaves/timeouts silent.
    online: HashMap<String, Option<String>>,
    metrics: Option<Metrics>,
    metrics_dirty: bool,
}

async fn run_hub(
    hubs: Arc<Hubs>,
    hub: Arc<Hub>,
    project: Project,
    mut batches: mpsc::Receiver<LiveBatch>,
) {
    let mut task = HubTask {
        hubs,
        hub,
        project,
        online: HashMap::new(),
        metrics: None,
        metrics_dirty: false,
    };
    if let Err(e) = task.load_initial().await {
        tracing::warn!(error = %e, project = %task.project.id, "live hub could not load presence");
    }
    task.hub.ready.send_replace(true);
    let mut tick = tokio::time::interval(METRICS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pending = Vec::new();
    let mut epoch = task.hubs.epoch();
    loop {
        tokio::select! {
            Ok(()) = epoch.changed() => task.resync().await,
            () = task.hub.overflowed.notified() => {
                tracing::warn!(project = %task.project.id, "live hub fell behind; resyncing its subscribers");
                task.resync().await;
            }
            n = batches.recv_many(&mut pending, 1024) => {
                if n == 0 {
                    break;
                }
                if let Err(e) = task.apply(std::mem::take(&mut pending)).await {
                    tracing::warn!(error = %e, project = %task.project.id, "live hub update failed");
                }
            }
            _ = tick.tick() => {
                if task.hubs.remove_if_idle(&task.project.id, &task.hub) {
                    break;
                }
                if let Err(e) = task.send_metrics_if_changed().await {
                    tracing::warn!(error = %e, project = %task.project.id, "live metrics failed");
                }
            }
        }
    }
}

impl HubTask {
    /// Changes may have been missed: reload presence and tell every
    /// subscriber to send a fresh snapshot.
    async fn resync(&mut self) {
        if let Err(e) = self.load_initial().await {
            tracing::warn!(error = %e, project = %self.project.id, "live hub could not reload presence");
        }
        let _ = self.hub.tx.send(Arc::new(FeedMessage {
            seq: self.hub.last_seq(),
            text: Utf8Bytes::from_static(""),
            resync: true,
            audience: None,
            support: Sections::NONE,
        }));
    }

    async fn load_initial(&mut self) -> StoreResult<()> {
        let now = self.hubs.now_ms();
        let (visitors, metrics) = snapshot_parts(self.hubs.store(), &self.project, now).await?;
        self.online = visitors
            .into_iter()
            .map(|v| (v.session_id, v.current_page.path))
            .collect();
        self.metrics = Some(metrics);
        Ok(())
    }

    fn send(&self, mut body: Value) {
        let seq = self.hub.last_seq.load(Ordering::SeqCst) + 1;
        body["seq"] = json!(seq);
        let msg = Arc::new(FeedMessage {
            seq,
            text: body.to_string().into(),
            resync: false,
            audience: None,
            support: Sections::NONE,
        });
        self.hub.last_seq.store(seq, Ordering::SeqCst);
        // No receivers is fine: the hub stops at its next tick.
        let _ = self.hub.tx.send(msg);
    }

    /// An Inbox event: no sequence number, and only for subscribers whose
    /// scope may see `conversation`.
    async fn send_inbox(
        &self,
        conversation: &Conversation,
        body: Value,
        support: Sections,
    ) -> StoreResult<()> {
        let teams = match &conversation.assignee_account_id {
            Some(a) => self.hubs.store().teams_of(&self.project.id, a).await?,
            None => Vec::new(),
        };
        self.send_scoped(
            body.to_string().into(),
            Audience::of(conversation, teams),
            support,
        );
        Ok(())
    }

    fn send_scoped(&self, text: Utf8Bytes, audience: Audience, support: Sections) {
        let _ = self.hub.tx.send(Arc::new(FeedMessage {
            seq: 0,
            text,
            resync: false,
            audience: Some(audience),
            support,
        }));
    }

    async fn inbox_change(&self, change: InboxChange) -> StoreResult<()> {
        let store = self.hubs.store();
        let project = &self.project.id;
        let sections = support::of_change(&change);
        let (kind, message) = match change {
            InboxChange::Conversation(id) | InboxChange::Read(id) => {
                if let Some(c) = store.conversation(project, &Scope::All, &id).await? {
                    let body = json!({ "type": "inbox.conversation", "conversation": c });
                    self.send_inbox(&c, body, sections).await?;
                }
                return Ok(());
            }
            InboxChange::AgentStatus(account_id) => {
                // Nothing to show by itself (empty text): only the
                // Support page's `agent` section is told.
                let teams = store.teams_of(project, &account_id).await?;
                self.send_scoped(
                    Utf8Bytes::from_static(""),
                    Audience::agent(&account_id, teams),
                    sections,
                );
                return Ok(());
            }
            InboxChange::Message(id) => ("inbox.message", store.message(project, &id).await?),
            InboxChange::Delivery(id) => ("inbox.delivery", store.message(project, &id).await?),
            InboxChange::DeliveryByChannelId(channels, cmid) => {
                let mut found = None;
                for ch in channels
                    .iter()
                    .filter_map(|c| vibe_store::inbox::Channel::parse(c))
                {
                    if let Some(m) = store.message_by_channel_id(project, ch, &cmid).await? {
                        found = Some(m);
                        break;
                    }
                }
                ("inbox.delivery", found)
            }
        };
        let Some(m) = message else { return Ok(()) };
        let Some(c) = store
            .conversation(project, &Scope::All, &m.conversation_id)
            .await?
        else {
            return Ok(());
        };
        let body = if kind == "inbox.message" {
            json!({ "type": kind, "conversation": c, "message": message_json(&m) })
        } else {
            json!({
                "type": kind,
                "conversation_id": c.id,
                "message_id": m.id,
                "status": m.delivery_status,
                "message": message_json(&m),
            })
        };
        self.send_inbox(&c, body, sections).await
    }

    async fn apply(&mut self, batches: Vec<LiveBatch>) -> StoreResult<()> {
        let hubs = self.hubs.clone();
        let now = hubs.now_ms();
        let store = hubs.store();
        let mut touched: Vec<String> = batches.iter().flat_map(|b| b.touched.clone()).collect();
        touched.sort();
        touched.dedup();
        let since = now - self.project.online_window_s * 1000;
        let mut rows: HashMap<String, Visitor> = if touched.is_empty() {
            HashMap::new()
        } else {
            store
                .online_visitors_in(&self.project.id, since, &touched)
                .await?
                .into_iter()
                .map(|v| (v.session_id.clone(), Visitor::from_row(v, now)))
                .collect()
        };
        for mut batch in batches {
            for change in std::mem::take(&mut batch.inbox) {
                if let Err(e) = self.inbox_change(change).await {
                    tracing::warn!(error = %e, project = %self.project.id, "live inbox event failed");
                }
            }
            self.metrics_dirty |= batch.changes_metrics();
            for (sid, reason) in batch.left {
                self.visitor_left(sid, reason);
            }
            for sid in batch.touched {
                // The row is the session's state now; a session touched twice
                // in these batches is reported once.
                if let Some(v) = rows.remove(&sid) {
                    self.visitor_seen(v);
                }
            }
            for e in batch.events {
                self.send(json!({
                    "type": "event",
                    "name": e.name,
                    "user_id": e.user_id,
                    "anonymous_id": e.anonymous_id,
                    "page": e.page,
                    "at": rfc3339(e.at_ms),
                }));
            }
            for (anonymous_id, user_id) in batch.identified {
                let traits = match store.find_user(&self.project.id, &user_id).await? {
                    Some(u) => serde_json::from_str(&u.traits).unwrap_or(Value::Null),
                    None => json!({}),
                };
                self.send(json!({
                    "type": "user_identified",
                    "anonymous_id": anonymous_id,
                    "user_id": user_id,
                    "traits": traits,
                }));
            }
        }
        Ok(())
    }

    fn visitor_seen(&mut self, v: Visitor) {
        let path = v.current_page.path.clone();
        let kind = match self.online.insert(v.session_id.clone(), path.clone()) {
            None => "visitor_joined",
            Some(before) if before != path => "visitor_moved",
            Some(_) => return,
        };
        self.send(json!({ "type": kind, "visitor": v }));
    }

    fn visitor_left(&mut self, session_id: String, reason: LeftReason) {
        if self.online.remove(&session_id).is_some() {
            self.send(json!({
                "type": "visitor_left",
                "session_id": session_id,
                "reason": reason.as_str(),
            }));
        }
    }

    async fn send_metrics_if_changed(&mut self) -> StoreResult<()> {
        if !self.metrics_dirty {
            return Ok(());
        }
        self.metrics_dirty = false;
        let now = self.hubs.now_ms();
        let m = definitions::metrics(self.hubs.store(), &self.project, now).await?;
        if self.metrics.as_ref() != Some(&m) {
            self.send(json!({ "type": "metrics", "metrics": m }));
            self.metrics = Some(m);
        }
        Ok(())
    }
}

fn message_json(m: &Message) -> Value {
    crate::api::inbox::message_json(m)
}

pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aud(assignee: Option<&str>, team: Option<&str>, assignee_teams: &[&str]) -> Audience {
        Audience {
            assignee: assignee.map(str::to_owned),
            team_id: team.map(str::to_owned),
            assignee_teams: assignee_teams.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    #[test]
    fn audience_follows_the_scope_rule() {
        let agent = Scope::Agent {
            account_id: "a".into(),
        };
        let sup = Scope::Supervisor {
            account_id: "s".into(),
        };
        let mine = vec!["t1".to_owned()];
        assert!(aud(None, None, &[]).visible_to(&Scope::All, &[]));
        assert!(!aud(None, None, &[]).visible_to(&Scope::Nobody, &[]));
        // Agents: their own, unassigned of their teams or with no team.
        assert!(aud(Some("a"), Some("t9"), &[]).visible_to(&agent, &mine));
        assert!(aud(None, Some("t1"), &[]).visible_to(&agent, &mine));
        assert!(aud(None, None, &[]).visible_to(&agent, &mine));
        assert!(!aud(None, Some("t2"), &[]).visible_to(&agent, &mine));
        assert!(!aud(Some("b"), Some("t1"), &["t1"]).visible_to(&agent, &mine));
        // Supervisors: their teams', and anyone's sharing a team with them.
        assert!(aud(Some("b"), Some("t1"), &[]).visible_to(&sup, &mine));
        assert!(aud(Some("b"), None, &["t1"]).visible_to(&sup, &mine));
        assert!(aud(None, None, &[]).visible_to(&sup, &mine));
        assert!(!aud(Some("b"), Some("t2"), &["t2"]).visible_to(&sup, &mine));
        assert!(!aud(None, Some("t2"), &[]).visible_to(&sup, &mine));
    }
}
