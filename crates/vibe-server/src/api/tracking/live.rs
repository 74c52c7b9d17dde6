//! `GET /api/v1/projects/{id}/live`: the project's live feed over a WebSocket
//! (protocol in docs/api.md, "Live feed"). The first message is a snapshot;
//! then the project hub's deltas follow, each with the next sequence number.
//! A client that falls behind gets a fresh snapshot rather than a gap. The
//! Support page may subscribe to its sections' bodies
//! (`live/support_subscription.rs`); they are computed by a task of the
//! connection's, so the socket never waits for a report.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use axum::extract::{Path, Query, State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use vibe_store::inbox::Scope;
use vibe_store::{Project, Role};

use crate::api::inbox::presence;
use crate::auth::{no_credential, Credential, ProjectAccess, API_TOKEN_PREFIX};
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ApiResult, OrNotFound};
use crate::live::hub::{snapshot_parts, Audience, FeedMessage, Hub};
use crate::live::support::{self, Section, Sections, Throttle};
use crate::live::support_subscription::{self, Computed, Request, Subscription};
use crate::state::AppState;

/// The largest client message the socket reads (a subscription is a few
/// short fields; `support_subscription` answers above 4 KiB).
const MAX_CLIENT_MESSAGE_BYTES: usize = 16 * 1024;

/// Close code when the session or token stops being valid.
pub const CLOSE_REVOKED: u16 = 4401;
/// Close code when the account is no longer a member of the project, or its
/// role there is now below [`MIN_ROLE`].
pub const CLOSE_ACCESS_LOST: u16 = 4403;
/// The least role that may watch a project's feed (its row in the access table).
pub const MIN_ROLE: Role = Role::Viewer;
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Messages written to a socket between flushes.
const MAX_MESSAGES_PER_FLUSH: usize = 256;

pub async fn live(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    // Browsers cannot set headers on a WebSocket, so scripts may also pass the
    // token in the query string.
    let credential = match query.get("token") {
        Some(t) if t.starts_with(API_TOKEN_PREFIX) => Credential::api_token(t),
        Some(_) => {
            return Err(ApiError::unauthorized(
                "the API token is invalid or revoked",
            ))
        }
        None => Credential::from_headers(&headers, state.config.session_cookie())
            .ok_or_else(no_credential)?,
    };
    // A cookie rides along with sockets other sites open: only the
    // dashboard's own origin may use it (tokens are not ambient).
    if let Credential::Session { .. } = credential {
        crate::csrf::check_origin(&state, &headers, true)?;
    }
    let account = credential.require_account(&state).await?;
    let (project, role) = state
        .store
        .project_for_member(&id, &account.id)
        .await?
        .or_not_found("project")?;
    if role < MIN_ROLE {
        return Err(ApiError::forbidden(format!(
            "the live feed needs the {} role in this project",
            MIN_ROLE.as_str()
        )));
    }
    let upgrade = upgrade.map_err(|e| {
        ApiError::client(
            e.status(),
            "websocket_expected",
            "this endpoint speaks WebSocket; send an Upgrade request",
        )
    })?;
    let scope = Scope::of(role, &account.id);
    let account_id = account.id.clone();
    let access = ProjectAccess {
        account,
        project: project.clone(),
        role,
    };
    // The socket refuses bigger client messages before buffering them (axum's
    // default is 64 MiB); up to this size a too-long subscription still gets
    // its clear `message_too_large` answer.
    let upgrade = upgrade
        .max_message_size(MAX_CLIENT_MESSAGE_BYTES)
        .max_frame_size(MAX_CLIENT_MESSAGE_BYTES);
    Ok(upgrade.on_upgrade(move |socket| async move {
        let (computed_tx, computed_rx) = mpsc::channel(Section::ALL.len());
        Connection {
            state,
            project,
            credential,
            socket,
            account_id,
            scope,
            teams: Vec::new(),
            throttle: Throttle::default(),
            access,
            ip,
            subscription: None,
            generation: 0,
            computing: None,
            computed_tx,
            computed_rx,
        }
        .run()
        .await;
    }))
}

struct Connection {
    state: AppState,
    project: Project,
    credential: Credential,
    socket: WebSocket,
    account_id: String,
    /// Which Inbox events this subscriber gets (viewers: none); follows the
    /// account's role at each access check.
    scope: Scope,
    /// The account's teams, for [`Audience::visible_to`]: read when the
    /// connection opens and again at each access check, rather than once per
    /// Inbox event.
    teams: Vec<String>,
    /// Support page updates waiting for their section's gap to end.
    throttle: Throttle,
    /// The account, project and role as of the last access check: what a
    /// `GET …/support/*` by this account would read, for the pushed bodies.
    access: ProjectAccess,
    /// The client's address, for the audit row of pushed business figures.
    ip: IpAddr,
    /// What the Support page shows, once it said so; `None`: `data` is null.
    subscription: Option<Arc<Subscription>>,
    /// Bumped by every (un)subscribe: bodies of an older one are not sent.
    generation: u64,
    /// The task computing due sections' bodies, and those sections; one at
    /// a time, the sections falling due meanwhile wait in the throttle.
    computing: Option<(JoinHandle<()>, Sections)>,
    computed_tx: mpsc::Sender<Computed>,
    computed_rx: mpsc::Receiver<Computed>,
}

enum Ending {
    ClientGone,
    Close(u16, &'static str),
}

impl Connection {
    async fn run(mut self) {
        let (hub, mut rx) = self.state.live.hubs.subscribe(&self.project);
        // An open dashboard keeps its agent's status (api/inbox/presence.rs).
        let _open = self
            .state
            .agent_sockets
            .open(&self.project.id, &self.account_id);
        presence::seen(&self.state, &self.project.id, &self.account_id).await;
        let ending = self.serve(&hub, &mut rx).await;
        drop(rx);
        self.stop_computing();
        if let Ending::Close(code, reason) = ending {
            let _ = self
                .socket
                .send(Message::Close(Some(CloseFrame {
                    code,
                    reason: Utf8Bytes::from_static(reason),
                })))
                .await;
        }
    }

    async fn serve(
        &mut self,
        hub: &Arc<Hub>,
        rx: &mut broadcast::Receiver<Arc<FeedMessage>>,
    ) -> Ending {
        let mut shutdown = self.state.live.shutdown.subscribe();
        if *shutdown.borrow() {
            return Ending::Close(CLOSE_GOING_AWAY, "server shutting down");
        }
        hub.wait_ready().await;
        if let Some(teams) =
            read_teams(&self.state, &self.project.id, &self.account_id, &self.scope).await
        {
            self.teams = teams;
        }
        let Some(mut seen) = self.send_snapshot(hub).await else {
            return Ending::ClientGone;
        };
        let start = tokio::time::Instant::now();
        let mut last_heard = start;
        let mut ping = tokio::time::interval_at(
            start + self.state.config.live_ping_every,
            self.state.config.live_ping_every,
        );
        let mut recheck = tokio::time::interval_at(
            start + self.state.config.live_recheck_every,
            self.state.config.live_recheck_every,
        );
        loop {
            let support_due = self.support_next_due();
            tokio::select! {
                msg = rx.recv() => {
                    let lagged = match msg {
                        Ok(first) => match self.forward(first, rx, &mut seen).await {
                            Ok(lagged) => lagged,
                            Err(()) => return Ending::ClientGone,
                        },
                        Err(RecvError::Lagged(_)) => true,
                        Err(RecvError::Closed) => {
                            return Ending::Close(CLOSE_GOING_AWAY, "feed closed")
                        }
                    };
                    if lagged {
                        tracing::debug!(project = %self.project.id, "live client lagged or the relay reconnected; sending a snapshot");
                        // Support changes may have been missed too: every
                        // section the client may see is refetched.
                        self.throttle.note(Sections::ALL.visible_to(&self.scope));
                        if self.send_support_due().await.is_err() {
                            return Ending::ClientGone;
                        }
                        *rx = hub.resubscribe();
                        match self.send_snapshot(hub).await {
                            Some(s) => seen = s,
                            None => return Ending::ClientGone,
                        }
                    }
                }
                incoming = self.socket.recv() => match incoming {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ending::ClientGone,
                    // A pong (or anything) proves the client is there; pings
                    // are answered by the WebSocket layer.
                    Some(Ok(msg)) => {
                        last_heard = tokio::time::Instant::now();
                        if let Message::Text(text) = msg {
                            if self.client_request(&text).await.is_err() {
                                return Ending::ClientGone;
                            }
                        }
                    }
                },
                Some(computed) = self.computed_rx.recv() => {
                    if self.send_computed(computed).await.is_err() {
                        return Ending::ClientGone;
                    }
                }
                () = finished(&mut self.computing) => {
                    self.computing = None;
                    // Sections that fell due meanwhile go now.
                    if self.send_support_due().await.is_err() {
                        return Ending::ClientGone;
                    }
                }
                _ = ping.tick() => {
                    if let Some(end) = self.check_access().await {
                        return end;
                    }
                    // Nothing, not even a pong, for two ping intervals: the
                    // connection is dead even if TCP has not noticed yet.
                    if last_heard.elapsed() > self.state.config.live_ping_every * 2 {
                        return Ending::Close(CLOSE_GOING_AWAY, "no pong");
                    }
                    if self.socket.send(Message::Ping(Default::default())).await.is_err() {
                        return Ending::ClientGone;
                    }
                    presence::seen(&self.state, &self.project.id, &self.account_id).await;
                }
                () = sleep_until(support_due) => {
                    if self.send_support_due().await.is_err() {
                        return Ending::ClientGone;
                    }
                }
                _ = recheck.tick() => {
                    if let Some(end) = self.check_access().await {
                        return end;
                    }
                }
                _ = async { shutdown.wait_for(|s| *s).await.map(|_| ()) } => {
                    return Ending::Close(CLOSE_GOING_AWAY, "server shutting down");
                }
            }
        }
    }

    /// Writes `first` and whatever else is already waiting, then flushes once:
    /// a burst costs one write instead of one per message. `Ok(true)` if the
    /// receiver lagged meanwhile.
    async fn forward(
        &mut self,
        first: Arc<FeedMessage>,
        rx: &mut broadcast::Receiver<Arc<FeedMessage>>,
        seen: &mut u64,
    ) -> Result<bool, ()> {
        let mut next = Some(first);
        let mut lagged = false;
        let mut written = 0;
        while let Some(m) = next.take() {
            if m.resync {
                lagged = true;
                break;
            }
            if let Some(audience) = &m.audience {
                if self.may_see(audience) {
                    self.throttle.note(m.support.visible_to(&self.scope));
                    // (Empty: an agent status change, for Support only.)
                    if !m.text.is_empty() {
                        self.socket
                            .feed(Message::Text(m.text.clone()))
                            .await
                            .map_err(|_| ())?;
                    }
                }
            } else if m.seq > *seen {
                // (Below: already part of the snapshot this client got.)
                *seen = m.seq;
                self.socket
                    .feed(Message::Text(m.text.clone()))
                    .await
                    .map_err(|_| ())?;
            }
            written += 1;
            if written == MAX_MESSAGES_PER_FLUSH {
                break;
            }
            match rx.try_recv() {
                Ok(m) => next = Some(m),
                Err(TryRecvError::Lagged(_)) => {
                    lagged = true;
                    break;
                }
                Err(_) => break,
            }
        }
        self.feed_support_due().await?;
        self.socket.flush().await.map_err(|_| ())?;
        Ok(lagged)
    }

    /// Whether this subscriber's scope may see an Inbox event's conversation
    /// (with the teams read at the last access check).
    fn may_see(&self, audience: &Audience) -> bool {
        audience.visible_to(&self.scope, &self.teams)
    }

    /// The Support sections that may go out now: without a subscription,
    /// their messages (`data` null) are queued on the socket; with one, a
    /// task computes their bodies, unless one is still computing (then they
    /// wait for it in the throttle).
    async fn feed_support_due(&mut self) -> Result<(), ()> {
        let Some(sub) = self.subscription.clone() else {
            let due = self.throttle.take_due(tokio::time::Instant::now());
            let now_ms = self.state.clock.now_ms();
            for section in due {
                let text = support::message(section, Value::Null, None, now_ms).to_string();
                self.socket
                    .feed(Message::Text(text.into()))
                    .await
                    .map_err(|_| ())?;
            }
            return Ok(());
        };
        if self.computing.is_some() {
            return Ok(());
        }
        let due = self.throttle.take_due(tokio::time::Instant::now());
        if !due.is_empty() {
            let sections = Sections::of(&due);
            let task = tokio::spawn(support_subscription::compute(
                self.state.clone(),
                self.access.clone(),
                sub,
                self.generation,
                due,
                self.ip,
                self.computed_tx.clone(),
            ));
            self.computing = Some((task, sections));
        }
        Ok(())
    }

    /// When the throttle has a section to send; never while a computation
    /// holds them back (its end sends what fell due).
    fn support_next_due(&self) -> Option<tokio::time::Instant> {
        if self.subscription.is_some() && self.computing.is_some() {
            return None;
        }
        self.throttle.next_due()
    }

    /// A computed body goes out if it is for the current subscription; one
    /// for a replaced subscription is dropped and its section is due again,
    /// for the new one (or, unsubscribed, with `data` null).
    async fn send_computed(&mut self, c: Computed) -> Result<(), ()> {
        let current = self
            .subscription
            .as_ref()
            .filter(|_| c.generation == self.generation);
        let Some(sub) = current else {
            self.throttle.note(Sections::of(&[c.section]));
            return Ok(());
        };
        let now_ms = self.state.clock.now_ms();
        let text = support::message(c.section, c.data, Some(&sub.echo), now_ms).to_string();
        self.throttle.sent(c.section, tokio::time::Instant::now());
        self.socket
            .send(Message::Text(text.into()))
            .await
            .map_err(|_| ())
    }

    /// A text from the client: a Support (un)subscribe is answered; anything
    /// else is ignored, as before clients sent anything.
    async fn client_request(&mut self, text: &str) -> Result<(), ()> {
        let Some(request) = support_subscription::request(
            text,
            self.access.role,
            &self.access.project.timezone,
            self.state.clock.now_ms(),
        ) else {
            return Ok(());
        };
        let answer = match request {
            Ok(request) => {
                let answer = support_subscription::accepted(&request);
                self.stop_computing();
                self.generation += 1;
                self.subscription = match request {
                    Request::Subscribe(s) => Some(Arc::new(s)),
                    Request::Unsubscribe => None,
                };
                answer
            }
            Err((name, e)) => support_subscription::refused(name.as_deref(), &e),
        };
        self.socket
            .send(Message::Text(answer.to_string().into()))
            .await
            .map_err(|_| ())
    }

    /// Stops the body computation, if any: its socket closed or its
    /// subscription changed, so nobody wants what it would send (and it
    /// would keep reading the store, or hold up the next query's bodies).
    /// Its sections are due again, for whatever replaces the subscription.
    fn stop_computing(&mut self) {
        if let Some((task, sections)) = self.computing.take() {
            task.abort();
            self.throttle.note(sections);
        }
    }

    async fn send_support_due(&mut self) -> Result<(), ()> {
        self.feed_support_due().await?;
        self.socket.flush().await.map_err(|_| ())
    }

    async fn check_access(&mut self) -> Option<Ending> {
        match access_ended(&self.state, &self.credential, &self.project).await {
            Err(end) => Some(end),
            Ok(Some(access)) => {
                self.scope = Scope::of(access.role, &self.account_id);
                if access.role < support_subscription::SECTIONS_ROLE && self.subscription.is_some()
                {
                    // Demoted below the sections: the subscription ends
                    // rather than failing every second.
                    self.stop_computing();
                    self.generation += 1;
                    self.subscription = None;
                }
                self.access = access;
                if let Some(teams) =
                    read_teams(&self.state, &self.project.id, &self.account_id, &self.scope).await
                {
                    self.teams = teams;
                }
                None
            }
            Ok(None) => None,
        }
    }

    /// Sends a snapshot and returns the sequence number it reflects.
    async fn send_snapshot(&mut self, hub: &Hub) -> Option<u64> {
        // Read before the store: every later message has a higher number,
        // and the snapshot already includes anything numbered up to here.
        let seq = hub.last_seq();
        let now = self.state.clock.now_ms();
        let text = match snapshot_parts(self.state.store.as_ref(), &self.project, now).await {
            Ok((visitors, metrics)) => json!({
                "type": "snapshot",
                "seq": seq,
                "visitors": visitors,
                "metrics": metrics,
            })
            .to_string(),
            Err(e) => {
                tracing::warn!(error = %e, "live snapshot failed");
                return None;
            }
        };
        self.socket.send(Message::Text(text.into())).await.ok()?;
        Some(seq)
    }
}

/// The account's teams when its scope depends on them; `None` if the lookup
/// failed (the caller keeps what it had). Takes the connection's fields, not
/// the connection: its socket is not `Sync`.
async fn read_teams(
    state: &AppState,
    project_id: &str,
    account_id: &str,
    scope: &Scope,
) -> Option<Vec<String>> {
    match scope {
        Scope::Agent { .. } | Scope::Supervisor { .. } => {
            match state.store.teams_of(project_id, account_id).await {
                Ok(t) => Some(t),
                Err(e) => {
                    tracing::warn!(error = %e, "live feed: reading the account's teams failed");
                    None
                }
            }
        }
        Scope::All | Scope::Nobody => Some(Vec::new()),
    }
}

/// Waits until the task ends, or forever when there is none.
async fn finished(task: &mut Option<(JoinHandle<()>, Sections)>) {
    match task {
        Some((t, _)) => {
            if let Err(e) = t.await {
                tracing::warn!(error = %e, "live support computation failed");
            }
        }
        None => std::future::pending().await,
    }
}

/// Waits until `at`, or forever when there is nothing to wait for.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// `Err` when the credential no longer resolves (4401), or its account is no
/// longer a member of the project or has a role below [`MIN_ROLE`] there
/// (4403); else the access now (account, project, role). A failed lookup is
/// not treated as either (`Ok(None)`): the next check decides.
async fn access_ended(
    state: &AppState,
    credential: &Credential,
    project: &Project,
) -> Result<Option<ProjectAccess>, Ending> {
    let account = match credential.account(state).await {
        Ok(Some(account)) => account,
        Ok(None) => {
            return Err(Ending::Close(
                CLOSE_REVOKED,
                match credential {
                    Credential::ApiToken { .. } => "token revoked",
                    Credential::Session { .. } => "session expired",
                },
            ))
        }
        Err(_) => return Ok(None),
    };
    match state
        .store
        .project_for_member(&project.id, &account.id)
        .await
    {
        Ok(Some((project, role))) if role >= MIN_ROLE => Ok(Some(ProjectAccess {
            account,
            project,
            role,
        })),
        Ok(Some(_)) => Err(Ending::Close(CLOSE_ACCESS_LOST, "role too low")),
        Ok(None) => Err(Ending::Close(CLOSE_ACCESS_LOST, "no longer a member")),
        Err(_) => Ok(None),
    }
}
