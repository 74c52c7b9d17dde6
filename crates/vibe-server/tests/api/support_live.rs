//! Support page updates on the live feed (`{"type":"support","section",…}`,
//! `live/support.rs`): sent after an Inbox change, at most once a second per
//! section under a burst, only to subscribers whose scope may see the change,
//! never to viewers. A connection that subscribed with its page's query
//! (`live/support_subscription.rs`) gets each section's body, exactly the
//! `GET …/support/*` answer for that query and its account; a bad query is
//! answered on the socket, which stays open; others get `data: null`.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use vibe_store::{Project, Role};

use crate::chat::{enable_chat, say, token};
use crate::helpers::*;
use crate::live::{next_json, until_type, watch, Socket};

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
/// An agent and a peer agent, each assigned one conversation:
/// `(agent, peer, the peer's conversation, the agent's)`.
async fn agent_and_peer(
    app: &TestApp,
    owner: &Session,
    p: &Project,
) -> (Session, Session, String, String) {
    let agent = app.as_role(Role::Agent).await;
    let peer = app.create_user("peer@example.com", Role::Agent).await;
    let (agent_id, peer_id) = (app.account_id(&agent).await, app.account_id(&peer).await);
    let peers = conversation(
        app,
        owner,
        p,
        json!({"contact_id": "p1", "assignee": peer_id}),
    )
    .await;
    let mine = conversation(
        app,
        owner,
        p,
        json!({"contact_id": "m1", "assignee": agent_id}),
    )
    .await;
    (agent, peer, peers, mine)
}

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
    let (agent, peer, peers, mine) = agent_and_peer(&app, &owner, &p).await;
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

/// The route of a section's body.
fn endpoint(section: &str) -> &'static str {
    match section {
        "kpi" => "kpi",
        "conversation" => "conversation-effectiveness",
        "whatsapp" => "whatsapp-performance",
        "customer" => "customer-load",
        "agent" => "agent-productivity",
        "automation" => "automation-impact",
        "business" => "business-impact",
        other => panic!("no section {other}"),
    }
}

/// `GET …/support/<section>` with `query` (an object of strings) as its query string.
async fn get_section(
    app: &TestApp,
    who: &Session,
    pid: &str,
    section: &str,
    query: &Value,
) -> Value {
    let qs: Vec<String> = query
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
        .collect();
    let path = format!(
        "/api/v1/projects/{pid}/support/{}?{}",
        endpoint(section),
        qs.join("&")
    );
    let res = app.get(who, &path).await;
    assert!(res.status().is_success(), "{path}: {}", res.status());
    json_of(res).await
}

async fn send(ws: &mut Socket, msg: impl ToString) {
    ws.send(Message::Text(msg.to_string().into()))
        .await
        .expect("client message sent");
}

/// Subscribes to the bodies of `query`; returns the server's answer.
async fn subscribe(ws: &mut Socket, query: &Value) -> Value {
    send(ws, json!({"type": "support.subscribe", "query": query})).await;
    let (ack, _) = until_type(ws, "support.subscribed").await;
    assert_eq!(&ack["query"], query, "{ack}");
    ack
}

async fn a_subscribed_owner_gets_the_bodies_of_its_query(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    enable_chat(&app, &owner, &p.id, true).await;
    let (mut ws, _) = watch(&app, &p.id, &owner).await;
    let query = json!({"date_range": "week", "channel": "in_app"});
    subscribe(&mut ws, &query).await;
    let v = token(&app, &p.write_key, "anon-sub").await;
    say(&app, &v, "hello?").await;
    let kpi = until_support(&mut ws, "kpi").await.pop().unwrap();
    assert_eq!(kpi["query"], query, "{kpi}");
    let data = &kpi["data"];
    assert_eq!(data["scope"], "all", "{kpi}");
    assert_eq!(data["messages_today"]["value"].as_f64(), Some(1.0), "{kpi}");
    // Exactly the strip's GET for the same query (range and scope included).
    assert_eq!(data, &get_section(&app, &owner, &p.id, "kpi", &query).await);
    // The message's other sections follow, each its route's body.
    let rest = collect_for(&mut ws, Duration::from_millis(1000)).await;
    let mut sections = Vec::new();
    for (_, m) in rest.iter().filter(|(_, m)| m["type"] == "support") {
        let section = m["section"].as_str().unwrap();
        sections.push(section);
        let get = get_section(&app, &owner, &p.id, section, &query).await;
        assert_eq!(m["data"], get, "{section}");
    }
    sections.sort_unstable();
    assert_eq!(sections, ["automation", "conversation", "customer"]);
}

async fn an_agent_subscribed_gets_their_own_figures(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let pid = &p.id;
    let (agent, _, peers, mine) = agent_and_peer(&app, &owner, &p).await;
    reply(&app, &owner, pid, &peers, "for the peer").await;
    reply(&app, &owner, pid, &peers, "and again").await;
    let (mut ws, _) = watch(&app, pid, &agent).await;
    let query = json!({});
    subscribe(&mut ws, &query).await;
    reply(&app, &owner, pid, &mine, "for the agent").await;
    let kpi = until_support(&mut ws, "kpi").await.pop().unwrap();
    assert_eq!(kpi["data"]["scope"], "own", "{kpi}");
    assert_eq!(
        kpi["data"],
        get_section(&app, &agent, pid, "kpi", &query).await
    );
    // Not the owner's figures, which count the peer's messages too.
    let all = get_section(&app, &owner, pid, "kpi", &query).await;
    assert_ne!(
        kpi["data"]["messages_today"], all["messages_today"],
        "{all}"
    );
}

async fn a_bad_subscription_is_answered_and_the_socket_stays_usable(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    enable_chat(&app, &owner, &p.id, true).await;
    let (mut ws, _) = watch(&app, &p.id, &owner).await;
    send(
        &mut ws,
        json!({"type": "support.subscribe", "query": {"date_range": "year"}}),
    )
    .await;
    let (err, _) = until_type(&mut ws, "error").await;
    assert_eq!(
        err,
        json!({"type": "error", "request": "support.subscribe", "error": {
            "code": "invalid_field", "field": "date_range", "message": "`today`, `week` or `month`"}})
    );
    // Anything that is not a Support request is ignored, as before.
    send(&mut ws, "hello").await;
    send(
        &mut ws,
        json!({"type": "support.subscribe", "query": {"start_date": "2026-01-02"}}),
    )
    .await;
    let (err, _) = until_type(&mut ws, "error").await;
    assert_eq!(err["error"]["field"], "end_date", "{err}");

    // Still unsubscribed: no data.
    let v = token(&app, &p.write_key, "anon-bad").await;
    say(&app, &v, "one").await;
    let kpi = until_support(&mut ws, "kpi").await.pop().unwrap();
    assert_eq!(kpi["data"], Value::Null, "{kpi}");
    assert!(kpi.get("query").is_none(), "{kpi}");

    // The same socket subscribes after all.
    let query = json!({});
    subscribe(&mut ws, &query).await;
    say(&app, &v, "two").await;
    let kpi = until_support(&mut ws, "kpi").await.pop().unwrap();
    assert_eq!(
        kpi["data"],
        get_section(&app, &owner, &p.id, "kpi", &query).await
    );
    assert_eq!(kpi["data"]["messages_today"]["value"].as_f64(), Some(2.0));

    // And unsubscribes: data null again.
    send(&mut ws, json!({"type": "support.unsubscribe"})).await;
    until_type(&mut ws, "support.unsubscribed").await;
    say(&app, &v, "three").await;
    let kpi = until_support(&mut ws, "kpi").await.pop().unwrap();
    assert_eq!(kpi["data"], Value::Null, "{kpi}");
    assert!(kpi.get("query").is_none(), "{kpi}");
}

/// A long subscription is answered `message_too_large` and the socket stays
/// open; one far beyond any subscription is not read at all: the socket is
/// closed before the message is buffered.
async fn oversized_client_messages_are_refused(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let (mut ws, _) = watch(&app, &p.id, &owner).await;
    let long = "x".repeat(5_000);
    send(
        &mut ws,
        json!({"type": "support.subscribe", "query": {"channel": long}}),
    )
    .await;
    let (err, _) = until_type(&mut ws, "error").await;
    assert_eq!(err["error"]["code"], "message_too_large", "{err}");
    subscribe(&mut ws, &json!({})).await;

    send(&mut ws, "y".repeat(1 << 20)).await;
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(end, ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => {
                // 1009: message too big.
                assert_eq!(frame.map(|f| u16::from(f.code)), Some(1009));
                break;
            }
            Ok(Some(Ok(_))) => continue,
            // Or the connection is dropped outright.
            Ok(None) | Ok(Some(Err(_))) => break,
            Err(_) => panic!("the socket stayed open after a 1 MiB message"),
        }
    }
}

/// The audit log's rows of pushed or fetched business figures.
async fn business_reads(app: &TestApp, owner: &Session, pid: &str) -> Vec<Value> {
    let page = app
        .get_json(
            owner,
            &format!("/api/v1/projects/{pid}/audit-log?action=support.business_impact.read"),
        )
        .await;
    list(&page, "entries").to_vec()
}

async fn pushed_business_figures_are_audited_once_per_subscription(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let pid = &p.id;
    let cid = conversation(&app, &owner, &p, json!({"contact_id": "biz"})).await;
    let (mut ws, _) = watch(&app, pid, &owner).await;
    let query = json!({"date_range": "month"});
    subscribe(&mut ws, &query).await;
    let status = |s: &'static str| {
        let path = format!("/api/v1/projects/{pid}/conversations/{cid}");
        let (app, owner) = (&app, &owner);
        async move {
            let res = app.patch(owner, &path, json!({ "status": s })).await;
            assert!(res.status().is_success(), "{}", res.status());
        }
    };
    status("resolved").await;
    let first = until_support(&mut ws, "business").await.pop().unwrap();
    assert_eq!(first["data"]["scope"], "all", "{first}");
    let rows = business_reads(&app, &owner, pid).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["params"], query);
    assert_eq!(rows[0]["resource"], "support/business-impact");
    assert_eq!(rows[0]["ip"], "127.0.0.1");
    // The same page view: no second row.
    status("open").await;
    let second = until_support(&mut ws, "business").await.pop().unwrap();
    assert!(second["data"].is_object(), "{second}");
    assert_eq!(business_reads(&app, &owner, pid).await.len(), 1);
    // A new subscription is a new view.
    subscribe(&mut ws, &query).await;
    status("resolved").await;
    let third = until_support(&mut ws, "business").await.pop().unwrap();
    assert_eq!(business_reads(&app, &owner, pid).await.len(), 2);
    // (The GET is audited too.)
    assert_eq!(
        third["data"],
        get_section(&app, &owner, pid, "business", &query).await
    );
}

crate::on_both_backends!(
    owner_gets_kpi_after_an_inbound_message,
    a_burst_is_sent_at_most_once_a_second,
    agents_hear_only_of_their_own,
    viewers_get_none,
    a_subscribed_owner_gets_the_bodies_of_its_query,
    an_agent_subscribed_gets_their_own_figures,
    a_bad_subscription_is_answered_and_the_socket_stays_usable,
    pushed_business_figures_are_audited_once_per_subscription,
    oversized_client_messages_are_refused,
);
