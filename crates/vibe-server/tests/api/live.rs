//! `GET /api/v1/projects/{id}/live`: snapshot, deltas, sequence numbers, lag,
//! time-outs, auth and revocation; and two nodes on one PostgreSQL database.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use vibe_server::config::Config;

use crate::helpers::*;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(10);

pub enum Auth<'a> {
    Cookie(&'a Session),
    Bearer(&'a str),
    Query(&'a str),
    None,
}

/// Opens the feed; `Err(status, body)` when the upgrade is refused.
pub async fn connect(
    app: &TestApp,
    project_id: &str,
    auth: Auth<'_>,
) -> Result<Socket, (u16, String)> {
    let mut url = format!(
        "{}/api/v1/projects/{project_id}/live",
        app.base.replacen("http", "ws", 1)
    );
    if let Auth::Query(t) = auth {
        url.push_str(&format!("?token={t}"));
    }
    let mut req = url.into_client_request().unwrap();
    match auth {
        Auth::Cookie(s) => {
            req.headers_mut().insert("cookie", s.0.parse().unwrap());
            // A browser's socket carries the dashboard's origin.
            req.headers_mut()
                .insert("origin", app.base.parse().unwrap());
        }
        Auth::Bearer(t) => {
            req.headers_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        _ => {}
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err((
            res.status().as_u16(),
            String::from_utf8_lossy(res.body().as_deref().unwrap_or_default()).into_owned(),
        )),
        Err(e) => panic!("websocket connect failed: {e}"),
    }
}

/// Opens `session`'s feed of a project and reads its first message, the snapshot.
pub async fn watch(app: &TestApp, project_id: &str, session: &Session) -> (Socket, Value) {
    let mut ws = connect(app, project_id, Auth::Cookie(session))
        .await
        .expect("the feed opens");
    let snap = next_json(&mut ws).await;
    assert_eq!(snap["type"], "snapshot", "the first message: {snap}");
    (ws, snap)
}

/// The status and body with which the feed is refused.
async fn refused(app: &TestApp, project_id: &str, auth: Auth<'_>) -> (u16, String) {
    match connect(app, project_id, auth).await {
        Ok(_) => panic!("the feed of {project_id} should be refused"),
        Err(refusal) => refusal,
    }
}

/// The next JSON message (pings are answered by the client library).
pub async fn next_json(ws: &mut Socket) -> Value {
    next_json_for(ws, "a live message").await
}

async fn next_json_for(ws: &mut Socket, what: &str) -> Value {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {what} within {WAIT:?}"))
            .expect("socket open")
            .expect("socket ok");
        match msg {
            Message::Text(t) => return serde_json::from_str(&t).expect("JSON message"),
            Message::Close(c) => panic!("socket closed: {c:?}"),
            _ => {}
        }
    }
}

/// Reads messages until one of type `kind`; returns it and everything read.
pub async fn until_type(ws: &mut Socket, kind: &str) -> (Value, Vec<Value>) {
    let mut seen = Vec::new();
    loop {
        let m = next_json_for(ws, kind).await;
        seen.push(m.clone());
        if m["type"] == kind {
            return (m, seen);
        }
    }
}

fn assert_consecutive(msgs: &[Value], from: u64) {
    for (i, m) in msgs.iter().enumerate() {
        assert_eq!(m["seq"].as_u64(), Some(from + 1 + i as u64), "seq of {m}");
    }
}

fn session_ids(visitors: &Value) -> Vec<String> {
    sorted_strings(visitors.as_array().expect("visitors"), "session_id")
}

async fn snapshot_matches_online_and_metrics(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let two_visitors = vec![
        pageview("a", "s-a", "https://x/"),
        pageview("b", "s-b", "https://x/pricing"),
    ];
    app.collect_ok(&p.write_key, two_visitors).await;
    let (_ws, snap) = watch(&app, &p.id, &owner).await;
    assert_eq!(snap["seq"], 0);
    let online = app
        .get_json(&owner, &format!("/api/v1/projects/{}/online", p.id))
        .await;
    assert_eq!(session_ids(&snap["visitors"]), ["s-a", "s-b"]);
    assert_eq!(
        session_ids(&snap["visitors"]),
        session_ids(&online["visitors"])
    );
    let one = |v: &Value, sid: &str| {
        let mut v = v
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["session_id"] == sid)
            .unwrap()
            .clone();
        // Derived from "now", which moves between the two requests.
        for k in ["time_on_site_s", "time_on_page_s"] {
            v[k] = Value::Null;
        }
        v
    };
    assert_eq!(
        one(&snap["visitors"], "s-b"),
        one(&online["visitors"], "s-b")
    );
    let metrics = app
        .get_json(&owner, &format!("/api/v1/projects/{}/metrics", p.id))
        .await;
    assert_eq!(snap["metrics"], metrics);
}

async fn deltas_follow_collects_in_sequence(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let (mut ws, snap) = watch(&app, &p.id, &owner).await;
    let mut all = Vec::new();

    app.collect_ok(&p.write_key, vec![pageview("a", "s-a", "https://x/")])
        .await;
    let (joined, seen) = until_type(&mut ws, "visitor_joined").await;
    all.extend(seen);
    assert_eq!(joined["visitor"]["session_id"], "s-a");
    assert_eq!(joined["visitor"]["current_page"]["path"], "/");

    // A heartbeat on the same page says nothing; a new page is a move.
    let beat_then_move = vec![
        signal("heartbeat", "a", "s-a"),
        pageview("a", "s-a", "https://x/pricing"),
    ];
    app.collect_ok(&p.write_key, beat_then_move).await;
    let (moved, seen) = until_type(&mut ws, "visitor_moved").await;
    all.extend(seen);
    assert_eq!(moved["visitor"]["current_page"]["path"], "/pricing");
    assert_eq!(moved["visitor"]["page_count"], 2);

    app.collect_ok(
        &p.write_key,
        vec![message(
            "event",
            "a",
            "s-a",
            json!({"name": "signup_click", "url": "https://x/pricing"}),
        )],
    )
    .await;
    let (event, seen) = until_type(&mut ws, "event").await;
    all.extend(seen);
    assert_eq!(event["name"], "signup_click");
    assert_eq!(event["anonymous_id"], "a");
    assert_eq!(event["user_id"], Value::Null);
    assert_eq!(event["page"], "/pricing");
    assert!(event["at"].as_str().unwrap().ends_with('Z'));

    app.collect_ok(
        &p.write_key,
        vec![message(
            "identify",
            "a",
            "s-a",
            json!({"user_id": "u1", "traits": {"email": "ada@example.com", "plan": "pro"}}),
        )],
    )
    .await;
    let (ident, seen) = until_type(&mut ws, "user_identified").await;
    all.extend(seen);
    assert_eq!(ident["anonymous_id"], "a");
    assert_eq!(ident["user_id"], "u1");
    assert_eq!(ident["traits"]["plan"], "pro");

    app.collect_ok(&p.write_key, vec![signal("leave", "a", "s-a")])
        .await;
    let (left, seen) = until_type(&mut ws, "visitor_left").await;
    all.extend(seen);
    assert_eq!(
        left,
        json!({"type": "visitor_left", "seq": left["seq"], "session_id": "s-a", "reason": "leave"})
    );

    // Card values changed (a new person, someone online): a metrics message.
    let (metrics, seen) = until_type(&mut ws, "metrics").await;
    all.extend(seen);
    assert!(metrics["metrics"]["total_users"]["value"].as_f64().unwrap() >= 1.0);
    assert_consecutive(&all, snap["seq"].as_u64().unwrap());
}

async fn silent_visitors_time_out(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let (mut ws, _) = watch(&app, &p.id, &owner).await;
    app.collect_ok(&p.write_key, vec![pageview("a", "s-a", "https://x/")])
        .await;
    until_type(&mut ws, "visitor_joined").await;
    // Heartbeats stop; the online window passes.
    app.clock.advance_ms((p.online_window_s + 1) * 1000);
    let started = std::time::Instant::now();
    let (left, _) = until_type(&mut ws, "visitor_left").await;
    assert_eq!(left["session_id"], "s-a");
    assert_eq!(left["reason"], "timeout");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(app.online_visitors(&owner, &p.id).await.is_empty());
}

async fn a_lagging_client_gets_a_fresh_snapshot(backend: Backend) {
    let Some((app, owner, p)) = signed_in_with(backend, |c| c.live_channel_capacity = 1).await
    else {
        return;
    };
    let (mut ws, _) = watch(&app, &p.id, &owner).await;
    // 300 joins in one batch overflow a one-message channel.
    let batch: Vec<Value> = (0..300)
        .map(|i| pageview(&format!("a{i}"), &format!("s{i:03}"), "https://x/"))
        .collect();
    app.collect_ok(&p.write_key, batch).await;
    let (snap, seen) = until_type(&mut ws, "snapshot").await;
    assert!(seen.len() < 300, "some messages were skipped");
    assert_eq!(snap["visitors"].as_array().unwrap().len(), 300);
    // The feed goes on from the snapshot's number.
    app.collect_ok(&p.write_key, vec![pageview("a0", "s000", "https://x/b")])
        .await;
    let (moved, seen) = until_type(&mut ws, "visitor_moved").await;
    assert_consecutive(&seen, snap["seq"].as_u64().unwrap());
    assert_eq!(moved["visitor"]["session_id"], "s000");
}

async fn feed_needs_auth_and_membership(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let (status, body) = refused(&app, &p.id, Auth::None).await;
    assert_eq!(status, 401);
    assert!(body.contains("\"unauthorized\""), "{body}");
    let (status, _) = refused(&app, &p.id, Auth::Query("vbt_nope")).await;
    assert_eq!(status, 401);

    let member = app.as_role(vibe_store::Role::Viewer).await;
    let other = app.create_project(&owner, "Other").await;
    let (status, body) = refused(&app, &other.id, Auth::Cookie(&member)).await;
    assert_eq!(status, 404);
    assert!(body.contains("not_found"), "{body}");
    let (status, _) = refused(&app, "no-such-project", Auth::Cookie(&owner)).await;
    assert_eq!(status, 404);
    // The member watches their own project.
    let (_ws, _) = watch(&app, &p.id, &member).await;

    // A plain GET is told to upgrade.
    let res = app
        .get(&owner, &format!("/api/v1/projects/{}/live", p.id))
        .await;
    assert!(res.status().is_client_error());
    assert_eq!(json_of(res).await["error"]["code"], "websocket_expected");
}

/// An app whose feeds re-check their credentials every `every`.
async fn rechecking(backend: Backend, every: Duration) -> Option<SignedIn> {
    signed_in_with(backend, |c| c.live_recheck_every = every).await
}

async fn revoked_token_closes_the_feed(backend: Backend) {
    let Some((app, owner, p)) = rechecking(backend, Duration::from_millis(200)).await else {
        return;
    };
    let body = app.mint_token(&owner, "wall").await;
    let (secret, id) = (string_at(&body, "secret"), string_at(&body["token"], "id"));

    let mut by_query = connect(&app, &p.id, Auth::Query(&secret)).await.unwrap();
    let mut by_header = connect(&app, &p.id, Auth::Bearer(&secret)).await.unwrap();
    for ws in [&mut by_query, &mut by_header] {
        assert_eq!(next_json(ws).await["type"], "snapshot");
    }
    assert_eq!(
        app.delete(&owner, &format!("/api/v1/tokens/{id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    for ws in [&mut by_query, &mut by_header] {
        let frame = expect_close(ws).await;
        assert_eq!(frame.0, CloseCode::from(4401));
        assert_eq!(frame.1, "token revoked");
    }
}

async fn logging_out_closes_the_feed(backend: Backend) {
    let Some((app, owner, p)) = rechecking(backend, Duration::from_millis(200)).await else {
        return;
    };
    let (mut ws, _) = watch(&app, &p.id, &owner).await;
    app.post(&owner, "/api/v1/auth/logout", json!({})).await;
    let frame = expect_close(&mut ws).await;
    assert_eq!(frame.0, CloseCode::from(4401));
    assert_eq!(frame.1, "session expired");
}

/// A member removed from the project is cut off at the next re-check (4403);
/// a role change that still allows the feed keeps it, and others keep theirs.
async fn removed_member_is_disconnected(backend: Backend) {
    const RECHECK: Duration = Duration::from_millis(300);
    let Some((app, owner, p)) = rechecking(backend, RECHECK).await else {
        return;
    };
    let bob = app.as_role(vibe_store::Role::Admin).await;
    let member = format!(
        "/api/v1/projects/{}/members/{}",
        p.id,
        app.account_id(&bob).await
    );
    let (mut bob_ws, _) = watch(&app, &p.id, &bob).await;
    let (mut owner_ws, _) = watch(&app, &p.id, &owner).await;

    // Demoted to viewer: still may watch, so several re-checks pass quietly.
    let res = app.patch(&owner, &member, json!({"role": "viewer"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    match tokio::time::timeout(RECHECK * 4, bob_ws.next()).await {
        Err(_) => {}
        Ok(msg) => panic!("a viewer's feed should stay open, got {msg:?}"),
    }

    let removed_at = std::time::Instant::now();
    assert_eq!(
        app.delete(&owner, &member).await.status(),
        StatusCode::NO_CONTENT
    );
    let (code, reason) = expect_close(&mut bob_ws).await;
    assert_eq!(code, CloseCode::from(4403));
    assert_eq!(reason, "no longer a member");
    // Within the re-check interval (plus scheduling slack), not at the next ping.
    assert!(
        removed_at.elapsed() < RECHECK * 10,
        "closed after {:?}",
        removed_at.elapsed()
    );

    // The owner's feed goes on.
    app.collect_ok(
        &p.write_key,
        vec![pageview("a1", "s1", "https://x.example/")],
    )
    .await;
    let (joined, _) = until_type(&mut owner_ws, "visitor_joined").await;
    assert_eq!(joined["visitor"]["session_id"], "s1");
}

async fn expect_close(ws: &mut Socket) -> (CloseCode, String) {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a close in time")
            .expect("a close frame before the end")
            .expect("socket ok");
        if let Message::Close(Some(f)) = msg {
            return (f.code, f.reason.to_string());
        }
    }
}

async fn shutdown_closes_with_going_away(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let (mut ws, _) = watch(&app, &p.id, &owner).await;
    let closing = tokio::spawn(async move { expect_close(&mut ws).await });
    app.stop().await;
    let frame = closing.await.unwrap();
    assert_eq!(frame.0, CloseCode::Away);
}

/// The server pings; a client that answers stays, one that goes silent is
/// dropped after two ping intervals.
async fn pings_keep_answering_clients_and_drop_silent_ones(backend: Backend) {
    let ping_often = |c: &mut Config| c.live_ping_every = Duration::from_millis(200);
    let Some((app, owner, p)) = signed_in_with(backend, ping_often).await else {
        return;
    };
    let (mut answering, _) = watch(&app, &p.id, &owner).await;
    let (mut silent, _) = watch(&app, &p.id, &owner).await;
    // Reading lets the client library answer pings with pongs.
    let mut pings = 0;
    let until = std::time::Instant::now() + Duration::from_millis(1500);
    while std::time::Instant::now() < until {
        if let Ok(Some(Ok(m))) =
            tokio::time::timeout(Duration::from_millis(100), answering.next()).await
        {
            assert!(!m.is_close(), "an answering client is kept: {m:?}");
            pings += u32::from(m.is_ping());
        }
    }
    assert!(pings >= 3, "pinged {pings} times");
    // The silent one never read, so never answered: it was closed.
    let frame = expect_close(&mut silent).await;
    assert_eq!(frame, (CloseCode::Away, "no pong".to_owned()));
}

/// Dashboards on one project share one hub (one lookup per batch, the same
/// numbered messages); it stops when the last one leaves.
async fn dashboards_share_one_hub_per_project(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let hubs = &app.state.live.hubs;
    assert_eq!(hubs.watched_projects(), 0);
    let (mut one, _) = watch(&app, &p.id, &owner).await;
    let (mut two, _) = watch(&app, &p.id, &owner).await;
    assert_eq!(hubs.watched_projects(), 1);
    app.collect_ok(&p.write_key, vec![pageview("a", "s-a", "https://x/")])
        .await;
    let (a, _) = until_type(&mut one, "visitor_joined").await;
    let (b, _) = until_type(&mut two, "visitor_joined").await;
    assert_eq!(a, b, "the same message, with the same number");
    drop(one);
    drop(two);
    let start = std::time::Instant::now();
    while hubs.watched_projects() > 0 {
        assert!(start.elapsed() < WAIT, "the idle hub stops");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

crate::on_both_backends!(
    dashboards_share_one_hub_per_project,
    pings_keep_answering_clients_and_drop_silent_ones,
    snapshot_matches_online_and_metrics,
    deltas_follow_collects_in_sequence,
    silent_visitors_time_out,
    a_lagging_client_gets_a_fresh_snapshot,
    feed_needs_auth_and_membership,
    revoked_token_closes_the_feed,
    logging_out_closes_the_feed,
    removed_member_is_disconnected,
    shutdown_closes_with_going_away,
);

/// Waits until `f` holds, polling.
async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Two `vibe serve` nodes on one PostgreSQL schema: a visitor collected on B
/// reaches a dashboard on A, `/online` agrees, and scheduled work runs on one
/// node at a time and fails over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_the_feed_and_one_schedule() {
    let Some(a) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let b = spawn_second_node(&a, |_| {}).await;
    let owner = a.login_owner().await;
    let p = a.default_project(&owner).await;

    let (mut on_a, _) = watch(&a, &p.id, &owner).await;
    let (mut on_b, _) = watch(&b, &p.id, &owner).await;

    b.collect_ok(&p.write_key, vec![pageview("v", "s-v", "https://x/")])
        .await;
    for ws in [&mut on_a, &mut on_b] {
        let (joined, seen) = until_type(ws, "visitor_joined").await;
        assert_eq!(joined["visitor"]["session_id"], "s-v");
        assert_eq!(seen.len(), 1, "delivered once: {seen:?}");
    }
    a.collect_ok(&p.write_key, vec![event("v", "s-v", "buy")])
        .await;
    for ws in [&mut on_a, &mut on_b] {
        assert_eq!(until_type(ws, "event").await.0["name"], "buy");
    }
    let online = format!("/api/v1/projects/{}/online", p.id);
    let online_a = a.get_json(&owner, &online).await;
    let online_b = b.get_json(&owner, &online).await;
    assert_eq!(session_ids(&online_a["visitors"]), ["s-v"]);
    assert_eq!(
        session_ids(&online_a["visitors"]),
        session_ids(&online_b["visitors"])
    );

    // Exactly one node runs scheduled work.
    let (sa, sb) = (a.state.clone(), b.state.clone());
    eventually("a leader", || sa.live.is_leader() || sb.live.is_leader()).await;
    for _ in 0..10 {
        assert!(
            sa.live.is_leader() != sb.live.is_leader(),
            "exactly one leader"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut roles = Vec::new();
    for node in [&a, &b] {
        let ready = json_of(node.client.get(node.url("/readyz")).send().await.unwrap()).await;
        roles.push(ready["scheduler"].as_str().unwrap().to_owned());
    }
    roles.sort();
    assert_eq!(roles, ["leader", "standby"]);
    // Its time-outs reach dashboards on both nodes.
    a.clock.advance_ms((p.online_window_s + 1) * 1000);
    for ws in [&mut on_a, &mut on_b] {
        let (left, _) = until_type(ws, "visitor_left").await;
        assert_eq!(left["reason"], "timeout");
    }

    // Stop the leader: the other node takes over.
    let (leader, follower, mut follower_ws) = if sa.live.is_leader() {
        (a, b, on_b)
    } else {
        (b, a, on_a)
    };
    leader.stop().await;
    let fs = follower.state.clone();
    eventually("fail-over", || fs.live.is_leader()).await;
    follower
        .collect_ok(&p.write_key, vec![pageview("w", "s-w", "https://x/")])
        .await;
    until_type(&mut follower_ws, "visitor_joined").await;
    follower.clock.advance_ms((p.online_window_s + 1) * 1000);
    let (left, _) = until_type(&mut follower_ws, "visitor_left").await;
    assert_eq!(
        (left["session_id"].as_str(), left["reason"].as_str()),
        (Some("s-w"), Some("timeout"))
    );
}

/// When the `LISTEN` session drops, notifications sent meanwhile are lost: the
/// node reconnects and sends every dashboard a fresh snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_listen_session_resyncs_dashboards() {
    let Some((app, owner, p)) = signed_in(Backend::Postgres).await else {
        return;
    };
    let (mut ws, _) = watch(&app, &p.id, &owner).await;

    let channel = vibe_server::live::relay::channel_for(&app.database_url());
    let admin = sqlx::PgPool::connect(&pg_url()).await.unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND query LIKE $1",
    )
    .bind(format!("%{channel}%"))
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(killed, [true]);

    let (snap, _) = until_type(&mut ws, "snapshot").await;
    assert!(snap["visitors"].as_array().unwrap().is_empty());
    // Listening again: new changes arrive.
    app.collect_ok(&p.write_key, vec![pageview("a", "s-a", "https://x/")])
        .await;
    let (joined, seen) = until_type(&mut ws, "visitor_joined").await;
    assert_eq!(joined["visitor"]["session_id"], "s-a");
    assert_consecutive(&seen, snap["seq"].as_u64().unwrap());
}
