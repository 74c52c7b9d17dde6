//! Support page updates on the live feed (`{"type":"support","section",…}`,
//! `live/support.rs`): sent after an Inbox change, at most once a second per
//! section under a burst, only to subscribers whose scope may see the change,
//! never to viewers.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use vibe_store::{Project, Role};

use crate::chat::{enable_chat, say, token};
use crate::helpers::*;
use crate::live::{next_json, watch, Socket};

/// Every JSON message that arrives within `window`, with when it arrived.
async fn collect_for(ws: &mut Socket, window: Duration) -> Vec<(Instant, Value)> {
    let end = Instant::now() + window;
    let mut out = Vec::new();
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(end, ws.next()).await {
        if let Message::Text(t) = msg {
            out.push((Instant::now(), serde_json::from_str(&t).expect("JSON")));
        }
    }
    out
}

fn is_support(m: &Value, section: &str) -> bool {
    m["type"] == "support" && m["section"] == section
}

/// Reads until the `support` message of `section`; returns everything read.
async fn until_support(ws: &mut Socket, section: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let m = next_json(ws).await;
        let done = is_support(&m, section);
        seen.push(m);
        if done {
            return seen;
        }
    }
}

/// A conversation started by the owner (`body` names the contact and the
/// assignee); the contact is made first, as a tracked, identified visitor.
async fn conversation(app: &TestApp, owner: &Session, p: &Project, body: Value) -> String {
    let user = body["contact_id"].as_str().expect("contact_id");
    let (anon, session) = (format!("a-{user}"), format!("s-{user}"));
    app.collect_ok(
        &p.write_key,
        vec![
            pageview(&anon, &session, "https://shop.example/"),
            identify(&anon, &session, user, json!({"name": user})),
        ],
    )
    .await;
    let pid = &p.id;
    let res = app
        .post(
            owner,
            &format!("/api/v1/projects/{pid}/conversations"),
            body,
        )
        .await;
    string_at(&created(res).await, "id")
}

async fn reply(app: &TestApp, who: &Session, pid: &str, cid: &str, body: &str) {
    let res = app
        .post(
            who,
            &format!("/api/v1/projects/{pid}/conversations/{cid}/messages"),
            json!({ "body": body }),
        )
        .await;
    assert!(res.status().is_success(), "reply: {}", res.status());
}

async fn owner_gets_kpi_after_an_inbound_message(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    enable_chat(&app, &owner, &p.id, true).await;
    let (mut ws, _) = watch(&app, &p.id, &owner).await;
    let v = token(&app, &p.write_key, "anon-kpi").await;
    let before = app.clock.now_ms();
    say(&app, &v, "hello?").await;
    let seen = until_support(&mut ws, "kpi").await;
    let kpi = seen.last().unwrap();
    assert_eq!(kpi["data"], Value::Null, "{kpi}");
    assert!(kpi["timestamp"].as_i64().unwrap() >= before, "{kpi}");
    assert!(
        kpi.get("seq").is_none(),
        "support messages carry no seq: {kpi}"
    );
    // The Inbox event came first, and the message's other sections follow.
    assert!(seen.iter().any(|m| m["type"] == "inbox.message"));
    let rest = collect_for(&mut ws, Duration::from_millis(500)).await;
    let mut sections: Vec<&str> = rest
        .iter()
        .filter(|(_, m)| m["type"] == "support")
        .map(|(_, m)| m["section"].as_str().unwrap())
        .collect();
    sections.sort_unstable();
    assert_eq!(sections, ["automation", "conversation", "customer"]);
}

async fn a_burst_is_sent_at_most_once_a_second(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let cid = conversation(&app, &owner, &p, json!({"contact_id": "burst"})).await;
    let (mut ws, _) = watch(&app, &p.id, &owner).await;
    // The socket is read while the burst is sent, so arrival times are real.
    let done: std::cell::Cell<Option<Instant>> = std::cell::Cell::new(None);
    let started = Instant::now();
    let send = async {
        for i in 0..20 {
            reply(&app, &owner, &p.id, &cid, &format!("reply {i}")).await;
        }
        done.set(Some(Instant::now()));
    };
    let read = async {
        let mut msgs = Vec::new();
        // Until more than two gaps after the burst: the coalesced rest arrives.
        while done
            .get()
            .is_none_or(|d| d.elapsed() < Duration::from_millis(2500))
        {
            msgs.extend(collect_for(&mut ws, Duration::from_millis(100)).await);
        }
        msgs
    };
    let ((), msgs) = tokio::join!(send, read);
    let burst = done.get().unwrap() - started;
    let inbox = msgs
        .iter()
        .filter(|(_, m)| m["type"] == "inbox.message")
        .count();
    assert_eq!(inbox, 20, "every Inbox event is still sent");
    let kpi: Vec<Instant> = msgs
        .iter()
        .filter(|(_, m)| is_support(m, "kpi"))
        .map(|(at, _)| *at)
        .collect();
    assert!(!kpi.is_empty(), "a kpi update after the burst");
    for pair in kpi.windows(2) {
        // 1 s apart when sent; a little slack for delivery jitter.
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(900),
            "kpi twice within {gap:?}"
        );
    }
    let allowed = 1 + (burst.as_millis() as usize / 1000) + 2;
    assert!(kpi.len() <= allowed, "{} kpi updates", kpi.len());
    // The burst's last change was not lost: a kpi update follows the last
    // Inbox event (the socket keeps their order), and nothing more is pending.
    let last = |f: &dyn Fn(&Value) -> bool| msgs.iter().rposition(|(_, m)| f(m)).unwrap();
    assert!(last(&|m| is_support(m, "kpi")) > last(&|m| m["type"] == "inbox.message"));
    let later = collect_for(&mut ws, Duration::from_millis(1500)).await;
    assert!(
        !later.iter().any(|(_, m)| m["type"] == "support"),
        "no update without a change: {later:?}"
    );
}

async fn agents_hear_only_of_their_own(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let pid = &p.id;
    let agent = app.as_role(Role::Agent).await;
    let peer = app.create_user("peer@example.com", Role::Agent).await;
    let (agent_id, peer_id) = (app.account_id(&agent).await, app.account_id(&peer).await);
    let peers = conversation(
        &app,
        &owner,
        &p,
        json!({"contact_id": "p1", "assignee": peer_id}),
    )
    .await;
    let mine = conversation(
        &app,
        &owner,
        &p,
        json!({"contact_id": "m1", "assignee": agent_id}),
    )
    .await;
    let (mut agent_ws, _) = watch(&app, pid, &agent).await;
    let (mut owner_ws, _) = watch(&app, pid, &owner).await;

    // The peer's conversation and status: the owner hears of both.
    reply(&app, &owner, pid, &peers, "for the peer").await;
    let res = app
        .put(
            &peer,
            &format!("/api/v1/projects/{pid}/agents/me/status"),
            json!({"status": "online"}),
        )
        .await;
    assert!(res.status().is_success());
    until_support(&mut owner_ws, "kpi").await;
    until_support(&mut owner_ws, "agent").await;
    // Then the agent's own: the first support messages they get follow it.
    reply(&app, &owner, pid, &mine, "for the agent").await;
    // The kpi update may overtake the reply's own `inbox.message` (they are
    // sent by different paths): read on a little after it.
    let mut seen = until_support(&mut agent_ws, "kpi").await;
    seen.extend(
        collect_for(&mut agent_ws, Duration::from_millis(500))
            .await
            .into_iter()
            .map(|(_, m)| m),
    );
    assert!(
        seen.iter()
            .all(|m| m["conversation"]["id"] != peers.as_str()),
        "nothing of the peer's conversation: {seen:?}"
    );
    let own = seen
        .iter()
        .filter(|m| m["type"] == "inbox.message")
        .collect::<Vec<_>>();
    assert_eq!(own.len(), 1, "{seen:?}");
    assert_eq!(own[0]["conversation"]["id"], mine.as_str());
    // The first support message the agent gets follows their own change:
    // none came of the peer's reply or status.
    let first_own = seen
        .iter()
        .position(|m| m["conversation"]["id"] == mine.as_str())
        .unwrap();
    let first_support = seen.iter().position(|m| m["type"] == "support").unwrap();
    assert!(
        first_own < first_support,
        "nothing of the peer's before their own: {seen:?}"
    );
    // Their own status: the agent section; the business section never.
    let res = app
        .put(
            &agent,
            &format!("/api/v1/projects/{pid}/agents/me/status"),
            json!({"status": "away"}),
        )
        .await;
    assert!(res.status().is_success());
    let seen = until_support(&mut agent_ws, "agent").await;
    assert!(!seen.iter().any(|m| is_support(m, "business")), "{seen:?}");
}

async fn viewers_get_none(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    enable_chat(&app, &owner, &p.id, true).await;
    let viewer = app.as_role(Role::Viewer).await;
    let (mut viewer_ws, _) = watch(&app, &p.id, &viewer).await;
    let (mut owner_ws, _) = watch(&app, &p.id, &owner).await;
    let v = token(&app, &p.write_key, "anon-v").await;
    say(&app, &v, "anyone?").await;
    until_support(&mut owner_ws, "kpi").await;
    // A visitor-feed marker sent after it: the viewer got nothing before it.
    app.collect_ok(
        &p.write_key,
        vec![pageview("anon-marker", "s-marker", "https://shop.example/")],
    )
    .await;
    loop {
        let m = next_json(&mut viewer_ws).await;
        assert_ne!(m["type"], "support", "a viewer was told: {m}");
        if m["type"] == "visitor_joined" {
            break;
        }
    }
}

crate::on_both_backends!(
    owner_gets_kpi_after_an_inbound_message,
    a_burst_is_sent_at_most_once_a_second,
    agents_hear_only_of_their_own,
    viewers_get_none,
);
